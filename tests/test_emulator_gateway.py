"""ECS Gateway on the emulator, through plain boto3 clients (botocore 1.44.8 validates every
request and parses every answer with its shapes): gateways, cluster associations, routes
of connected services, rollouts behind a gateway, and the CloudFormation types.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fluoride.local import Emulator, start_emulator

from ._rollouts import TIMING, Aws, pushed, rollout, wait_for, wait_stack

_GROUPS = itertools.count()
IMAGES = "gateway/app"
URL = re.compile(r"^https://[a-z0-9-]+-[0-9a-f]{8}\.ecs\.us-east-1\.on\.aws$")


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with start_emulator(timing=TIMING) as emu:
        yield emu


@pytest.fixture(scope="module")
def aws(emulator: Emulator) -> Aws:
    aws = Aws(emulator)
    aws.ecr.create_repository(repositoryName=IMAGES)
    return aws


@pytest.fixture(scope="module")
def role(aws: Aws) -> str:
    arn: str = aws.iam.create_role(RoleName="gateway-infrastructure",
                                   AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    return arn


@pytest.fixture(scope="module")
def network(aws: Aws) -> dict[str, Any]:
    vpc = aws.ec2.describe_vpcs(
        Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in aws.ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
    return {"vpc": vpc, "subnets": subnets}


def code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def fails(call: Callable[[], object]) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


def image(emulator: Emulator, tag: str, *, healthy: bool = True) -> str:
    return pushed(emulator, IMAGES, tag, healthy=healthy)


def gateway(aws: Aws, role: str, name: str, **config: Any) -> str:
    arn: str = aws.ecs.create_gateway(
        name=name, infrastructureRoleArn=role, deletionProtection=False,
        configuration={"hostSharedAlb": config})["gatewayArn"]
    return arn


def task_definition(aws: Aws, family: str, reference: str, *, port_name: str = "http",
                    network_mode: str = "awsvpc") -> str:
    arn: str = aws.ecs.register_task_definition(
        family=family, networkMode=network_mode,
        requiresCompatibilities=["FARGATE"] if network_mode == "awsvpc" else ["EC2"],
        cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": reference, "essential": True,
                               "portMappings": [{"containerPort": 8080, "name": port_name}]}],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def connected_service(aws: Aws, network: dict[str, Any], cluster: str, name: str,
                      definition: str, **extra: Any) -> dict[str, Any]:
    group = aws.ec2.create_security_group(GroupName=f"{cluster}-{name}-{next(_GROUPS)}",
                                          Description="tasks",
                                          VpcId=network["vpc"])["GroupId"]
    service: dict[str, Any] = aws.ecs.create_service(
        cluster=cluster, serviceName=name, taskDefinition=definition, desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {
            "subnets": network["subnets"], "securityGroups": [group]}},
        **{"gatewayConnectors": [{"portName": "http",
                                  "healthCheck": {"healthCheckPath": "/health"}}], **extra},
    )["service"]
    return service


def routes_of(aws: Aws, **filters: str) -> list[dict[str, Any]]:
    pages = aws.ecs.get_paginator("list_gateway_routes").paginate(**filters)
    found: list[dict[str, Any]] = pages.build_full_result()["gatewayRoutes"]
    return found


def route(aws: Aws, service_arn: str) -> dict[str, Any]:
    (summary,) = routes_of(aws, service=service_arn)
    described: dict[str, Any] = aws.ecs.describe_gateway_route(
        gatewayRouteArn=summary["gatewayRouteArn"])["gatewayRoute"]
    return described


def target_health(aws: Aws, gateway_route: dict[str, Any]) -> list[str]:
    """The route's target states, read as AWS has them read: its listener rule's target
    group, then that target group's health."""
    rule_arn = gateway_route["resources"]["hostSharedAlb"][0]["listenerRuleArn"]
    (rule,) = aws.elbv2.describe_rules(RuleArns=[rule_arn])["Rules"]
    group = rule["Actions"][0]["TargetGroupArn"]
    described = aws.elbv2.describe_target_health(TargetGroupArn=group)
    return sorted(d["TargetHealth"]["State"] for d in described["TargetHealthDescriptions"])


# ---------------------------------------------------------------- gateways


def test_a_gateway_is_created_described_listed_updated_and_deleted(aws: Aws, role: str,
                                                                   emulator: Emulator) -> None:
    created = aws.ecs.create_gateway(
        name="life", infrastructureRoleArn=role, configuration={"hostSharedAlb": {
            "scheme": "internal", "maxAlbCount": 3}}, tags=[{"key": "team", "value": "lab"}])
    assert created["status"] == "ACTIVE"
    assert created["gatewayArn"] == "arn:aws:ecs:us-east-1:123456789012:gateway/life"
    described = aws.ecs.describe_gateway(gateway="life")["gateway"]
    config = described["configuration"]["hostSharedAlb"]
    assert (described["accessType"], described["deletionProtection"]) == ("PRIVATE", True)
    assert (config["scheme"], config["port"], config["protocol"]) == ("internal", 443, "HTTPS")
    assert (config["maxAlbCount"], config["currentAlbCount"], config["httpDesync"]) == (
        3, 0, "defensive")
    assert described["tags"] == [{"key": "team", "value": "lab"}]
    # by ARN as well as by name
    assert aws.ecs.describe_gateway(gateway=created["gatewayArn"])["gateway"]["name"] == "life"
    names = [g["name"] for g in aws.ecs.list_gateways(names=["life"])["gateways"]]
    assert names == ["life"]
    aws.ecs.tag_resource(resourceArn=created["gatewayArn"], tags=[{"key": "cost", "value": "1"}])
    aws.ecs.untag_resource(resourceArn=created["gatewayArn"], tagKeys=["team"])
    assert aws.ecs.list_tags_for_resource(resourceArn=created["gatewayArn"])["tags"] == [
        {"key": "cost", "value": "1"}]

    error = fails(lambda: aws.ecs.delete_gateway(gateway="life"))  # protection is on
    assert code(error) == "ClientException"
    assert "deletion protection" in str(error)

    updated = aws.ecs.update_gateway(gateway="life", deletionProtection=False, configuration={
        "hostSharedAlb": {"httpDesync": "strictest"}})
    assert updated["status"] == "UPDATE_IN_PROGRESS"
    wait_for(lambda: aws.ecs.describe_gateway(gateway="life")["gateway"]["status"]
             == "UPDATE_COMPLETE")
    assert aws.ecs.describe_gateway(gateway="life")["gateway"]["configuration"][
        "hostSharedAlb"]["httpDesync"] == "strictest"

    assert aws.ecs.delete_gateway(gateway="life")["status"] == "DELETED"
    assert code(fails(lambda: aws.ecs.describe_gateway(gateway="life"))) == (
        "GatewayNotFoundException")
    assert aws.ecs.list_gateways(names=["life"])["gateways"] == []


