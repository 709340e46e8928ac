"""Every bad input gets a clear answer (issue 8): a table of bad inputs over the SDK,
``fluoride.toml``, the data handles and the CLI.

Each row gives the input, the exact error class expected and substrings that the message
must hold: the field and the bad value (what would be accepted is checked for every row:
an ``allowed:`` part or a hint). Rows whose problem is knowable locally also assert that
no AWS call was made, counted with a botocore ``before-call`` hook on a fresh session
whose clients all go to the embedded emulator. A CLI row runs click's ``CliRunner``
against an endpoint where nothing listens: an AWS call there would fail with "Could not
reach", not with the expected answer.
"""

from __future__ import annotations

import math
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from fluoride import Fluoride, ServiceSpec
from fluoride._check import count_problems, endpoint_problems, timeout_problems
from fluoride.aws import Aws
from fluoride.cli import main
from fluoride.errors import AwsError, ConfigError, FluorideError, InvalidInput
from fluoride.service import Service
from fluoride.spec import Network, load_config, loads_config
from fluoride.stores._inputs import (
    argument_problems,
    body_problems,
    dynamo_key,
    dynamo_value,
    json_problems,
    object_key_problems,
)
from fluoride.stores.data import Bucket, Secret, Table
from fluoride.waiting import FakeClock

#: The emulator runs in us-east-1 (and the CLI rows say eu-west-1): this is neither.
OTHER_REGION_IMAGE = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/fluoride/x:v1"


@dataclass
class Ctx:
    """What a row acts on: a client whose every AWS call is counted, a service handle
    (its stack need not exist), the stores, and a folder for files."""

    fl: Fluoride
    svc: Service
    table: Table
    bucket: Bucket
    secret: Secret
    tmp: Path
    calls: list[str]


@dataclass(frozen=True)
class Bad:
    id: str
    call: Callable[[Ctx], object]
    error: type[FluorideError]
    says: tuple[str, ...]
    #: whether the problem is knowable locally (then no AWS call may be made)
    local: bool = True


def _non_utf8(ctx: Ctx) -> Path:
    path = ctx.tmp / "latin1.toml"
    path.write_bytes("team = 'Müller'\n".encode("latin-1"))
    return path


