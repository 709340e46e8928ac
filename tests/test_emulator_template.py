"""Every resource of the template exists in the emulator, for every toggle, and can be
described through its own service's API; deleting the stack removes all but what the
template retains.

The walk is driven by the template itself: a resource type without a check below fails
``test_every_resource_type_has_a_check``, so a resource added to the template without
emulator support fails the suite. The toggle combinations must give every condition of
the template both values (``test_combinations_cover_every_condition``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import attrs
import boto3
import botocore.exceptions
import pytest

from fluoride.infra.policy_report import parse_template
from fluoride.infra.resolve import evaluate_conditions
from fluoride.infra.template import load_template
from fluoride.local import Emulator, Timing, start_emulator

# ---------------------------------------------------------------- the template


TEMPLATE_BODY = load_template()
TEMPLATE: dict[str, Any] = parse_template(TEMPLATE_BODY)
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
RETAINED = {name for name, body in RESOURCES.items() if body.get("DeletionPolicy") == "Retain"}

PUBLIC_IMAGE = "public.ecr.aws/docker/library/nginx:stable"

# ---------------------------------------------------------------- combinations


@attrs.frozen
class Combo:
    """One stack: a region (the access-log conditions depend on it) and its toggles."""

    name: str
    region: str
    toggles: Callable[[Prereqs], dict[str, str]]
    adopt_repository: bool = False
    adopt_stores: bool = False
    #: an environment's gateway (fluoride-env-lab) made beforehand, and the service behind it
    gateway: bool = False


@attrs.frozen
class Prereqs:
    """Things the toggles point at, made beforehand in the combination's region."""

    vpc: str
    subnets: list[str]
    zone_id: str
    zone_name: str
    certificate: str
    caller_groups: list[str]
    policy: str
    boundary: str
    kept_secret: str
    gateway_group: str = ""
    route_table: str = ""


COMBOS = [
    Combo("defaults", "us-east-1", lambda p: {}),
    Combo("everything-on", "eu-west-1", lambda p: {
        "Image": PUBLIC_IMAGE, "MinCount": "2", "MaxCount": "3", "Public": "false",
        "HostedZoneId": p.zone_id, "HostedZoneName": p.zone_name, "Subdomain": "api",
        "RequestCertificate": "true", "HttpsRedirect": "true", "EnableExec": "true",
        "AlarmRollback": "false", "RequestsPerTarget": "100",
        "TableName": "walk-table", "BucketName": "walk-bucket-everything-on",
        "SecretName": "walk/secret", "IngressCidr2": "10.1.0.0/16", "IngressCidr3": "10.2.0.0/16",
        "IngressCidr4": "10.3.0.0/16", "AllowedCallerSecurityGroups": ",".join(p.caller_groups),
        "ExtraPolicyArns": p.policy, "PermissionsBoundaryArn": p.boundary,
        "AssignPublicIp": "DISABLED", "SecretEnv": "true",
        "Compliance": "strict", "ContainerUser": "1000", "AppMemory": "512",
        "LogRetentionDays": "365",
        "VpcEndpoints": "true", "EndpointRouteTableIds": p.route_table,
        "NotifyEmails": "a@example.org,b@example.org,c@example.org,d@example.org",
        "NotifyEmailCount": "4",
        "AlarmActionArns": "arn:aws:sns:eu-west-1:123456789012:team,"
                           "arn:aws:sns:eu-west-1:123456789012:fluoride-walk-alarms",
    }),
    Combo("stores-off-own-certificate", "eu-north-1", lambda p: {
        "Image": PUBLIC_IMAGE, "EnableTable": "false", "EnableBucket": "false",
        "EnableSecret": "false", "CertificateArn": p.certificate, "RequestCertificate": "true",
        "HttpsRedirect": "false", "IngressCidr1": "",
        "AllowedCallerSecurityGroups": p.caller_groups[0],
        "NotifyEmails": "ops@example.org", "NotifyEmailCount": "1",
        "AlarmActionArns": "arn:aws:sns:eu-north-1:123456789012:fluoride-walk-alarms",
    }),
    Combo("new-region-domain-without-https-kept-stores", "eu-south-2", lambda p: {
        "HostedZoneId": p.zone_id, "HostedZoneName": p.zone_name, "Subdomain": "www",
        "HttpsRedirect": "false", "AdoptRepository": "true",
        "TableName": "kept-table", "AdoptTable": "true", "BucketName": "kept-bucket-walk",
        "AdoptBucket": "true", "AdoptSecret": "true", "AdoptedSecretArn": p.kept_secret,
    }, adopt_repository=True, adopt_stores=True),
    # Behind an environment's ECS gateway (issue 14): no load balancer of its own.
    Combo("behind-a-gateway", "ap-southeast-2", lambda p: {
        "Image": PUBLIC_IMAGE, "Gateway": "lab", "GatewaySecurityGroup": p.gateway_group,
    }, gateway=True),
]