@pytest.mark.parametrize(("request_", "error_code", "says"), [
    ({"name": "bad name"}, "InvalidParameterException", "name"),
    ({"configuration": {"hostSharedAlb": {"port": 80}}}, "InvalidParameterException", "443"),
    ({"configuration": {"hostSharedAlb": {"protocol": "HTTP"}}}, "InvalidParameterException",
     "HTTPS"),
    ({"configuration": {"hostSharedAlb": {"scheme": "public"}}}, "InvalidParameterException",
     "internet-facing, internal"),
    ({"configuration": {"hostSharedAlb": {"maxAlbCount": 0}}}, "InvalidParameterException",
     "maxAlbCount"),
    ({"configuration": {"hostSharedAlb": {"httpDesync": "off"}}}, "InvalidParameterException",
     "monitor, defensive, strictest"),
    ({"configuration": {"hostSharedAlb": {"networkConfiguration": {"subnets": ["subnet-1"]}}}},
     "InvalidParameterException", "at least two subnets"),
    ({"configuration": {"hostSharedAlb": {"accessLogs": {"destination": {
        "s3": {"bucket": "no-such-bucket"}}}}}}, "InvalidParameterException", "no-such-bucket"),
    ({"configuration": {"hostSharedAlb": {"webACLArn": "arn:aws:waf::1:webacl/x"}}},
     "InvalidParameterException", "wafv2"),
    ({"infrastructureRoleArn": "gateway-role"}, "InvalidParameterException", "IAM role ARN"),
    ({"propagateTags": "SERVICE"}, "InvalidParameterException", "NONE, GATEWAY"),
])
def test_create_gateway_refuses_what_ecs_refuses(aws: Aws, role: str, request_: dict[str, Any],
                                                 error_code: str, says: str) -> None:
    call = {"name": "refused", "infrastructureRoleArn": role,
            "configuration": {"hostSharedAlb": {}}, **request_}
    error = fails(lambda: aws.ecs.create_gateway(**call))
    assert code(error) == error_code
    assert says in str(error)
    assert aws.ecs.list_gateways(names=["refused"])["gateways"] == []


def test_the_configuration_union_needs_its_one_variant() -> None:
    """botocore refuses an empty union before sending; the emulator refuses it too (for
    clients that do not validate)."""
    from moto.ecs.exceptions import InvalidParameterException

    from fluoride.local._gateway import _variant

    assert _variant({"hostSharedAlb": {"scheme": "internal"}}, "CreateGateway") == {
        "scheme": "internal"}
    bad: Any
    for bad in ({}, {"hostSharedAlb": {}, "other": {}}, {"hostSharedAlb": "x"}, None):
        with pytest.raises(InvalidParameterException):
            _variant(bad, "CreateGateway")


def test_botocore_refuses_an_empty_configuration_union(aws: Aws, role: str) -> None:
    from botocore.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError, match="hostSharedAlb"):
        aws.ecs.create_gateway(name="union", infrastructureRoleArn=role, configuration={})


def test_a_gateway_name_is_unique_unless_the_client_token_repeats(aws: Aws, role: str) -> None:
    first = aws.ecs.create_gateway(name="once", infrastructureRoleArn=role, clientToken="t-1",
                                   configuration={"hostSharedAlb": {}})
    again = aws.ecs.create_gateway(name="once", infrastructureRoleArn=role, clientToken="t-1",
                                   configuration={"hostSharedAlb": {}})
    assert again["gatewayArn"] == first["gatewayArn"]
    error = fails(lambda: aws.ecs.create_gateway(name="once", infrastructureRoleArn=role,
                                                 configuration={"hostSharedAlb": {}}))
    assert "already exists" in str(error)


def test_list_gateways_pages(aws: Aws, role: str) -> None:
    for n in range(3):
        gateway(aws, role, f"paged-{n}")
    first = aws.ecs.list_gateways(names=["paged-0", "paged-1", "paged-2"], maxResults=2)
    assert len(first["gateways"]) == 2
    assert first["nextToken"]
    pages = aws.ecs.get_paginator("list_gateways").paginate(
        names=["paged-0", "paged-1", "paged-2"], PaginationConfig={"PageSize": 1})
    names = [g["name"] for g in pages.build_full_result()["gateways"]]
    assert names == ["paged-0", "paged-1", "paged-2"]


# ---------------------------------------------------------------- associations


