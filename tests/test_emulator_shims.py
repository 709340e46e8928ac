"""Guards on the emulator's shims: each corrects a moto 5.2.5 behaviour that still exists.

``probe_unpatched_moto`` runs in a fresh interpreter with plain moto (``mock_aws``, no
fluoride shims) and records what moto does for each behaviour a shim corrects. When a
moto upgrade fixes (or changes) one of them, its test here fails: the shim has become
unnecessary, or wrong, and must be removed or revisited. A guard also pins moto.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import json
import pkgutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- the probes (plain moto)

PROBES: dict[str, Callable[[Any], Any]] = {}


def probe(name: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        PROBES[name] = fn
        return fn
    return register


def _stack(aws: Any, name: str, resources: dict[str, Any], **extra: Any) -> str:
    body = json.dumps({"Resources": resources, **extra})
    aws("cloudformation").create_stack(StackName=name, TemplateBody=body)
    status: str = aws("cloudformation").describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    return status


def _attempt(call: Callable[[], object], ok: Any,
             failed: Callable[[Exception], Any] = lambda exc: type(exc).__name__) -> Any:
    """``ok`` if ``call()`` succeeds, else ``failed(error)``: an outcome a probe records."""
    try:
        call()
    except Exception as exc:
        return failed(exc)
    return ok


def _network(aws: Any) -> tuple[str, list[str]]:
    ec2 = aws("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc]
    return vpc, subnets


@probe("secretsmanager_secret")
def _secret(aws: Any) -> Any:
    status = _stack(aws, "secret", {"S": {"Type": "AWS::SecretsManager::Secret", "Properties": {
        "Name": "probe", "GenerateSecretString": {"PasswordLength": 8}}}})
    return [status, len(aws("secretsmanager").list_secrets()["SecretList"])]


@probe("applicationautoscaling")
def _autoscaling(aws: Any) -> Any:
    aws("ecs").create_cluster(clusterName="c")
    aws("ecs").register_task_definition(family="f", containerDefinitions=[
        {"name": "a", "image": "i", "memory": 128}])
    aws("ecs").create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=1)
    status = _stack(aws, "scaling", {"T": {
        "Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {
            "MinCapacity": 1, "MaxCapacity": 2, "ResourceId": "service/c/s",
            "ScalableDimension": "ecs:service:DesiredCount", "ServiceNamespace": "ecs"}}})
    targets = aws("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")
    return [status, len(targets["ScalableTargets"])]


@probe("s3_bucket_policy")
def _bucket_policy(aws: Any) -> Any:
    s3 = aws("s3")
    s3.create_bucket(Bucket="probe-policy")
    _stack(aws, "policy", {"P": {"Type": "AWS::S3::BucketPolicy", "Properties": {
        "Bucket": "probe-policy", "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::probe-policy/*"}]}}}})
    stored = _attempt(lambda: s3.get_bucket_policy(Bucket="probe-policy"), True,
                      lambda _exc: False)
    tls_only = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::probe-policy", "arn:aws:s3:::probe-policy/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    s3.put_bucket_policy(Bucket="probe-policy", Policy=json.dumps(tls_only))
    put = _attempt(lambda: s3.put_object(Bucket="probe-policy", Key="k", Body=b"x"), "allowed",
                   lambda exc: type(exc).__name__ + ":" + str(exc).split("operation: ")[-1])
    return [stored, put]


@probe("s3_bucket")
def _bucket(aws: Any) -> Any:
    _stack(aws, "bucket", {"B": {"Type": "AWS::S3::Bucket", "Properties": {
        "BucketName": "probe-versioned", "VersioningConfiguration": {"Status": "Enabled"}}}})
    return aws("s3").get_bucket_versioning(Bucket="probe-versioned").get("Status")


@probe("acm_certificate")
def _certificate(aws: Any) -> Any:
    status = _stack(aws, "cert", {"C": {"Type": "AWS::CertificateManager::Certificate",
                                        "Properties": {"DomainName": "probe.example.com"}}})
    return [status, len(aws("acm").list_certificates()["CertificateSummaryList"])]


@probe("cloudwatch_alarm")
def _alarm(aws: Any) -> Any:
    status = _stack(aws, "alarm", {"A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": "probe", "MetricName": "m", "Namespace": "n", "Statistic": "Sum",
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 1,
        "ComparisonOperator": "GreaterThanThreshold"}}})
    return [status, len(aws("cloudwatch").describe_alarms()["MetricAlarms"])]


@probe("cloudwatch_alarm_state")
def _alarm_state(aws: Any) -> Any:
    cloudwatch = aws("cloudwatch")
    alarm = {"AlarmName": "probe-state", "MetricName": "m", "Namespace": "n",
             "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0,
             "ComparisonOperator": "GreaterThanThreshold"}
    cloudwatch.put_metric_alarm(**alarm)
    new = cloudwatch.describe_alarms(AlarmNames=["probe-state"])["MetricAlarms"][0]["StateValue"]
    cloudwatch.set_alarm_state(AlarmName="probe-state", StateValue="ALARM", StateReason="probe")
    cloudwatch.put_metric_alarm(**{**alarm, "Threshold": 2.0})
    again = cloudwatch.describe_alarms(AlarmNames=["probe-state"])["MetricAlarms"][0]
    return [new, again["StateValue"]]


@probe("dynamodb_table")
def _table(aws: Any) -> Any:
    _stack(aws, "table", {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {
        "TableName": "probe-table", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True}}}})
    dynamodb = aws("dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName="probe-table")["TimeToLiveDescription"]
    backups = dynamodb.describe_continuous_backups(TableName="probe-table")
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    table = dynamodb.describe_table(TableName="probe-table")["Table"]
    return [ttl["TimeToLiveStatus"], recovery["PointInTimeRecoveryStatus"],
            "SSEDescription" in table]


@probe("ec2_security_group")
def _egress(aws: Any) -> Any:
    vpc, _ = _network(aws)
    _stack(aws, "egress", {"G": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
        "GroupDescription": "probe egress", "VpcId": vpc, "SecurityGroupEgress": [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]}}})
    groups = aws("ec2").describe_security_groups(
        Filters=[{"Name": "description", "Values": ["probe egress"]}])["SecurityGroups"]
    return [[p["IpProtocol"], p.get("FromPort")] for p in groups[0]["IpPermissionsEgress"]]


@probe("sns_topic")
def _topic(aws: Any) -> Any:
    # What an Fn::If to AWS::NoValue leaves in the list: null.
    created = _attempt(lambda: _stack(aws, "topic", {"T": {
        "Type": "AWS::SNS::Topic", "Properties": {"TopicName": "probe", "Subscription": [
            {"Protocol": "email", "Endpoint": "ops@example.org"}, None]}}}), "created")
    return [created, len(aws("sns").list_subscriptions()["Subscriptions"])]


@probe("kms_key")
def _kms_key(aws: Any) -> Any:
    _stack(aws, "key", {"K": {"Type": "AWS::KMS::Key", "Properties": {
        "EnableKeyRotation": True, "KeyPolicy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
             "Action": "kms:*", "Resource": "*"}]}}}})
    key = aws("cloudformation").list_stack_resources(StackName="key")[
        "StackResourceSummaries"][0]["PhysicalResourceId"]
    return _attempt(lambda: aws("kms").describe_key(KeyId=key)["KeyMetadata"]["KeyManager"],
                    "described")


@probe("logs_group")
def _log_group(aws: Any) -> Any:
    key = aws("kms").create_key()["KeyMetadata"]["Arn"]
    _stack(aws, "group", {"G": {"Type": "AWS::Logs::LogGroup", "Properties": {
        "LogGroupName": "/probe/kms", "RetentionInDays": 365, "KmsKeyId": key}}})
    (group,) = aws("logs").describe_log_groups(logGroupNamePrefix="/probe/kms")["logGroups"]
    return [group.get("retentionInDays"), group.get("kmsKeyId") == key]


@probe("ec2_security_group_ingress")
def _ingress(aws: Any) -> Any:
    vpc, _ = _network(aws)
    group = aws("ec2").create_security_group(GroupName="probe", Description="p",
                                             VpcId=vpc)["GroupId"]
    source = aws("ec2").create_security_group(GroupName="probe-caller", Description="c",
                                              VpcId=vpc)["GroupId"]
    _stack(aws, "ingress", {"I": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
        "GroupId": group, "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
        "CidrIp": "10.0.0.0/8"}}, "S": {"Type": "AWS::EC2::SecurityGroupIngress",
        "Properties": {"GroupId": group, "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                       "SourceSecurityGroupId": source, "Description": "from the caller"}}})
    summaries = aws("cloudformation").list_stack_resources(StackName="ingress")
    (described,) = aws("ec2").describe_security_groups(GroupIds=[group])["SecurityGroups"]
    pairs = [pair for p in described["IpPermissions"] for pair in p.get("UserIdGroupPairs", [])]
    return [sorted(r["PhysicalResourceId"] for r in summaries["StackResourceSummaries"]),
            [pair.get("Description") for pair in pairs]]


@probe("ec2_vpc_endpoint")
def _vpc_endpoint(aws: Any) -> Any:
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
    _stack(aws, "endpoint", {"E": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
        "VpcEndpointType": "Interface", "ServiceName": "com.amazonaws.us-east-1.logs",
        "VpcId": vpc, "SubnetIds": [subnet], "PrivateDnsEnabled": True,
        "PolicyDocument": policy}}})
    mine = [{"Name": "vpc-id", "Values": [vpc]}]
    (made,) = ec2.describe_vpc_endpoints(Filters=mine)["VpcEndpoints"]
    policy_is_json = _attempt(lambda: json.loads(made["PolicyDocument"]), True,
                              lambda exc: type(exc).__name__)
    aws("cloudformation").delete_stack(StackName="endpoint")
    left = [e["State"] for e in ec2.describe_vpc_endpoints(Filters=mine)["VpcEndpoints"]]
    return [policy_is_json, left]


@probe("ec2_network_interface_dns")
def _interface_dns(aws: Any) -> Any:
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]  # DNS hostnames off
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    aws("ecs").create_cluster(clusterName="dns")
    aws("ecs").register_task_definition(family="dns", networkMode="awsvpc", containerDefinitions=[
        {"name": "a", "image": "i", "memory": 128}])
    group = ec2.create_security_group(GroupName="dns", Description="d", VpcId=vpc)["GroupId"]
    return _attempt(lambda: aws("ecs").run_task(
        cluster="dns", taskDefinition="dns", launchType="FARGATE", networkConfiguration={
            "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}}),
        "started")


@probe("ecr_repository")
def _repository(aws: Any) -> Any:
    rules = {"rules": [{"rulePriority": 1, "action": {"type": "expire"}, "selection": {
        "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5}}]}
    _stack(aws, "repo", {"R": {"Type": "AWS::ECR::Repository", "Properties": {
        "RepositoryName": "probe", "ImageScanningConfiguration": {"ScanOnPush": True},
        "LifecyclePolicy": {"LifecyclePolicyText": json.dumps(rules)}}}})
    repo = aws("ecr").describe_repositories(repositoryNames=["probe"])["repositories"][0]
    lifecycle = _attempt(lambda: aws("ecr").get_lifecycle_policy(repositoryName="probe"), True,
                         lambda _exc: False)
    return [repo["imageScanningConfiguration"].get("scanOnPush"), lifecycle]


@probe("ecr_images")
def _images(aws: Any) -> Any:
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="probe-images")

    docker = "application/vnd.docker"

    def manifest(layer: str) -> str:
        return json.dumps({
            "schemaVersion": 2, "mediaType": f"{docker}.distribution.manifest.v2+json",
            "config": {"digest": "sha256:" + "c" * 64, "size": 1,
                       "mediaType": f"{docker}.container.image.v1+json"},
            "layers": [{"digest": "sha256:" + layer * 64, "size": 1,
                        "mediaType": f"{docker}.image.rootfs.diff.tar.gzip"}]})

    ecr.put_image(repositoryName="probe-images", imageManifest=manifest("a"), imageTag="v1")
    ecr.put_image(repositoryName="probe-images", imageManifest=manifest("b"), imageTag="v1")
    return len(ecr.list_images(repositoryName="probe-images")["imageIds"])


@probe("elbv2_cloudformation")
def _elbv2(aws: Any) -> Any:
    vpc, subnets = _network(aws)
    status = _stack(aws, "lb", {
        "LB": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
            "Subnets": subnets[:2], "LoadBalancerAttributes": [
                {"Key": "idle_timeout.timeout_seconds", "Value": "33"}]}},
    }, Outputs={"Full": {"Value": {"Fn::GetAtt": ["LB", "LoadBalancerFullName"]}}})
    cfn = aws("cloudformation")
    full = cfn.describe_stacks(StackName="lb")["Stacks"][0]["Outputs"][0]["OutputValue"]
    arn = aws("elbv2").describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    attributes = {a["Key"]: a["Value"] for a in aws("elbv2").describe_load_balancer_attributes(
        LoadBalancerArn=arn)["Attributes"]}
    target_group = _attempt(lambda: _stack(aws, "tg", {
        "TG": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
               "Properties": {"Port": 80, "Protocol": "HTTP", "VpcId": vpc}},
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {
            "Fn::GetAtt": ["TG", "TargetGroupFullName"]}}}}), "created")
    return [status, full.startswith("app/"), attributes.get("idle_timeout.timeout_seconds"),
            target_group]


@probe("route53_record_set")
def _record(aws: Any) -> Any:
    zone = aws("route53").create_hosted_zone(Name="example.com", CallerReference="p")
    zone_id = zone["HostedZone"]["Id"].split("/")[-1]
    _stack(aws, "record", {"R": {"Type": "AWS::Route53::RecordSet", "Properties": {
        "HostedZoneId": zone_id, "Name": "a.example.com", "Type": "A", "TTL": "60",
        "ResourceRecords": ["10.0.0.1"]}}})
    records = aws("route53").list_resource_record_sets(HostedZoneId=zone_id)
    return sorted(r["Name"] for r in records["ResourceRecordSets"] if r["Type"] == "A")


@probe("ecs_cluster")
def _cluster(aws: Any) -> Any:
    _stack(aws, "cluster", {"C": {"Type": "AWS::ECS::Cluster", "Properties": {
        "ClusterName": "probe-cluster",
        "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]}}})
    settings = aws("ecs").describe_clusters(clusters=["probe-cluster"])["clusters"][0]["settings"]
    aws("cloudformation").delete_stack(StackName="cluster")
    status = aws("ecs").describe_clusters(clusters=["probe-cluster"])["clusters"][0]["status"]
    return [settings[0]["value"], status]


@probe("ecs_task_definition")
def _task_definition(aws: Any) -> Any:
    template = {"Parameters": {"Image": {"Type": "String"}}, "Resources": {"TD": {
        "Type": "AWS::ECS::TaskDefinition", "Properties": {
            "Family": "probe-td", "Cpu": "256", "Memory": "512", "NetworkMode": "awsvpc",
            "RequiresCompatibilities": ["FARGATE"],
            "ContainerDefinitions": [{"Name": "app", "Image": {"Ref": "Image"},
                                      "PortMappings": [{"ContainerPort": 80}]}]}}}}
    cfn = aws("cloudformation")
    cfn.create_stack(StackName="td", TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": "Image", "ParameterValue": "one"}])
    first = aws("ecs").describe_task_definition(taskDefinition="probe-td:1")["taskDefinition"]
    cfn.update_stack(StackName="td", TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": "Image", "ParameterValue": "two"}])
    second = aws("ecs").describe_task_definition(taskDefinition="probe-td:2")["taskDefinition"]
    cfn.delete_stack(StackName="td")
    after = aws("ecs").describe_task_definition(taskDefinition="probe-td:2")["taskDefinition"]
    return [first.get("cpu"), first.get("networkMode"), sorted(second["containerDefinitions"][0]),
            after["status"]]


@probe("ecs_service")
def _service(aws: Any) -> Any:
    vpc, subnets = _network(aws)
    ecs = aws("ecs")
    group = aws("ec2").create_security_group(GroupName="svc", Description="s", VpcId=vpc)
    template = {"Parameters": {"Image": {"Type": "String"}}, "Resources": {
        "C": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "probe-svc"}},
        "TD": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
            "Family": "probe-svc", "Cpu": "256", "Memory": "512", "NetworkMode": "awsvpc",
            "RequiresCompatibilities": ["FARGATE"],
            "ContainerDefinitions": [{"Name": "app", "Image": {"Ref": "Image"}}]}},
        "S": {"Type": "AWS::ECS::Service", "Properties": {
            "Cluster": {"Ref": "C"}, "TaskDefinition": {"Ref": "TD"}, "DesiredCount": 1,
            "LaunchType": "FARGATE", "ServiceName": "probe",
            "DeploymentConfiguration": {"DeploymentCircuitBreaker": {
                "Enable": True, "Rollback": True}},
            "NetworkConfiguration": {"AwsvpcConfiguration": {
                "Subnets": subnets[:1], "SecurityGroups": [group["GroupId"]]}}}}}}
    cfn = aws("cloudformation")
    cfn.create_stack(StackName="svc", TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": "Image", "ParameterValue": "one"}])
    created = ecs.describe_services(cluster="probe-svc", services=["probe"])["services"][0]
    cfn.update_stack(StackName="svc", TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": "Image", "ParameterValue": "two"}])
    updated = ecs.describe_services(cluster="probe-svc", services=["probe"])["services"][0]
    stack_status = cfn.describe_stacks(StackName="svc")["Stacks"][0]["StackStatus"]
    api = ecs.create_service(
        cluster="probe-svc", serviceName="api", taskDefinition="probe-svc:1", desiredCount=1,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        healthCheckGracePeriodSeconds=30)["service"]
    ecs.update_service(cluster="probe-svc", service="api", taskDefinition="probe-svc:2")
    api_after = ecs.describe_services(cluster="probe-svc", services=["api"])["services"][0]
    cfn.delete_stack(StackName="svc")
    deleted = ecs.describe_services(cluster="probe-svc", services=["probe"])["services"][0]
    return {
        "launch_type": created["launchType"],
        "network": bool(created.get("networkConfiguration")),
        "circuit_breaker": "deploymentConfiguration" in created,
        "task_definition_after_update": updated["taskDefinition"].rsplit(":", 1)[1],
        "stack_status_after_update": stack_status,
        "api_deployment_configuration": "deploymentConfiguration" in api,
        "api_deployments_after_update": [(d["status"], d["rolloutState"])
                                         for d in api_after["deployments"]],
        "tasks": len(ecs.list_tasks(cluster="probe-svc")["taskArns"]),
        "status_after_delete": deleted["status"],
    }


@probe("ecs_tasks")
def _tasks(aws: Any) -> Any:
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="probe-tasks")
    ecs.register_task_definition(family="t", containerDefinitions=[
        {"name": "a", "image": "i", "memory": 128}])
    _, subnets = _network(aws)
    task = ecs.run_task(cluster="probe-tasks", taskDefinition="t", launchType="FARGATE",
                        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets[:1]}}
                        )["tasks"][0]["taskArn"]
    by_service = ecs.list_tasks(cluster="probe-tasks", serviceName="nobody")["taskArns"]
    ecs.stop_task(cluster="probe-tasks", task=task, reason="probe")
    default = ecs.list_tasks(cluster="probe-tasks")["taskArns"]
    # a's health check can only fail (exit 1, retried once)
    ecs.register_task_definition(family="two", containerDefinitions=[
        {"name": "a", "image": "i", "memory": 128,
         "healthCheck": {"command": ["CMD-SHELL", "exit 1"], "interval": 5, "retries": 1}},
        {"name": "b", "image": "j", "memory": 64}])
    two = ecs.run_task(cluster="probe-tasks", taskDefinition="two", launchType="FARGATE",
                       networkConfiguration={"awsvpcConfiguration": {"subnets": subnets[:1]}}
                       )["tasks"][0]
    described = ecs.describe_tasks(cluster="probe-tasks", tasks=[two["taskArn"]])["tasks"][0]
    return [len(by_service), len(default), [c["name"] for c in two["containers"]],
            [c.get("healthStatus") for c in described["containers"]]]


@probe("ecs_task_network")
def _task_network(aws: Any) -> Any:
    import ipaddress

    ecs = aws("ecs")
    ecs.create_cluster(clusterName="probe-network")
    ecs.register_task_definition(family="probe-network", networkMode="awsvpc",
                                 containerDefinitions=[{"name": "a", "image": "i", "memory": 128}])
    _, subnets = _network(aws)
    task = ecs.run_task(cluster="probe-network", taskDefinition="probe-network",
                        launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {
                            "subnets": subnets[:1], "securityGroups": []}})["tasks"][0]
    details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
    subnet = aws("ec2").describe_subnets(SubnetIds=[details["subnetId"]])["Subnets"][0]
    address = ipaddress.ip_address(details["privateIPv4Address"])
    return address in ipaddress.ip_network(subnet["CidrBlock"])


@probe("ecs_execute_command")
def _execute_command(aws: Any) -> Any:
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="probe-exec")
    ecs.register_task_definition(family="x", containerDefinitions=[
        {"name": "a", "image": "i", "memory": 128}])
    _, subnets = _network(aws)
    task = ecs.run_task(cluster="probe-exec", taskDefinition="x", launchType="FARGATE",
                        enableExecuteCommand=True,
                        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets[:1]}}
                        )["tasks"][0]["taskArn"]
    try:
        ecs.execute_command(cluster="probe-exec", task=task, container="a", command="sh",
                            interactive=True)
    except Exception as exc:  # the probe records whatever moto raises
        return type(exc).__name__
    return "answered"


@probe("elbv2_target_health")
def _target_health(aws: Any) -> Any:
    vpc, _ = _network(aws)
    elbv2 = aws("elbv2")
    arn = elbv2.create_target_group(Name="probe", Protocol="HTTP", Port=80, TargetType="ip",
                                    VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": "10.0.0.9"}])
    health = elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    return health[0]["TargetHealth"]["State"]


@probe("cloudformation_conditions")
def _conditions(aws: Any) -> Any:
    template = (
        "Parameters:\n  Count: {Type: Number, Default: 0}\n"
        "Conditions:\n  IsZero: !Equals [!Ref Count, '0']\n  Always: !Equals [a, a]\n"
        "  Either: !Or [!Condition Always, !Condition IsZero]\n"
        "Resources:\n"
        "  WhenZero: {Type: AWS::SQS::Queue, Condition: IsZero, Properties: {QueueName: zero}}\n"
        "  WhenEither: {Type: AWS::SQS::Queue, Condition: Either,\n"
        "               Properties: {QueueName: either}}\n"
    )
    aws("cloudformation").create_stack(StackName="conditions", TemplateBody=template)
    names = {u.rsplit("/", 1)[1] for u in aws("sqs").list_queues().get("QueueUrls", [])}
    return sorted(names & {"zero", "either"})


@probe("cloudformation_parameters")
def _parameters(aws: Any) -> Any:
    template = {"Parameters": {"Ids": {"Type": "CommaDelimitedList"}},
                "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}
    cfn = aws("cloudformation")
    cfn.create_stack(StackName="params", TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": "Ids", "ParameterValue": "a,b"}])
    return cfn.describe_stacks(StackName="params")["Stacks"][0]["Parameters"][0]["ParameterValue"]


@probe("cloudformation_updates")
def _updates(aws: Any) -> Any:
    template = {"Parameters": {"V": {"Type": "String"}}, "Resources": {"P": {
        "Type": "AWS::SSM::Parameter", "Properties": {
            "Name": "probe", "Type": "String", "Value": {"Fn::Sub": "value-${V}"}}}}}
    cfn = aws("cloudformation")
    cfn.create_stack(StackName="updates", TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": "V", "ParameterValue": "1"}])
    cfn.update_stack(StackName="updates", TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": "V", "ParameterValue": "2"}])
    return aws("ssm").get_parameter(Name="probe")["Parameter"]["Value"]


@probe("cloudformation_resources")
def _resources(aws: Any) -> Any:
    cfn = aws("cloudformation")
    stack_id = cfn.create_stack(StackName="resurrect", TemplateBody=json.dumps({"Resources": {
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "lazarus"}}}}))["StackId"]
    cfn.delete_stack(StackName="resurrect")
    before = len(aws("sqs").list_queues(QueueNamePrefix="lazarus").get("QueueUrls", []))
    cfn.list_stack_resources(StackName=stack_id)
    after = len(aws("sqs").list_queues(QueueNamePrefix="lazarus").get("QueueUrls", []))
    return [before, after]


@probe("cloudformation_lifecycle")
def _lifecycle(aws: Any) -> Any:
    cfn = aws("cloudformation")
    create = _attempt(  # the API call itself fails, with the ECS error
        lambda: cfn.create_stack(StackName="fails", TemplateBody=json.dumps({"Resources": {"S": {
            "Type": "AWS::ECS::Service", "Properties": {
                "Cluster": "no-such-cluster", "ServiceName": "x", "TaskDefinition": "x"}}}})),
        "accepted",
        lambda exc: getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__))
    left = cfn.describe_stacks(StackName="fails")["Stacks"][0]["StackStatus"]
    cfn.create_stack(StackName="ok", TemplateBody=json.dumps({"Resources": {
        "Q": {"Type": "AWS::SQS::Queue"}}}))
    cancel = _attempt(lambda: cfn.cancel_update_stack(StackName="ok"), "accepted")
    return [create, left, cancel]


@probe("ecs_gateway")
def _gateway(aws: Any) -> Any:
    ecs = aws("ecs")
    create = _attempt(lambda: ecs.create_gateway(
        name="lab", infrastructureRoleArn="arn:aws:iam::123456789012:role/r",
        configuration={"hostSharedAlb": {}}), "accepted")
    routes = _attempt(lambda: ecs.list_gateway_routes(), "accepted")
    status = _stack(aws, "gateway", {
        "G": {"Type": "AWS::ECS::Gateway", "Properties": {
            "GatewayName": "lab", "InfrastructureRoleArn": "arn:aws:iam::123456789012:role/r",
            "Configuration": {"HostSharedAlb": {}}}}},
        Outputs={"Arn": {"Value": {"Ref": "G"}}})
    outputs = aws("cloudformation").describe_stacks(StackName="gateway")["Stacks"][0].get(
        "Outputs", [])
    # a connector naming no port of the task, on a cluster with no gateway: taken silently
    ecs.create_cluster(clusterName="gw")
    ecs.register_task_definition(family="gw", containerDefinitions=[
        {"name": "a", "image": "i", "memory": 128}])
    connector = _attempt(lambda: ecs.create_service(
        cluster="gw", serviceName="s", taskDefinition="gw", desiredCount=1,
        gatewayConnectors=[{"portName": "nope"}]), "accepted")
    return [create, routes, status, [o["OutputValue"] for o in outputs], connector]


@probe("logs_stream_prefix")
def _stream_prefix(aws: Any) -> Any:
    logs = aws("logs")
    logs.create_log_group(logGroupName="/probe/prefix")
    for stream in ("app/app/t1", "proxy/proxy/t1"):
        logs.create_log_stream(logGroupName="/probe/prefix", logStreamName=stream)
        logs.put_log_events(logGroupName="/probe/prefix", logStreamName=stream, logEvents=[
            {"timestamp": int(time.time() * 1000), "message": stream}])
    events = logs.filter_log_events(logGroupName="/probe/prefix",
                                    logStreamNamePrefix="proxy/")["events"]
    return sorted(e["logStreamName"] for e in events)


def probe_unpatched_moto() -> None:
    """Run every probe on plain moto and print the observations as JSON (subprocess entry)."""
    import boto3
    from moto import mock_aws

    assert "fluoride.local.shims" not in sys.modules, "the probes must run on unpatched moto"
    observed: dict[str, Any] = {}
    # One mocked account for all probes (each uses names of its own): moto builds the
    # default VPC once instead of once per probe.
    with mock_aws():
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                region_name="us-east-1")
        clients: dict[str, Any] = {}

        def client(service: str) -> Any:
            if service not in clients:
                clients[service] = session.client(service)  # type: ignore[call-overload]  # a str
            return clients[service]

        for name, fn in PROBES.items():
            try:
                observed[name] = fn(client)
            except Exception as exc:  # recorded: an unexpected failure is an observation too
                observed[name] = f"probe raised {type(exc).__name__}: {exc}"
    print(json.dumps(observed))


@pytest.fixture(scope="module")
def unpatched() -> dict[str, Any]:
    code = "from tests.test_emulator_shims import probe_unpatched_moto; probe_unpatched_moto()"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    observed: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return observed


# ---------------------------------------------------------------- what moto 5.2.5 does

#: What plain moto 5.2.5 does for each probe (the behaviour each shim corrects).
MOTO_5_2_5: dict[str, Any] = {
    "secretsmanager_secret": ["CREATE_COMPLETE", 0],
    "applicationautoscaling": ["CREATE_COMPLETE", 0],
    "s3_bucket_policy": [False, "ClientError:Forbidden"],
    "s3_bucket": None,
    "acm_certificate": ["CREATE_COMPLETE", 0],
    "cloudwatch_alarm": ["CREATE_COMPLETE", 0],
    "cloudwatch_alarm_state": ["OK", "OK"],
    "dynamodb_table": ["DISABLED", "DISABLED", False],
    "ec2_security_group": [["-1", None]],  # allow-all, not the template's HTTPS rule
    "sns_topic": ["TypeError", 1],  # the first address subscribed, then the None fails
    "logs_group": [365, False],  # the key is dropped
    "logs_stream_prefix": ["app/app/t1", "proxy/proxy/t1"],  # the app's stream too
    "kms_key": "TypeError",  # DescribeKey fails: moto parses the dict policy as text
    # no physical ids; the source group's rule without its description
    "ec2_security_group_ingress": [["", ""], [None]],
    "ec2_network_interface_dns": "AttributeError",  # the task crashes in moto's Task
    # the policy is a Python repr, and the endpoint outlives its stack
    "ec2_vpc_endpoint": ["JSONDecodeError", ["available"]],
    "ecr_repository": [None, False],
    "ecr_images": 1,  # the first image is gone

    "elbv2_cloudformation": ["CREATE_COMPLETE", False, None, "AttributeError"],
    "route53_record_set": ["a.example.com"],
    "ecs_cluster": ["disabled", "ACTIVE"],
    # the updated revision's container has neither name nor image
    "ecs_task_definition": [None, "bridge", ["cpu", "environment", "essential", "mountPoints",
                                             "portMappings", "volumesFrom"], "ACTIVE"],
    "ecs_service": {
        "launch_type": "EC2",
        "network": False,
        "circuit_breaker": False,
        "task_definition_after_update": "1",
        "stack_status_after_update": "UPDATE_COMPLETE",
        "api_deployment_configuration": False,
        "api_deployments_after_update": [["PRIMARY", "IN_PROGRESS"]],
        "tasks": 0,
        "status_after_delete": "ACTIVE",
    },
    "ecs_task_network": False,  # a random 10.x address, outside the default VPC's subnets
    # a task of two containers has only the first, HEALTHY whatever its health check
    "ecs_tasks": [1, 1, ["a"], ["HEALTHY"]],
    "ecs_execute_command": "NotImplementedError",
    # no gateway API; CloudFormation skips the gateway, and an output of its Ref is dropped
    "ecs_gateway": ["NotImplementedError", "NotImplementedError", "CREATE_COMPLETE", [],
                    "accepted"],
    "elbv2_target_health": "healthy",
    "cloudformation_conditions": [],
    "cloudformation_parameters": "['a', 'b']",
    "cloudformation_updates": "value-1",
    "cloudformation_resources": [0, 1],
    "cloudformation_lifecycle": ["ClusterNotFoundException", "CREATE_IN_PROGRESS",
                                 "NotImplementedError"],
}


@pytest.mark.parametrize("shim", sorted(MOTO_5_2_5))
def test_moto_still_behaves_as_the_shim_assumes(unpatched: dict[str, Any], shim: str) -> None:
    """If this fails after a moto upgrade, the shim ``shim`` may be unnecessary or wrong."""
    assert unpatched[shim] == MOTO_5_2_5[shim]


# ---------------------------------------------------------------- the registry


def test_moto_is_the_pinned_version() -> None:
    assert importlib.metadata.version("moto") == "5.2.5", (
        "the emulator's shims are written against moto 5.2.5: re-run "
        "tests/test_emulator_shims.py and revisit each shim before moving the pin"
    )


def _shim_modules() -> list[str]:
    import fluoride.local.shims as package

    return sorted(m.name for m in pkgutil.iter_modules(package.__path__)
                  if not m.name.startswith("_"))


def test_every_shim_is_installed_probed_and_documented() -> None:
    from fluoride.local import shims

    installed = sorted(m.__name__.rsplit(".", 1)[1] for m in shims.SHIMS)
    assert installed == _shim_modules()
    assert sorted(PROBES) == installed
    assert sorted(MOTO_5_2_5) == installed
    docs = (ROOT / "docs" / "emulator.md").read_text("utf-8")
    for name in installed:
        module = importlib.import_module(f"fluoride.local.shims.{name}")
        assert "moto 5.2.5 behaviour corrected" in (module.__doc__ or ""), name
        assert f"`{name}`" in docs, f"docs/emulator.md does not list the shim {name}"


def test_installing_twice_keeps_moto_s_originals() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend

    from fluoride.local import shims
    from fluoride.local.shims._patch import original

    shims.install()
    first = original(EC2ContainerServiceBackend, "update_service")
    shims.install()
    shims.SHIMS[0].install()  # even a shim installed again keeps the first original
    assert original(EC2ContainerServiceBackend, "update_service") is first
    assert first.__module__ == "moto.ecs.models"
    assert EC2ContainerServiceBackend.update_service is not first


def test_shim_modules_import_no_emulator_state_at_module_level() -> None:
    """Shims patch moto only in ``install()``: importing one changes nothing."""
    for name in _shim_modules():
        path = ROOT / "src" / "fluoride" / "local" / "shims" / f"{name}.py"
        tree = ast.parse(path.read_text("utf-8"))
        calls = [node for node in tree.body if isinstance(node, ast.Expr)
                 and isinstance(node.value, ast.Call)]
        assert not calls, f"{name} runs code at import time"


# ---------------------------------------------------------------- what the shims apply


def test_every_setting_the_resource_shims_apply_reads_back() -> None:
    """Each setting a shim puts on a resource (the ones moto drops) is read back through the
    API: dropping one from a shim fails here."""
    import boto3

    from fluoride.local import start_emulator

    rules = {"rules": [{"rulePriority": 1, "action": {"type": "expire"}, "selection": {
        "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5}}]}
    template = {"Resources": {
        "B": {"Type": "AWS::S3::Bucket", "Properties": {
            "BucketName": "shim-settings",
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "IgnorePublicAcls": True,
                "BlockPublicPolicy": "true", "RestrictPublicBuckets": False},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": [{
                "Id": "expire", "Status": "Enabled", "Prefix": "logs/", "ExpirationInDays": 30,
                "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}]}}},
        "R": {"Type": "AWS::ECR::Repository", "Properties": {
            "RepositoryName": "shim-settings",
            "ImageScanningConfiguration": {"ScanOnPush": True},
            "EncryptionConfiguration": {"EncryptionType": "AES256"},
            "LifecyclePolicy": {"LifecyclePolicyText": json.dumps(rules)}}},
        "C": {"Type": "AWS::ECS::Cluster", "Properties": {
            "ClusterName": "shim-settings",
            "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}],
            "Tags": [{"Key": "team", "Value": "core"}]}},
    }}
    with start_emulator() as emulator:
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                region_name=emulator.region)

        def aws(name: str) -> Any:
            return session.client(name, endpoint_url=emulator.endpoint_url)  # type: ignore[call-overload]

        aws("cloudformation").create_stack(StackName="shim-settings",
                                           TemplateBody=json.dumps(template))
        s3, ecr, ecs = aws("s3"), aws("ecr"), aws("ecs")
        assert s3.get_bucket_versioning(Bucket="shim-settings")["Status"] == "Enabled"
        assert s3.get_public_access_block(Bucket="shim-settings")[
            "PublicAccessBlockConfiguration"] == {
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": False}
        assert s3.get_bucket_ownership_controls(Bucket="shim-settings")[
            "OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        (rule,) = s3.get_bucket_lifecycle_configuration(Bucket="shim-settings")["Rules"]
        assert rule["ID"] == "expire"
        assert rule["Status"] == "Enabled"
        assert rule["Filter"] == {"Prefix": "logs/"}
        assert rule["Expiration"] == {"Days": 30}
        assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 7
        assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 2}

        repository = ecr.describe_repositories(repositoryNames=["shim-settings"])[
            "repositories"][0]
        assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repository["encryptionConfiguration"]["encryptionType"] == "AES256"
        policy = ecr.get_lifecycle_policy(repositoryName="shim-settings")
        assert json.loads(policy["lifecyclePolicyText"]) == rules

        cluster = ecs.describe_clusters(clusters=["shim-settings"], include=["SETTINGS", "TAGS"])[
            "clusters"][0]
        assert cluster["settings"] == [{"name": "containerInsights", "value": "enabled"}]
        assert cluster["tags"] == [{"key": "team", "value": "core"}]
