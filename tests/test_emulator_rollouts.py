"""ECS rollouts in the emulator, seen through plain boto3 calls on its endpoint.

Deployments progress in simulated time: a new PRIMARY deployment starts beside the
ACTIVE one, tasks start, targets go initial -> healthy, old tasks drain, the deployment
COMPLETES; an unhealthy image trips the circuit breaker and rolls back; the CloudFormation
update waits for all of it and ends UPDATE_COMPLETE or UPDATE_ROLLBACK_COMPLETE.

Most tests hold simulated time and step it (``hold.advance``), so every intermediate
state is observed deterministically whatever the machine's load.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import attrs
import botocore.exceptions
import pytest

from fluoride.infra.template import load_template
from fluoride.local import Emulator, Timing, start_emulator

from ._rollouts import TIMING, Aws, pushed, wait_for, wait_stack

TEMPLATE = load_template()
IMAGES = "images/app"  # a repository outside any stack, for the images the tests deploy
_names = itertools.count(1)


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
def network(aws: Aws) -> dict[str, str]:
    vpc = aws.ec2.describe_vpcs(
        Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in aws.ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
    return {"VpcId": vpc, "SubnetIds": ",".join(subnets)}


def image(emulator: Emulator, tag: str, *, healthy: bool = True) -> str:
    """Push an image to the test repository; its full reference by digest."""
    return pushed(emulator, IMAGES, tag, healthy=healthy)


@attrs.define
class Stack:
    """A Fluoride stack driven through plain CloudFormation calls."""

    aws: Aws
    name: str
    parameters: dict[str, str]
    outputs: dict[str, str] = attrs.field(factory=dict)

    @property
    def cluster(self) -> str:
        return self.outputs["ClusterName"]

    @property
    def service_name(self) -> str:
        return self.outputs["EcsServiceName"]

    def create(self) -> None:
        self.aws.cfn.create_stack(StackName=self.name, TemplateBody=TEMPLATE,
                                  Parameters=_parameters(self.parameters),
                                  Capabilities=["CAPABILITY_IAM"])

    def update(self, **changes: str) -> None:
        self.parameters.update(changes)
        self.aws.cfn.update_stack(StackName=self.name, UsePreviousTemplate=True,
                                  Parameters=_parameters(self.parameters),
                                  Capabilities=["CAPABILITY_IAM"])

    def describe(self) -> dict[str, Any]:
        stack: dict[str, Any] = self.aws.cfn.describe_stacks(StackName=self.name)["Stacks"][0]
        if stack.get("Outputs"):
            self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        return stack

    @property
    def status(self) -> str:
        return str(self.describe()["StackStatus"])

    def parameter(self, key: str) -> str:
        values: dict[str, str] = {
            p["ParameterKey"]: p["ParameterValue"] for p in self.describe()["Parameters"]}
        return values[key]

    def wait(self, timeout: float = 30, *, by_id: str | None = None) -> str:
        stack = wait_stack(self.aws, by_id or self.name, timeout)
        if by_id is None and stack.get("Outputs"):
            self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        return str(stack["StackStatus"])

    def service(self) -> dict[str, Any]:
        found: dict[str, Any] = self.aws.ecs.describe_services(
            cluster=self.cluster, services=[self.service_name])["services"][0]
        return found

    def deployments(self) -> list[tuple[str, str, str]]:
        """(status, rolloutState, task definition revision) of each deployment."""
        return [(d["status"], d["rolloutState"], d["taskDefinition"].rsplit(":", 1)[1])
                for d in self.service()["deployments"]]

    def targets(self) -> list[str]:
        health = self.aws.elbv2.describe_target_health(
            TargetGroupArn=self.outputs["TargetGroupArn"])["TargetHealthDescriptions"]
        return sorted(h["TargetHealth"]["State"] for h in health)

    def tasks(self, desired: str = "RUNNING") -> list[dict[str, Any]]:
        arns = self.aws.ecs.list_tasks(cluster=self.cluster, serviceName=self.service_name,
                                       desiredStatus=desired)["taskArns"]
        if not arns:
            return []
        found: list[dict[str, Any]] = self.aws.ecs.describe_tasks(
            cluster=self.cluster, tasks=arns)["tasks"]
        return found

    def events(self) -> list[str]:
        return [e["message"] for e in self.service()["events"]]

    def stack_events(self) -> list[tuple[str, str, str]]:
        events = self.aws.cfn.describe_stack_events(StackName=self.name)["StackEvents"]
        return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason") or "")
                for e in reversed(events)]


def _parameters(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


@pytest.fixture
def stack(aws: Aws, network: dict[str, str]) -> Stack:
    """A fresh service stack, created without an image (0 tasks)."""
    name = f"roll{next(_names)}"
    created = Stack(aws, f"fluoride-{name}", {"ServiceName": name, **network})
    created.create()
    assert created.wait() == "CREATE_COMPLETE"
    return created


def serving(stack: Stack, emulator: Emulator, tag: str) -> str:
    """Deploy a healthy image and wait until it serves; its reference."""
    reference = image(emulator, tag)
    stack.update(Image=reference)
    assert stack.wait() == "UPDATE_COMPLETE"
    return reference


# ---------------------------------------------------------------- healthy rollouts


def test_create_with_an_image_runs_its_tasks_with_healthy_targets(
        aws: Aws, emulator: Emulator, network: dict[str, str]) -> None:
    reference = image(emulator, "first")
    stack = Stack(aws, "fluoride-born-running",
                  {"ServiceName": "born-running", "Image": reference, "MinCount": "2", **network})
    with emulator.hold_rollouts() as hold:
        stack.create()
        assert stack.status == "CREATE_IN_PROGRESS"  # CloudFormation waits for the service
        hold.advance(TIMING.task_start + TIMING.health_check)
        assert stack.status == "CREATE_COMPLETE"
    assert stack.deployments() == [("PRIMARY", "COMPLETED", "1")]
    assert stack.service()["runningCount"] == 2
    assert stack.targets() == ["healthy", "healthy"]
    tasks = stack.tasks()
    assert [t["lastStatus"] for t in tasks] == ["RUNNING", "RUNNING"]
    assert {t["containers"][0]["imageDigest"] for t in tasks} == {reference.split("@")[1]}
    assert {t["group"] for t in tasks} == {f"service:{stack.service_name}"}
    assert {t["launchType"] for t in tasks} == {"FARGATE"}
    assert len({t["availabilityZone"] for t in tasks}) == 2  # spread over the subnets


def test_without_an_image_the_service_runs_nothing(stack: Stack) -> None:
    service = stack.service()
    assert (service["desiredCount"], service["runningCount"]) == (0, 0)
    assert stack.deployments() == [("PRIMARY", "COMPLETED", "1")]
    assert stack.targets() == []


def test_a_healthy_update_rolls_out_step_by_step(stack: Stack, emulator: Emulator) -> None:
    serving(stack, emulator, "step-1")
    old_task = stack.tasks()[0]["taskArn"]
    with emulator.hold_rollouts() as hold:
        stack.update(Image=image(emulator, "step-2"))
        assert stack.status == "UPDATE_IN_PROGRESS"
        assert stack.deployments() == [("PRIMARY", "IN_PROGRESS", "3"),
                                       ("ACTIVE", "COMPLETED", "2")]
        assert [t["lastStatus"] for t in stack.tasks()] == ["PROVISIONING", "RUNNING"][::1] \
            or sorted(t["lastStatus"] for t in stack.tasks()) == ["PROVISIONING", "RUNNING"]
        assert stack.targets() == ["healthy"]

        hold.advance(TIMING.task_start)  # the new task runs and registers
        assert sorted(t["lastStatus"] for t in stack.tasks()) == ["RUNNING", "RUNNING"]
        assert stack.targets() == ["healthy", "initial"]

        hold.advance(TIMING.health_check)  # it passes; the old one drains
        assert stack.targets() == ["draining", "healthy"]
        assert stack.deployments()[0] == ("PRIMARY", "IN_PROGRESS", "3")
        assert stack.status == "UPDATE_IN_PROGRESS"

        hold.advance(TIMING.drain)
        assert stack.deployments() == [("PRIMARY", "COMPLETED", "3")]
        assert stack.targets() == ["healthy"]
        assert stack.status == "UPDATE_COMPLETE"
    stopped = [t for t in stack.tasks("STOPPED") if t["taskArn"] == old_task]
    assert stopped[0]["stoppedReason"].startswith("Scaling activity initiated by (deployment")
    assert stack.service()["taskDefinition"].endswith(":3")
    messages = stack.events()
    assert any("deployment completed" in m for m in messages)
    assert messages[0].endswith("has reached a steady state.")
    # CloudFormation cleaned up the replaced task definition.
    previous = stack.aws.ecs.describe_task_definition(
        taskDefinition=f"fluoride-{stack.parameters['ServiceName']}:2")["taskDefinition"]
    assert previous["status"] == "INACTIVE"


def test_the_new_task_definition_keeps_the_container(stack: Stack, emulator: Emulator) -> None:
    reference = serving(stack, emulator, "keep")
    td = stack.aws.ecs.describe_task_definition(
        taskDefinition=stack.service()["taskDefinition"])["taskDefinition"]
    container = td["containerDefinitions"][0]
    assert container["name"] == "app"
    assert container["image"] == reference
    assert container["portMappings"][0]["containerPort"] == 8080
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    assert {e["name"] for e in container["environment"]} >= {"FLUORIDE_SERVICE", "PORT"}
    assert (td["cpu"], td["memory"], td["networkMode"]) == ("256", "512", "awsvpc")


def test_default_timing_makes_a_healthy_rollout_take_about_a_second() -> None:
    timing = Timing()
    one_task = timing.task_start + timing.health_check + timing.drain
    assert 0.4 <= one_task <= 1.2


# ---------------------------------------------------------------- failing images


def test_an_unhealthy_image_fails_and_rolls_back(stack: Stack, emulator: Emulator) -> None:
    good = serving(stack, emulator, "good")
    bad = image(emulator, "bad", healthy=False)
    with emulator.hold_rollouts() as hold:
        stack.update(Image=bad)
        failed_at = []
        for step in range(20):
            hold.advance(TIMING.task_start + TIMING.health_check)
            deployments = stack.deployments()
            if any(state == "FAILED" for _, state, _ in deployments):
                failed_at.append(step)
                break
            assert stack.targets().count("healthy") >= 1, "the old release must keep serving"
        assert failed_at, "the circuit breaker never tripped"
        failed = next(d for d in stack.service()["deployments"] if d["rolloutState"] == "FAILED")
        assert failed["failedTasks"] == 3  # the circuit breaker's minimum threshold
        assert failed["rolloutStateReason"] == \
            "ECS deployment circuit breaker: tasks failed to start."
        assert stack.status == "UPDATE_ROLLBACK_IN_PROGRESS"
        primary = stack.service()["deployments"][0]
        assert primary["taskDefinition"].endswith(":2")  # ECS rolls back to the last good one
        for _ in range(10):
            hold.advance(TIMING.drain)
    assert stack.wait() == "UPDATE_ROLLBACK_COMPLETE"
    assert stack.parameter("Image") == good
    assert stack.deployments() == [("PRIMARY", "COMPLETED", "2")]
    assert stack.targets() == ["healthy"]
    stopped = stack.tasks("STOPPED")
    reasons = {t["stoppedReason"] for t in stopped if t["taskDefinitionArn"].endswith(":3")}
    assert reasons == {f"Task failed ELB health checks in (target-group "
                       f"{stack.outputs['TargetGroupArn']})"}
    messages = stack.events()
    assert any("is unhealthy in (target-group" in m for m in messages)
    assert any("deployment failed: tasks failed to start." in m for m in messages)
    events = stack.stack_events()
    circuit_breaker = ("Resource handler returned message: \"Error occurred during operation "
                       "'ECS Deployment Circuit Breaker was triggered'.\" "
                       "(HandlerErrorCode: GeneralServiceException)")
    assert ("Service", "UPDATE_FAILED", circuit_breaker) in events
    assert [s for _, s, _ in events if s.startswith("UPDATE_ROLLBACK")][-1] == \
        "UPDATE_ROLLBACK_COMPLETE"
    # The new task definition was removed in the rollback's cleanup.
    revision_3 = stack.aws.ecs.describe_task_definition(
        taskDefinition=f"fluoride-{stack.parameters['ServiceName']}:3")["taskDefinition"]
    assert revision_3["status"] == "INACTIVE"


def test_a_tag_reference_is_resolved_to_its_current_image(stack: Stack,
                                                          emulator: Emulator) -> None:
    serving(stack, emulator, "tag-good")
    emulator.push_image(IMAGES, "moving", healthy=False)
    tagged = f"{emulator.account_id}.dkr.ecr.{emulator.region}.amazonaws.com/{IMAGES}:moving"
    stack.update(Image=tagged)
    assert stack.wait() == "UPDATE_ROLLBACK_COMPLETE"
    digest = emulator.push_image(IMAGES, "moving")  # the tag moves to a healthy image
    stack.update(Image=tagged)
    assert stack.wait() == "UPDATE_COMPLETE"
    assert {t["containers"][0]["imageDigest"] for t in stack.tasks()} == {digest}


def test_an_image_that_does_not_exist_cannot_be_pulled(stack: Stack, emulator: Emulator) -> None:
    serving(stack, emulator, "exists")
    missing = (f"{emulator.account_id}.dkr.ecr.{emulator.region}.amazonaws.com/{IMAGES}"
               f"@sha256:{'0' * 64}")
    stack.update(Image=missing)
    assert stack.wait() == "UPDATE_ROLLBACK_COMPLETE"
    stopped = [t for t in stack.tasks("STOPPED") if t["taskDefinitionArn"].endswith(":3")]
    assert stopped
    assert {t["stopCode"] for t in stopped} == {"TaskFailedToStart"}
    assert all(t["stoppedReason"].startswith("CannotPullContainerError") for t in stopped)


def test_creating_with_an_unhealthy_image_rolls_the_stack_back(
        aws: Aws, emulator: Emulator, network: dict[str, str]) -> None:
    stack = Stack(aws, "fluoride-born-broken",
                  {"ServiceName": "born-broken", "Image": image(emulator, "broken", healthy=False),
                   **network})
    stack.create()
    assert stack.wait() == "ROLLBACK_COMPLETE"
    stack_id = stack.describe()["StackId"]
    events = stack.stack_events()
    failed = [e for e in events if e[1] == "CREATE_FAILED"]
    assert failed[0][0] == "Service"
    assert "Circuit Breaker" in failed[0][2]
    assert ("fluoride-born-broken", "ROLLBACK_IN_PROGRESS",
            "The following resource(s) failed to create: [Service]. Rollback requested by user.") \
        in events
    skipped = {logical for logical, status, _ in events if status == "DELETE_SKIPPED"}
    assert skipped == {"Repository", "Table", "Bucket", "Secret"}
    services = aws.ecs.describe_services(cluster="fluoride-born-broken",
                                         services=["x"])["failures"]
    assert services  # the cluster is gone with its service
    aws.cfn.delete_stack(StackName="fluoride-born-broken")
    assert stack.wait(by_id=stack_id) == "DELETE_COMPLETE"


# ---------------------------------------------------------------- CloudFormation linkage


def test_cancelling_an_update_brings_the_previous_release_back(stack: Stack,
                                                               emulator: Emulator) -> None:
    good = serving(stack, emulator, "before-cancel")
    with emulator.hold_rollouts() as hold:
        stack.update(Image=image(emulator, "never-finished"))
        hold.advance(TIMING.task_start)
        assert stack.status == "UPDATE_IN_PROGRESS"
        with pytest.raises(botocore.exceptions.ClientError, match="cannot be deleted"):
            stack.aws.cfn.delete_stack(StackName=stack.name)
        stack.aws.cfn.cancel_update_stack(StackName=stack.name)
        assert stack.status == "UPDATE_ROLLBACK_IN_PROGRESS"
        # ECS deploys the previous task definition again, beside the cancelled deployment.
        assert [(s, d) for s, _, d in stack.deployments()][:2] == [("PRIMARY", "2"),
                                                                   ("ACTIVE", "3")]
    assert stack.wait() == "UPDATE_ROLLBACK_COMPLETE"
    assert stack.parameter("Image") == good
    assert stack.deployments() == [("PRIMARY", "COMPLETED", "2")]
    assert ("Service", "UPDATE_FAILED", "Resource update cancelled") in stack.stack_events()
    with pytest.raises(botocore.exceptions.ClientError,
                       match="CancelUpdateStack cannot be called from current stack status"):
        stack.aws.cfn.cancel_update_stack(StackName=stack.name)


def test_a_stack_busy_updating_refuses_other_changes(stack: Stack, emulator: Emulator) -> None:
    with emulator.hold_rollouts():
        stack.update(Image=image(emulator, "busy"))
        with pytest.raises(botocore.exceptions.ClientError, match="UPDATE_IN_PROGRESS state"):
            stack.update(MinCount="2")
        with pytest.raises(botocore.exceptions.ClientError, match="UPDATE_IN_PROGRESS state"):
            stack.aws.cfn.create_change_set(
                StackName=stack.name, ChangeSetName="meanwhile", ChangeSetType="UPDATE",
                UsePreviousTemplate=True, Parameters=_parameters(stack.parameters))
    assert stack.wait() == "UPDATE_COMPLETE"


def test_change_sets_plan_and_apply_an_image_update(stack: Stack, emulator: Emulator) -> None:
    reference = image(emulator, "by-change-set")
    cfn = stack.aws.cfn
    stack.parameters["Image"] = reference
    cfn.create_change_set(StackName=stack.name, ChangeSetName="deploy", ChangeSetType="UPDATE",
                          UsePreviousTemplate=True, Parameters=_parameters(stack.parameters))
    planned = cfn.describe_change_set(StackName=stack.name, ChangeSetName="deploy")
    changes = {c["ResourceChange"]["LogicalResourceId"]:
               (c["ResourceChange"]["Action"], c["ResourceChange"].get("Replacement"))
               for c in planned["Changes"]}
    assert changes["TaskDefinition"] == ("Modify", "True")
    assert changes["Service"] == ("Modify", "False")
    cfn.execute_change_set(StackName=stack.name, ChangeSetName="deploy")
    assert stack.status == "UPDATE_IN_PROGRESS"
    assert stack.wait() == "UPDATE_COMPLETE"
    assert stack.parameter("Image") == reference
    # The same parameters again: nothing to do, as CloudFormation says it.
    cfn.create_change_set(StackName=stack.name, ChangeSetName="again", ChangeSetType="UPDATE",
                          UsePreviousTemplate=True, Parameters=_parameters(stack.parameters))
    again = cfn.describe_change_set(StackName=stack.name, ChangeSetName="again")
    assert again["Status"] == "FAILED"
    assert "didn't contain changes" in again["StatusReason"]


def test_use_previous_value_keeps_list_parameters(stack: Stack) -> None:
    cfn = stack.aws.cfn
    keep = [{"ParameterKey": k, "UsePreviousValue": True} for k in stack.parameters]
    cfn.create_change_set(StackName=stack.name, ChangeSetName="scale", ChangeSetType="UPDATE",
                          UsePreviousTemplate=True,
                          Parameters=[*keep, {"ParameterKey": "IdleTimeout",
                                              "ParameterValue": "30"}])
    cfn.execute_change_set(StackName=stack.name, ChangeSetName="scale")
    assert stack.wait() == "UPDATE_COMPLETE"
    assert stack.parameter("SubnetIds") == stack.parameters["SubnetIds"]
    assert stack.parameter("IdleTimeout") == "30"


def test_a_deleted_stack_stays_deleted_when_read(stack: Stack) -> None:
    stack_id = stack.describe()["StackId"]
    cluster = stack.cluster
    stack.aws.cfn.delete_stack(StackName=stack.name)
    for _ in range(2):  # reading a deleted stack must not bring its resources back
        described = stack.aws.cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        assert described["StackStatus"] == "DELETE_COMPLETE"
        assert "Outputs" not in described
        stack.aws.cfn.list_stack_resources(StackName=stack_id)
    clusters = stack.aws.ecs.describe_clusters(clusters=[cluster])["clusters"]
    assert [c["status"] for c in clusters] == ["INACTIVE"]


def test_holding_rollouts_keeps_everything_still(stack: Stack, emulator: Emulator) -> None:
    with emulator.hold_rollouts():
        stack.update(Image=image(emulator, "held"))
        time.sleep(3 * (TIMING.task_start + TIMING.health_check + TIMING.drain))
        assert stack.status == "UPDATE_IN_PROGRESS"
        assert stack.deployments()[0] == ("PRIMARY", "IN_PROGRESS", "2")
        assert [t["lastStatus"] for t in stack.tasks()] == ["PROVISIONING"]
    assert stack.wait() == "UPDATE_COMPLETE"


# ---------------------------------------------------------------- plain ECS API


@pytest.fixture
def plain_service(aws: Aws, network: dict[str, str]) -> dict[str, str]:
    """A cluster, target group and task definition made with plain ECS/ELB calls."""
    name = f"plain{next(_names)}"
    aws.ecs.create_cluster(clusterName=name)
    tg = aws.elbv2.create_target_group(Name=name, Protocol="HTTP", Port=80, TargetType="ip",
                                       VpcId=network["VpcId"])["TargetGroups"][0]["TargetGroupArn"]
    group = aws.ec2.create_security_group(GroupName=name, Description=name,
                                          VpcId=network["VpcId"])["GroupId"]
    return {"name": name, "tg": tg, "group": group, "subnets": network["SubnetIds"]}


def _register(aws: Aws, family: str, reference: str) -> str:
    arn: str = aws.ecs.register_task_definition(
        family=family, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
        memory="512", containerDefinitions=[{"name": "web", "image": reference,
                                             "portMappings": [{"containerPort": 80}]}],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def _plain_deployments(aws: Aws, plain: dict[str, str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = aws.ecs.describe_services(
        cluster=plain["name"], services=["web"])["services"][0]["deployments"]
    return found


def test_plain_ecs_calls_roll_out_and_roll_back(aws: Aws, emulator: Emulator,
                                                plain_service: dict[str, str]) -> None:
    plain = plain_service
    good = _register(aws, plain["name"], image(emulator, "plain-good"))
    created = aws.ecs.create_service(
        cluster=plain["name"], serviceName="web", taskDefinition=good, desiredCount=2,
        launchType="FARGATE",
        loadBalancers=[{"targetGroupArn": plain["tg"], "containerName": "web",
                        "containerPort": 80}],
        networkConfiguration={"awsvpcConfiguration": {
            "subnets": plain["subnets"].split(","), "securityGroups": [plain["group"]]}},
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                 "maximumPercent": 200, "minimumHealthyPercent": 100},
        healthCheckGracePeriodSeconds=30,
    )["service"]
    assert created["deploymentConfiguration"]["deploymentCircuitBreaker"]["rollback"] is True
    assert created["healthCheckGracePeriodSeconds"] == 30

    def settled(running: int = 2) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            deployments = _plain_deployments(aws, plain)
            if len(deployments) == 1 and deployments[0]["rolloutState"] != "IN_PROGRESS" \
                    and deployments[0]["runningCount"] == running:
                return deployments
            time.sleep(0.02)
        raise AssertionError(f"not settled: {deployments}")

    assert settled()[0]["runningCount"] == 2
    bad = _register(aws, plain["name"], image(emulator, "plain-bad", healthy=False))
    first = aws.ecs.update_service(cluster=plain["name"], service="web",
                                   taskDefinition=bad)["service"]["deployments"][0]
    assert (first["status"], first["rolloutState"], first["taskDefinition"]) == \
        ("PRIMARY", "IN_PROGRESS", bad)
    deployments = settled()
    assert deployments[0]["taskDefinition"] == good
    assert deployments[0]["rolloutState"] == "COMPLETED"
    health = aws.elbv2.describe_target_health(TargetGroupArn=plain["tg"])
    assert [h["TargetHealth"]["State"] for h in health["TargetHealthDescriptions"]] == \
        ["healthy", "healthy"]

    # Scaling changes the desired count of the current deployment; no new deployment.
    aws.ecs.update_service(cluster=plain["name"], service="web", desiredCount=3)
    deployments = settled(running=3)
    assert deployments[0]["taskDefinition"] == good

    # A task stopped by hand is replaced by the scheduler.
    running = aws.ecs.list_tasks(cluster=plain["name"], serviceName="web")["taskArns"]
    aws.ecs.stop_task(cluster=plain["name"], task=running[0], reason="testing")

    def replaced() -> bool:
        now = aws.ecs.list_tasks(cluster=plain["name"], serviceName="web")["taskArns"]
        service = aws.ecs.describe_services(cluster=plain["name"], services=["web"])
        return running[0] not in now and service["services"][0]["runningCount"] == 3

    wait_for(replaced)  # the stopped task is replaced
    stopped = aws.ecs.describe_tasks(cluster=plain["name"], tasks=[running[0]])["tasks"][0]
    assert (stopped["lastStatus"], stopped["stoppedReason"]) == ("STOPPED", "testing")


def test_a_deployment_alarm_rolls_back(aws: Aws, emulator: Emulator,
                                       plain_service: dict[str, str]) -> None:
    plain = plain_service
    aws.cloudwatch.put_metric_alarm(
        AlarmName=f"{plain['name']}-5xx", Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")
    good = _register(aws, plain["name"], image(emulator, "alarm-good"))
    aws.ecs.create_service(
        cluster=plain["name"], serviceName="web", taskDefinition=good, desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {
            "subnets": plain["subnets"].split(","), "securityGroups": [plain["group"]]}},
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "alarms": {"alarmNames": [f"{plain['name']}-5xx"], "enable": True, "rollback": True}},
    )
    with emulator.hold_rollouts() as hold:
        hold.advance(TIMING.task_start + TIMING.health_check)
        assert _plain_deployments(aws, plain)[0]["rolloutState"] == "COMPLETED"
        healthy_but_5xx = _register(aws, plain["name"], image(emulator, "alarm-5xx"))
        aws.ecs.update_service(cluster=plain["name"], service="web",
                               taskDefinition=healthy_but_5xx)
        aws.cloudwatch.set_alarm_state(AlarmName=f"{plain['name']}-5xx", StateValue="ALARM",
                                       StateReason="errors")
        states = [(d["taskDefinition"], d["rolloutState"]) for d in _plain_deployments(aws, plain)]
        assert (healthy_but_5xx, "FAILED") in states
        assert states[0] == (good, "IN_PROGRESS")  # rolling back
        reason = next(d["rolloutStateReason"] for d in _plain_deployments(aws, plain)
                      if d["rolloutState"] == "FAILED")
        assert f"{plain['name']}-5xx" in reason


def test_list_tasks_filters_by_service_and_desired_status(stack: Stack,
                                                          emulator: Emulator) -> None:
    serving(stack, emulator, "listed")
    serving(stack, emulator, "listed-again")
    running = stack.tasks()
    stopped = stack.tasks("STOPPED")
    assert [t["lastStatus"] for t in running] == ["RUNNING"]
    assert [t["lastStatus"] for t in stopped] == ["STOPPED"]
    everything = stack.aws.ecs.list_tasks(cluster=stack.cluster)["taskArns"]
    assert everything == [running[0]["taskArn"]]  # RUNNING is the default filter
    other = stack.aws.ecs.list_tasks(cluster=stack.cluster, serviceName="someone-else")
    assert other["taskArns"] == []


@pytest.mark.emulator_errors  # moto's crash is logged, as it must be
def test_moto_failing_on_a_request_is_a_clear_error_at_once(aws: Aws) -> None:
    # moto crashes (AttributeError) on a template that is a list, not a mapping: instead of
    # an HTML 500 that botocore retries, the caller gets the error at once.
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        aws.cfn.create_stack(StackName="broken-template", TemplateBody=json.dumps([1, 2]))
    response = raised.value.response
    assert response["Error"]["Code"] == "EmulatorInternalError"
    assert "AttributeError" in response["Error"]["Message"]
    assert response["ResponseMetadata"]["RetryAttempts"] == 0


def test_a_template_error_fails_the_call_and_leaves_nothing(aws: Aws) -> None:
    template = {"Resources": {
        "First": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "made-first"}},
        "Second": {"Type": "AWS::SQS::Queue", "DependsOn": "First", "Properties": {
            "QueueName": {"Fn::GetAtt": ["Nowhere", "QueueName"]}}}}}
    with pytest.raises(botocore.exceptions.ClientError, match="undefined resource Nowhere"):
        aws.cfn.create_stack(StackName="invalid", TemplateBody=json.dumps(template))
    with pytest.raises(botocore.exceptions.ClientError, match="does not exist"):
        aws.cfn.describe_stacks(StackName="invalid")
    assert not aws.sqs.list_queues(QueueNamePrefix="made-first").get("QueueUrls")


def test_an_update_missing_a_parameter_changes_nothing(stack: Stack) -> None:
    before = stack.describe()
    with pytest.raises(botocore.exceptions.ClientError, match="ServiceName"):
        stack.aws.cfn.update_stack(
            StackName=stack.name, UsePreviousTemplate=True,
            Parameters=_parameters({k: v for k, v in stack.parameters.items()
                                    if k != "ServiceName"} | {"MinCount": "3"}),
            Capabilities=["CAPABILITY_IAM"])
    after = stack.describe()
    assert after["StackStatus"] == before["StackStatus"] == "CREATE_COMPLETE"
    assert after["Parameters"] == before["Parameters"]


def test_the_simulated_clock_waits_without_waiting(stack: Stack, emulator: Emulator) -> None:
    clock = emulator.clock
    with emulator.hold_rollouts():  # real time cannot move the rollout; only the clock can
        stack.update(Image=image(emulator, "clocked"))
        started = clock.monotonic()
        while stack.status == "UPDATE_IN_PROGRESS":
            clock.sleep(TIMING.task_start / 2)
        waited = clock.monotonic() - started
    assert stack.status == "UPDATE_COMPLETE"
    # The first image: nothing old to drain, so start and health check.
    assert waited >= TIMING.task_start + TIMING.health_check - 1e-6


def test_a_rollback_that_fails_too_ends_update_rollback_failed(stack: Stack,
                                                               emulator: Emulator) -> None:
    good = serving(stack, emulator, "was-good")
    emulator.set_image_health(good.split("@")[1], healthy=False)  # it broke meanwhile
    stack.update(Image=image(emulator, "also-bad", healthy=False))
    assert stack.wait() == "UPDATE_ROLLBACK_FAILED"
    deployments = stack.deployments()
    assert deployments[0] == ("PRIMARY", "FAILED", "2")  # the rollback failed, and stays
    assert ("ACTIVE", "FAILED", "3") in deployments
    assert len(deployments) <= 3  # no endless rollbacks
    failed = [e for e in stack.stack_events() if e[1] == "UPDATE_FAILED"]
    assert [logical for logical, _, _ in failed] == ["Service", "Service"]
