"""Deployments against botocore's Stubber: exact API parameters and the AWS states the
emulator does not produce (UPDATE_ROLLBACK_FAILED, a failing cancel, throttling, dropped
connections), and the false successes peers report.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Sequence
from typing import Any

import botocore.exceptions
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from fluoride.aws import Aws
from fluoride.errors import (
    DeploymentFailed,
    DeploymentInProgress,
    DeploymentTimeout,
    RollbackFailed,
    RolledBack,
)
from fluoride.events import DeploymentProgress, Note, ServiceEventSeen
from fluoride.infra.stack import Stack
from fluoride.releases.deployment import Deployments
from fluoride.releases.history import Outcome, Release
from fluoride.waiting import FakeClock

from .conftest import Recorder

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
ACCOUNT = "123456789012"
REGION = "eu-west-1"
STACK_ARN = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/fluoride-web/abc"
REPO = "fluoride/web"
URI = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPO}"
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
IMG1 = f"{URI}@{D1}"
IMG2 = f"{URI}@{D2}"
TD1 = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:1"
TD2 = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:2"
TG = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/web/1"
CALLER = f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/alice"
BUCKET = "fluoride-web-logs"


def stack_raw(status: str, image: str = IMG1) -> dict[str, Any]:
    outputs = {
        "ClusterName": "fluoride-web", "EcsServiceName": "web", "RepositoryName": REPO,
        "RepositoryUri": URI, "AccessLogBucketName": BUCKET, "TargetGroupArn": TG,
        "Url": "http://web.example",
    }
    return {
        "StackName": "fluoride-web", "StackId": STACK_ARN, "StackStatus": status,
        "CreationTime": NOW, "LastUpdatedTime": NOW,
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
        "Parameters": [
            {"ParameterKey": "Image", "ParameterValue": image},
            {"ParameterKey": "ServiceName", "ParameterValue": "web"},
            {"ParameterKey": "MinCount", "ParameterValue": "2"},
        ],
    }


def dep(
    did: str, status: str, td: str, rollout: str, *, desired: int = 2, running: int = 0,
    pending: int = 0, failed: int = 0, reason: str | None = None,
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": did, "status": status, "taskDefinition": td, "rolloutState": rollout,
        "desiredCount": desired, "runningCount": running, "pendingCount": pending,
        "failedTasks": failed, "createdAt": NOW,
    }
    if reason:
        raw["rolloutStateReason"] = reason
    return raw


def event(eid: str, message: str) -> dict[str, Any]:
    return {"id": eid, "message": message, "createdAt": NOW}


OLD = dep("ecs-svc/1", "PRIMARY", TD1, "COMPLETED", running=2)
OLD_EVENT = event("e0", "(service web) has reached a steady state.")


def body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def history_doc(*releases: dict[str, Any]) -> bytes:
    return json.dumps({"format": 1, "releases": list(releases)}).encode()


def release_raw(rid: str, image: str, outcome: str, tag: str) -> dict[str, Any]:
    return {
        "id": rid, "image": image, "digest": image.split("@")[1], "tags": [tag],
        "deployed_at": NOW.isoformat(), "deployed_by": CALLER, "outcome": outcome,
        "reason": None, "finished_at": None, "rollback": False,
    }


V1 = release_raw("r1", IMG1, "stable", "v1")


class Stubs:
    """One Stubber per client; helpers queue the calls a deployment makes."""

    def __init__(self, aws: Aws) -> None:
        self.aws = aws
        self.cfn = Stubber(aws.client("cloudformation"))
        self.ecs = Stubber(aws.client("ecs"))
        self.elb = Stubber(aws.client("elbv2"))
        self.s3 = Stubber(aws.client("s3"))
        self.ecr = Stubber(aws.client("ecr"))
        self.sts = Stubber(aws.client("sts"))
        self.all = [self.cfn, self.ecs, self.elb, self.s3, self.ecr, self.sts]
        self.history: bytes | None = history_doc(V1)
        self.etag = 0

    def activate(self) -> None:
        for s in self.all:
            s.activate()

    def verify(self) -> None:
        for s in self.all:
            s.assert_no_pending_responses()

    def stack(self, status: str, image: str = IMG1) -> None:
        self.cfn.add_response("describe_stacks", {"Stacks": [stack_raw(status, image)]},
                              {"StackName": "fluoride-web"})

    def service(self, deployments: Sequence[dict[str, Any]],
                events: Sequence[dict[str, Any]] = (OLD_EVENT,)) -> None:
        self.ecs.add_response("describe_services", {"services": [{
            "serviceName": "web", "serviceArn": "arn:svc/web", "status": "ACTIVE",
            "taskDefinition": deployments[0]["taskDefinition"], "desiredCount": 2,
            "runningCount": 2, "pendingCount": 0, "deployments": list(deployments),
            "events": list(events),
        }]}, {"cluster": "fluoride-web", "services": ["web"]})

    def health(self, *states: str) -> None:
        self.elb.add_response("describe_target_health", {"TargetHealthDescriptions": [
            {"Target": {"Id": f"10.0.0.{i}", "Port": 8080}, "TargetHealth": {"State": s}}
            for i, s in enumerate(states)
        ]}, {"TargetGroupArn": TG})

    def poll(self, status: str, deployments: Sequence[dict[str, Any]],
             events: Sequence[dict[str, Any]] = (OLD_EVENT,),
             health: Sequence[str] | None = None, image: str = IMG2) -> None:
        self.stack(status, image)
        self.service(deployments, events)
        if health is not None:
            self.health(*health)

    def read_history(self) -> None:
        if self.history is None:
            self.s3.add_client_error("get_object", "NoSuchKey", http_status_code=404)
        else:
            self.s3.add_response("get_object", {"Body": body(self.history),
                                                "ETag": f'"{self.etag}"'},
                                 {"Bucket": BUCKET, "Key": "fluoride/releases.json"})

    def write_history(self) -> None:
        expected: dict[str, Any] = {
            "Bucket": BUCKET, "Key": "fluoride/releases.json", "Body": ANY,
            "ContentType": "application/json",
        }
        if self.history is None:
            expected["IfNoneMatch"] = "*"
        else:
            expected["IfMatch"] = f'"{self.etag}"'
        self.etag += 1
        self.s3.add_response("put_object", {"ETag": f'"{self.etag}"'}, expected)

    def change_history(self) -> None:
        """A first change: read, then a write conditional on what was read."""
        self.read_history()
        self.write_history()

    def record_outcome(self) -> None:
        """A later change: a write conditional on the last write's ETag, no read."""
        self.write_history()

    def start_deploy(self, tag: str = "v2", digest: str = D2) -> None:
        """The calls of ``deploy(tag)`` up to and including ExecuteChangeSet."""
        self.stack("UPDATE_COMPLETE")
        self.service([OLD])
        self.ecr.add_response("describe_images", {"imageDetails": [{
            "repositoryName": REPO, "imageDigest": digest, "imageTags": [tag],
            "imagePushedAt": NOW,
        }]}, {"repositoryName": REPO, "imageIds": [{"imageTag": tag}]})
        self.sts.add_response("get_caller_identity", {"Arn": CALLER, "Account": ACCOUNT,
                                                      "UserId": "AIDA"})
        self.cfn.add_response("create_change_set", {"Id": "cs", "StackId": STACK_ARN}, {
            "StackName": "fluoride-web", "ChangeSetName": ANY, "ChangeSetType": "UPDATE",
            "UsePreviousTemplate": True,
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            "Parameters": [
                {"ParameterKey": "Image", "ParameterValue": f"{URI}@{digest}"},
                {"ParameterKey": "MinCount", "UsePreviousValue": True},
                {"ParameterKey": "ServiceName", "UsePreviousValue": True},
            ],
        })
        self.cfn.add_response("describe_change_set", {
            "ChangeSetName": "cs", "StackName": "fluoride-web", "Status": "CREATE_COMPLETE",
            "Changes": [{"Type": "Resource", "ResourceChange": {
                "Action": "Modify", "LogicalResourceId": "TaskDefinition",
                "ResourceType": "AWS::ECS::TaskDefinition", "Replacement": "True"}}],
        })
        self.change_history()
        self.cfn.add_response("execute_change_set", {},
                              {"StackName": "fluoride-web", "ChangeSetName": ANY})

    def stopped_tasks(self, *tasks: dict[str, Any]) -> None:
        self.ecs.add_response("list_tasks", {"taskArns": [t["taskArn"] for t in tasks]}, {
            "cluster": "fluoride-web", "serviceName": "web", "desiredStatus": "STOPPED",
            "maxResults": 100,
        })
        if tasks:
            self.ecs.add_response("describe_tasks", {"tasks": list(tasks)})