SDK: list[Bad] = [
    # -- the client
    Bad("endpoint-not-a-url", lambda c: Fluoride(endpoint_url="not a url"), InvalidInput,
        ("endpoint_url", "'not a url'", "http://127.0.0.1:4566")),
    Bad("endpoint-no-host", lambda c: Fluoride(endpoint_url="http://"), InvalidInput,
        ("endpoint_url", "'http://'")),
    Bad("endpoint-scheme", lambda c: Fluoride(endpoint_url="ftp://host"), InvalidInput,
        ("endpoint_url", "'ftp://host'", "scheme 'ftp'")),
    Bad("endpoint-port", lambda c: Fluoride(endpoint_url="http://host:99999"), InvalidInput,
        ("endpoint_url", "'http://host:99999'")),
    Bad("endpoint-type", lambda c: Fluoride(endpoint_url=4566), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("endpoint_url", "4566")),
    Bad("poll-interval-str", lambda c: Fluoride(poll_interval="fast"), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("poll_interval", "'fast'")),
    Bad("poll-interval-negative", lambda c: Fluoride(poll_interval=-1), InvalidInput,
        ("poll_interval", "-1", "above 0")),
    Bad("poll-interval-nan", lambda c: Fluoride(poll_interval=math.nan), InvalidInput,
        ("poll_interval", "nan", "finite")),
    Bad("name-empty", lambda c: c.fl.service(""), ConfigError, ("name", "empty", "1 to 24")),
    Bad("name-case", lambda c: c.fl.service("Bad_Name"), ConfigError, ("name", "'Bad_Name'")),
    Bad("name-type", lambda c: c.fl.service(123), ConfigError,  # type: ignore[arg-type]  # the bad input
        ("name", "must be a string", "int")),
    # -- deploy: images
    Bad("deploy-empty", lambda c: c.svc.deploy(""), InvalidInput, ("image", "''", "empty")),
    Bad("deploy-blank", lambda c: c.svc.deploy("   "), InvalidInput, ("image", "'   '")),
    Bad("deploy-short-digest", lambda c: c.svc.deploy("sha256:xyz"), InvalidInput,
        ("image", "'sha256:xyz'", "64 lowercase hex")),
    Bad("deploy-upper", lambda c: c.svc.deploy("UPPER:Case"), InvalidInput,
        ("image", "'UPPER:Case'", "uppercase", "lowercase")),
    Bad("deploy-spaces", lambda c: c.svc.deploy("not an image!!"), InvalidInput,
        ("image", "'not an image!!'", "space")),
    Bad("deploy-int", lambda c: c.svc.deploy(123), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("image", "123", "None (the newest")),
    Bad("deploy-bad-tag", lambda c: c.svc.deploy("v2!"), InvalidInput, ("image", "'v2!'")),
    Bad("deploy-bad-ref-digest", lambda c: c.svc.deploy("app@sha256:1"), InvalidInput,
        ("image", "'app@sha256:1'", "digest")),
    Bad("deploy-other-region", lambda c: c.svc.deploy(OTHER_REGION_IMAGE), InvalidInput,
        ("image", OTHER_REGION_IMAGE, "eu-central-1", "fluoride push")),
    # -- deploy: timeouts and flags
    Bad("deploy-timeout-0", lambda c: c.svc.deploy(timeout=0), InvalidInput,
        ("timeout", "0 is not above 0", "e.g. 900")),
    Bad("deploy-timeout-negative", lambda c: c.svc.deploy(timeout=-1), InvalidInput,
        ("timeout", "-1")),
    Bad("deploy-timeout-nan", lambda c: c.svc.deploy(timeout=math.nan), InvalidInput,
        ("timeout", "nan")),
    Bad("deploy-timeout-inf", lambda c: c.svc.deploy(timeout=math.inf), InvalidInput,
        ("timeout", "inf")),
    Bad("deploy-timeout-str", lambda c: c.svc.deploy(timeout="600"), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("timeout", "'600'")),
    Bad("deploy-wait-str", lambda c: c.svc.deploy(wait="no"), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("wait", "'no'", "True or False")),
    Bad("deploy-all-at-once", lambda c: c.svc.deploy("", timeout=0), InvalidInput,
        ("image", "timeout")),
    # -- rollback and wait_stable
    Bad("rollback-to-int", lambda c: c.svc.rollback(to=123), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("to", "123", "a Release")),
    Bad("rollback-to-empty", lambda c: c.svc.rollback(to=""), InvalidInput, ("to", "''")),
    Bad("rollback-timeout", lambda c: c.svc.rollback(timeout=-1), InvalidInput,
        ("timeout", "-1")),
    Bad("wait-stable-negative", lambda c: c.svc.wait_stable(timeout=-5), InvalidInput,
        ("timeout", "-5")),
    Bad("wait-stable-zero", lambda c: c.svc.wait_stable(timeout=0), InvalidInput,
        ("timeout", "0")),
    # -- create and the spec
    Bad("create-str-spec", lambda c: c.svc.create("8080"), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("spec", "'8080'", "ServiceSpec(port=8080")),
    Bad("create-dict-spec", lambda c: c.svc.create({"port": 8080}), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("spec", "{'port': 8080}")),
    Bad("create-image-bang", lambda c: c.svc.create(image="not an image!!"), InvalidInput,
        ("image", "'not an image!!'", "registry/repository:tag")),
    Bad("create-image-empty", lambda c: c.svc.create(image=""), InvalidInput,
        ("image", "''")),
    Bad("create-image-region", lambda c: c.svc.create(image=OTHER_REGION_IMAGE), InvalidInput,
        ("image", "eu-central-1")),
    Bad("spec-environment-str", lambda c: c.svc.create(ServiceSpec(environment="FOO=1")),  # type: ignore[arg-type]  # the bad input
        ConfigError, ("environment", "'FOO=1'", "{'FOO': '1'}")),
    Bad("spec-environment-list", lambda c: ServiceSpec(environment=["FOO=1"]).validate(),  # type: ignore[list-item]  # the bad input
        ConfigError, ("environment", "['FOO=1']")),
    Bad("spec-environment-int", lambda c: ServiceSpec(environment={"A": 1}).validate(),  # type: ignore[arg-type]  # the bad input
        ConfigError, ("environment.A", "1", "quote it")),
    Bad("spec-port-str", lambda c: ServiceSpec(port="8080").validate(), ConfigError,  # type: ignore[arg-type]  # the bad input
        ("port", "'8080'", "1 to 65535")),
    Bad("spec-health-int", lambda c: ServiceSpec(health=5).validate(), ConfigError,  # type: ignore[arg-type]  # the bad input
        ("health", "5", "HealthCheck(")),
    Bad("spec-subnets-int", lambda c: ServiceSpec(network=Network(subnet_ids=5)).validate(),  # type: ignore[arg-type]  # the bad input
        ConfigError, ("network.subnet_ids", "5")),
    Bad("spec-cpu", lambda c: c.svc.create(ServiceSpec(cpu=300)), ConfigError,
        ("cpu", "300", "256, 512")),
    Bad("push-empty", lambda c: c.svc.push(""), InvalidInput, ("local_image", "''")),
    Bad("push-bad-tag", lambda c: c.svc.push("app:v1", tag="bad tag"), InvalidInput,
        ("tag", "'bad tag'", "128 letters")),
    Bad("logs-since", lambda c: c.svc.logs(since="yesterday"), ConfigError,
        ("since", "yesterday")),
    Bad("logs-container", lambda c: c.svc.logs(container="no such/container"), InvalidInput,
        ("container", "'no such/container'", "a sidecar's name")),
    Bad("logs-container-type", lambda c: c.svc.logs(container=7),  # type: ignore[arg-type]  # the bad input
        InvalidInput, ("container", "7")),
    Bad("delete-purge-no-wait", lambda c: c.svc.delete(purge_data=True, wait=False),
        ConfigError, ("purge_data=True", "wait=True")),
    # -- fluoride.toml
    Bad("toml-port-str", lambda c: loads_config("port = 'x'"), ConfigError,
        ("port", "'x'")),
    Bad("toml-unknown", lambda c: loads_config("bogus = 1"), ConfigError,
        ("bogus", "not a known field", "health_path")),
    Bad("toml-env-int", lambda c: loads_config("[environment]\nFOO = 1"), ConfigError,
        ("environment.FOO", "1", "quote it")),
    Bad("toml-syntax", lambda c: loads_config("port = = 1"), ConfigError,
        ("fluoride.toml", "not valid TOML")),
    Bad("toml-bytes", lambda c: loads_config(b"port = 1"), ConfigError,  # type: ignore[arg-type]  # the bad input
        ("text", "bytes", "decode")),
    Bad("toml-name", lambda c: loads_config("name = 'Bad Name'"), ConfigError,
        ("name", "'Bad Name'")),
    Bad("toml-cpu", lambda c: loads_config("cpu = 300"), ConfigError, ("cpu", "300")),
    Bad("toml-not-utf8", lambda c: load_config(_non_utf8(c)), ConfigError,
        ("latin1.toml", "not UTF-8", "0xfc", "line 1")),
    Bad("toml-missing", lambda c: load_config(c.tmp / "nope.toml"), ConfigError,
        ("nope.toml", "Cannot read")),
    Bad("toml-path-none", lambda c: load_config(None), ConfigError,  # type: ignore[arg-type]  # the bad input
        ("path", "None")),
    # -- the table
    Bad("item-nan", lambda c: c.table.put_item({"pk": "a", "x": math.nan}), InvalidInput,
        ("item['x']", "nan", "finite")),
    Bad("item-inf", lambda c: c.table.put_item({"pk": "a", "x": [1, -math.inf]}), InvalidInput,
        ("item['x'][1]", "-inf")),
    Bad("item-decimal-nan", lambda c: c.table.put_item({"pk": "a", "x": Decimal("NaN")}),
        InvalidInput, ("item['x']", "Decimal('NaN')")),
    Bad("item-too-precise", lambda c: c.table.put_item({"pk": "a", "x": 10**40 + 1}),
        InvalidInput, ("item['x']", "38 significant digits")),
    Bad("item-empty-set", lambda c: c.table.put_item({"pk": "a", "s": set()}), InvalidInput,
        ("item['s']", "empty set")),
    Bad("item-mixed-set", lambda c: c.table.put_item({"pk": "a", "s": {1, "b"}}), InvalidInput,
        ("item['s']", "number, str", "only str, only numbers")),
    Bad("item-object", lambda c: c.table.put_item({"pk": "a", "o": object()}), InvalidInput,
        ("item['o']", "object", "Decimal")),
    Bad("item-str", lambda c: c.table.put_item("pk=a"), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("item", "'pk=a'", "{'pk': 'note#1'")),
    Bad("item-empty", lambda c: c.table.put_item({}), InvalidInput, ("item", "{}")),
    Bad("item-too-large", lambda c: c.table.put_item({"pk": "a", "blob": "x" * 500_000}),
        InvalidInput, ("item", "500,007 bytes", "400 KB", "bucket.put_bytes")),
    Bad("item-batch-nan", lambda c: c.table.put_items(
        [{"pk": "a"}, {"pk": "b", "scores": [1, 2, math.nan]}]), InvalidInput,
        ("rows[1]['scores'][2]", "nan", "finite")),
    Bad("item-batch-empty-row", lambda c: c.table.put_items([{"pk": "a"}, {}]), InvalidInput,
        ("rows[1]", "non-empty dict")),
    Bad("item-batch-one-dict", lambda c: c.table.put_items({"pk": "a"}), InvalidInput,  # type: ignore[dict-item]  # the bad input
        ("rows", "dict", "put_item(item)")),
    Bad("item-batch-none", lambda c: c.table.put_items(None), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("rows", "NoneType", "iterable of dicts")),
    Bad("key-float", lambda c: c.table.get_item(1.5), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("key", "1.5", "{'pk': 'note#1'}")),
    Bad("key-list", lambda c: c.table.get_item(["pk", "a"]), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("key", "['pk', 'a']")),
    Bad("key-str", lambda c: c.table.get_item("note#1"), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("key", "'note#1'")),
    Bad("key-empty-dict", lambda c: c.table.get_item({}), InvalidInput,
        ("key", "{}", "0 attributes")),
    Bad("key-empty-value", lambda c: c.table.get_item({"pk": ""}), InvalidInput,
        ("key['pk']", "empty")),
    Bad("key-none-value", lambda c: c.table.delete_item({"pk": None}), InvalidInput,
        ("key['pk']", "None")),
    Bad("key-consistent-str", lambda c: c.table.get_item({"pk": "a"}, consistent="yes"),  # type: ignore[arg-type]  # the bad input
        InvalidInput, ("consistent", "'yes'")),
    Bad("query-bogus", lambda c: c.table.query(Bogus=1), InvalidInput,
        ("Bogus", "not a parameter of Query", "KeyConditionExpression")),
    Bad("scan-limit-0", lambda c: c.table.scan(Limit=0), InvalidInput,
        ("Limit", "0 is out of range", "1 or more")),
    Bad("scan-table-name", lambda c: c.table.scan(TableName="other"), InvalidInput,
        ("TableName", "set by the handle", "'other'")),
    Bad("query-start-key-nan", lambda c: c.table.query(ExclusiveStartKey={"pk": math.nan}),
        InvalidInput, ("ExclusiveStartKey['pk']", "nan")),
    # -- the bucket
    Bad("object-frame-format", lambda c: c.bucket.put_dataframe("runs/a.txt", None),  # type: ignore[arg-type]  # the bad input
        InvalidInput, ("format", "'runs/a.txt'", ".parquet")),
    Bad("object-frame-format-named", lambda c: c.bucket.get_dataframe("a", "xlsx"),  # type: ignore[arg-type]  # the bad input
        InvalidInput, ("format", "'xlsx'", "format='csv'")),
    Bad("object-key-empty", lambda c: c.bucket.put_bytes("", b"x"), InvalidInput,
        ("key", "is empty", "1024 UTF-8 bytes")),
    Bad("object-body-none", lambda c: c.bucket.put_bytes("k", None), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("data", "None", "bytes")),
    Bad("object-body-str", lambda c: c.bucket.put_bytes("k", "text"), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("data", "'text'", "encode")),
    Bad("object-key-none", lambda c: c.bucket.get_bytes(None), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("key", "None")),
    Bad("object-key-long", lambda c: c.bucket.get_bytes("k" * 2000), InvalidInput,
        ("key", "2000 bytes")),
    Bad("list-page-size-0", lambda c: list(c.bucket.list(page_size=0)), InvalidInput,
        ("page_size", "0", "1 to 1000")),
    Bad("list-page-size-big", lambda c: list(c.bucket.list(page_size=5000)), InvalidInput,
        ("page_size", "5000")),
    Bad("list-prefix-int", lambda c: list(c.bucket.list(prefix=5)), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("prefix", "5")),
    Bad("presign-expires-0", lambda c: c.bucket.presigned_url("k", expires=0), InvalidInput,
        ("expires", "0", "604800")),
    Bad("upload-missing-file", lambda c: c.bucket.upload_file(c.tmp / "absent.csv"),
        InvalidInput, ("path", "absent.csv", "existing file")),
    Bad("download-key-empty", lambda c: c.bucket.download_file("", c.tmp / "x"), InvalidInput,
        ("key", "empty")),
    # -- the secret
    Bad("json-set", lambda c: c.secret.put_json({"a": {1, 2}}), InvalidInput,
        ("obj['a']", "{1, 2}", "sorted list")),
    Bad("json-nan", lambda c: c.secret.put_json({"x": math.nan}), InvalidInput,
        ("obj['x']", "nan")),
    Bad("json-int-key", lambda c: c.secret.put_json({1: "a", "b": 2}), InvalidInput,
        ("obj[1]", "not a string")),
    Bad("json-object", lambda c: c.secret.put_json(object()), InvalidInput,
        ("obj", "object")),
    Bad("load-files-missing", lambda c: c.secret.load_files(c.tmp / "none"), InvalidInput,
        ("folder", "none", "existing folder")),
    Bad("load-files-none", lambda c: c.secret.load_files(None), InvalidInput,  # type: ignore[arg-type]  # the bad input
        ("folder", "None")),
]


