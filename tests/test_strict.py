"""compliance = "strict" on the embedded emulator: every control read back through the
AWS APIs (the key, each store's encryption, immutable tags, the container's user, read-only
root with /tmp and memory, the redirect, deletion protection, versioning, server access
logs, notifications, retention, no public IPs), a deploy, and delete with purge."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from fluoride import Fluoride, ServiceSpec
from fluoride.errors import ConfigError, ImageTagExists
from fluoride.spec import Domain, Network


def _client(fl: Fluoride, name: str) -> Any:
    return fl.session.client(name, endpoint_url=fl.endpoint_url)  # type: ignore[call-overload]


def _private_network(fl: Fluoride) -> Network:
    ec2 = _client(fl, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    # As private subnets with VPC endpoints need (and moto's task ENIs need a DNS name).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = tuple(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24",
                                      AvailabilityZone=zone)["Subnet"]["SubnetId"]
                    for i, zone in enumerate(zones))
    return Network(vpc_id=vpc, subnet_ids=subnets)


def _strict_spec(fl: Fluoride) -> ServiceSpec:
    certificate = _client(fl, "acm").request_certificate(DomainName="api.example.org")
    return ServiceSpec(compliance="strict", network=_private_network(fl),
                       domain=Domain(certificate_arn=certificate["CertificateArn"]),
                       notify=("ops@example.org",))


def _physical(fl: Fluoride, service: str) -> dict[str, str]:
    resources = _client(fl, "cloudformation").describe_stack_resources(
        StackName=f"fluoride-{service}")["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


def test_strict_refuses_the_default_vpc_before_any_change(fl: Fluoride, unique_name: str) -> None:
    certificate = _client(fl, "acm").request_certificate(DomainName="x.example.org")
    spec = ServiceSpec(compliance="strict",
                       domain=Domain(certificate_arn=certificate["CertificateArn"]))
    with pytest.raises(ConfigError) as raised:
        fl.service(unique_name).create(spec)
    (error,) = raised.value.errors
    assert error.field == "network.vpc_id"
    assert "private subnets" in (error.allowed or "")
    assert not fl.service(unique_name).exists()


def test_a_strict_service_reads_back_strict_through_the_aws_apis(
    fl: Fluoride, unique_name: str
) -> None:
    spec = _strict_spec(fl)
    svc = fl.service(unique_name)
    svc.create(spec)
    repo = svc.outputs()["RepositoryName"]
    emulator = fl.emulator
    assert emulator is not None
    emulator.push_image(repo, "v1")
    svc.deploy("v1")
    physical = _physical(fl, unique_name)
    out = svc.outputs()

    kms = _client(fl, "kms")
    key = kms.describe_key(KeyId=physical["Key"])["KeyMetadata"]
    assert (key["KeyManager"], key["KeyState"]) == ("CUSTOMER", "Enabled")
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    key_arn = key["Arn"]

    def same_key(value: str) -> bool:  # an ARN or the bare id
        return value in (key_arn, key["KeyId"])

    table = _client(fl, "dynamodb").describe_table(TableName=out["TableName"])["Table"]
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert same_key(table["SSEDescription"]["KMSMasterKeyArn"])
    assert table["DeletionProtectionEnabled"] is True

    s3 = _client(fl, "s3")
    rule = s3.get_bucket_encryption(Bucket=out["BucketName"])[
        "ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert same_key(rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"])
    assert rule["BucketKeyEnabled"] is True
    for bucket in (out["BucketName"], out["AccessLogBucketName"]):
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled", bucket
    logging = s3.get_bucket_logging(Bucket=out["BucketName"])["LoggingEnabled"]
    assert (logging["TargetBucket"], logging["TargetPrefix"]) == (
        out["AccessLogBucketName"], "s3-access/")
    # moto 5.2.5 keeps EventBridgeConfiguration but its GetBucketNotificationConfiguration
    # leaves it out of the answer: read the emulated bucket itself.
    from moto.s3.models import s3_backends

    emulated = s3_backends[emulator.account_id]["aws"].buckets[out["BucketName"]]
    assert emulated.notification_configuration is not None
    assert emulated.notification_configuration.event_bridge == {}

    secret = _client(fl, "secretsmanager").describe_secret(SecretId=out["SecretArn"])
    assert same_key(secret["KmsKeyId"])

    (group,) = _client(fl, "logs").describe_log_groups(
        logGroupNamePrefix=out["LogGroupName"])["logGroups"]
    assert group["retentionInDays"] == 365
    assert same_key(group["kmsKeyId"])

    (repository,) = _client(fl, "ecr").describe_repositories(
        repositoryNames=[repo])["repositories"]
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["encryptionConfiguration"]["encryptionType"] == "KMS"
    assert same_key(repository["encryptionConfiguration"]["kmsKey"])
    with pytest.raises(ImageTagExists, match="'v1' already exists"):
        emulator.push_image(repo, "v1")

    ecs = _client(fl, "ecs")
    (service,) = ecs.describe_services(cluster=out["ClusterName"],
                                       services=[out["EcsServiceName"]])["services"]
    assert service["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])[
        "taskDefinition"]
    (app,) = task["containerDefinitions"]
    assert (app["user"], app["readonlyRootFilesystem"], app["memory"]) == ("1000", True, 512)
    assert app["mountPoints"] == [{"sourceVolume": "tmp", "containerPath": "/tmp"}]
    assert [v["name"] for v in task["volumes"]] == ["tmp"]

    elbv2 = _client(fl, "elbv2")
    attributes = {a["Key"]: a["Value"] for a in elbv2.describe_load_balancer_attributes(
        LoadBalancerArn=out["LoadBalancerArn"])["Attributes"]}
    assert attributes["deletion_protection.enabled"] == "true"
    listeners = elbv2.describe_listeners(LoadBalancerArn=out["LoadBalancerArn"])["Listeners"]
    (http,) = [lst for lst in listeners if lst["Port"] == 80]
    assert http["DefaultActions"][0]["Type"] == "redirect"
    assert http["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"

    topic = next(t["TopicArn"] for t in _client(fl, "sns").list_topics()["Topics"]
                 if t["TopicArn"].endswith(f":fluoride-{unique_name}-alarms"))
    attributes = _client(fl, "sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    assert same_key(attributes["KmsMasterKeyId"])

    assert svc.spec() == spec  # strict, its user and retention read back

    from fluoride import ComplianceSwitchRefused

    # back to standard would replace the (KMS-encrypted) repository too: refused
    with pytest.raises(ComplianceSwitchRefused, match="'strict' -> 'standard'"):
        svc.update(attrs.evolve(spec, compliance="standard"))
    assert svc.spec() == spec

    result = svc.delete(purge_data=True)
    assert not svc.exists()
    assert set(result.removed) >= {"table", "bucket", "secret", "repository"}
    tables = _client(fl, "dynamodb").list_tables()["TableNames"]
    assert out["TableName"] not in tables


def test_switching_an_existing_spec_to_strict_says_what_is_missing() -> None:
    # attrs.evolve keeps the standard profile's user and retention: strict names them.
    spec = attrs.evolve(ServiceSpec(), compliance="strict")
    fields = {p.field for p in spec.problems()}
    assert {"user", "log_retention_days", "domain"} <= fields


def test_a_live_switch_to_strict_is_refused_and_nothing_changes(
    fl: Fluoride, unique_name: str
) -> None:
    from fluoride import ComplianceSwitchRefused

    svc = fl.service(unique_name)
    svc.create()
    assert fl.emulator is not None
    fl.emulator.push_image(svc.outputs()["RepositoryName"], "v1")
    release = svc.deploy("v1")
    cfn = _client(fl, "cloudformation")
    before = cfn.describe_stacks(StackName=f"fluoride-{unique_name}")["Stacks"][0]
    change_sets = cfn.list_change_sets(StackName=f"fluoride-{unique_name}")["Summaries"]
    history = svc.history()

    strict = attrs.evolve(_strict_spec(fl), notify=())
    plan = svc.plan(strict)
    assert plan.consequences[0].startswith(
        f"update() refuses this: compliance 'standard' -> 'strict' would replace the image "
        f"repository fluoride/{unique_name}")
    with pytest.raises(ComplianceSwitchRefused) as refused:
        svc.update(strict, allow_replacement=True)  # the opt-in for stores does not lift it
    assert "nothing was changed" in str(refused.value)
    assert (refused.value.switch.old, refused.value.switch.new) == ("standard", "strict")
    assert [e.field for e in refused.value.errors] == ["compliance"]

    after = cfn.describe_stacks(StackName=f"fluoride-{unique_name}")["Stacks"][0]
    assert after["StackStatus"] == before["StackStatus"]
    assert after.get("LastUpdatedTime") == before.get("LastUpdatedTime")
    assert after["Parameters"] == before["Parameters"]
    # the plan's change set was deleted and update() made none
    assert cfn.list_change_sets(StackName=f"fluoride-{unique_name}")["Summaries"] == change_sets
    status = svc.status()
    assert status.release is not None
    assert status.release.digest == release.digest  # the same release serves
    assert status.running == 1
    assert [r.id for r in svc.history()] == [r.id for r in history]
    assert svc.spec().compliance == "standard"
    repository = _client(fl, "ecr").describe_repositories(
        repositoryNames=[f"fluoride/{unique_name}"])["repositories"][0]
    assert repository["encryptionConfiguration"]["encryptionType"] == "AES256"
    svc.delete(purge_data=True)
