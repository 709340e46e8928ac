"""What independent clients (the AWS CLI, ecs-deploy) read from a Fluoride service on the
emulator agrees with AWS: each check reads the state back through the AWS API, with plain
boto3 clients on ``Fluoride.local()``'s endpoint, as such a client would.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest

from fluoride import Fluoride, ServiceSpec
from fluoride.local import Timing
from fluoride.service import Service

PORT = 8080


@pytest.fixture(scope="module")
def local() -> Iterator[Fluoride]:
    with Fluoride.local(timing=Timing(task_start=0.05, health_check=0.05, drain=0.05)) as fl:
        yield fl


def client(fl: Fluoride, name: str) -> Any:
    # boto3-stubs types client() per literal service name; this helper takes any.
    return fl.session.client(name, endpoint_url=fl.endpoint_url)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def svc(local: Fluoride) -> Service:
    """A service created, then deployed twice (v1, then v2), with two tasks."""
    service = local.service("fidelity")
    service.create(ServiceSpec(port=PORT, health_path="/health", min_count=2, max_count=2))
    assert local.emulator is not None
    repository = service.outputs()["RepositoryName"]
    for tag in ("v1", "v2"):
        local.emulator.push_image(repository, tag)
        service.deploy(tag)
    return service


def resources(fl: Fluoride, svc: Service) -> dict[str, dict[str, Any]]:
    cfn = client(fl, "cloudformation")
    summaries = cfn.get_paginator("list_stack_resources").paginate(
        StackName=f"fluoride-{svc.name}").build_full_result()["StackResourceSummaries"]
    return {s["LogicalResourceId"]: s for s in summaries}


def test_stack_resources_report_the_live_task_definition_after_updates(
    local: Fluoride, svc: Service
) -> None:
    listed = resources(local, svc)
    assert {s["ResourceStatus"] for s in listed.values()} <= {
        "CREATE_COMPLETE", "UPDATE_COMPLETE"}, listed
    task_definition = listed["TaskDefinition"]
    assert task_definition["ResourceStatus"] == "UPDATE_COMPLETE"
    out = svc.outputs()
    service = client(local, "ecs").describe_services(
        cluster=out["ClusterName"], services=[out["EcsServiceName"]])["services"][0]
    assert task_definition["PhysicalResourceId"] == service["taskDefinition"]
    described = client(local, "ecs").describe_task_definition(
        taskDefinition=task_definition["PhysicalResourceId"])["taskDefinition"]
    assert described["status"] == "ACTIVE"
    # The one described alone agrees with the listing.
    one = client(local, "cloudformation").describe_stack_resource(
        StackName=f"fluoride-{svc.name}", LogicalResourceId="TaskDefinition")
    assert one["StackResourceDetail"]["ResourceStatus"] == "UPDATE_COMPLETE"


def test_table_reports_ttl_point_in_time_recovery_and_encryption(
    local: Fluoride, svc: Service
) -> None:
    dynamodb = client(local, "dynamodb")
    table = svc.outputs()["TableName"]
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    backups = dynamodb.describe_continuous_backups(TableName=table)
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
    sse = dynamodb.describe_table(TableName=table)["Table"]["SSEDescription"]
    assert (sse["Status"], sse["SSEType"]) == ("ENABLED", "KMS")
    key = client(local, "kms").describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]
    assert sse["KMSMasterKeyArn"] == key["Arn"]


def _groups(fl: Fluoride, svc: Service) -> dict[str, dict[str, Any]]:
    listed = resources(fl, svc)
    ids = {name: listed[name]["PhysicalResourceId"]
           for name in ("AlbSecurityGroup", "TaskSecurityGroup")}
    found = client(fl, "ec2").describe_security_groups(GroupIds=list(ids.values()))
    by_id = {g["GroupId"]: g for g in found["SecurityGroups"]}
    return {name: by_id[group_id] for name, group_id in ids.items()}


def _egress(group: dict[str, Any]) -> set[tuple[str, int | None, int | None, str]]:
    rules = set()
    for permission in group["IpPermissionsEgress"]:
        targets = [r["CidrIp"] for r in permission.get("IpRanges", [])]
        targets += [r["CidrIpv6"] for r in permission.get("Ipv6Ranges", [])]
        targets += [g["GroupId"] for g in permission.get("UserIdGroupPairs", [])]
        for target in targets:
            rules.add((permission["IpProtocol"], permission.get("FromPort"),
                       permission.get("ToPort"), target))
    return rules


def test_security_groups_have_the_template_s_egress_rules_only(
    local: Fluoride, svc: Service
) -> None:
    groups = _groups(local, svc)
    task_group = groups["TaskSecurityGroup"]["GroupId"]
    assert _egress(groups["AlbSecurityGroup"]) == {("tcp", PORT, PORT, task_group)}
    assert _egress(groups["TaskSecurityGroup"]) == {
        ("tcp", 443, 443, "0.0.0.0/0"), ("tcp", 80, 80, "0.0.0.0/0")}
    rules = client(local, "ec2").describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [task_group]}])["SecurityGroupRules"]
    assert sorted(r["Description"] for r in rules if r["IsEgress"]) == [
        "HTTP to the load balancers of services that allow this one as a caller",
        "HTTPS to ECR, CloudWatch Logs and the AWS APIs",
    ]


def test_a_new_alarm_has_insufficient_data(local: Fluoride, svc: Service) -> None:
    name = resources(local, svc)["Alarm5xx"]["PhysicalResourceId"]
    cloudwatch = client(local, "cloudwatch")
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateReason"] == "Unchecked: Initial alarm creation"


def test_an_updated_alarm_keeps_its_state(local: Fluoride) -> None:
    cloudwatch = client(local, "cloudwatch")
    alarm = {"AlarmName": "fidelity-kept", "Namespace": "n", "MetricName": "m",
             "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0,
             "ComparisonOperator": "GreaterThanThreshold"}
    cloudwatch.put_metric_alarm(**alarm)
    cloudwatch.set_alarm_state(AlarmName="fidelity-kept", StateValue="ALARM", StateReason="test")
    cloudwatch.put_metric_alarm(**{**alarm, "Threshold": 5.0})
    (after,) = cloudwatch.describe_alarms(AlarmNames=["fidelity-kept"])["MetricAlarms"]
    assert (after["StateValue"], after["StateReason"], after["Threshold"]) == (
        "ALARM", "test", 5.0)


def test_task_addresses_lie_inside_their_subnets(local: Fluoride, svc: Service) -> None:
    out = svc.outputs()
    ecs, ec2 = client(local, "ecs"), client(local, "ec2")
    arns = ecs.list_tasks(cluster=out["ClusterName"], serviceName=out["EcsServiceName"])
    tasks = ecs.describe_tasks(cluster=out["ClusterName"], tasks=arns["taskArns"])["tasks"]
    assert len(tasks) == 2
    addresses = []
    for task in tasks:
        details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
        subnet = ec2.describe_subnets(SubnetIds=[details["subnetId"]])["Subnets"][0]
        address = ipaddress.ip_address(details["privateIPv4Address"])
        network = ipaddress.ip_network(subnet["CidrBlock"])
        assert address in network
        assert int(address) - int(network.network_address) >= 4  # AWS reserves the first 4
        assert address != network.broadcast_address
        (eni,) = ec2.describe_network_interfaces(
            NetworkInterfaceIds=[details["networkInterfaceId"]])["NetworkInterfaces"]
        assert eni["PrivateIpAddress"] == str(address)
        assert eni["SubnetId"] == details["subnetId"]
        container = task["containers"][0]["networkInterfaces"][0]
        assert container["privateIpv4Address"] == str(address)
        addresses.append(address)
    assert len(set(addresses)) == len(addresses)