@pytest.fixture(scope="module")
def stores(fl: Fluoride) -> dict[str, str]:
    """A table (key ``pk``), a bucket and a secret on the emulator, made with plain boto3."""
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                            region_name=fl.region)
    name = f"bad-{uuid.uuid4().hex[:8]}"
    ddb = session.client("dynamodb", endpoint_url=fl.endpoint_url)
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    s3 = session.client("s3", endpoint_url=fl.endpoint_url)
    if fl.region == "us-east-1":  # S3 refuses that region as a location constraint
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name,
                         CreateBucketConfiguration={"LocationConstraint": fl.region})  # type: ignore[typeddict-item]  # any region but us-east-1
    s3.put_object(Bucket=name, Key="kept.txt", Body=b"kept")
    arn = session.client("secretsmanager", endpoint_url=fl.endpoint_url).create_secret(
        Name=f"fluoride/{name}", SecretString='{"kept": "yes"}')["ARN"]
    return {"name": name, "secret_arn": arn}


@pytest.fixture
def ctx(fl: Fluoride, stores: dict[str, str], tmp_path: Path) -> Ctx:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                            region_name=fl.region)
    calls: list[str] = []
    session.events.register("before-call", lambda model, **_: calls.append(model.name))
    counted = Fluoride(session=session, endpoint_url=fl.endpoint_url, clock=FakeClock())
    name = stores["name"]
    return Ctx(
        fl=counted,
        svc=counted.service(f"bad{uuid.uuid4().hex[:6]}"),
        table=Table(counted.aws, name, ""),
        bucket=Bucket(counted.aws, name, ""),
        secret=Secret(counted.aws, stores["secret_arn"], f"fluoride/{name}"),
        tmp=tmp_path,
        calls=calls,
    )