# ---------------------------------------------------------------- fixtures


class Clients:
    def __init__(self, emulator: Emulator, region: str) -> None:
        self.region = region
        self.session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                     region_name=region)
        self.endpoint = emulator.endpoint_url
        self._cache: dict[str, Any] = {}

    def __call__(self, name: str) -> Any:
        if name not in self._cache:
            self._cache[name] = self.session.client(  # type: ignore[call-overload]  # a str name
                name, endpoint_url=self.endpoint)
        return self._cache[name]


@attrs.define
class Stack:
    combo: Combo
    clients: Clients
    parameters: dict[str, str]
    stack_id: str = ""
    status: str = ""
    outputs: dict[str, str] = attrs.field(factory=dict)
    physical: dict[str, str] = attrs.field(factory=dict)
    types: dict[str, str] = attrs.field(factory=dict)
    conditions: dict[str, bool] = attrs.field(factory=dict)

    def param(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        return str(TEMPLATE["Parameters"][name].get("Default", ""))

    def active(self, logical_id: str) -> bool:
        condition = RESOURCES[logical_id].get("Condition")
        return condition is None or self.conditions[condition]


def _prereqs(clients: Clients) -> Prereqs:
    ec2 = clients("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
    zone_name = f"walk-{clients.region}.example.com"
    zone = clients("route53").create_hosted_zone(Name=zone_name, CallerReference=zone_name)
    certificate = clients("acm").request_certificate(DomainName=f"own.{zone_name}")
    groups = [ec2.create_security_group(GroupName=f"caller-{i}", Description="caller",
                                        VpcId=vpc)["GroupId"] for i in range(4)]
    iam = clients("iam")
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]})
    policy = iam.create_policy(PolicyName=f"walk-extra-{clients.region}", PolicyDocument=document)
    boundary = iam.create_policy(PolicyName=f"walk-boundary-{clients.region}",
                                 PolicyDocument=document)
    kept_secret = clients("secretsmanager").create_secret(
        Name=f"kept/{clients.region}", SecretString="{}")["ARN"]
    return Prereqs(vpc=vpc, subnets=subnets, zone_id=zone["HostedZone"]["Id"].split("/")[-1],
                   zone_name=zone_name, certificate=certificate["CertificateArn"],
                   caller_groups=groups, policy=policy["Policy"]["Arn"],
                   boundary=boundary["Policy"]["Arn"], kept_secret=kept_secret,
                   gateway_group=groups[0],
                   route_table=ec2.describe_route_tables(Filters=[
                       {"Name": "vpc-id", "Values": [vpc]},
                       {"Name": "association.main", "Values": ["true"]},
                   ])["RouteTables"][0]["RouteTableId"])


def _gateway(clients: Clients, prereqs: Prereqs) -> None:
    """The gateway an environment named lab would have (its stack is not the subject)."""
    role = clients("iam").create_role(RoleName=f"gw-{clients.region}", AssumeRolePolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
        '{"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'))["Role"]["Arn"]
    clients("ecs").create_gateway(
        name="fluoride-env-lab", infrastructureRoleArn=role, deletionProtection=False,
        configuration={"hostSharedAlb": {"scheme": "internet-facing", "networkConfiguration": {
            "subnets": prereqs.subnets, "inboundSecurityGroup": prereqs.gateway_group}}})


def _declared(parameters: dict[str, str]) -> dict[str, str]:
    """Only what the template declares (combinations may name parameters it has not yet)."""
    return {k: v for k, v in parameters.items() if k in TEMPLATE["Parameters"]}


def _conditions(region: str, parameters: dict[str, str]) -> dict[str, bool]:
    """The template's conditions for these parameters, by the evaluator the emulator uses."""
    held = evaluate_conditions(TEMPLATE, parameters, region=region, account="123456789012")
    undecided = [name for name, value in held.items() if value is None]
    assert not undecided, undecided
    return {name: bool(value) for name, value in held.items()}


def _wait(stack: Stack, *, timeout: float = 30) -> None:
    cfn = stack.clients("cloudformation")
    deadline = time.monotonic() + timeout
    while True:
        described = cfn.describe_stacks(StackName=stack.stack_id)["Stacks"][0]
        stack.status = described["StackStatus"]
        if not stack.status.endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            stack.outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
            return
        time.sleep(0.05)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with start_emulator(timing=Timing(task_start=0.05, health_check=0.05, drain=0.05)) as emu:
        yield emu