def test_clusters_are_associated_listed_and_disassociated(aws: Aws, role: str) -> None:
    arn = gateway(aws, role, "assoc")
    cluster = aws.ecs.create_cluster(clusterName="assoc")["cluster"]["clusterArn"]
    associated = aws.ecs.associate_gateway_with_cluster(gateway="assoc", cluster="assoc")
    assert (associated["gatewayArn"], associated["clusterArn"], associated["status"]) == (
        arn, cluster, "ACTIVE")
    listed = aws.ecs.list_gateway_cluster_associations(gateway="assoc")[
        "gatewayClusterAssociations"]
    assert listed == [{"gatewayArn": arn, "clusterArn": cluster, "status": "ACTIVE"}]
    assert aws.ecs.list_gateway_cluster_associations(cluster="assoc", status=["DISASSOCIATING"])[
        "gatewayClusterAssociations"] == []
    assert aws.ecs.list_gateway_cluster_associations(gateway="no-such-gateway")[
        "gatewayClusterAssociations"] == []

    error = fails(lambda: aws.ecs.delete_gateway(gateway="assoc"))
    assert code(error) == "ClientException"
    assert cluster in str(error)

    left = aws.ecs.disassociate_gateway_from_cluster(gateway="assoc", cluster=cluster)
    assert left["status"] == "DISASSOCIATING"
    # no route held it: the association is gone at once
    assert aws.ecs.list_gateway_cluster_associations(gateway="assoc")[
        "gatewayClusterAssociations"] == []
    assert code(fails(lambda: aws.ecs.disassociate_gateway_from_cluster(
        gateway="assoc", cluster="assoc"))) == "ResourceNotFoundException"
    aws.ecs.delete_gateway(gateway="assoc")


def test_a_deleted_cluster_can_still_be_disassociated(aws: Aws, role: str) -> None:
    gateway(aws, role, "orphan")
    cluster = aws.ecs.create_cluster(clusterName="orphan")["cluster"]["clusterArn"]
    aws.ecs.associate_gateway_with_cluster(gateway="orphan", cluster="orphan")
    aws.ecs.delete_cluster(cluster="orphan")
    assert code(fails(lambda: aws.ecs.delete_gateway(gateway="orphan"))) == "ClientException"
    left = aws.ecs.disassociate_gateway_from_cluster(gateway="orphan", cluster="orphan")
    assert (left["clusterArn"], left["status"]) == (cluster, "DISASSOCIATING")
    assert aws.ecs.delete_gateway(gateway="orphan")["status"] == "DELETED"
    gateway(aws, role, "orphan-2")
    assert code(fails(lambda: aws.ecs.disassociate_gateway_from_cluster(
        gateway="orphan-2", cluster="never-was"))) == "ClusterNotFoundException"


def test_associating_needs_the_gateway_and_the_cluster_and_stops_at_five(aws: Aws,
                                                                         role: str) -> None:
    aws.ecs.create_cluster(clusterName="five")
    assert code(fails(lambda: aws.ecs.associate_gateway_with_cluster(
        gateway="nope", cluster="five"))) == "GatewayNotFoundException"
    gateway(aws, role, "five-0")
    assert code(fails(lambda: aws.ecs.associate_gateway_with_cluster(
        gateway="five-0", cluster="no-cluster"))) == "ClusterNotFoundException"
    for n in range(5):
        if n:
            gateway(aws, role, f"five-{n}")
        aws.ecs.associate_gateway_with_cluster(gateway=f"five-{n}", cluster="five")
    gateway(aws, role, "five-5")
    error = fails(lambda: aws.ecs.associate_gateway_with_cluster(gateway="five-5",
                                                                 cluster="five"))
    assert code(error) == "InvalidParameterException"
    assert "5 gateways" in str(error)


# ---------------------------------------------------------------- connected services


@pytest.fixture(scope="module")
def lab(aws: Aws, role: str, emulator: Emulator, network: dict[str, Any]) -> dict[str, Any]:
    """A gateway 'lab' on cluster 'lab' and three services connected to it."""
    arn = gateway(aws, role, "lab")
    aws.ecs.create_cluster(clusterName="lab")
    aws.ecs.associate_gateway_with_cluster(gateway="lab", cluster="lab")
    definition = task_definition(aws, "lab-app", image(emulator, "v1"))
    services = [connected_service(aws, network, "lab", name, definition)
                for name in ("alpha", "beta", "gamma")]
    return {"gateway": arn, "services": services, "definition": definition}


def test_each_connected_service_gets_a_route_with_its_own_https_url(aws: Aws,
                                                                    lab: dict[str, Any]) -> None:
    urls = set()
    for service in lab["services"]:
        described = route(aws, service["serviceArn"])
        assert described["status"] == "ACTIVE"
        assert described["serviceContainerPortName"] == "http"
        assert URL.match(described["serviceUrl"]), described["serviceUrl"]
        assert described["serviceUrl"].startswith(f"https://{service['serviceName']}-")
        urls.add(described["serviceUrl"])
        resources = described["resources"]["hostSharedAlb"][0]
        # the pieces are real: an issued certificate covers the host, the rule matches it
        certificate = aws.acm.describe_certificate(
            CertificateArn=resources["acmCertificateArn"])["Certificate"]
        host = described["serviceUrl"].removeprefix("https://")
        assert (certificate["DomainName"], certificate["Status"]) == (
            "*.ecs.us-east-1.on.aws", "ISSUED")
        assert host.split(".", 1)[1] == "ecs.us-east-1.on.aws"
        (listener,) = aws.elbv2.describe_listeners(ListenerArns=[resources["listenerArn"]])[
            "Listeners"]
        assert listener["Certificates"][0]["CertificateArn"] == resources["acmCertificateArn"]
        (rule,) = aws.elbv2.describe_rules(RuleArns=[resources["listenerRuleArn"]])["Rules"]
        assert rule["Conditions"][0]["HostHeaderConfig"]["Values"] == [host]
        group = rule["Actions"][0]["TargetGroupArn"]
        (target_group,) = aws.elbv2.describe_target_groups(TargetGroupArns=[group])[
            "TargetGroups"]
        assert (target_group["Port"], target_group["HealthCheckPath"]) == (8080, "/health")
    assert len(urls) == 3
    listed = routes_of(aws, gateway="lab")
    assert sorted(r["serviceArn"] for r in listed) == sorted(
        s["serviceArn"] for s in lab["services"])
    assert routes_of(aws, cluster="lab", serviceContainerPortName="other") == []