def _says_what_is_accepted(exc: FluorideError) -> bool:
    text = str(exc)
    # "allowed: ...", a hint, or the problem itself saying what it must be.
    return "allowed:" in text or exc.hint is not None or ": must be " in text


@pytest.mark.parametrize("case", SDK, ids=[c.id for c in SDK])
def test_a_bad_input_gets_a_clear_answer(case: Bad, ctx: Ctx) -> None:
    with pytest.raises(FluorideError) as err:
        case.call(ctx)
    assert type(err.value) is case.error, f"{type(err.value).__name__}: {err.value}"
    for text in case.says:
        assert text in str(err.value), f"{text!r} not in {str(err.value)!r}"
    assert _says_what_is_accepted(err.value), str(err.value)
    if case.local:
        assert ctx.calls == [], f"AWS calls made for a problem knowable locally: {ctx.calls}"


def test_the_table_has_at_least_60_rows() -> None:
    ids = [c.id for c in SDK] + [c[0] for c in CLI]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 60


def test_nothing_was_left_behind(ctx: Ctx, stores: dict[str, str]) -> None:
    """After every refused write, the stores hold only what the fixture put there."""
    for case in SDK:
        if case.id.startswith(("item-", "object-", "json-")):
            with pytest.raises(FluorideError):
                case.call(ctx)
    assert list(ctx.table.scan()) == []
    assert [o.key for o in ctx.bucket.list()] == ["kept.txt"]
    assert ctx.secret.get_json() == {"kept": "yes"}