@pytest.fixture(scope="module")
def stacks(emulator: Emulator) -> dict[str, Stack]:
    """Every combination's stack, created side by side, then listed."""
    made: dict[str, Stack] = {}
    for combo in COMBOS:
        clients = Clients(emulator, combo.region)
        prereqs = _prereqs(clients)
        if combo.gateway:
            _gateway(clients, prereqs)
        if combo.adopt_repository:  # a repository kept from an earlier life of the service
            clients("ecr").create_repository(repositoryName="fluoride/walk")
        if combo.adopt_stores and "AdoptTable" in TEMPLATE["Parameters"]:  # and its stores
            clients("dynamodb").create_table(
                TableName="kept-table", BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
            clients("s3").create_bucket(
                Bucket="kept-bucket-walk",
                CreateBucketConfiguration={"LocationConstraint": combo.region})
        parameters = _declared({"ServiceName": "walk", "VpcId": prereqs.vpc,
                                "SubnetIds": ",".join(prereqs.subnets),
                                **combo.toggles(prereqs)})
        stack = Stack(combo, clients, parameters)
        stack.conditions = _conditions(combo.region, parameters)
        stack.stack_id = clients("cloudformation").create_stack(
            StackName="fluoride-walk", TemplateBody=TEMPLATE_BODY,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        )["StackId"]
        made[combo.name] = stack
    for stack in made.values():
        _wait(stack)
        summaries = stack.clients("cloudformation").list_stack_resources(
            StackName=stack.stack_id)["StackResourceSummaries"]
        stack.physical = {s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries}
        stack.types = {s["LogicalResourceId"]: s["ResourceType"] for s in summaries}
    return made


# ---------------------------------------------------------------- the checks


def _missing(exc: botocore.exceptions.ClientError, *codes: str) -> bool:
    code = exc.response.get("Error", {}).get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in codes or (status == 404 and "404" in codes)


T = TypeVar("T")


def _found(describe: Callable[[], T], *codes: str) -> T | None:
    """``describe()``, or ``None`` where it fails with one of ``codes`` (no such resource)."""
    try:
        return describe()
    except botocore.exceptions.ClientError as exc:
        if _missing(exc, *codes):
            return None
        raise


def _attributes(response: dict[str, Any]) -> dict[str, str]:
    """An ELBv2 ``Describe...Attributes`` answer as a dict."""
    return {a["Key"]: a["Value"] for a in response["Attributes"]}


Check = Callable[[Stack, str, str], bool]
CHECKS: dict[str, Check] = {}


def check(resource_type: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS[resource_type] = fn
        return fn
    return register


@check("AWS::ECS::Cluster")
def _cluster(stack: Stack, logical: str, physical: str) -> bool:
    clusters = stack.clients("ecs").describe_clusters(clusters=[physical])["clusters"]
    if not clusters or clusters[0]["status"] != "ACTIVE":
        return False
    settings = {s["name"]: s["value"] for s in clusters[0]["settings"]}
    assert settings["containerInsights"] == "enabled"
    return True


@check("AWS::Logs::LogGroup")
def _log_group(stack: Stack, logical: str, physical: str) -> bool:
    groups = stack.clients("logs").describe_log_groups(logGroupNamePrefix=physical)["logGroups"]
    group = next((g for g in groups if g["logGroupName"] == physical), None)
    if group is None:
        return False
    assert group["retentionInDays"] == int(stack.param("LogRetentionDays"))
    return True


@check("AWS::KMS::Key")
def _key(stack: Stack, logical: str, physical: str) -> bool:
    kms = stack.clients("kms")
    key = _found(lambda: kms.describe_key(KeyId=physical)["KeyMetadata"], "NotFoundException")
    if key is None:
        return False
    assert kms.get_key_rotation_status(KeyId=physical)["KeyRotationEnabled"] is True
    return True


@check("AWS::IAM::Role")
def _role(stack: Stack, logical: str, physical: str) -> bool:
    role = _found(lambda: stack.clients("iam").get_role(RoleName=physical)["Role"],
                  "NoSuchEntity")
    if role is None:
        return False
    boundary = stack.param("PermissionsBoundaryArn")
    if boundary:
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    assert "ecs-tasks.amazonaws.com" in json.dumps(role["AssumeRolePolicyDocument"])
    return True


@check("AWS::IAM::Policy")
def _inline_policy(stack: Stack, logical: str, physical: str) -> bool:
    name = RESOURCES[logical]["Properties"]["PolicyName"]
    # the role the policy names: the task role, or the execution role (secret_env)
    role = stack.physical[RESOURCES[logical]["Properties"]["Roles"][0]["Ref"]]
    names = _found(lambda: stack.clients("iam").list_role_policies(RoleName=role)["PolicyNames"],
                   "NoSuchEntity")
    return names is not None and name in names


@check("AWS::ECS::TaskDefinition")
def _task_definition(stack: Stack, logical: str, physical: str) -> bool:
    td = stack.clients("ecs").describe_task_definition(taskDefinition=physical)["taskDefinition"]
    if td["status"] != "ACTIVE":
        return False
    assert td["networkMode"] == "awsvpc"
    assert td["requiresCompatibilities"] == ["FARGATE"]
    assert (td["cpu"], td["memory"]) == (stack.param("Cpu"), stack.param("Memory"))
    assert td["executionRoleArn"].endswith(stack.physical["ExecutionRole"])
    assert td["taskRoleArn"].endswith(stack.physical["TaskRole"])
    container = td["containerDefinitions"][0]
    assert container["name"] == "app"
    image = stack.param("Image")
    assert container["image"] == (image or "public.ecr.aws/docker/library/busybox:stable") \
        or not image
    assert container["portMappings"][0]["containerPort"] == int(stack.param("ContainerPort"))
    assert container["logConfiguration"]["options"]["awslogs-group"] == stack.physical["LogGroup"]
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["FLUORIDE_SERVICE"] == "walk"
    assert environment["PORT"] == stack.param("ContainerPort")
    return True


@check("AWS::ECS::Service")
def _service(stack: Stack, logical: str, physical: str) -> bool:
    ecs = stack.clients("ecs")
    services = ecs.describe_services(cluster=stack.physical["Cluster"], services=[physical])
    if not services["services"] or services["services"][0]["status"] != "ACTIVE":
        return False
    svc = services["services"][0]
    assert svc["launchType"] == "FARGATE"
    assert svc["taskDefinition"] == stack.physical["TaskDefinition"]
    if stack.conditions["OnGateway"]:
        assert svc.get("loadBalancers", []) == []
        routes = ecs.list_gateway_routes(cluster=stack.physical["Cluster"],
                                         service=physical)["gatewayRoutes"]
        assert [r["serviceContainerPortName"] for r in routes] == ["http"]
    else:
        assert svc["loadBalancers"][0]["targetGroupArn"] == stack.physical["TargetGroup"]
        assert svc["loadBalancers"][0]["containerName"] == "app"
    network = svc["networkConfiguration"]["awsvpcConfiguration"]
    assert sorted(network["subnets"]) == sorted(stack.param("SubnetIds").split(","))
    assert network["assignPublicIp"] == stack.param("AssignPublicIp")
    config = svc["deploymentConfiguration"]
    assert config["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert (config["minimumHealthyPercent"], config["maximumPercent"]) == (100, 200)
    if stack.conditions["AlarmOn"]:
        assert config["alarms"] == {"alarmNames": [stack.physical["Alarm5xx"]], "enable": True,
                                    "rollback": True}
    else:
        assert "alarms" not in config
    assert svc["healthCheckGracePeriodSeconds"] == int(stack.param("HealthCheckGracePeriod"))
    assert svc["enableExecuteCommand"] is stack.conditions["ExecOn"]
    desired = int(stack.param("MinCount")) if stack.conditions["HasImage"] else 0
    assert svc["desiredCount"] == desired
    assert svc["runningCount"] == desired
    assert [d["rolloutState"] for d in svc["deployments"]] == ["COMPLETED"]
    tasks = ecs.list_tasks(cluster=stack.physical["Cluster"], serviceName=physical)["taskArns"]
    assert len(tasks) == desired
    return True


@check("AWS::ECS::GatewayClusterAssociations")
def _gateway_association(stack: Stack, logical: str, physical: str) -> bool:
    found = stack.clients("ecs").list_gateway_cluster_associations(
        gateway="fluoride-env-lab")["gatewayClusterAssociations"]
    return any(a["clusterArn"].endswith("/" + stack.physical["Cluster"])
               and a["status"] == "ACTIVE" for a in found)


@check("AWS::ApplicationAutoScaling::ScalableTarget")
def _scalable_target(stack: Stack, logical: str, physical: str) -> bool:
    resource_id = physical.split("|")[0]
    targets = stack.clients("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource_id])["ScalableTargets"]
    if not targets:
        return False
    has_image = stack.conditions["HasImage"]
    assert targets[0]["MinCapacity"] == (int(stack.param("MinCount")) if has_image else 0)
    assert targets[0]["MaxCapacity"] == (int(stack.param("MaxCount")) if has_image else 0)
    assert targets[0]["ScalableDimension"] == "ecs:service:DesiredCount"
    return True


@check("AWS::ApplicationAutoScaling::ScalingPolicy")
def _scaling_policy(stack: Stack, logical: str, physical: str) -> bool:
    resource_id = stack.physical["ScalableTarget"].split("|")[0]
    policies = stack.clients("application-autoscaling").describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=resource_id)["ScalingPolicies"]
    policy = next((p for p in policies if p["PolicyARN"] == physical), None)
    if policy is None:
        return False
    assert policy["PolicyType"] == "TargetTrackingScaling"
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    metric = config["PredefinedMetricSpecification"]["PredefinedMetricType"]
    if metric == "ALBRequestCountPerTarget":
        assert config["TargetValue"] == float(stack.param("RequestsPerTarget"))
        label = config["PredefinedMetricSpecification"]["ResourceLabel"]
        assert label.startswith("app/")
        assert "/targetgroup/" in label
    else:
        assert config["TargetValue"] == float(stack.param("CpuTarget"))
    return True


@check("AWS::CloudWatch::Alarm")
def _alarm(stack: Stack, logical: str, physical: str) -> bool:
    alarms = stack.clients("cloudwatch").describe_alarms(AlarmNames=[physical])["MetricAlarms"]
    if not alarms:
        return False
    alarm = alarms[0]
    # Every alarm tells the same people, on ALARM and back to OK; without notify, no one.
    actions = [a for a in stack.param("AlarmActionArns").split(",") if a]
    assert alarm["AlarmActions"] == actions
    assert alarm["OKActions"] == actions
    if logical == "AlarmDeployFailed":
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Events", "TriggeredRules")
        assert alarm["Dimensions"] == [{"Name": "RuleName",
                                        "Value": stack.physical["DeployFailedRule"]}]
        return True
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    if logical == "AlarmUnhealthy":
        assert (alarm["MetricName"], alarm["Statistic"], alarm["Threshold"]) == (
            "UnHealthyHostCount", "Maximum", 0.0)
        assert (alarm["ComparisonOperator"], alarm["EvaluationPeriods"]) == (
            "GreaterThanThreshold", 3)
        assert dimensions["TargetGroup"].startswith("targetgroup/")
        assert stack.physical["TargetGroup"].endswith(dimensions["TargetGroup"])
        assert stack.physical["LoadBalancer"].endswith(dimensions["LoadBalancer"])
        return True
    assert alarm["MetricName"] == "HTTPCode_Target_5XX_Count"
    assert alarm["Threshold"] == float(stack.param("Alarm5xxThreshold"))
    dimension = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}["LoadBalancer"]
    assert dimension.startswith("app/")
    assert stack.physical["LoadBalancer"].endswith(dimension)
    return True


@check("AWS::Events::Rule")
def _rule(stack: Stack, logical: str, physical: str) -> bool:
    rule = _found(lambda: stack.clients("events").describe_rule(Name=physical),
                  "ResourceNotFoundException")
    if rule is None:
        return False
    pattern = json.loads(rule["EventPattern"])
    assert pattern["detail"] == {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]}
    assert pattern["resources"] == [stack.physical["Service"]]
    return True


@check("AWS::SNS::Topic")
def _topic(stack: Stack, logical: str, physical: str) -> bool:
    sns = stack.clients("sns")
    if _found(lambda: sns.get_topic_attributes(TopicArn=physical), "NotFound") is None:
        return False
    assert physical.endswith(":fluoride-walk-alarms")
    assert physical in stack.param("AlarmActionArns").split(",")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=physical)["Subscriptions"]
    count = int(stack.param("NotifyEmailCount"))
    assert sorted((s["Protocol"], s["Endpoint"]) for s in subscriptions) == sorted(
        ("email", e) for e in stack.param("NotifyEmails").split(",")[:count])
    return True