def stopped(n: int, td: str, started_by: str, reason: str, exit_code: int = 1) -> dict[str, Any]:
    return {
        "taskArn": f"arn:task/{n}", "taskDefinitionArn": td, "startedBy": started_by,
        "stoppedReason": reason, "lastStatus": "STOPPED", "createdAt": NOW,
        "stoppedAt": NOW + dt.timedelta(seconds=n),
        "containers": [{"name": "app", "exitCode": exit_code}],
    }


@pytest.fixture
def stubs(stub_aws: Aws) -> Stubs:
    s = Stubs(stub_aws)
    s.activate()
    return s


@pytest.fixture
def deployments(stub_aws: Aws, recorder: Recorder, fake_clock: FakeClock) -> Deployments:
    return Deployments(
        aws=stub_aws, stack=Stack(stub_aws, "fluoride-web", clock=fake_clock),
        service="web", reporter=recorder, clock=fake_clock, poll_interval=3.0,
        rollback_timeout=600,
    )


NEW = "ecs-svc/2"


def test_success_follows_the_new_deployment_by_id(
    stubs: Stubs, deployments: Deployments, recorder: Recorder, fake_clock: FakeClock
) -> None:
    stubs.start_deploy()
    # CloudFormation has not reached ECS yet.
    stubs.poll("UPDATE_IN_PROGRESS", [OLD])
    stubs.poll("UPDATE_IN_PROGRESS", [
        dep(NEW, "PRIMARY", TD2, "IN_PROGRESS", pending=2),
        dict(OLD, status="ACTIVE"),
    ], events=[event("e1", "(service web) has started 2 tasks."), OLD_EVENT])
    stubs.poll("UPDATE_IN_PROGRESS", [
        dep(NEW, "PRIMARY", TD2, "IN_PROGRESS", running=2), dict(OLD, status="ACTIVE"),
    ], health=["healthy", "healthy", "draining", "draining"])
    # ECS is done, CloudFormation is not: not yet a success.
    stubs.poll("UPDATE_IN_PROGRESS", [dep(NEW, "PRIMARY", TD2, "COMPLETED", running=2)],
               health=["healthy", "healthy"])
    stubs.poll("UPDATE_COMPLETE", [dep(NEW, "PRIMARY", TD2, "COMPLETED", running=2)],
               health=["healthy", "healthy"])
    stubs.record_outcome()
    release = deployments.deploy("v2")
    stubs.verify()
    assert release.outcome is Outcome.STABLE
    assert (release.image, release.digest, release.tags) == (IMG2, D2, ("v2",))
    assert release.deployed_by == CALLER
    # Polls every 3 s, never faster.
    assert fake_clock.sleeps == [3.0] * 4
    progress = [e for e in recorder.events if isinstance(e, DeploymentProgress)]
    assert [(p.rollout_state, p.running, p.healthy_targets) for p in progress] == [
        ("IN_PROGRESS", 0, None), ("IN_PROGRESS", 2, 2), ("COMPLETED", 2, 2)]
    seen = [e.message for e in recorder.events if isinstance(e, ServiceEventSeen)]
    assert seen == ["(service web) has started 2 tasks."]  # the old event is not news