def test_list_with_a_page_size_of_one_sees_every_object(ctx: Ctx) -> None:
    """``page_size=0`` used to answer ``[]`` for a bucket with objects; 1 pages through."""
    assert [o.key for o in ctx.bucket.list(page_size=1)] == ["kept.txt"]


def test_floats_are_stored_exactly(ctx: Ctx) -> None:
    ctx.table.put_item({"pk": "floats", "x": 0.1, "xs": [1.5, 2e-7], "s": {0.25, 3}})
    item = ctx.table.get_item({"pk": "floats"})
    assert item is not None
    assert item == {"pk": "floats", "x": 0.1, "xs": [1.5, 2e-7], "s": {0.25, 3}}
    assert [type(v) for v in (item["x"], *item["xs"])] == [float, float, float]
    stored = ctx.table.with_decimals().get_item({"pk": "floats"})
    assert stored is not None
    assert stored["x"] == Decimal("0.1")
    assert stored["xs"] == [Decimal("1.5"), Decimal("2E-7")]
    assert stored["s"] == {Decimal("0.25"), Decimal("3")}
    ctx.table.delete_item({"pk": "floats"})


# -- botocore errors reach nobody raw ---------------------------------------------------


def test_repository_lookup_access_denied_is_an_aws_error(stub_aws: Aws) -> None:
    svc = Service(name="web", aws=stub_aws, reporter=lambda e: None, clock=FakeClock())
    with Stubber(stub_aws.client("ecr")) as ecr:
        ecr.add_client_error("describe_repositories", "AccessDeniedException", "no")
        with pytest.raises(AwsError, match="Access denied to DescribeRepositories") as err:
            svc._repository_exists()
    assert err.value.code == "AccessDeniedException"
    assert err.value.resource == "fluoride/web"
    assert err.value.hint