@check("AWS::EC2::SecurityGroup")
def _security_group(stack: Stack, logical: str, physical: str) -> bool:
    groups = _found(lambda: stack.clients("ec2").describe_security_groups(GroupIds=[physical]),
                    "InvalidGroup.NotFound")
    if groups is None:
        return False
    assert groups["SecurityGroups"][0]["VpcId"] == stack.param("VpcId")
    return True


@check("AWS::EC2::VPCEndpoint")
def _vpc_endpoint(stack: Stack, logical: str, physical: str) -> bool:
    found = _found(lambda: stack.clients("ec2").describe_vpc_endpoints(
        VpcEndpointIds=[physical]), "InvalidVpcEndpointId.NotFound")
    if found is None:
        return False
    (endpoint,) = found["VpcEndpoints"]
    assert endpoint["VpcId"] == stack.param("VpcId")
    assert json.loads(endpoint["PolicyDocument"])["Statement"]
    if endpoint["VpcEndpointType"] == "Gateway":
        assert endpoint["RouteTableIds"] == [stack.param("EndpointRouteTableIds")]
    else:
        assert endpoint["PrivateDnsEnabled"] is True
        assert [g["GroupId"] for g in endpoint["Groups"]] == [
            stack.physical["EndpointSecurityGroup"]]
    return True