def test_success_needs_healthy_targets(
    stubs: Stubs, deployments: Deployments
) -> None:
    stubs.start_deploy()
    done = [dep(NEW, "PRIMARY", TD2, "COMPLETED", running=2)]
    stubs.poll("UPDATE_COMPLETE", done, health=["healthy", "unhealthy"])
    stubs.poll("UPDATE_COMPLETE", done, health=["healthy", "initial"])
    stubs.poll("UPDATE_COMPLETE", done, health=["healthy", "healthy"])
    stubs.record_outcome()
    assert deployments.deploy("v2").outcome is Outcome.STABLE
    stubs.verify()


ROLLBACK_DEP = dep("ecs-svc/3", "PRIMARY", TD1, "COMPLETED", running=2)
FAILED_NEW = dep(NEW, "ACTIVE", TD2, "FAILED", failed=3,
                 reason="ECS deployment circuit breaker: tasks failed to start.")


def test_stable_only_because_rolled_back_is_not_success(
    stubs: Stubs, deployments: Deployments
) -> None:
    """The service is steady, fully healthy, on a COMPLETED PRIMARY deployment with a new id
    that appeared after the update: ECS's own rollback. Peers report this as a success.
    """
    stubs.start_deploy()
    # (Target health is not even asked: the deployment we follow runs no task.)
    stubs.poll("UPDATE_IN_PROGRESS", [ROLLBACK_DEP, FAILED_NEW])
    stubs.poll("UPDATE_ROLLBACK_IN_PROGRESS", [ROLLBACK_DEP, FAILED_NEW], image=IMG1)
    stubs.poll("UPDATE_ROLLBACK_COMPLETE", [ROLLBACK_DEP], image=IMG1)
    stubs.stopped_tasks(
        stopped(1, TD2, NEW, "Essential container in task exited"),
        stopped(2, TD2, NEW, "Essential container in task exited"),
        stopped(3, TD1, "ecs-svc/1", "Scaling activity initiated by deployment", 0),
    )
    stubs.record_outcome()
    stubs.stack("UPDATE_ROLLBACK_COMPLETE", IMG1)
    with pytest.raises(RolledBack) as err:
        deployments.deploy("v2")
    stubs.verify()
    e = err.value
    assert e.reasons == ["Essential container in task exited; container app: exit code 1"]
    assert isinstance(e.serving, Release)
    assert e.serving.image == IMG1
    assert "rolled back" in e.message
    assert "v1" in e.message