# -- the CLI ----------------------------------------------------------------------------


def _dead_endpoint() -> str:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


#: (id, arguments, exit code, substrings of the output). Exit 2 is click's own refusal of
#: an option ("Invalid value for ..."); exit 1 a FluorideError shown as "error: ...".
CLI: list[tuple[str, list[str], int, tuple[str, ...]]] = [
    ("cli-endpoint-malformed", ["--endpoint-url", "not a url", "list"], 2,
     ("--endpoint-url", "'not a url'", "http://127.0.0.1:4566")),
    ("cli-endpoint-port", ["--endpoint-url", "http://h:x", "list"], 2,
     ("--endpoint-url", "'http://h:x'")),
    ("cli-local-and-endpoint", ["--local", "--endpoint-url", "{dead}", "list"], 2,
     ("--local and --endpoint-url conflict",)),
    ("cli-endpoint-and-local", ["--endpoint-url", "{dead}", "--local", "list"], 2,
     ("--local and --endpoint-url conflict",)),
    ("cli-history-limit", ["--endpoint-url", "{dead}", "history", "svc", "--limit", "-1"], 2,
     ("--limit", "-1", "x>=1")),
    ("cli-deploy-timeout-negative",
     ["--endpoint-url", "{dead}", "deploy", "svc", "v1", "--timeout", "-1"], 2,
     ("--timeout", "-1", "x>0")),
    ("cli-deploy-timeout-zero",
     ["--endpoint-url", "{dead}", "deploy", "svc", "v1", "--timeout", "0"], 2,
     ("--timeout", "0")),
    ("cli-deploy-timeout-nan",
     ["--endpoint-url", "{dead}", "deploy", "svc", "v1", "--timeout", "nan"], 1,
     ("timeout", "nan", "finite")),
    ("cli-rollback-timeout", ["--endpoint-url", "{dead}", "rollback", "svc", "--timeout", "-1"],
     2, ("--timeout", "-1")),
    ("cli-local-port", ["local", "--port", "70000"], 2, ("--port", "70000", "0<=x<=65535")),
    ("cli-deploy-empty", ["--endpoint-url", "{dead}", "deploy", "svc", ""], 1,
     ("image", "''", "empty")),
    ("cli-deploy-upper", ["--endpoint-url", "{dead}", "deploy", "svc", "UPPER:Case"], 1,
     ("image", "'UPPER:Case'", "lowercase")),
    ("cli-deploy-other-region", ["--endpoint-url", "{dead}", "deploy", "svc",
                                 OTHER_REGION_IMAGE], 1, ("image", "eu-central-1")),
    ("cli-rollback-to-empty", ["--endpoint-url", "{dead}", "rollback", "svc", "--to", " "], 1,
     ("to", "' '")),
    ("cli-create-name", ["--endpoint-url", "{dead}", "create", "Bad_Name"], 1,
     ("name", "'Bad_Name'")),
    ("cli-create-image", ["--endpoint-url", "{dead}", "create", "svc", "--image",
                          "not an image!!"], 1, ("image", "'not an image!!'")),
    ("cli-create-not-utf8", ["--endpoint-url", "{dead}", "create", "svc", "--config",
                             "{latin1}"], 1, ("latin1.toml", "not UTF-8", "UTF-8")),
    ("cli-template-bad-toml", ["template", "--config", "{badtoml}"], 1,
     ("bad.toml", "port", "'x'")),
    ("cli-push-tag", ["--endpoint-url", "{dead}", "push", "svc", "app:v1", "--tag", "a b"], 1,
     ("tag", "'a b'")),
]


