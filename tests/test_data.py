"""Data handles (fluoride.stores.data) and store retention (fluoride.stores.retention),
against moto's server.

The server runs in a thread on a free loopback port; every test uses its own store names,
so tests do not see each other's data.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Final

import botocore.exceptions
import pytest
from boto3.dynamodb.conditions import Key

from fluoride.aws import Aws
from fluoride.errors import (
    AwsError,
    FluorideError,
    InvalidInput,
    StoreNotFound,
    StoreNotProvisioned,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TagTypeDef as TableTag
    from mypy_boto3_secretsmanager.type_defs import TagTypeDef as SecretTag
from fluoride.stores.data import (
    Bucket,
    ObjectSummary,
    Secret,
    Table,
    bucket_from_outputs,
    secret_from_outputs,
    secret_name_from_arn,
    table_from_outputs,
)
from fluoride.stores.retention import (
    ExistingStore,
    Purged,
    default_store_names,
    empty_bucket,
    find_retained,
    purge_bucket,
    purge_repository,
    purge_secret,
    purge_table,
)

from .conftest import plain_aws

REGION: Final = "eu-west-1"


@pytest.fixture
def aws(moto_endpoint: str) -> Aws:
    return plain_aws(moto_endpoint, REGION)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def table(aws: Aws) -> Table:
    name = unique("fluoride-t")
    client = aws.client("dynamodb")
    arn = client.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    return Table(aws, name, arn)


@pytest.fixture
def bucket(aws: Aws) -> Bucket:
    name = unique("fluoride-b")
    client = aws.client("s3")
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return Bucket(aws, name, f"arn:aws:s3:::{name}")


@pytest.fixture
def secret(aws: Aws) -> Secret:
    name = f"fluoride/{unique('s')}"
    arn = aws.client("secretsmanager").create_secret(
        Name=name, SecretString=json.dumps({"token": "t0"})
    )["ARN"]
    return Secret(aws, arn, name)


# --- Table -------------------------------------------------------------------------------


def test_table_put_get_delete(table: Table) -> None:
    table.put_item({"pk": "a", "sk": 1, "text": "hello", "n": Decimal("1.5")})
    assert table.get_item({"pk": "a", "sk": 1}) == {
        "pk": "a",
        "sk": Decimal(1),
        "text": "hello",
        "n": Decimal("1.5"),
    }
    table.delete_item({"pk": "a", "sk": 1})
    assert table.get_item({"pk": "a", "sk": 1}) is None
    table.delete_item({"pk": "a", "sk": 1})  # deleting what is gone is not an error


@pytest.mark.parametrize(("value", "stored"), [
    (0.1, Decimal("0.1")),            # not 0.1000000000000000055511151231257827...
    (1 / 3, Decimal("0.3333333333333333")),
    (6.02214076e23, Decimal("6.02214076E+23")),
    (-0.0, Decimal("-0.0")),
])
def test_floats_are_stored_as_written(table: Table, value: float, stored: Decimal) -> None:
    table.put_item({"pk": "f", "sk": 1.5, "x": value, "xs": [value], "m": {"x": value}})
    item = table.with_decimals().get_item({"pk": "f", "sk": 1.5})
    assert item == {"pk": "f", "sk": Decimal("1.5"), "x": stored, "xs": [stored],
                    "m": {"x": stored}}
    # Read back without decimals=True: the float that was written (a whole one as int).
    plain = table.get_item({"pk": "f", "sk": 1.5})
    assert plain is not None
    assert plain["x"] == value
    assert type(plain["x"]) is (int if value == int(value) and abs(value) <= 2**53 else float)
    assert plain["xs"] == [value]
    assert plain["m"] == {"x": value}


def test_nan_is_refused_and_nothing_is_written(table: Table) -> None:
    with pytest.raises(InvalidInput, match=r"item\['x'\]: nan") as err:
        table.put_item({"pk": "nan", "sk": 1, "x": float("nan")})
    assert "finite" in (err.value.errors[0].allowed or "")
    assert table.get_item({"pk": "nan", "sk": 1}) is None


def test_query_with_float_values_in_the_expression(table: Table) -> None:
    table.put_item({"pk": "q", "sk": 2.5})
    found = list(table.query(KeyConditionExpression="pk = :p AND sk = :s",
                             ExpressionAttributeValues={":p": "q", ":s": 2.5}))
    assert found == [{"pk": "q", "sk": Decimal("2.5")}]


def test_table_query_and_scan_page_lazily_through_every_item(table: Table) -> None:
    with table.resource.batch_writer() as batch:
        for i in range(7):
            batch.put_item(Item={"pk": "p", "sk": i})
        batch.put_item(Item={"pk": "other", "sk": 0})
    calls: list[str] = []
    table.resource.meta.client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )
    items = table.query(KeyConditionExpression=Key("pk").eq("p"), Limit=2)
    assert calls == []  # nothing is fetched before iteration starts
    assert next(items)["sk"] == 0
    assert calls == ["Query"]
    assert [item["sk"] for item in items] == list(range(1, 7))
    assert calls == ["Query"] * 4  # 2 + 2 + 2 + 1 items, the last page without a next key
    calls.clear()
    assert len(list(table.scan(Limit=3))) == 8
    assert calls == ["Scan"] * 3


def test_missing_table_is_a_clear_error(aws: Aws) -> None:
    missing = Table(aws, "fluoride-nope", "arn:aws:dynamodb:eu-west-1:123456789012:table/nope")
    items = missing.scan()  # lazy: no call yet
    with pytest.raises(StoreNotFound) as info:
        next(items)
    assert info.value.operation == "Scan"
    assert info.value.resource == "fluoride-nope"
    assert info.value.code == "ResourceNotFoundException"
    assert isinstance(info.value.__cause__, botocore.exceptions.ClientError)
    with pytest.raises(StoreNotFound, match="table 'fluoride-nope' does not exist"):
        missing.put_item({"pk": "x"})


# --- Bucket ------------------------------------------------------------------------------


def test_bucket_bytes_round_trip_and_missing_object(bucket: Bucket) -> None:
    bucket.put_bytes("a/b.txt", b"hello")
    assert bucket.get_bytes("a/b.txt") == b"hello"
    with pytest.raises(StoreNotFound) as info:
        bucket.get_bytes("a/missing.txt")
    assert info.value.resource == f"{bucket.name}/a/missing.txt"
    assert info.value.code == "NoSuchKey"
    assert info.value.operation == "GetObject"


def test_bucket_files(bucket: Bucket, tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(bytes(range(256)) * 10)
    assert bucket.upload_file(source) == "in.bin"
    assert bucket.upload_file(source, "data/x.bin") == "data/x.bin"
    target = bucket.download_file("data/x.bin", tmp_path / "out.bin")
    assert target.read_bytes() == source.read_bytes()
    with pytest.raises(StoreNotFound):
        bucket.download_file("data/none.bin", tmp_path / "none.bin")
    gone = Bucket(bucket.aws, "fluoride-gone-bucket", "arn:aws:s3:::fluoride-gone-bucket")
    with pytest.raises(StoreNotFound) as info:
        gone.upload_file(source)
    assert info.value.code == "NoSuchBucket"
    assert isinstance(info.value.__cause__, botocore.exceptions.ClientError)


def test_bucket_list_pages_lazily(bucket: Bucket) -> None:
    for i in range(5):
        bucket.put_bytes(f"p/{i}", b"x" * i)
    bucket.put_bytes("q/other", b"")
    calls: list[str] = []
    bucket.client.meta.events.register(
        "before-call.s3.ListObjectsV2", lambda **_: calls.append("list")
    )
    listing = bucket.list("p/", page_size=2)
    assert calls == []
    first = next(listing)
    assert isinstance(first, ObjectSummary)
    assert (first.key, first.size) == ("p/0", 0)
    assert first.etag
    assert '"' not in first.etag
    assert first.last_modified.tzinfo is not None
    assert len(calls) == 1
    assert [o.key for o in listing] == [f"p/{i}" for i in range(1, 5)]
    assert len(calls) == 3
    assert sorted(o.key for o in bucket.list()) == [*(f"p/{i}" for i in range(5)), "q/other"]


def test_missing_bucket_is_a_clear_error(aws: Aws) -> None:
    missing = Bucket(aws, "fluoride-no-such-bucket", "arn:aws:s3:::fluoride-no-such-bucket")
    with pytest.raises(StoreNotFound, match="bucket 'fluoride-no-such-bucket' does not exist"):
        list(missing.list())
    with pytest.raises(StoreNotFound) as info:
        missing.get_bytes("k")
    assert info.value.code == "NoSuchBucket"


def test_presigned_url_serves_the_object(bucket: Bucket) -> None:
    bucket.put_bytes("shared.txt", b"for a colleague")
    url = bucket.presigned_url("shared.txt", expires=60)
    assert url.startswith("http://127.0.0.1:")
    assert "Expires=" in url or "X-Amz-Expires=60" in url
    with urllib.request.urlopen(url, timeout=10) as answer:  # loopback only
        assert answer.read() == b"for a colleague"
    with pytest.raises(FluorideError, match="out of range"):
        bucket.presigned_url("shared.txt", expires=0)


# --- Secret ------------------------------------------------------------------------------


def test_secret_get_and_put(secret: Secret) -> None:
    assert secret.get_json() == {"token": "t0"}
    secret.put_json({"token": "t1", "n": 2})
    assert json.loads(secret.get_string()) == {"n": 2, "token": "t1"}


def test_load_files_merges_with_what_is_there(secret: Secret, tmp_path: Path) -> None:
    (tmp_path / "db.password").write_text("s3cret\n")
    (tmp_path / "api.key").write_text("k")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ignored").write_text("not stored: folders are not walked")
    assert secret.load_files(tmp_path) == ["api.key", "db.password"]
    assert secret.get_json() == {"token": "t0", "db.password": "s3cret\n", "api.key": "k"}
    (tmp_path / "api.key").write_text("k2")
    secret.load_files(tmp_path)
    assert secret.get_json()["api.key"] == "k2"
    assert secret.get_json()["token"] == "t0"


def test_load_files_into_secret_without_value(aws: Aws, tmp_path: Path) -> None:
    name = f"fluoride/{unique('empty')}"
    arn = aws.client("secretsmanager").create_secret(Name=name)["ARN"]
    (tmp_path / "a").write_text("1")
    Secret(aws, arn, name).load_files(tmp_path)
    assert Secret(aws, arn, name).get_json() == {"a": "1"}


def test_load_files_refuses_to_wipe_a_non_object(secret: Secret, tmp_path: Path) -> None:
    secret.put_json(["not", "an", "object"])
    (tmp_path / "a").write_text("1")
    with pytest.raises(FluorideError, match="does not hold a JSON object"):
        secret.load_files(tmp_path)
    assert secret.get_json() == ["not", "an", "object"]


def test_load_files_checks_text_and_size(secret: Secret, tmp_path: Path) -> None:
    (tmp_path / "blob").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(FluorideError, match="not UTF-8"):
        secret.load_files(tmp_path)
    (tmp_path / "blob").unlink()
    (tmp_path / "big").write_text("x" * 70_000)
    with pytest.raises(FluorideError, match="65536"):
        secret.load_files(tmp_path)
    with pytest.raises(FluorideError, match="is not a folder"):
        secret.load_files(tmp_path / "nope")
    assert secret.get_json() == {"token": "t0"}


def test_secret_not_json(secret: Secret) -> None:
    secret.client.put_secret_value(SecretId=secret.arn, SecretString="plain")
    assert secret.get_string() == "plain"
    with pytest.raises(FluorideError, match="does not hold JSON"):
        secret.get_json()


def test_missing_secret_is_a_clear_error(aws: Aws) -> None:
    missing = Secret(aws, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf", "x")
    with pytest.raises(StoreNotFound) as info:
        missing.get_json()
    assert info.value.operation == "GetSecretValue"
    assert info.value.code == "ResourceNotFoundException"


# --- From stack outputs ------------------------------------------------------------------

OUTPUTS = {
    "TableName": "fluoride-notes",
    "TableArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/fluoride-notes",
    "BucketName": "fluoride-notes-123456789012-eu-west-1",
    "BucketArn": "arn:aws:s3:::fluoride-notes-123456789012-eu-west-1",
    "SecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:fluoride/notes-AbC123",
}


def test_handles_from_outputs(aws: Aws) -> None:
    table = table_from_outputs(aws, "notes", OUTPUTS)
    assert (table.name, table.arn) == ("fluoride-notes", OUTPUTS["TableArn"])
    bucket = bucket_from_outputs(aws, "notes", OUTPUTS)
    assert (bucket.name, bucket.arn) == (OUTPUTS["BucketName"], OUTPUTS["BucketArn"])
    secret = secret_from_outputs(aws, "notes", OUTPUTS)
    assert (secret.name, secret.arn) == ("fluoride/notes", OUTPUTS["SecretArn"])


@pytest.mark.parametrize("kind", ["table", "bucket", "secret"])
def test_store_turned_off_names_its_toggle(aws: Aws, kind: str) -> None:
    off = {**OUTPUTS, "TableName": "", "BucketName": "", "SecretArn": ""}
    make = {
        "table": table_from_outputs,
        "bucket": bucket_from_outputs,
        "secret": secret_from_outputs,
    }[kind]
    with pytest.raises(StoreNotProvisioned) as info:
        make(aws, "notes", off)
    assert f"'notes' has no {kind}" in info.value.message
    assert info.value.hint is not None
    assert f"stores.{kind} = true" in info.value.hint
    assert f"Stores({kind}=True)" in info.value.hint


def test_secret_name_from_arn() -> None:
    assert secret_name_from_arn(OUTPUTS["SecretArn"]) == "fluoride/notes"
    assert secret_name_from_arn("arn:aws:secretsmanager:r:1:secret:a-b-c-XyZ123") == "a-b-c"
    assert secret_name_from_arn("plain-name") == "plain-name"


# --- Purge and retention -----------------------------------------------------------------


def test_purge_table(aws: Aws, table: Table) -> None:
    table.put_item({"pk": "a", "sk": 1})
    table.client.update_table(TableName=table.name, DeletionProtectionEnabled=True)
    assert purge_table(aws, table.name) == Purged("table", table.name)
    names = aws.client("dynamodb").list_tables()["TableNames"]
    assert table.name not in names
    assert purge_table(aws, table.name) is None


def test_purge_bucket_removes_every_version(aws: Aws, bucket: Bucket) -> None:
    for i in range(3):
        bucket.put_bytes("same", f"v{i}".encode())  # 3 versions
    bucket.put_bytes("gone", b"x")
    bucket.client.delete_object(Bucket=bucket.name, Key="gone")  # 1 version + 1 marker
    purged = purge_bucket(aws, bucket.name)
    assert purged == Purged("bucket", bucket.name, objects=5)
    with pytest.raises(botocore.exceptions.ClientError):
        bucket.client.head_bucket(Bucket=bucket.name)
    assert purge_bucket(aws, bucket.name) is None


def test_empty_bucket_pages_past_one_batch(aws: Aws, bucket: Bucket) -> None:
    client = bucket.client
    # Many versions of a few keys are cheaper to make than many keys.
    for i in range(12):
        client.put_object(Bucket=bucket.name, Key=f"k{i % 3}", Body=b"x")
    calls: list[str] = []
    client.meta.events.register("before-call.s3.DeleteObjects", lambda **_: calls.append("d"))
    assert empty_bucket(aws, bucket.name) == 12
    assert client.list_object_versions(Bucket=bucket.name).get("Versions", []) == []
    assert empty_bucket(aws, bucket.name) == 0
    assert calls == ["d"]
    with pytest.raises(StoreNotFound):
        empty_bucket(aws, "fluoride-no-such-bucket-either")


def test_purge_secret_with_and_without_recovery(aws: Aws, secret: Secret) -> None:
    purged = purge_secret(aws, secret.arn, recovery_days=7)
    assert purged == Purged("secret", secret.name, recovery_days=7)
    described = aws.client("secretsmanager").describe_secret(SecretId=secret.arn)
    assert described.get("DeletedDate") is not None
    assert purge_secret(aws, secret.arn, recovery_days=7) is None  # already scheduled
    assert purge_secret(aws, secret.arn) is None
    aws.client("secretsmanager").restore_secret(SecretId=secret.arn)
    assert purge_secret(aws, secret.arn, recovery_days=None) == Purged(
        "secret", secret.name, recovery_days=None
    )
    with pytest.raises(StoreNotFound):
        secret.get_string()
    assert purge_secret(aws, secret.arn) is None
    with pytest.raises(FluorideError, match="out of range"):
        purge_secret(aws, secret.arn, recovery_days=3)


@pytest.mark.parametrize(("tag", "days"), [("9", 9), (None, 30), ("99", 30), ("x", 30)])
def test_purge_secret_uses_the_window_its_spec_chose(aws: Aws, tag: str | None, days: int) -> None:
    name = f"fluoride/{unique('tagged')}"
    tags: list[SecretTag] = (
        [{"Key": "fluoride:recovery-days", "Value": tag}] if tag is not None else [])
    arn = aws.client("secretsmanager").create_secret(Name=name, SecretString="{}", Tags=tags)["ARN"]
    assert purge_secret(aws, arn) == Purged("secret", name, recovery_days=days)
    assert aws.client("secretsmanager").describe_secret(SecretId=arn).get("DeletedDate")


def test_purge_repository(aws: Aws) -> None:
    ecr = aws.client("ecr")
    name = unique("fluoride-r")
    ecr.create_repository(repositoryName=name)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "c", "size": 1, "digest": "sha256:" + "1" * 64},
        "layers": [{"mediaType": "l", "size": 1, "digest": "sha256:" + "2" * 64}],
    }
    ecr.put_image(repositoryName=name, imageManifest=json.dumps(manifest), imageTag="v1")
    assert purge_repository(aws, name) == Purged("repository", name, objects=1)
    assert name not in [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
    assert purge_repository(aws, name) is None


def test_default_store_names() -> None:
    assert default_store_names("notes", "123456789012", "eu-west-1") == (
        "fluoride-notes",
        "fluoride-notes-123456789012-eu-west-1",
        "fluoride/notes",
    )


def test_find_retained_none(aws: Aws) -> None:
    found = find_retained(
        aws, table_name=unique("t"), bucket_name=unique("b"), secret_name=unique("s")
    )
    assert not found
    assert found.found == ()


def test_find_retained_after_delete(aws: Aws, table: Table, bucket: Bucket, secret: Secret) -> None:
    found = find_retained(
        aws, table_name=table.name, bucket_name=bucket.name, secret_name=secret.name
    )
    assert found.found == (
        ExistingStore("table", table.name, "retained"),
        ExistingStore("bucket", bucket.name, "retained"),
        ExistingStore("secret", secret.name, "retained"),
    )
    error = found.error("notes")
    assert table.name in error.message
    assert bucket.name in error.message
    assert error.stores == [table.name, bucket.name, secret.name]
    assert error.hint is not None
    assert "svc.delete(purge_data=True)" in error.hint  # the SDK call (the CLI: --purge-data)
    # Only the names asked about are looked at.
    assert (
        find_retained(aws, table_name=None, bucket_name=None, secret_name=secret.name).get("table")
        is None
    )


def test_find_retained_tells_live_stacks_and_pending_secrets(
    aws: Aws, table: Table, bucket: Bucket, secret: Secret
) -> None:
    cfn = aws.client("cloudformation")
    stack_name = unique("owner")
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    stack_id = cfn.create_stack(StackName=stack_name, TemplateBody=json.dumps(template))["StackId"]
    tag: TableTag = {"Key": "aws:cloudformation:stack-id", "Value": stack_id}
    aws.client("dynamodb").tag_resource(ResourceArn=table.arn, Tags=[tag])
    # A table kept from a stack that is gone is retained, whatever its tags say.
    gone_stack = cfn.create_stack(StackName=unique("gone"), TemplateBody=json.dumps(template))
    cfn.delete_stack(StackName=gone_stack["StackId"])
    kept = unique("kept")
    kept_arn = aws.client("dynamodb").create_table(
        TableName=kept,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "aws:cloudformation:stack-id", "Value": gone_stack["StackId"]}],
    )["TableDescription"]["TableArn"]
    assert kept_arn
    assert find_retained(aws, table_name=kept, bucket_name=None, secret_name=None).found == (
        ExistingStore("table", kept, "retained"),
    )
    purge_secret(aws, secret.arn, recovery_days=7)
    found = find_retained(
        aws, table_name=table.name, bucket_name=bucket.name, secret_name=secret.name
    )
    assert found.get("table") == ExistingStore("table", table.name, "in-stack", stack_name)
    assert found.get("bucket") == ExistingStore("bucket", bucket.name, "retained")
    assert found.get("secret") == ExistingStore("secret", secret.name, "pending-deletion")
    hint = found.error("notes").hint
    assert hint is not None
    assert f"restore-secret --secret-id {secret.name}" in hint
    assert "--force-delete-without-recovery" in hint
    # Deleting at once also frees the name of a secret already scheduled for deletion.
    assert purge_secret(aws, secret.arn, recovery_days=None) == Purged(
        "secret", secret.name, recovery_days=None
    )
    assert (
        find_retained(aws, table_name=None, bucket_name=None, secret_name=secret.name).found == ()
    )


def test_other_errors_keep_their_code(table: Table) -> None:
    # An item without its key is not "missing": it stays an AwsError with AWS's code.
    with pytest.raises(AwsError) as info:
        table.put_item({"text": "no key"})
    assert not isinstance(info.value, StoreNotFound)
    assert info.value.code == "ValidationException"
    assert info.value.operation == "PutItem"
    assert info.value.resource == table.name
