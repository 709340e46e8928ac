"""Creating a service again adopts the table, bucket and secret an earlier delete kept.

On the embedded emulator: the data written before ``delete()`` is there after ``create()``
of the same name, through the same handles, and stays through a second delete and create;
a store that a live stack uses, or a secret scheduled for deletion, is still refused.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import botocore.exceptions
import pytest

from fluoride import Fluoride, ServiceSpec
from fluoride.errors import ConfigError, StoresRetained
from fluoride.events import Note
from fluoride.spec import Stores, to_parameters
from fluoride.stores.retention import ExistingStore, RetainedStores

from .conftest import Recorder

STORE_RESOURCES = {"Table", "Bucket", "Secret"}
STORE_OUTPUTS = ("TableName", "TableArn", "BucketName", "BucketArn", "SecretArn")


def _resources(svc: Any) -> set[str]:
    cfn = svc.aws.client("cloudformation")
    summaries = cfn.list_stack_resources(StackName=svc.stack.name)["StackResourceSummaries"]
    return {s["LogicalResourceId"] for s in summaries}


def _notes(recorder: Recorder) -> list[str]:
    return [e.text for e in recorder.events if isinstance(e, Note)]


def test_create_after_delete_adopts_the_kept_data(fl: Fluoride, unique_name: str) -> None:
    recorder = Recorder()
    fl.reporter = recorder
    svc = fl.service(unique_name)
    svc.create()
    assert _resources(svc) >= STORE_RESOURCES
    svc.table.put_item({"pk": "note#1", "text": "kept"})
    svc.bucket.put_bytes("reports/kept.csv", b"day,count\nmon,3\n")
    svc.secret.put_json({"api.key": "k-123"})
    first = {k: svc.outputs()[k] for k in STORE_OUTPUTS}

    kept = svc.delete()
    assert set(kept.kept) == {"table", "bucket", "secret", "repository"}
    assert any("takes them over" in n for n in _notes(recorder))

    status = svc.create()
    # The same stores, not new ones: same names and ARNs, and the data is there.
    assert {k: status.outputs[k] for k in STORE_OUTPUTS} == first
    assert svc.table.get_item({"pk": "note#1"}) == {"pk": "note#1", "text": "kept"}
    assert svc.bucket.get_bytes("reports/kept.csv") == b"day,count\nmon,3\n"
    assert svc.secret.get_json() == {"api.key": "k-123"}
    # Adopted, not created: the stores are not resources of the new stack.
    info = svc.stack.require()
    assert {info.parameters[f"Adopt{k}"] for k in ("Table", "Bucket", "Secret")} == {"true"}
    assert info.parameters["AdoptedSecretArn"] == first["SecretArn"]
    assert STORE_RESOURCES & _resources(svc) == set()
    assert "BucketTlsPolicy" in _resources(svc)
    policy = svc.aws.client("s3").get_bucket_policy(Bucket=first["BucketName"])["Policy"]
    assert '"TlsOnly"' in policy
    (adopting,) = [n for n in _notes(recorder) if n.startswith("Adopting")]
    assert first["TableName"] in adopting
    assert first["BucketName"] in adopting
    # The container is told the adopted stores.
    container = _container(svc)
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env["FLUORIDE_TABLE"] == first["TableName"]
    assert env["FLUORIDE_BUCKET"] == first["BucketName"]
    assert env["FLUORIDE_SECRET_ARN"] == first["SecretArn"]

    # Deleting the adopting stack keeps them too (they are not in it), and so on.
    again = svc.delete()
    assert {k: again.kept[k] for k in ("table", "bucket", "secret")} == {
        "table": first["TableName"], "bucket": first["BucketName"], "secret": first["SecretArn"]}
    assert svc.aws.client("s3").head_bucket(Bucket=first["BucketName"])
    svc.create()
    svc.table.put_item({"pk": "note#2", "text": "third life"})
    assert sorted(i["pk"] for i in svc.table.scan()) == ["note#1", "note#2"]

    # purge_data removes adopted stores by the names in the outputs.
    purged = svc.delete(purge_data=True)
    assert set(purged.removed) == {"table", "bucket", "secret", "repository"}
    ddb = svc.aws.client("dynamodb")
    assert first["TableName"] not in ddb.list_tables()["TableNames"]
    with pytest.raises(botocore.exceptions.ClientError):
        svc.aws.client("s3").head_bucket(Bucket=first["BucketName"])
    secret = svc.aws.client("secretsmanager").describe_secret(SecretId=first["SecretArn"])
    assert secret.get("DeletedDate") is not None


def _container(svc: Any) -> dict[str, Any]:
    ecs = svc.aws.client("ecs")
    out = svc.outputs()
    service = ecs.describe_services(cluster=out["ClusterName"],
                                    services=[out["EcsServiceName"]])["services"][0]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    container: dict[str, Any] = task["taskDefinition"]["containerDefinitions"][0]
    return container


def test_only_the_stores_the_spec_wants_are_adopted(fl: Fluoride, unique_name: str) -> None:
    svc = fl.service(unique_name)
    svc.create()
    svc.table.put_item({"pk": "a"})
    svc.delete()
    status = svc.create(ServiceSpec(stores=Stores(bucket=False, secret=False)))
    try:
        assert svc.table.get_item({"pk": "a"}) == {"pk": "a"}
        assert status.outputs["BucketName"] == status.outputs["SecretArn"] == ""
        info = svc.stack.require()
        assert (info.parameters["AdoptTable"], info.parameters["AdoptBucket"],
                info.parameters["AdoptSecret"]) == ("true", "false", "false")
    finally:
        # The bucket and secret stay kept, unused; purge removes what the stack names and
        # then, the stack gone, what is kept under the default names.
        svc.delete(purge_data=True)
        leftover = svc.delete(purge_data=True)
    assert set(leftover.removed) == {"bucket", "secret"}


def test_a_store_of_another_live_stack_is_refused(fl: Fluoride, unique_name: str) -> None:
    owner = fl.service(f"{unique_name}-owner")
    owner.create()
    out = owner.outputs()
    thief = fl.service(f"{unique_name}-thief")
    spec = ServiceSpec(stores=Stores(table_name=out["TableName"], bucket=False, secret=False))
    try:
        with pytest.raises(StoresRetained) as info:
            thief.create(spec)
        assert info.value.stores == [out["TableName"]]
        assert f"fluoride-{unique_name}-owner" in info.value.message
        assert info.value.hint is not None
        assert "live stack" in info.value.hint
        assert not thief.exists()

        # Also once the owner adopted its stores: their tags still name the deleted stack
        # that created them, the owner's outputs name them.
        owner.delete()
        owner.create()
        named = ServiceSpec(stores=Stores(
            table_name=out["TableName"], bucket_name=out["BucketName"],
            secret_name=out["SecretArn"].split(":secret:")[1][:-7]))
        kept = thief.kept_stores(named)
        assert [(s.kind, s.state, s.stack) for s in kept.found] == [
            (kind, "in-stack", f"fluoride-{unique_name}-owner")
            for kind in ("table", "bucket", "secret")]
        with pytest.raises(StoresRetained, match="cannot be adopted"):
            thief.create(named)
        assert not thief.exists()
    finally:
        owner.delete(purge_data=True)


def test_a_secret_scheduled_for_deletion_is_refused(fl: Fluoride, unique_name: str) -> None:
    svc = fl.service(unique_name)
    only_secret = ServiceSpec(stores=Stores(table=False, bucket=False))
    svc.create(only_secret)
    arn = svc.outputs()["SecretArn"]
    svc.delete()
    svc.aws.client("secretsmanager").delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    with pytest.raises(StoresRetained) as info:
        svc.create(only_secret)
    assert "pending-deletion" in info.value.message
    assert info.value.hint is not None
    assert "restore-secret" in info.value.hint
    assert not svc.exists()
    # Restored, it is kept data again: adopted.
    svc.aws.client("secretsmanager").restore_secret(SecretId=arn)
    status = svc.create(only_secret)
    assert status.outputs["SecretArn"] == arn
    svc.delete(purge_data=True)


def test_a_kept_table_with_another_key_is_refused(fl: Fluoride, unique_name: str) -> None:
    svc = fl.service(unique_name)
    table_only = Stores(bucket=False, secret=False)
    svc.create(ServiceSpec(stores=table_only))
    svc.delete()
    other_key = ServiceSpec(stores=attrs.evolve(table_only, partition_key="id"))
    with pytest.raises(StoresRetained, match="partition key 'pk'") as info:
        svc.create(other_key)
    assert info.value.hint is not None
    assert "stores.partition_key = 'pk'" in info.value.hint
    assert not svc.exists()
    svc.delete(purge_data=True)


def test_a_kept_bucket_with_a_policy_of_its_own_is_refused(
    fl: Fluoride, unique_name: str
) -> None:
    # On AWS the stack's BucketPolicy would fail with AlreadyExists: refuse before that.
    svc = fl.service(unique_name)
    bucket_only = ServiceSpec(stores=Stores(table=False, secret=False))
    svc.create(bucket_only)
    name = svc.outputs()["BucketName"]
    svc.delete()
    s3 = svc.aws.client("s3")
    with pytest.raises(botocore.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=name)  # the stack took its own policy with it
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Mine", "Effect": "Allow",
                       "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                       "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}],
    }))
    with pytest.raises(StoresRetained, match="has a bucket policy") as info:
        svc.create(bucket_only)
    assert info.value.hint is not None
    assert f"delete-bucket-policy --bucket {name}" in info.value.hint
    assert not svc.exists()
    s3.delete_bucket_policy(Bucket=name)
    assert svc.create(bucket_only).outputs["BucketName"] == name
    svc.delete(purge_data=True)


# --- the parameters ------------------------------------------------------------------------

NETWORK: dict[str, Any] = {
    "vpc_id": "vpc-0123abcd", "subnet_ids": ["subnet-0123abcd", "subnet-4567ef01"],
    "image": None, "assign_public_ip": True,
}
NAMED = ServiceSpec(stores=Stores(table_name="kept-table", bucket_name="kept-bucket",
                                  secret_name="kept/secret"))
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kept/secret-AbCdEf"


def test_to_parameters_adopts_what_it_is_told() -> None:
    params = to_parameters(NAMED, service_name="notes", **NETWORK, adopt_table=True,
                           adopt_bucket=True, adopt_secret=True, adopted_secret_arn=SECRET_ARN)
    assert (params["AdoptTable"], params["AdoptBucket"], params["AdoptSecret"]) == (
        "true", "true", "true")
    assert params["AdoptedSecretArn"] == SECRET_ARN
    plain = to_parameters(NAMED, service_name="notes", **NETWORK)
    assert (plain["AdoptTable"], plain["AdoptBucket"], plain["AdoptSecret"]) == (
        "false", "false", "false")
    assert plain["AdoptedSecretArn"] == ""
    # The default secret name counts as the secret's name.
    default = f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:fluoride/notes-{'a' * 6}"
    assert to_parameters(ServiceSpec(), service_name="notes", **NETWORK, adopt_secret=True,
                         adopted_secret_arn=default)["AdoptedSecretArn"] == default


def test_to_parameters_refuses_adoption_it_cannot_do() -> None:
    with pytest.raises(ConfigError) as info:
        to_parameters(ServiceSpec(stores=Stores(bucket=False)), service_name="notes",
                      **NETWORK, adopt_table=True, adopt_bucket=True, adopt_secret=True)
    assert [e.field for e in info.value.errors] == [
        "adopt_table", "adopt_bucket", "adopted_secret_arn"]
    with pytest.raises(ConfigError) as info:
        to_parameters(NAMED, service_name="notes", **NETWORK, adopt_secret=True,
                      adopted_secret_arn=SECRET_ARN.replace("kept/secret", "other"))
    assert [e.field for e in info.value.errors] == ["adopted_secret_arn"]
    assert "'other'" in info.value.errors[0].problem
    with pytest.raises(ConfigError) as info:
        to_parameters(NAMED, service_name="notes", **NETWORK, adopt_secret=True,
                      adopted_secret_arn="kept/secret")
    assert [e.field for e in info.value.errors] == ["adopted_secret_arn"]
    with pytest.raises(ConfigError) as info:
        to_parameters(NAMED, service_name="notes", **NETWORK, adopted_secret_arn=SECRET_ARN)
    assert [e.field for e in info.value.errors] == ["adopted_secret_arn"]


def test_retained_stores_split_into_adoptable_and_blocking() -> None:
    found = RetainedStores((
        ExistingStore("table", "t", "retained"),
        ExistingStore("bucket", "b", "other-account"),
        ExistingStore("secret", "s", "in-stack", "fluoride-x"),
    ))
    assert [s.name for s in found.adoptable.found] == ["t"]
    assert [s.name for s in found.blocking.found] == ["b", "s"]
    error = found.blocking.error("notes")
    assert error.stores == ["b", "s"]
    assert error.hint is not None
    assert "another account" in error.hint
    assert "fluoride-x" in error.hint
    assert not RetainedStores().adoptable
    assert not RetainedStores().blocking