def test_the_routes_share_one_load_balancer_that_listens_on_https_443(
        aws: Aws, lab: dict[str, Any]) -> None:
    resources = aws.ecs.describe_gateway_resources(gateway="lab")["gatewayResources"]
    (alb,) = resources["resources"]["hostSharedAlb"]
    assert sorted(alb["gatewayRouteArns"]) == sorted(r["gatewayRouteArn"]
                                                     for r in routes_of(aws, gateway="lab"))
    (listener,) = aws.elbv2.describe_listeners(ListenerArns=[alb["listenerArn"]])["Listeners"]
    assert (listener["Protocol"], listener["Port"]) == ("HTTPS", 443)
    assert aws.ecs.describe_gateway(gateway="lab")["gateway"]["configuration"][
        "hostSharedAlb"]["currentAlbCount"] == 1
    attributes = {a["Key"]: a["Value"] for a in aws.elbv2.describe_load_balancer_attributes(
        LoadBalancerArn=alb["loadBalancerArn"])["Attributes"]}
    assert attributes["routing.http.desync_mitigation_mode"] == "defensive"
    assert attributes["deletion_protection.enabled"] == "false"
    assert attributes["access_logs.s3.enabled"] == "false"
    # the gateway admits its load balancers to each service's tasks, on the container port
    for service in lab["services"]:
        group = service["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"][0]
        (described,) = aws.ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]
        sources = [(p["FromPort"], [g["GroupId"] for g in p["UserIdGroupPairs"]])
                   for p in described["IpPermissions"]]
        assert (8080, [alb["securityGroup"]]) in sources


def test_the_tasks_of_a_connected_service_become_healthy_targets_of_its_route(
        aws: Aws, lab: dict[str, Any]) -> None:
    def completed(name: str) -> Callable[[], bool]:
        return lambda: rollout(aws, "lab", name) == [("PRIMARY", "COMPLETED")]

    for service in lab["services"]:
        wait_for(completed(str(service["serviceName"])))
        assert target_health(aws, route(aws, service["serviceArn"])) == ["healthy"]


@pytest.mark.parametrize(("connectors", "says"), [
    ([{"portName": "http"}, {"portName": "http"}], "no more than one gateway connector"),
    ([{"portName": "grpc"}], "no container port named 'grpc'"),
    ([{"portName": "http", "filters": {"accessTypes": ["PRIVATE"]}}], "compatible"),
    ([{"portName": "http", "deregistrationDelay": {"timeoutSeconds": 3601}}], "0-3600"),
])
def test_a_connector_ecs_would_refuse_creates_no_service(
        aws: Aws, lab: dict[str, Any], network: dict[str, Any], connectors: list[Any],
        says: str) -> None:
    error = fails(lambda: connected_service(aws, network, "lab", "refused", lab["definition"],
                                            gatewayConnectors=connectors))
    assert code(error) == "InvalidParameterException"
    assert says in str(error)
    assert aws.ecs.describe_services(cluster="lab", services=["refused"])["services"] == []


def test_a_connector_needs_a_gateway_on_the_cluster_and_awsvpc(
        aws: Aws, role: str, emulator: Emulator, network: dict[str, Any]) -> None:
    aws.ecs.create_cluster(clusterName="lonely")
    definition = task_definition(aws, "lonely", image(emulator, "lonely"))
    error = fails(lambda: connected_service(aws, network, "lonely", "s", definition))
    assert "No gateway is associated with the cluster 'lonely'" in str(error)
    gateway(aws, role, "lonely")
    aws.ecs.associate_gateway_with_cluster(gateway="lonely", cluster="lonely")
    bridge = task_definition(aws, "bridged", image(emulator, "bridged"), network_mode="bridge")
    error = fails(lambda: connected_service(aws, network, "lonely", "s", bridge))
    assert "awsvpc" in str(error)


# ---------------------------------------------------------------- rollouts behind a gateway


def test_a_broken_release_behind_a_gateway_fails_on_its_targets_and_rolls_back(
        aws: Aws, role: str, emulator: Emulator, network: dict[str, Any]) -> None:
    gateway(aws, role, "roll")
    aws.ecs.create_cluster(clusterName="roll")
    aws.ecs.associate_gateway_with_cluster(gateway="roll", cluster="roll")
    good = task_definition(aws, "roll", image(emulator, "good"))
    service = connected_service(aws, network, "roll", "web", good, deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200, "minimumHealthyPercent": 100})
    wait_for(lambda: rollout(aws, "roll", "web") == [("PRIMARY", "COMPLETED")])
    gateway_route = route(aws, service["serviceArn"])

    bad = task_definition(aws, "roll", image(emulator, "bad", healthy=False))
    with emulator.hold_rollouts() as hold:  # step simulated time to read each state
        aws.ecs.update_service(cluster="roll", service="web", taskDefinition=bad)
        hold.advance(TIMING.task_start)  # the new task runs and registers in the route
        assert target_health(aws, gateway_route) == ["healthy", "initial"]
        hold.advance(TIMING.health_check)  # it fails the route's health check and drains
        assert target_health(aws, gateway_route) == ["draining", "healthy"]
    def rolled_back() -> bool:
        described = aws.ecs.describe_services(cluster="roll", services=["web"])["services"][0]
        return [(d["taskDefinition"], d["rolloutState"]) for d in described["deployments"]] == [
            (good, "COMPLETED")]

    wait_for(rolled_back, timeout=60)
    (rule,) = aws.elbv2.describe_rules(
        RuleArns=[gateway_route["resources"]["hostSharedAlb"][0]["listenerRuleArn"]])["Rules"]
    group = rule["Actions"][0]["TargetGroupArn"]
    events = [e["message"] for e in aws.ecs.describe_services(
        cluster="roll", services=["web"])["services"][0]["events"]]
    assert any(f"is unhealthy in (target-group {group})" in e for e in events), events
    stopped = aws.ecs.list_tasks(cluster="roll", desiredStatus="STOPPED")["taskArns"]
    reasons = {t["stoppedReason"] for t in aws.ecs.describe_tasks(
        cluster="roll", tasks=stopped)["tasks"]}
    assert any(r.startswith("Task failed ELB health checks in (target-group arn:aws:"
                            "elasticloadbalancing:") for r in reasons), reasons
    assert target_health(aws, route(aws, service["serviceArn"])) == ["healthy"]
    assert route(aws, service["serviceArn"])["serviceUrl"] == gateway_route["serviceUrl"]