def test_a_stack_that_completes_while_ecs_rolled_back_is_not_success(
    stubs: Stubs, deployments: Deployments
) -> None:
    """CloudFormation says UPDATE_COMPLETE (as when the service is not linked to the stack),
    the service is healthy on a new COMPLETED PRIMARY deployment, but it runs the old task
    definition: the deployment we follow disappeared, so it was rolled back.
    """
    stubs.start_deploy()
    stubs.poll("UPDATE_IN_PROGRESS", [dep(NEW, "PRIMARY", TD2, "IN_PROGRESS"), OLD])
    stubs.poll("UPDATE_COMPLETE", [ROLLBACK_DEP])
    stubs.stopped_tasks(stopped(1, TD2, NEW, "Task failed ELB health checks"))
    stubs.record_outcome()
    stubs.stack("UPDATE_COMPLETE", IMG2)
    with pytest.raises(RolledBack) as err:
        deployments.deploy("v2")
    stubs.verify()
    assert err.value.reasons == ["Task failed ELB health checks; container app: exit code 1"]


def test_a_completed_update_without_a_new_deployment_is_not_success(
    stubs: Stubs, deployments: Deployments
) -> None:
    stubs.start_deploy()
    stubs.poll("UPDATE_COMPLETE", [ROLLBACK_DEP])
    stubs.record_outcome()
    with pytest.raises(DeploymentFailed, match="no new deployment") as err:
        deployments.deploy("v2")
    stubs.verify()
    assert type(err.value) is DeploymentFailed


def test_update_rollback_failed(stubs: Stubs, deployments: Deployments) -> None:
    stubs.start_deploy()
    stubs.poll("UPDATE_ROLLBACK_IN_PROGRESS", [FAILED_NEW, ROLLBACK_DEP], image=IMG1)
    stubs.poll("UPDATE_ROLLBACK_FAILED", [FAILED_NEW, ROLLBACK_DEP], image=IMG1)
    stubs.stopped_tasks(stopped(1, TD2, NEW, "CannotPullContainerError: not found"))
    stubs.record_outcome()
    with pytest.raises(RollbackFailed) as err:
        deployments.deploy("v2")
    stubs.verify()
    assert "continue-update-rollback --stack-name fluoride-web" in (err.value.hint or "")
    assert err.value.reasons == ["CannotPullContainerError: not found; "
                                 "container app: exit code 1"]


IN_FLIGHT = [dep(NEW, "PRIMARY", TD2, "IN_PROGRESS", running=1, failed=1), dict(OLD,
             status="ACTIVE")]