@check("AWS::EC2::SecurityGroupIngress")
def _ingress(stack: Stack, logical: str, physical: str) -> bool:
    assert physical.startswith("sgr-")
    group = stack.physical["TaskSecurityGroup"] if logical.startswith("TaskIngressFrom") \
        else stack.physical["AlbSecurityGroup"]
    rules = _found(lambda: stack.clients("ec2").describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"],
        "InvalidGroup.NotFound")
    return rules is not None and any(
        r["SecurityGroupRuleId"] == physical and not r["IsEgress"] for r in rules)


def _bucket_exists(stack: Stack, bucket: str) -> bool:
    return _found(lambda: stack.clients("s3").head_bucket(Bucket=bucket),
                  "404", "NoSuchBucket") is not None


@check("AWS::S3::Bucket")
def _bucket(stack: Stack, logical: str, physical: str) -> bool:
    if not _bucket_exists(stack, physical):
        return False
    s3 = stack.clients("s3")
    rules = s3.get_bucket_encryption(Bucket=physical)["ServerSideEncryptionConfiguration"]
    strict = stack.conditions["Strict"]
    # ELB access logs take SSE-S3 only; the data bucket uses the service's key under strict
    expected = "aws:kms" if strict and logical == "Bucket" else "AES256"
    assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == expected
    block = s3.get_public_access_block(Bucket=physical)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    if logical == "Bucket" or strict:  # strict versions the access-log bucket too
        assert s3.get_bucket_versioning(Bucket=physical)["Status"] == "Enabled"
    if logical == "Bucket" and strict:
        logging = s3.get_bucket_logging(Bucket=physical)["LoggingEnabled"]
        assert logging["TargetBucket"] == stack.physical["AccessLogBucket"]
    if logical == "Bucket":
        name = stack.param("BucketName")
        assert physical == name or not name
    return True