def test_removing_the_connector_removes_the_route_and_lets_the_cluster_go(
        aws: Aws, role: str, emulator: Emulator, network: dict[str, Any]) -> None:
    gateway(aws, role, "leave")
    aws.ecs.create_cluster(clusterName="leave")
    aws.ecs.associate_gateway_with_cluster(gateway="leave", cluster="leave")
    definition = task_definition(aws, "leave", image(emulator, "leave"))
    service = connected_service(aws, network, "leave", "web", definition)
    gateway_route = route(aws, service["serviceArn"])
    aws.ecs.disassociate_gateway_from_cluster(gateway="leave", cluster="leave")
    # the route holds the association until the service lets go of the gateway
    assert [a["status"] for a in aws.ecs.list_gateway_cluster_associations(gateway="leave")[
        "gatewayClusterAssociations"]] == ["DISASSOCIATING"]
    aws.ecs.update_service(cluster="leave", service="web", gatewayConnectors=[])
    assert routes_of(aws, gateway="leave") == []
    assert code(fails(lambda: aws.ecs.describe_gateway_route(
        gatewayRouteArn=gateway_route["gatewayRouteArn"]))) == "ResourceNotFoundException"
    assert aws.ecs.list_gateway_cluster_associations(gateway="leave")[
        "gatewayClusterAssociations"] == []
    rule = gateway_route["resources"]["hostSharedAlb"][0]["listenerRuleArn"]
    assert code(fails(lambda: aws.elbv2.describe_rules(RuleArns=[rule]))) == "RuleNotFound"
    alb = aws.ecs.describe_gateway_resources(gateway="leave")["gatewayResources"]["resources"][
        "hostSharedAlb"][0]
    aws.ecs.delete_gateway(gateway="leave")
    # the gateway's own infrastructure goes with it
    assert code(fails(lambda: aws.elbv2.describe_load_balancers(
        LoadBalancerArns=[alb["loadBalancerArn"]]))) == "LoadBalancerNotFound"
    assert code(fails(lambda: aws.acm.describe_certificate(
        CertificateArn=gateway_route["resources"]["hostSharedAlb"][0]["acmCertificateArn"]))) == (
        "ResourceNotFoundException")
    assert code(fails(lambda: aws.ec2.describe_security_groups(
        GroupIds=[alb["securityGroup"]]))) == "InvalidGroup.NotFound"


# ---------------------------------------------------------------- CloudFormation


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


ENVIRONMENT = {
    "Resources": {
        "Logs": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "stacked-logs"}},
        "Gateway": {"Type": "AWS::ECS::Gateway", "Properties": {
            "GatewayName": "stacked",
            "InfrastructureRoleArn": {"Ref": "RoleArn"},
            "DeletionProtection": False,
            "Configuration": {"HostSharedAlb": {
                "Scheme": "internet-facing", "MaxAlbCount": 2, "HttpDesync": "defensive",
                "AccessLogs": {"Destination": {"S3": {"Bucket": {"Ref": "Logs"},
                                                      "Prefix": "gw"}}}}},
            "Tags": [{"Key": "env", "Value": "stacked"}]}},
    },
    "Parameters": {"RoleArn": {"Type": "String"}},
    "Outputs": {
        "Ref": {"Value": {"Ref": "Gateway"}},
        "Arn": {"Value": {"Fn::GetAtt": ["Gateway", "Arn"]}},
        "Status": {"Value": {"Fn::GetAtt": ["Gateway", "Status"]}},
        "AccessType": {"Value": {"Fn::GetAtt": ["Gateway", "AccessType"]}},
        "Albs": {"Value": {"Fn::GetAtt": ["Gateway",
                                          "Configuration.HostSharedAlb.CurrentAlbCount"]}},
    },
}


def _service_template(gateway_arn: str, definition: str, subnets: list[str],
                      group: str, cluster: str = "stacked") -> dict[str, Any]:
    return {
        "Resources": {
            "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": cluster}},
            "Association": {"Type": "AWS::ECS::GatewayClusterAssociations", "Properties": {
                "Gateway": gateway_arn, "Cluster": {"Ref": "Cluster"}}},
            "Service": {"Type": "AWS::ECS::Service", "DependsOn": "Association", "Properties": {
                "Cluster": {"Ref": "Cluster"}, "ServiceName": "web",
                "TaskDefinition": definition, "DesiredCount": 1, "LaunchType": "FARGATE",
                "NetworkConfiguration": {"AwsvpcConfiguration": {
                    "Subnets": subnets, "SecurityGroups": [group]}},
                "DeploymentConfiguration": {
                    "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
                    "MaximumPercent": 200, "MinimumHealthyPercent": 100},
                "GatewayConnectors": [{"PortName": "http", "HealthCheck": {
                    "HealthCheckPath": "/ready", "HealthCheckIntervalSeconds": "10",
                    "HealthyThresholdCount": "2"}}]}},
        },
        "Outputs": {
            "Association": {"Value": {"Ref": "Association"}},
            "AssociationStatus": {"Value": {"Fn::GetAtt": ["Association", "Status"]}},
            "GatewayArn": {"Value": {"Fn::GetAtt": ["Association", "GatewayArn"]}},
        },
    }