@pytest.fixture
def cli_files(tmp_path: Path) -> dict[str, str]:
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes("team = 'Müller'\n".encode("latin-1"))
    bad = tmp_path / "bad.toml"
    bad.write_text("port = 'x'\n", encoding="utf-8")
    return {"dead": _dead_endpoint(), "latin1": str(latin1), "badtoml": str(bad)}


@pytest.mark.parametrize(("args", "code", "says"), [c[1:] for c in CLI],
                         ids=[c[0] for c in CLI])
def test_a_bad_cli_input_gets_a_clear_answer(
    args: list[str], code: int, says: tuple[str, ...], cli_files: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    result = CliRunner().invoke(main, [a.format(**cli_files) for a in args])
    # Rich wraps long lines (a tmp path) at the terminal width: match on the joined text.
    output = result.output.replace("\n", "")
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit), f"raw exception: {result.exception!r}"
    assert "Traceback" not in output
    assert "Could not reach" not in output, "an AWS call was made"
    assert result.exit_code == code, output
    for text in says:
        assert text in output, f"{text!r} not in {output!r}"


# -- the pure checks, by tables ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (900, None), (0.5, None), (1e9, None),
        (0, "0 is not above 0"), (-1, "-1 is not above 0"), (-0.0, "is not above 0"),
        (math.nan, "nan is not a finite number"), (math.inf, "inf is not a finite number"),
        ("600", "must be a number of seconds, got '600'"), (True, "got True"),
        (None, "got None"),
    ],
)
def test_timeout_problems(value: object, problem: str | None) -> None:
    found = timeout_problems(value)
    if problem is None:
        assert found == []
    else:
        (error,) = found
        assert problem in error.problem
        assert error.field == "timeout"
        assert error.allowed == "seconds, a finite number above 0, e.g. 900"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (1, None), (1000, None), (0, "0 is out of range"), (1001, "1001 is out of range"),
        (2.0, "must be a whole number, got 2.0"), (True, "got True"), ("5", "got '5'"),
    ],
)
def test_count_problems(value: object, problem: str | None) -> None:
    found = count_problems(value, "page_size", 1, 1000)
    if problem is None:
        assert found == []
    else:
        (error,) = found
        assert problem in error.problem
        assert error.allowed == "a whole number from 1 to 1000"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, None), ("http://127.0.0.1:4566", None), ("https://x.example.com/path", None),
        ("http://[::1]:4566", None), ("http://localhost", None),
        ("not a url", "has no http://"), ("127.0.0.1:4566", "has no http://"),
        ("ftp://h", "scheme 'ftp'"),
        ("http://", "no valid host"), ("http://h:x", "is not a URL"),
        ("http://h:70000", "is not a URL"), ("http://bad host", "no valid host"),
        ("http://under_score.io", "no valid host"), (4566, "must be a string"),
    ],
)
def test_endpoint_problems(value: object, problem: str | None) -> None:
    found = endpoint_problems(value)
    if problem is None:
        assert found == []
    else:
        (error,) = found
        assert problem in error.problem
        assert error.allowed