def test_deadline_cancels_and_waits_for_the_previous_release(
    stubs: Stubs, deployments: Deployments, fake_clock: FakeClock, recorder: Recorder
) -> None:
    stubs.start_deploy()
    # 10 s timeout, 3 s polls: looks at 0, 3, 6, 9 and 10 s.
    for _ in range(5):
        stubs.poll("UPDATE_IN_PROGRESS", IN_FLIGHT, health=["unhealthy", "healthy", "healthy"])
    stubs.cfn.add_response("cancel_update_stack", {}, {"StackName": "fluoride-web"})
    stubs.poll("UPDATE_ROLLBACK_IN_PROGRESS", IN_FLIGHT, health=["unhealthy", "healthy"],
               image=IMG1)
    stubs.poll("UPDATE_ROLLBACK_COMPLETE", [dep("ecs-svc/3", "PRIMARY", TD1, "IN_PROGRESS")],
               image=IMG1)
    stubs.poll("UPDATE_ROLLBACK_COMPLETE", [ROLLBACK_DEP], image=IMG1)
    stubs.stopped_tasks(stopped(1, TD2, NEW, "Task failed ELB health checks"))
    stubs.record_outcome()
    with pytest.raises(DeploymentTimeout) as err:
        deployments.deploy("v2", timeout=10)
    stubs.verify()
    assert fake_clock.now == pytest.approx(10 + 3 * 2)
    assert isinstance(err.value.serving, Release)
    assert err.value.serving.digest == D1
    assert err.value.reasons == ["Task failed ELB health checks; container app: exit code 1"]
    assert any(isinstance(e, Note) and "cancelling" in e.text for e in recorder.events)


def test_a_cancel_that_fails_says_how_to_recover(
    stubs: Stubs, deployments: Deployments
) -> None:
    stubs.start_deploy()
    stubs.poll("UPDATE_IN_PROGRESS", IN_FLIGHT, health=["unhealthy"])
    stubs.cfn.add_client_error("cancel_update_stack", "ValidationError",
                               "Update operation is not in progress", http_status_code=400)
    stubs.stack("UPDATE_IN_PROGRESS", IMG2)
    stubs.record_outcome()
    with pytest.raises(RollbackFailed) as err:
        deployments.deploy("v2", timeout=0)
    stubs.verify()
    assert "cancelling the stack update failed" in err.value.message
    assert "describe-stack-events --stack-name fluoride-web" in (err.value.hint or "")


def test_deadline_just_after_completion_is_judged_not_cancelled(
    stubs: Stubs, deployments: Deployments
) -> None:
    stubs.start_deploy()
    stubs.poll("UPDATE_IN_PROGRESS", [dep(NEW, "PRIMARY", TD2, "COMPLETED", running=2)],
               health=["healthy"] * 2)
    stubs.cfn.add_client_error("cancel_update_stack", "ValidationError",
                               "CancelUpdateStack cannot be called from current stack status")
    stubs.stack("UPDATE_COMPLETE", IMG2)
    stubs.poll("UPDATE_COMPLETE", [dep(NEW, "PRIMARY", TD2, "COMPLETED", running=2)],
               health=["healthy"] * 2)
    stubs.record_outcome()
    assert deployments.deploy("v2", timeout=0).outcome is Outcome.STABLE
    stubs.verify()


def test_throttling_while_waiting_is_survived(
    stubs: Stubs, deployments: Deployments, recorder: Recorder
) -> None:
    stubs.start_deploy()
    # botocore retries throttling itself; Stubber answers bypass its retries, so each
    # error here stands for throttling that outlasted them.
    stubs.stack("UPDATE_IN_PROGRESS", IMG2)
    stubs.ecs.add_client_error("describe_services", "ThrottlingException", "Rate exceeded",
                               http_status_code=400)
    stubs.cfn.add_client_error("describe_stacks", "Throttling", "Rate exceeded",
                               http_status_code=400)
    stubs.poll("UPDATE_COMPLETE", [dep(NEW, "PRIMARY", TD2, "COMPLETED", running=2)],
               health=["healthy"] * 2)
    stubs.record_outcome()
    assert deployments.deploy("v2").outcome is Outcome.STABLE
    stubs.verify()
    notes = [e.text for e in recorder.events if isinstance(e, Note)]
    assert sum("looking again" in n for n in notes) == 2


def _before_stubber(aws: Aws, client: str, handler: Any) -> None:
    # The wildcard node, first tier: a specific event name would run after the Stubber.
    aws.client(client).meta.events.register_first("before-call.*.*", handler)  # type: ignore[call-overload]