def test_stacks_make_and_delete_a_gateway_an_association_and_a_connected_service(
        aws: Aws, role: str, emulator: Emulator, network: dict[str, Any]) -> None:
    cfn = aws.cloudformation
    cfn.create_stack(StackName="env-stacked", TemplateBody=json.dumps(ENVIRONMENT),
                     Parameters=[{"ParameterKey": "RoleArn", "ParameterValue": role}])
    env = wait_stack(aws, "env-stacked")
    assert env["StackStatus"] == "CREATE_COMPLETE"
    out = _outputs(env)
    arn = "arn:aws:ecs:us-east-1:123456789012:gateway/stacked"
    assert (out["Ref"], out["Arn"], out["Status"], out["AccessType"], out["Albs"]) == (
        arn, arn, "ACTIVE", "PUBLIC", "0")
    described = aws.ecs.describe_gateway(gateway="stacked")["gateway"]
    assert described["configuration"]["hostSharedAlb"]["maxAlbCount"] == 2
    assert described["configuration"]["hostSharedAlb"]["accessLogs"] == {
        "destination": {"s3": {"bucket": "stacked-logs", "prefix": "gw"}}}
    assert described["tags"] == [{"key": "env", "value": "stacked"}]

    definition = task_definition(aws, "stacked", image(emulator, "stacked"))
    group = aws.ec2.create_security_group(GroupName="stacked", Description="tasks",
                                          VpcId=network["vpc"])["GroupId"]
    template = _service_template(arn, definition, network["subnets"], group)
    cfn.create_stack(StackName="svc-stacked", TemplateBody=json.dumps(template))
    svc = wait_stack(aws, "svc-stacked")
    assert svc["StackStatus"] == "CREATE_COMPLETE", svc.get("StackStatusReason")
    out = _outputs(svc)
    cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/stacked"
    assert (out["Association"], out["AssociationStatus"], out["GatewayArn"]) == (
        f"{arn}|{cluster}", "ACTIVE", arn)
    service_arn = "arn:aws:ecs:us-east-1:123456789012:service/stacked/web"
    gateway_route = route(aws, service_arn)
    assert URL.match(gateway_route["serviceUrl"])
    wait_for(lambda: target_health(aws, gateway_route) == ["healthy"])
    (rule,) = aws.elbv2.describe_rules(
        RuleArns=[gateway_route["resources"]["hostSharedAlb"][0]["listenerRuleArn"]])["Rules"]
    (target_group,) = aws.elbv2.describe_target_groups(
        TargetGroupArns=[rule["Actions"][0]["TargetGroupArn"]])["TargetGroups"]
    assert (target_group["HealthCheckPath"], target_group["HealthCheckIntervalSeconds"],
            target_group["HealthyThresholdCount"]) == ("/ready", 10, 2)

    # a changed setting goes through UpdateGateway and reaches the gateway's load balancer
    changed = json.loads(json.dumps(ENVIRONMENT))
    changed["Resources"]["Gateway"]["Properties"]["Configuration"]["HostSharedAlb"][
        "HttpDesync"] = "strictest"
    cfn.update_stack(StackName="env-stacked", TemplateBody=json.dumps(changed),
                     Parameters=[{"ParameterKey": "RoleArn", "ParameterValue": role}])
    assert wait_stack(aws, "env-stacked")["StackStatus"] == "UPDATE_COMPLETE"
    assert _outputs(wait_stack(aws, "env-stacked"))["Arn"] == arn  # updated, not replaced
    wait_for(lambda: aws.ecs.describe_gateway(gateway="stacked")["gateway"]["status"]
             == "UPDATE_COMPLETE")
    balancer = gateway_route["resources"]["hostSharedAlb"][0]["loadBalancerArn"]
    attributes = {a["Key"]: a["Value"] for a in aws.elbv2.describe_load_balancer_attributes(
        LoadBalancerArn=balancer)["Attributes"]}
    assert attributes["routing.http.desync_mitigation_mode"] == "strictest"
    assert (attributes["access_logs.s3.enabled"], attributes["access_logs.s3.bucket"],
            attributes["access_logs.s3.prefix"]) == ("true", "stacked-logs", "gw")
    tags = aws.elbv2.describe_tags(ResourceArns=[balancer])["TagDescriptions"][0]["Tags"]
    assert {"Key": "env", "Value": "stacked"} in tags  # propagateTags GATEWAY, the default

    # the environment cannot go while a cluster is associated: its stack fails to delete
    cfn.delete_stack(StackName="env-stacked")
    assert wait_stack(aws, "env-stacked")["StackStatus"] == "DELETE_FAILED"

    cfn.delete_stack(StackName="svc-stacked")
    _wait_stack_gone(aws, "svc-stacked")
    assert routes_of(aws, gateway="stacked") == []
    assert aws.ecs.list_gateway_cluster_associations(gateway="stacked")[
        "gatewayClusterAssociations"] == []
    cfn.delete_stack(StackName="env-stacked")
    _wait_stack_gone(aws, "env-stacked")
    assert aws.ecs.list_gateways(names=["stacked"])["gateways"] == []


def _wait_stack_gone(aws: Aws, name: str) -> None:
    def gone() -> bool:
        try:
            stacks = aws.cloudformation.describe_stacks(StackName=name)["Stacks"]
        except ClientError:
            return True
        return bool(stacks[0]["StackStatus"] == "DELETE_COMPLETE")

    wait_for(gone)