@pytest.mark.parametrize(
    ("value", "stored", "problem"),
    [
        (0.1, Decimal("0.1"), None),
        (1e-7, Decimal("1E-7"), None),
        (1.0, Decimal("1.0"), None),
        (-2.5e100, Decimal("-2.5E+100"), None),
        (10**37, Decimal(10**37), None),
        (Decimal("3.14"), Decimal("3.14"), None),
        (True, True, None),
        ("", "", None),  # an empty string is a valid non-key attribute
        ((1, 0.5), [Decimal(1), Decimal("0.5")], None),
        ({0.5, 1}, {Decimal("0.5"), Decimal(1)}, None),
        ({"a": {"b": 0.2}}, {"a": {"b": Decimal("0.2")}}, None),
        (math.nan, None, "nan is not a number DynamoDB can store"),
        (-math.inf, None, "-inf is not a number"),
        (Decimal("Infinity"), None, "is not a number DynamoDB can store"),
        (10**38 + 1, None, "does not fit a DynamoDB number"),
        (Decimal("1e-131"), None, "does not fit"),
        (Decimal("1e126"), None, "does not fit"),
        (set(), None, "is an empty set"),
        ({"a", b"b"}, None, "is a set of bytes, str"),
        (object(), None, "cannot be stored in DynamoDB"),
        ({1: "a"}, None, "the attribute name 1 is not a non-empty string"),
    ],
)
def test_dynamo_value(value: object, stored: object, problem: str | None) -> None:
    converted, found = dynamo_value(value, "item")
    if problem is None:
        assert found == []
        assert converted == stored
        assert type(converted) is type(stored)
    else:
        assert len(found) == 1
        assert problem in found[0].problem
        assert found[0].allowed


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"pk": "a"}, None), ({"pk": "a", "sk": 1.5}, None), ({"pk": b"x"}, None),
        ({}, "has 0 attributes"), ({"a": 1, "b": 2, "c": 3}, "has 3 attributes"),
        ({"pk": ""}, "is empty"), ({"pk": None}, "cannot be part of a key"),
        ({"pk": True}, "cannot be part of a key"), ({"pk": [1]}, "cannot be part of a key"),
        ({"pk": math.nan}, "nan is not a number"), ("pk", "must be a dict"),
        (1.5, "must be a dict"), (["pk"], "must be a dict"),
    ],
)
def test_dynamo_key(value: object, problem: str | None) -> None:
    found = dynamo_key(value)[1]
    if problem is None:
        assert found == []
    else:
        assert problem in found[0].problem
        assert found[0].field.startswith("key")


@pytest.mark.parametrize(
    ("value", "fields"),
    [
        ({"a": [1, 2.5, None, True, "x"]}, []),
        ({"a": {1, 2}}, ["obj['a']"]),
        ({"a": [math.nan, math.inf]}, ["obj['a'][0]", "obj['a'][1]"]),
        ({1: "x"}, ["obj[1]"]),
        (b"bytes", ["obj"]),
        (Decimal("1"), ["obj"]),
    ],
)
def test_json_problems(value: object, fields: list[str]) -> None:
    assert [e.field for e in json_problems(value)] == fields


@pytest.mark.parametrize(
    ("arguments", "fields"),
    [
        ({"KeyConditionExpression": "pk = :v", "Limit": 5}, []),
        ({"Bogus": 1}, ["Bogus"]),
        ({"TableName": "t"}, ["TableName"]),
        ({"Limit": 0}, ["Limit"]),
        ({"Limit": "5"}, ["Limit"]),
    ],
)
def test_argument_problems(arguments: dict[str, object], fields: list[str]) -> None:
    accepted = {"TableName", "KeyConditionExpression", "Limit"}
    found = argument_problems(arguments, accepted, operation="Query", reserved=["TableName"])
    assert [e.field for e in found] == fields
    assert all(e.allowed == "KeyConditionExpression, Limit" for e in found
               if e.field != "Limit")


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("a/b.csv", None), ("k" * 1024, None), ("", "is empty"), (None, "must be a string"),
        ("é" * 513, "is 1026 bytes long"), ("\udc80", "is not valid text"),
    ],
)
def test_object_key_problems(key: object, problem: str | None) -> None:
    found = object_key_problems(key)
    assert (problem is None) == (found == [])
    if problem is not None:
        assert problem in found[0].problem


@pytest.mark.parametrize(
    ("data", "problem"),
    [(b"x", None), (bytearray(b"x"), None), (memoryview(b"x"), None),
     (None, "must be bytes, got None"), ("text", "must be bytes, got 'text' (str)")],
)
def test_body_problems(data: object, problem: str | None) -> None:
    found = body_problems(data)
    assert (problem is None) == (found == [])
    if problem is not None:
        assert problem in found[0].problem