@pytest.mark.parametrize("error", [
    botocore.exceptions.EndpointConnectionError(endpoint_url="https://ecs.eu-west-1"),
    botocore.exceptions.ConnectionClosedError(endpoint_url="https://ecs.eu-west-1"),
    botocore.exceptions.ReadTimeoutError(endpoint_url="https://ecs.eu-west-1"),
])
def test_a_connection_dropped_mid_wait_is_retried(
    stubs: Stubs, deployments: Deployments, stub_aws: Aws, error: Exception
) -> None:
    stubs.start_deploy()
    stubs.stack("UPDATE_IN_PROGRESS", IMG2)  # the poll whose DescribeServices drops
    stubs.poll("UPDATE_COMPLETE", [dep(NEW, "PRIMARY", TD2, "COMPLETED", running=2)],
               health=["healthy"] * 2)
    stubs.record_outcome()
    drops = [error]
    calls = []

    def drop(model: Any, **kwargs: Any) -> None:
        if model.name == "DescribeServices":
            calls.append(1)
            if len(calls) == 2 and drops:  # the first DescribeServices is deploy's own look
                raise drops.pop()

    _before_stubber(stub_aws, "ecs", drop)
    assert deployments.deploy("v2").outcome is Outcome.STABLE
    stubs.verify()
    assert not drops


def test_connection_lost_until_the_deadline_cancels(
    stubs: Stubs, deployments: Deployments, stub_aws: Aws
) -> None:
    stubs.start_deploy()
    for _ in range(3):  # 5 s, 3 s polls: 0, 3, 5
        stubs.stack("UPDATE_IN_PROGRESS", IMG2)
    stubs.cfn.add_response("cancel_update_stack", {}, {"StackName": "fluoride-web"})
    stubs.poll("UPDATE_ROLLBACK_COMPLETE", [ROLLBACK_DEP], image=IMG1)
    stubs.stopped_tasks()
    stubs.cfn.add_response("describe_stack_events", {"StackEvents": []})
    stubs.record_outcome()
    calls = []

    def drop(model: Any, **kwargs: Any) -> None:
        if model.name == "DescribeServices":
            calls.append(1)
            if 1 < len(calls) <= 4:
                raise botocore.exceptions.EndpointConnectionError(endpoint_url="https://ecs")

    _before_stubber(stub_aws, "ecs", drop)
    with pytest.raises(DeploymentTimeout):
        deployments.deploy("v2", timeout=5)
    stubs.verify()


def test_a_second_deploy_names_who_started_the_running_one(
    stubs: Stubs, deployments: Deployments
) -> None:
    stubs.history = history_doc(release_raw("r2", IMG2, "in progress", "v2"), V1)
    stubs.stack("UPDATE_IN_PROGRESS", IMG2)
    stubs.service(IN_FLIGHT)
    stubs.read_history()
    with pytest.raises(DeploymentInProgress) as err:
        deployments.deploy("v3")
    stubs.verify()
    assert err.value.started_by == CALLER
    assert err.value.started_at == NOW
    assert CALLER in err.value.message
    assert "2026-01-01 12:00:00 UTC" in err.value.message


def test_a_rollout_started_outside_cloudformation_also_blocks(
    stubs: Stubs, deployments: Deployments
) -> None:
    stubs.stack("UPDATE_COMPLETE")
    stubs.service(IN_FLIGHT)
    stubs.read_history()
    with pytest.raises(DeploymentInProgress, match="started outside Fluoride"):
        deployments.deploy("v3")
    stubs.verify()


def test_a_broken_stack_is_refused_with_the_recovery(
    stubs: Stubs, deployments: Deployments
) -> None:
    stubs.stack("UPDATE_ROLLBACK_FAILED")
    stubs.service([OLD])
    with pytest.raises(RollbackFailed, match="cannot be updated") as err:
        deployments.deploy("v3")
    assert "continue-update-rollback" in (err.value.hint or "")


def test_deploying_what_already_runs_changes_nothing(
    stubs: Stubs, deployments: Deployments, recorder: Recorder
) -> None:
    stubs.stack("UPDATE_COMPLETE")
    stubs.service([OLD])
    stubs.ecr.add_response("describe_images", {"imageDetails": [{
        "repositoryName": REPO, "imageDigest": D1, "imageTags": ["v1"]}]})
    stubs.read_history()
    release = deployments.deploy("v1")
    stubs.verify()
    assert (release.id, release.outcome) == ("r1", Outcome.STABLE)
    assert any(isinstance(e, Note) and "already runs" in e.text for e in recorder.events)