def test_a_stack_gateway_with_default_deletion_protection_refuses_deletion(
        aws: Aws, role: str) -> None:
    template = json.loads(json.dumps(ENVIRONMENT))
    gateway_ = template["Resources"]["Gateway"]["Properties"]
    gateway_["GatewayName"] = "protected"
    template["Resources"]["Logs"]["Properties"]["BucketName"] = "protected-logs"
    del gateway_["DeletionProtection"]  # the schema's default: true
    aws.cloudformation.create_stack(
        StackName="env-protected", TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "RoleArn", "ParameterValue": role}])
    assert wait_stack(aws, "env-protected")["StackStatus"] == "CREATE_COMPLETE"
    aws.cloudformation.delete_stack(StackName="env-protected")
    assert wait_stack(aws, "env-protected")["StackStatus"] == "DELETE_FAILED"
    assert aws.ecs.describe_gateway(gateway="protected")["gateway"]["deletionProtection"]


def _switchable_template(gateway_arn: str, definition: str, network: dict[str, Any],
                         group: str) -> dict[str, Any]:
    """A service stack whose ``UseGateway`` parameter puts the service behind its own ALB's
    target group or behind the gateway."""
    return {
        "Parameters": {"UseGateway": {"Type": "String", "AllowedValues": ["yes", "no"]}},
        "Conditions": {"Gateway": {"Fn::Equals": [{"Ref": "UseGateway"}, "yes"]}},
        "Resources": {
            "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "moving"}},
            "Association": {"Type": "AWS::ECS::GatewayClusterAssociations", "Properties": {
                "Gateway": gateway_arn, "Cluster": {"Ref": "Cluster"}}},
            "Balancer": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
                "Subnets": network["subnets"], "SecurityGroups": [group]}},
            "Targets": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {
                "Port": 8080, "Protocol": "HTTP", "TargetType": "ip",
                "VpcId": network["vpc"]}},
            "Listener": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
                "LoadBalancerArn": {"Ref": "Balancer"}, "Port": 80, "Protocol": "HTTP",
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Targets"}}]}},
            "Service": {"Type": "AWS::ECS::Service", "DependsOn": ["Association", "Listener"],
                        "Properties": {
                "Cluster": {"Ref": "Cluster"}, "ServiceName": "web",
                "TaskDefinition": definition, "DesiredCount": 1, "LaunchType": "FARGATE",
                "NetworkConfiguration": {"AwsvpcConfiguration": {
                    "Subnets": network["subnets"], "SecurityGroups": [group]}},
                "LoadBalancers": {"Fn::If": ["Gateway", {"Ref": "AWS::NoValue"}, [{
                    "ContainerName": "app", "ContainerPort": 8080,
                    "TargetGroupArn": {"Ref": "Targets"}}]]},
                "GatewayConnectors": {"Fn::If": ["Gateway", [{"PortName": "http"}],
                                                 {"Ref": "AWS::NoValue"}]}}},
        },
        "Outputs": {"Targets": {"Value": {"Ref": "Targets"}}},
    }


def test_a_stack_update_moves_a_service_from_its_alb_to_the_gateway_and_back(
        aws: Aws, role: str, emulator: Emulator, network: dict[str, Any]) -> None:
    arn = gateway(aws, role, "moving")
    definition = task_definition(aws, "moving", image(emulator, "moving"))
    group = aws.ec2.create_security_group(GroupName="moving", Description="tasks",
                                          VpcId=network["vpc"])["GroupId"]
    body = json.dumps(_switchable_template(arn, definition, network, group))
    cfn = aws.cloudformation
    service_arn = "arn:aws:ecs:us-east-1:123456789012:service/moving/web"

    def own_targets() -> list[str]:
        stack = wait_stack(aws, "moving")
        described = aws.elbv2.describe_target_health(TargetGroupArn=_outputs(stack)["Targets"])
        return sorted(d["TargetHealth"]["State"] for d in described["TargetHealthDescriptions"])

    def settled(stage: str) -> None:
        stack = wait_stack(aws, "moving")
        assert stack["StackStatus"] == stage, stack.get("StackStatusReason")
        wait_for(lambda: rollout(aws, "moving", "web") == [("PRIMARY", "COMPLETED")])

    cfn.create_stack(StackName="moving", TemplateBody=body,
                     Parameters=[{"ParameterKey": "UseGateway", "ParameterValue": "no"}])
    settled("CREATE_COMPLETE")
    wait_for(lambda: own_targets() == ["healthy"])
    assert routes_of(aws, service=service_arn) == []

    cfn.update_stack(StackName="moving", TemplateBody=body,
                     Parameters=[{"ParameterKey": "UseGateway", "ParameterValue": "yes"}])
    settled("UPDATE_COMPLETE")
    gateway_route = route(aws, service_arn)
    assert URL.match(gateway_route["serviceUrl"])
    wait_for(lambda: target_health(aws, gateway_route) == ["healthy"])
    wait_for(lambda: own_targets() == [])  # the ALB's task drained away

    cfn.update_stack(StackName="moving", TemplateBody=body,
                     Parameters=[{"ParameterKey": "UseGateway", "ParameterValue": "no"}])
    settled("UPDATE_COMPLETE")
    assert routes_of(aws, service=service_arn) == []
    wait_for(lambda: own_targets() == ["healthy"])
    cfn.delete_stack(StackName="moving")
    _wait_stack_gone(aws, "moving")
    assert aws.ecs.list_gateway_cluster_associations(gateway="moving")[
        "gatewayClusterAssociations"] == []