def _resolve(stack: Stack, node: Any) -> Any:
    """The value of a template expression made of ``Ref`` and ``Fn::If`` (enough for checks)."""
    if isinstance(node, dict) and "Ref" in node:
        name = node["Ref"]
        return stack.physical[name] if name in RESOURCES else stack.param(name)
    if isinstance(node, dict) and "Fn::If" in node:
        condition, when_true, when_false = node["Fn::If"]
        return _resolve(stack, when_true if stack.conditions[condition] else when_false)
    return node


@check("AWS::S3::BucketPolicy")
def _bucket_policy(stack: Stack, logical: str, physical: str) -> bool:
    bucket = _resolve(stack, RESOURCES[logical]["Properties"]["Bucket"])
    if not _bucket_exists(stack, bucket):
        return False
    text = _found(lambda: stack.clients("s3").get_bucket_policy(Bucket=bucket)["Policy"],
                  "NoSuchBucketPolicy")
    if text is None:
        return False
    policy = json.loads(text)
    sids = {s.get("Sid") for s in policy["Statement"]}
    assert "TlsOnly" in sids
    # The TLS-only policy lets a caller over TLS in (the emulator's endpoint stands for it).
    stack.clients("s3").put_object(Bucket=bucket, Key="walk/probe", Body=b"probe")
    stack.clients("s3").delete_object(Bucket=bucket, Key="walk/probe")
    return True


@check("AWS::ElasticLoadBalancingV2::LoadBalancer")
def _load_balancer(stack: Stack, logical: str, physical: str) -> bool:
    elbv2 = stack.clients("elbv2")
    lb = _found(lambda: elbv2.describe_load_balancers(LoadBalancerArns=[physical])
                ["LoadBalancers"][0], "LoadBalancerNotFound")
    if lb is None:
        return False
    assert lb["Scheme"] == ("internet-facing" if stack.conditions["IsPublic"] else "internal")
    attributes = _attributes(elbv2.describe_load_balancer_attributes(LoadBalancerArn=physical))
    assert attributes["idle_timeout.timeout_seconds"] == stack.param("IdleTimeout")
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == stack.physical["AccessLogBucket"]
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    return True