def test_no_wait_returns_in_progress_and_wait_stable_follows(
    stubs: Stubs, deployments: Deployments
) -> None:
    stubs.start_deploy()
    release = deployments.deploy("v2", wait=False)
    assert release.outcome is Outcome.IN_PROGRESS
    # wait_stable(): stack, history, service (the new deployment is running), then polls.
    stubs.history = history_doc(release_raw(release.id, IMG2, "in progress", "v2"), V1)
    stubs.stack("UPDATE_IN_PROGRESS", IMG2)
    stubs.read_history()
    stubs.service(IN_FLIGHT)
    stubs.poll("UPDATE_COMPLETE", [dep(NEW, "PRIMARY", TD2, "COMPLETED", running=2)],
               health=["healthy"] * 2)
    stubs.record_outcome()
    done = deployments.wait_stable()
    stubs.verify()
    assert (done.id, done.outcome) == (release.id, Outcome.STABLE)


def test_wait_stable_after_an_unfollowed_rollback_raises(
    stubs: Stubs, deployments: Deployments
) -> None:
    stubs.history = history_doc(release_raw("r2", IMG2, "in progress", "v2"), V1)
    stubs.stack("UPDATE_ROLLBACK_COMPLETE", IMG1)
    stubs.read_history()
    stubs.service([ROLLBACK_DEP])
    stubs.stopped_tasks(stopped(1, TD2, NEW, "Essential container in task exited"))
    stubs.record_outcome()
    stubs.stack("UPDATE_ROLLBACK_COMPLETE", IMG1)
    with pytest.raises(RolledBack) as err:
        deployments.wait_stable()
    stubs.verify()
    assert err.value.reasons == ["Essential container in task exited; container app: exit code 1"]


def test_wait_stable_judges_a_deployment_outside_cloudformation_by_ecs_alone(
    stubs: Stubs, deployments: Deployments
) -> None:
    """The stack still says UPDATE_ROLLBACK_COMPLETE from an earlier failure; a forced new
    deployment of the serving image completes: that is steady, not a rollback."""
    forced = dep("ecs-svc/9", "PRIMARY", TD1, "IN_PROGRESS", running=1)
    stubs.stack("UPDATE_ROLLBACK_COMPLETE", IMG1)
    stubs.read_history()
    stubs.service([forced, dict(OLD, status="ACTIVE")])
    stubs.poll("UPDATE_ROLLBACK_COMPLETE", [forced, dict(OLD, status="ACTIVE")],
               health=["healthy", "initial"], image=IMG1)
    stubs.poll("UPDATE_ROLLBACK_COMPLETE", [dict(forced, rolloutState="COMPLETED",
                                                 runningCount=2)],
               health=["healthy", "healthy"], image=IMG1)
    stubs.read_history()
    serving = deployments.wait_stable()
    stubs.verify()
    assert (serving.id, serving.outcome) == ("r1", Outcome.STABLE)


def test_wait_stable_on_an_ecs_deployment_that_never_settles(
    stubs: Stubs, deployments: Deployments
) -> None:
    forced = dep("ecs-svc/9", "PRIMARY", TD1, "IN_PROGRESS", running=1, failed=4)
    stubs.stack("UPDATE_COMPLETE", IMG1)
    stubs.read_history()
    stubs.service([forced, dict(OLD, status="ACTIVE")])
    for _ in range(2):  # 3 s timeout: looks at 0 and 3 s
        stubs.poll("UPDATE_COMPLETE", [forced, dict(OLD, status="ACTIVE")],
                   health=["unhealthy", "healthy"], image=IMG1)
    stubs.stopped_tasks(stopped(1, TD1, "ecs-svc/9", "Essential container in task exited"))
    with pytest.raises(DeploymentFailed, match="did not become steady") as err:
        deployments.wait_stable(timeout=3)
    stubs.verify()
    assert type(err.value) is DeploymentFailed  # nothing was cancelled
    assert err.value.reasons == ["Essential container in task exited; container app: "
                                 "exit code 1"]