def test_routes_fill_load_balancers_up_to_max_alb_count(
        aws: Aws, role: str, emulator: Emulator, network: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from fluoride.local import _gateway

    monkeypatch.setattr(_gateway, "ROUTES_PER_ALB", 2)  # the server runs in this process
    gateway(aws, role, "small", maxAlbCount=2)
    aws.ecs.create_cluster(clusterName="small")
    aws.ecs.associate_gateway_with_cluster(gateway="small", cluster="small")
    definition = task_definition(aws, "small", image(emulator, "small"))
    for n in range(4):
        connected_service(aws, network, "small", f"s{n}", definition)
    albs = aws.ecs.describe_gateway_resources(gateway="small")["gatewayResources"][
        "resources"]["hostSharedAlb"]
    assert [len(a["gatewayRouteArns"]) for a in albs] == [2, 2]
    assert aws.ecs.describe_gateway_resources(gateway="small", maxResults=1)["nextToken"]
    assert aws.ecs.describe_gateway(gateway="small")["gateway"]["configuration"][
        "hostSharedAlb"]["currentAlbCount"] == 2
    error = fails(lambda: connected_service(aws, network, "small", "s4", definition))
    assert "no room for another route" in str(error)
    assert aws.ecs.describe_services(cluster="small", services=["s4"])["services"] == []
    error = fails(lambda: aws.ecs.update_gateway(
        gateway="small", configuration={"hostSharedAlb": {"maxAlbCount": 1}}))
    assert "maxAlbCount 1 is below the 2 load balancers" in str(error)
    aws.ecs.update_gateway(gateway="small", configuration={"hostSharedAlb": {"maxAlbCount": 3}})
    connected_service(aws, network, "small", "s4", definition)
    assert len(aws.ecs.describe_gateway_resources(gateway="small")["gatewayResources"][
        "resources"]["hostSharedAlb"]) == 3


def test_a_stack_update_to_a_broken_image_behind_a_gateway_rolls_the_stack_back(
        aws: Aws, role: str, emulator: Emulator, network: dict[str, Any]) -> None:
    arn = gateway(aws, role, "stack-roll")
    good = task_definition(aws, "stack-roll", image(emulator, "stack-good"))
    bad = task_definition(aws, "stack-roll", image(emulator, "stack-bad", healthy=False))
    group = aws.ec2.create_security_group(GroupName="stack-roll", Description="tasks",
                                          VpcId=network["vpc"])["GroupId"]
    cfn = aws.cloudformation
    cfn.create_stack(StackName="stack-roll", TemplateBody=json.dumps(
        _service_template(arn, good, network["subnets"], group, cluster="stack-roll")))
    assert wait_stack(aws, "stack-roll")["StackStatus"] == "CREATE_COMPLETE"
    service_arn = "arn:aws:ecs:us-east-1:123456789012:service/stack-roll/web"
    before = route(aws, service_arn)
    wait_for(lambda: target_health(aws, before) == ["healthy"])

    cfn.update_stack(StackName="stack-roll", TemplateBody=json.dumps(
        _service_template(arn, bad, network["subnets"], group, cluster="stack-roll")))
    stack = wait_stack(aws, "stack-roll")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    described = aws.ecs.describe_services(cluster="stack-roll", services=["web"])["services"][0]
    assert [(d["taskDefinition"], d["rolloutState"]) for d in described["deployments"]] == [
        (good, "COMPLETED")]
    after = route(aws, service_arn)
    assert after["serviceUrl"] == before["serviceUrl"]  # the route (and URL) stayed
    wait_for(lambda: target_health(aws, after) == ["healthy"])
    cfn.delete_stack(StackName="stack-roll")
    _wait_stack_gone(aws, "stack-roll")


# ---------------------------------------------------------------- pure pieces


@pytest.mark.parametrize(("service", "url"), [
    ("web", "https://web-0123abcd.ecs.us-east-1.on.aws"),
    ("Web_App.v2", "https://web-app-v2-0123abcd.ecs.us-east-1.on.aws"),
    ("-edge-", "https://edge-0123abcd.ecs.us-east-1.on.aws"),
    ("___", "https://service-0123abcd.ecs.us-east-1.on.aws"),
    ("x" * 255, f"https://{'x' * 50}-0123abcd.ecs.us-east-1.on.aws"),
    # CloudFormation's generated ECS name for the longest service name (24 characters)
    ("fluoride-" + "a" * 24 + "-Service-939J4sm1XyZ0",
     f"https://fluoride-{'a' * 24}-service-939j4sm1-0123abcd.ecs.us-east-1.on.aws"),
    ("x" * 49 + "-yz", f"https://{'x' * 49}-0123abcd.ecs.us-east-1.on.aws"),  # no "--"
])
def test_route_urls_are_one_dns_label_under_the_region_s_domain(service: str, url: str) -> None:
    from fluoride.local._gateway import route_url

    made = route_url(service, "0123abcd", "us-east-1")
    assert made == url
    label = made.removeprefix("https://").split(".")[0]
    assert len(label) <= 63
    assert URL.match(made)


@pytest.mark.parametrize(("max_results", "token", "page", "next_token"), [
    (None, None, [0, 1, 2, 3, 4], None),
    (2, None, [0, 1], "2"),
    (2, "2", [2, 3], "4"),
    (2, "4", [4], None),
    (5, None, [0, 1, 2, 3, 4], None),
    (20, None, [0, 1, 2, 3, 4], None),
])
def test_pages(max_results: int | None, token: str | None, page: list[int],
               next_token: str | None) -> None:
    from fluoride.local.shims.ecs_gateway import _page

    assert _page(list(range(5)), max_results, token, default=10, maximum=20) == (
        page, next_token)


@pytest.mark.parametrize(("max_results", "token"), [(0, None), (21, None), (2, "x")])
def test_bad_page_requests_are_refused(max_results: int, token: str | None) -> None:
    from moto.ecs.exceptions import InvalidParameterException

    from fluoride.local.shims.ecs_gateway import _page

    with pytest.raises(InvalidParameterException):
        _page(list(range(5)), max_results, token, default=10, maximum=20)