@check("AWS::ElasticLoadBalancingV2::TargetGroup")
def _target_group(stack: Stack, logical: str, physical: str) -> bool:
    elbv2 = stack.clients("elbv2")
    tg = _found(lambda: elbv2.describe_target_groups(TargetGroupArns=[physical])
                ["TargetGroups"][0], "TargetGroupNotFound")
    if tg is None:
        return False
    assert tg["TargetType"] == "ip"
    assert tg["HealthCheckPath"] == stack.param("HealthCheckPath")
    attributes = _attributes(elbv2.describe_target_group_attributes(TargetGroupArn=physical))
    assert attributes["deregistration_delay.timeout_seconds"] == stack.param("DeregistrationDelay")
    health = elbv2.describe_target_health(TargetGroupArn=physical)["TargetHealthDescriptions"]
    expected = int(stack.param("MinCount")) if stack.conditions["HasImage"] else 0
    assert [h["TargetHealth"]["State"] for h in health] == ["healthy"] * expected
    return True


@check("AWS::ElasticLoadBalancingV2::Listener")
def _listener(stack: Stack, logical: str, physical: str) -> bool:
    elbv2 = stack.clients("elbv2")
    listener = _found(lambda: elbv2.describe_listeners(ListenerArns=[physical])["Listeners"][0],
                      "ListenerNotFound", "LoadBalancerNotFound")
    if listener is None:
        return False
    action = listener["DefaultActions"][0]
    if logical == "HttpsListener":
        assert (listener["Port"], listener["Protocol"]) == (443, "HTTPS")
        certificate = stack.param("CertificateArn") or stack.physical.get("Certificate")
        assert listener["Certificates"][0]["CertificateArn"] == certificate
    else:
        assert (listener["Port"], listener["Protocol"]) == (80, "HTTP")
        assert action["Type"] == ("redirect" if stack.conditions["Redirect"] else "forward")
    return True


@check("AWS::CertificateManager::Certificate")
def _certificate(stack: Stack, logical: str, physical: str) -> bool:
    cert = _found(lambda: stack.clients("acm").describe_certificate(
        CertificateArn=physical)["Certificate"], "ResourceNotFoundException")
    if cert is None:
        return False
    assert cert["Status"] == "ISSUED"
    assert cert["DomainName"] == f"{stack.param('Subdomain')}.{stack.param('HostedZoneName')}"
    return True


@check("AWS::Route53::RecordSet")
def _record(stack: Stack, logical: str, physical: str) -> bool:
    records = stack.clients("route53").list_resource_record_sets(
        HostedZoneId=stack.param("HostedZoneId"))["ResourceRecordSets"]
    name = f"{stack.param('Subdomain')}.{stack.param('HostedZoneName')}".rstrip(".") + "."
    record = next((r for r in records if r["Name"] == name and r["Type"] == "A"), None)
    if record is None:
        return False
    assert record["AliasTarget"]["DNSName"].rstrip(".") == stack.outputs["LoadBalancerDnsName"]
    return True


@check("AWS::ECR::Repository")
def _repository(stack: Stack, logical: str, physical: str) -> bool:
    ecr = stack.clients("ecr")
    repo = _found(lambda: ecr.describe_repositories(repositoryNames=[physical])
                  ["repositories"][0], "RepositoryNotFoundException")
    if repo is None:
        return False
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    assert "lifecyclePolicyText" in ecr.get_lifecycle_policy(repositoryName=physical)
    return True


@check("AWS::DynamoDB::Table")
def _table(stack: Stack, logical: str, physical: str) -> bool:
    dynamodb = stack.clients("dynamodb")
    table = _found(lambda: dynamodb.describe_table(TableName=physical)["Table"],
                   "ResourceNotFoundException")
    if table is None:
        return False
    assert table["KeySchema"] == [{"AttributeName": stack.param("TablePartitionKey"),
                                   "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    name = stack.param("TableName")
    assert physical == name or not name
    return True


@check("AWS::SecretsManager::Secret")
def _secret(stack: Stack, logical: str, physical: str) -> bool:
    secrets = stack.clients("secretsmanager")
    value = _found(lambda: secrets.get_secret_value(SecretId=physical)["SecretString"],
                   "ResourceNotFoundException")
    if value is None:
        return False
    described = secrets.describe_secret(SecretId=physical)
    assert described["Name"] == (stack.param("SecretName") or "fluoride/walk")
    assert described["ARN"] == physical
    password = json.loads(value)["password"]
    assert len(password) == 32
    assert password.isalnum()
    return True


# ---------------------------------------------------------------- the tests


def test_every_resource_type_has_a_check() -> None:
    missing = sorted({body["Type"] for body in RESOURCES.values()} - set(CHECKS))
    assert not missing, f"resource types without an emulator check: {missing}"


def test_combinations_cover_every_condition() -> None:
    seen: dict[str, set[bool]] = {}
    for combo in COMBOS:
        fake = Prereqs("vpc-1", ["subnet-1", "subnet-2"], "Z1", "example.com",
                       "arn:aws:acm:us-east-1:123456789012:certificate/x", ["sg-1"] * 4,
                       "arn:aws:iam::123456789012:policy/p", "arn:aws:iam::123456789012:policy/b",
                       "arn:aws:secretsmanager:eu-south-2:123456789012:secret:kept-AbCdEf")
        parameters = _declared({"ServiceName": "walk", "VpcId": "vpc-1",
                                "SubnetIds": "subnet-1,subnet-2", **combo.toggles(fake)})
        for name, value in _conditions(combo.region, parameters).items():
            seen.setdefault(name, set()).add(value)
    one_sided = {name: values for name, values in seen.items() if len(values) < 2}
    assert not one_sided, f"conditions that the combinations never flip: {one_sided}"


@pytest.mark.parametrize("combo", [c.name for c in COMBOS])
def test_every_resource_exists_and_describes(stacks: dict[str, Stack], combo: str) -> None:
    stack = stacks[combo]
    assert stack.status == "CREATE_COMPLETE"
    for logical, body in RESOURCES.items():
        if not stack.active(logical):
            assert logical not in stack.physical, f"{logical} exists though its condition is off"
            continue
        assert stack.physical.get(logical), f"{logical} has no physical id"
        assert stack.types[logical] == body["Type"]
        assert CHECKS[body["Type"]](stack, logical, stack.physical[logical]), \
            f"{logical} ({body['Type']}) cannot be described"


def test_every_resource_is_made_by_some_combination(stacks: dict[str, Stack]) -> None:
    made = set().union(*(stack.physical for stack in stacks.values()))
    assert set(RESOURCES) - made == set()


def test_outputs_match_the_resources(stacks: dict[str, Stack]) -> None:
    for stack in stacks.values():
        out = stack.outputs
        assert out["ClusterName"] == stack.physical["Cluster"]
        assert stack.physical["Service"].endswith("/" + out["EcsServiceName"])
        if stack.conditions["OwnAlb"]:
            assert out["TargetGroupArn"] == stack.physical["TargetGroup"]
        else:  # behind a gateway: no load balancer, so no URL of the stack's own
            assert not {"TargetGroupArn", "LoadBalancerArn", "Url"} & set(out)
        if stack.conditions.get("AdoptSecretOn"):
            assert out["SecretArn"] == stack.param("AdoptedSecretArn")
        else:
            assert out["SecretArn"] == stack.physical.get("Secret", "")
        if stack.conditions.get("AdoptTableOn"):
            assert out["TableName"] == stack.param("TableName")
        else:
            assert out["TableName"] == stack.physical.get("Table", "")
        assert out["RepositoryUri"].endswith("/" + out["RepositoryName"])
        if stack.conditions["HttpsDomain"]:
            assert out["Url"].startswith("https://")


def test_delete_keeps_exactly_the_retained_resources(stacks: dict[str, Stack]) -> None:
    for stack in stacks.values():
        cfn = stack.clients("cloudformation")
        # As Service.delete() does: the access-log bucket (which strict's data bucket logs
        # into, and versions) is emptied first, else no stack could delete it.
        s3 = stack.clients("s3")
        listed = s3.list_object_versions(Bucket=stack.physical["AccessLogBucket"])
        for version in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]:
            s3.delete_object(Bucket=stack.physical["AccessLogBucket"], Key=version["Key"],
                             VersionId=version["VersionId"])
        cfn.delete_stack(StackName=stack.stack_id)
        _wait(stack)
        assert stack.status == "DELETE_COMPLETE"
        events = cfn.describe_stack_events(StackName=stack.stack_id)["StackEvents"]
        skipped = {e["LogicalResourceId"] for e in events
                   if e["ResourceStatus"] == "DELETE_SKIPPED"}
        assert skipped == RETAINED & set(stack.physical)
        for logical, physical in stack.physical.items():
            exists = CHECKS[stack.types[logical]](stack, logical, physical) \
                if stack.types[logical] != "AWS::EC2::SecurityGroupIngress" \
                else _ingress_survives(stack, logical, physical)
            if logical in RETAINED:
                assert exists, f"{logical} is retained but was deleted"
            else:
                assert not exists, f"{logical} outlived its stack"


def _ingress_survives(stack: Stack, logical: str, physical: str) -> bool:
    try:
        return _ingress(stack, logical, physical)
    except botocore.exceptions.ClientError:
        return False


def test_the_emulator_creates_what_cloudformation_would(stacks: dict[str, Stack]) -> None:
    """An independent reading of the template (tests/_cfn.py) agrees on what exists."""
    from tests._cfn import render

    for stack in stacks.values():
        expected = render(stack.parameters, region=stack.combo.region,
                          stack_name="fluoride-walk").resources
        assert set(stack.physical) == set(expected), stack.combo.name
