"""Deployments against a fake AWS that answers by operation name (botocore event hooks):
the AWS states the emulator does not produce (UPDATE_ROLLBACK_FAILED, a failing cancel,
throttling, dropped connections) and the false successes peers report.

The fake's stack and ECS service change with the fake clock (a timeline of frames that
starts when the update is executed), so the tests assert outcomes (the error raised, the
release returned, the history written, the requests made) and not the order of calls
within a look. Which deployment is ours and what a look means are table-tested in
``test_verdict.py``; these tests are about the I/O around it.
"""

from __future__ import annotations

import collections
import datetime as dt
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import botocore.awsrequest
import botocore.compat
import botocore.exceptions
import pytest
from botocore.response import StreamingBody

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
DIGESTS = {tag: "sha256:" + str(i) * 64 for i, tag in enumerate(("v1", "v2", "v3"), start=1)}
D1, D2, D3 = DIGESTS["v1"], DIGESTS["v2"], DIGESTS["v3"]
IMG1, IMG2, IMG3 = (f"{URI}@{d}" for d in (D1, D2, D3))
TD1 = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:1"
TD2 = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:2"
TG = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/web/1"
CALLER = f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/alice"
BUCKET = "fluoride-web-logs"
NEW = "ecs-svc/2"


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
ROLLBACK_DEP = dep("ecs-svc/3", "PRIMARY", TD1, "COMPLETED", running=2)
FAILED_NEW = dep(NEW, "ACTIVE", TD2, "FAILED", failed=3,
                 reason="ECS deployment circuit breaker: tasks failed to start.")
IN_FLIGHT = [dep(NEW, "PRIMARY", TD2, "IN_PROGRESS", running=1, failed=1),
             dict(OLD, status="ACTIVE")]
DONE = [dep(NEW, "PRIMARY", TD2, "COMPLETED", running=2)]
HEALTHY = ("healthy", "healthy")


def release_raw(rid: str, image: str, outcome: str, tag: str,
                at: dt.datetime = NOW) -> dict[str, Any]:
    return {
        "id": rid, "image": image, "digest": image.split("@")[1], "tags": [tag],
        "deployed_at": at.isoformat(), "deployed_by": CALLER, "outcome": outcome,
        "reason": None, "finished_at": None, "rollback": False,
    }


V1 = release_raw("r1", IMG1, "stable", "v1")


@attrs.frozen
class Frame:
    """What the stack and the ECS service look like from ``at`` seconds on."""

    at: float
    stack: str
    deployments: Sequence[dict[str, Any]]
    image: str = IMG2
    health: Sequence[str] = ()
    events: Sequence[dict[str, Any]] = (OLD_EVENT,)


def stopped(n: int, td: str, started_by: str, reason: str, exit_code: int = 1) -> dict[str, Any]:
    return {
        "taskArn": f"arn:task/{n}", "taskDefinitionArn": td, "startedBy": started_by,
        "stoppedReason": reason, "lastStatus": "STOPPED", "createdAt": NOW,
        "stoppedAt": NOW + dt.timedelta(seconds=n),
        "containers": [{"name": "app", "exitCode": exit_code}],
    }


Fault = Callable[[], Any]


def throttled() -> Fault:
    def fault() -> Any:
        return _error("Throttling", "Rate exceeded")
    return fault


def dropped(exc: Exception) -> Fault:
    def fault() -> Any:
        raise exc
    return fault


def _response(status: int = 200) -> botocore.awsrequest.AWSResponse:
    return botocore.awsrequest.AWSResponse("https://fake", status,
                                           botocore.compat.HTTPHeaders(), None)


def _error(code: str, message: str, status: int = 400) -> tuple[Any, dict[str, Any]]:
    return _response(status), {"Error": {"Code": code, "Message": message},
                               "ResponseMetadata": {"HTTPStatusCode": status}}


@attrs.define
class World:
    """AWS as a deployment sees it. ``before``: the frame until the update is executed;
    ``frames``: from then on (seconds after ExecuteChangeSet or UpdateService);
    ``after_cancel``: from a CancelUpdateStack on."""

    clock: FakeClock
    before: Frame = Frame(0, "UPDATE_COMPLETE", [OLD], image=IMG1)
    frames: list[Frame] = attrs.field(factory=list)
    after_cancel: list[Frame] = attrs.field(factory=list)
    cancel_error: str | None = None
    stopped_tasks: list[dict[str, Any]] = attrs.field(factory=list)
    history: list[dict[str, Any]] | None = attrs.field(factory=lambda: [V1])
    etag: int = 0
    started: float | None = None
    cancelled: float | None = None
    task_images: dict[str, str] = attrs.field(factory=lambda: {TD1: IMG1, TD2: IMG2})
    faults: dict[str, list[Fault | None]] = attrs.field(factory=dict)
    calls: collections.Counter[str] = attrs.field(factory=collections.Counter)
    requests: dict[str, list[dict[str, Any]]] = attrs.field(
        factory=lambda: collections.defaultdict(list))

    # -- the fake's state ------------------------------------------------------------------

    def frame(self) -> Frame:
        if self.cancelled is not None and self.after_cancel:
            return _at(self.after_cancel, self.clock.now - self.cancelled)
        if self.started is None or not self.frames:
            return self.before
        return _at(self.frames, self.clock.now - self.started)

    def releases(self) -> list[Release]:
        from fluoride.releases.history import _CONVERTER

        return _CONVERTER.structure(self.history or [], list[Release])

    # -- the hooks -------------------------------------------------------------------------

    def install(self, aws: Aws) -> None:
        for name in ("cloudformation", "ecs", "elbv2", "s3", "ecr", "sts"):
            client = aws.client(name)
            client.meta.events.register("before-parameter-build.*.*", self._remember)
            client.meta.events.register_first("before-call.*.*", self._answer)

    def _remember(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests[model.name].append(dict(params))

    def _answer(self, model: Any, **_: Any) -> Any:
        op = model.name
        self.calls[op] += 1
        queue = self.faults.get(op)
        if queue:
            fault = queue.pop(0)
            if fault is not None:
                return fault()
        params = self.requests[op][-1]
        answer = getattr(self, f"_{op}")(params)
        return answer if isinstance(answer, tuple) else (_response(), answer)

    # -- CloudFormation --------------------------------------------------------------------

    def _DescribeStacks(self, params: dict[str, Any]) -> Any:
        f = self.frame()
        outputs = {
            "ClusterName": "fluoride-web", "EcsServiceName": "web", "RepositoryName": REPO,
            "RepositoryUri": URI, "AccessLogBucketName": BUCKET, "TargetGroupArn": TG,
        }
        return {"Stacks": [{
            "StackName": "fluoride-web", "StackId": STACK_ARN, "StackStatus": f.stack,
            "CreationTime": NOW, "LastUpdatedTime": NOW,
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
            "Parameters": [
                {"ParameterKey": "Image", "ParameterValue": f.image},
                {"ParameterKey": "ServiceName", "ParameterValue": "web"},
                {"ParameterKey": "MinCount", "ParameterValue": "2"},
            ],
        }]}

    def _CreateChangeSet(self, params: dict[str, Any]) -> Any:
        return {"Id": "cs", "StackId": STACK_ARN}

    def _DescribeChangeSet(self, params: dict[str, Any]) -> Any:
        return {"ChangeSetName": "cs", "StackName": "fluoride-web", "Status": "CREATE_COMPLETE",
                "Changes": [{"Type": "Resource", "ResourceChange": {
                    "Action": "Modify", "LogicalResourceId": "TaskDefinition",
                    "ResourceType": "AWS::ECS::TaskDefinition", "Replacement": "True"}}]}

    def _ExecuteChangeSet(self, params: dict[str, Any]) -> Any:
        self.started = self.clock.now
        return {}

    def _CancelUpdateStack(self, params: dict[str, Any]) -> Any:
        if self.cancel_error:
            return _error("ValidationError", self.cancel_error)
        self.cancelled = self.clock.now
        return {}

    def _DescribeStackEvents(self, params: dict[str, Any]) -> Any:
        return {"StackEvents": []}

    # -- ECS, ELB --------------------------------------------------------------------------

    def _DescribeServices(self, params: dict[str, Any]) -> Any:
        f = self.frame()
        return {"services": [{
            "serviceName": "web", "serviceArn": "arn:svc/web", "status": "ACTIVE",
            "taskDefinition": f.deployments[0]["taskDefinition"] if f.deployments else TD1,
            "desiredCount": 2, "runningCount": 2, "pendingCount": 0,
            "deployments": list(f.deployments), "events": list(f.events),
        }]}

    def _DescribeTargetHealth(self, params: dict[str, Any]) -> Any:
        return {"TargetHealthDescriptions": [
            {"Target": {"Id": f"10.0.0.{i}", "Port": 8080}, "TargetHealth": {"State": s}}
            for i, s in enumerate(self.frame().health)
        ]}

    def _ListTasks(self, params: dict[str, Any]) -> Any:
        return {"taskArns": [t["taskArn"] for t in self.stopped_tasks]}

    def _DescribeTasks(self, params: dict[str, Any]) -> Any:
        return {"tasks": [t for t in self.stopped_tasks if t["taskArn"] in params["tasks"]]}

    def _DescribeTaskDefinition(self, params: dict[str, Any]) -> Any:
        arn = params["taskDefinition"]
        return {"taskDefinition": {"taskDefinitionArn": arn, "containerDefinitions": [
            {"name": "app", "image": self.task_images[arn]}]}}

    # -- S3, ECR, STS ----------------------------------------------------------------------

    def _GetObject(self, params: dict[str, Any]) -> Any:
        if self.history is None:
            return _error("NoSuchKey", "no such key", 404)
        data = json.dumps({"format": 1, "releases": self.history}).encode()
        return {"Body": StreamingBody(io.BytesIO(data), len(data)), "ETag": f'"{self.etag}"'}

    def _PutObject(self, params: dict[str, Any]) -> Any:
        expected = {"IfNoneMatch": "*"} if self.history is None else {
            "IfMatch": f'"{self.etag}"'}
        if not all(params.get(k) == v for k, v in expected.items()):
            return _error("PreconditionFailed", "precondition failed", 412)
        self.history = json.loads(params["Body"])["releases"]
        self.etag += 1
        return {"ETag": f'"{self.etag}"'}

    def _DescribeImages(self, params: dict[str, Any]) -> Any:
        wanted = params["imageIds"][0]
        for tag, digest in DIGESTS.items():
            if wanted.get("imageTag") == tag or wanted.get("imageDigest") == digest:
                return {"imageDetails": [{"repositoryName": REPO, "imageDigest": digest,
                                          "imageTags": [tag], "imagePushedAt": NOW}]}
        return _error("ImageNotFoundException", "not found")

    def _GetCallerIdentity(self, params: dict[str, Any]) -> Any:
        return {"Arn": CALLER, "Account": ACCOUNT, "UserId": "AIDA"}


def _at(frames: Sequence[Frame], elapsed: float) -> Frame:
    current = frames[0]
    for f in frames:
        if f.at <= elapsed + 1e-9:
            current = f
    return current


@pytest.fixture
def world(stub_aws: Aws, fake_clock: FakeClock) -> World:
    w = World(fake_clock)
    w.install(stub_aws)
    return w


@pytest.fixture
def deployments(stub_aws: Aws, recorder: Recorder, fake_clock: FakeClock) -> Deployments:
    return Deployments(
        aws=stub_aws, stack=Stack(stub_aws, "fluoride-web", clock=fake_clock),
        service="web", reporter=recorder, clock=fake_clock, poll_interval=3.0,
        rollback_timeout=600,
    )


def outcomes(world: World) -> list[tuple[str | None, Outcome]]:
    return [(r.tag, r.outcome) for r in world.releases()]


# -- success -----------------------------------------------------------------------------------


def test_success_follows_the_new_deployment_by_id(
    world: World, deployments: Deployments, recorder: Recorder, fake_clock: FakeClock
) -> None:
    world.frames = [
        Frame(0, "UPDATE_IN_PROGRESS", [OLD]),  # CloudFormation has not reached ECS yet
        Frame(3, "UPDATE_IN_PROGRESS", [dep(NEW, "PRIMARY", TD2, "IN_PROGRESS", pending=2),
                                        dict(OLD, status="ACTIVE")],
              events=[event("e1", "(service web) has started 2 tasks."), OLD_EVENT]),
        Frame(6, "UPDATE_IN_PROGRESS", [dep(NEW, "PRIMARY", TD2, "IN_PROGRESS", running=2),
                                        dict(OLD, status="ACTIVE")],
              health=["healthy", "healthy", "draining", "draining"]),
        # ECS is done, CloudFormation is not: not yet a success.
        Frame(9, "UPDATE_IN_PROGRESS", DONE, health=HEALTHY),
        Frame(12, "UPDATE_COMPLETE", DONE, health=HEALTHY),
    ]
    release = deployments.deploy("v2")
    assert release.outcome is Outcome.STABLE
    assert (release.image, release.digest, release.tags) == (IMG2, D2, ("v2",))
    assert release.deployed_by == CALLER
    assert outcomes(world) == [("v2", Outcome.STABLE), ("v1", Outcome.STABLE)]
    assert world.releases()[0] == release
    # Only the image changes, by digest; every other parameter keeps its value.
    (change_set,) = world.requests["CreateChangeSet"]
    assert change_set["Parameters"] == [
        {"ParameterKey": "Image", "ParameterValue": IMG2},
        {"ParameterKey": "MinCount", "UsePreviousValue": True},
        {"ParameterKey": "ServiceName", "UsePreviousValue": True},
    ]
    assert change_set["UsePreviousTemplate"] is True
    # Polls every 3 s, never faster, and stops at the first complete look.
    assert fake_clock.sleeps == [3.0] * 4
    progress = [e for e in recorder.events if isinstance(e, DeploymentProgress)]
    assert [(p.rollout_state, p.running, p.healthy_targets) for p in progress] == [
        ("IN_PROGRESS", 0, None), ("IN_PROGRESS", 2, 2), ("COMPLETED", 2, 2)]
    seen = [e.message for e in recorder.events if isinstance(e, ServiceEventSeen)]
    assert seen == ["(service web) has started 2 tasks."]  # the old event is not news


def test_success_needs_healthy_targets(
    world: World, deployments: Deployments, fake_clock: FakeClock
) -> None:
    world.frames = [
        Frame(0, "UPDATE_COMPLETE", DONE, health=["healthy", "unhealthy"]),
        Frame(3, "UPDATE_COMPLETE", DONE, health=["healthy", "initial"]),
        Frame(6, "UPDATE_COMPLETE", DONE, health=HEALTHY),
    ]
    assert deployments.deploy("v2").outcome is Outcome.STABLE
    assert fake_clock.now == 6


# -- not success ---------------------------------------------------------------------------------


def test_stable_only_because_rolled_back_is_not_success(
    world: World, deployments: Deployments
) -> None:
    """The service is steady, fully healthy, on a COMPLETED PRIMARY deployment with a new id
    that appeared after the update: ECS's own rollback. Peers report this as a success.
    """
    world.frames = [
        Frame(0, "UPDATE_IN_PROGRESS", [ROLLBACK_DEP, FAILED_NEW], health=HEALTHY),
        Frame(3, "UPDATE_ROLLBACK_IN_PROGRESS", [ROLLBACK_DEP, FAILED_NEW], image=IMG1,
              health=HEALTHY),
        Frame(6, "UPDATE_ROLLBACK_COMPLETE", [ROLLBACK_DEP], image=IMG1, health=HEALTHY),
    ]
    world.stopped_tasks = [
        stopped(1, TD2, NEW, "Essential container in task exited"),
        stopped(2, TD2, NEW, "Essential container in task exited"),
        stopped(3, TD1, "ecs-svc/1", "Scaling activity initiated by deployment", 0),
    ]
    with pytest.raises(RolledBack) as err:
        deployments.deploy("v2")
    e = err.value
    assert e.reasons == ["Essential container in task exited; container app: exit code 1"]
    assert isinstance(e.serving, Release)
    assert e.serving.image == IMG1
    assert "rolled back" in e.message
    assert "v1" in e.message
    assert outcomes(world) == [("v2", Outcome.ROLLED_BACK), ("v1", Outcome.STABLE)]
    assert world.releases()[0].reason == e.reasons[0]


def test_a_stack_that_completes_while_ecs_rolled_back_is_not_success(
    world: World, deployments: Deployments
) -> None:
    """CloudFormation says UPDATE_COMPLETE (as when the service is not linked to the stack),
    the service is healthy on a new COMPLETED PRIMARY deployment, but it runs the old task
    definition: the deployment we follow disappeared, so it was rolled back.
    """
    world.frames = [
        Frame(0, "UPDATE_IN_PROGRESS", [dep(NEW, "PRIMARY", TD2, "IN_PROGRESS"), OLD]),
        Frame(3, "UPDATE_COMPLETE", [ROLLBACK_DEP], health=HEALTHY),
    ]
    world.stopped_tasks = [stopped(1, TD2, NEW, "Task failed ELB health checks")]
    with pytest.raises(RolledBack) as err:
        deployments.deploy("v2")
    assert err.value.reasons == ["Task failed ELB health checks; container app: exit code 1"]
    assert outcomes(world)[0] == ("v2", Outcome.ROLLED_BACK)


def test_a_completed_update_without_a_new_deployment_is_not_success(
    world: World, deployments: Deployments
) -> None:
    world.frames = [Frame(0, "UPDATE_COMPLETE", [ROLLBACK_DEP], health=HEALTHY)]
    with pytest.raises(DeploymentFailed, match="no new deployment") as err:
        deployments.deploy("v2")
    assert type(err.value) is DeploymentFailed
    assert outcomes(world)[0] == ("v2", Outcome.FAILED)


def test_update_rollback_failed(world: World, deployments: Deployments) -> None:
    world.frames = [
        Frame(0, "UPDATE_ROLLBACK_IN_PROGRESS", [FAILED_NEW, ROLLBACK_DEP], image=IMG1),
        Frame(3, "UPDATE_ROLLBACK_FAILED", [FAILED_NEW, ROLLBACK_DEP], image=IMG1),
    ]
    world.stopped_tasks = [stopped(1, TD2, NEW, "CannotPullContainerError: not found")]
    with pytest.raises(RollbackFailed) as err:
        deployments.deploy("v2")
    assert "continue-update-rollback --stack-name fluoride-web" in (err.value.hint or "")
    assert err.value.reasons == ["CannotPullContainerError: not found; "
                                 "container app: exit code 1"]
    assert outcomes(world)[0] == ("v2", Outcome.FAILED)


# -- the deadline --------------------------------------------------------------------------------


def test_deadline_cancels_and_waits_for_the_previous_release(
    world: World, deployments: Deployments, fake_clock: FakeClock, recorder: Recorder
) -> None:
    world.frames = [Frame(0, "UPDATE_IN_PROGRESS", IN_FLIGHT,
                          health=["unhealthy", "healthy", "healthy"])]
    world.after_cancel = [
        Frame(0, "UPDATE_ROLLBACK_IN_PROGRESS", IN_FLIGHT, image=IMG1,
              health=["unhealthy", "healthy"]),
        Frame(3, "UPDATE_ROLLBACK_COMPLETE", [dep("ecs-svc/3", "PRIMARY", TD1, "IN_PROGRESS")],
              image=IMG1),
        Frame(6, "UPDATE_ROLLBACK_COMPLETE", [ROLLBACK_DEP], image=IMG1),
    ]
    world.stopped_tasks = [stopped(1, TD2, NEW, "Task failed ELB health checks")]
    with pytest.raises(DeploymentTimeout) as err:
        deployments.deploy("v2", timeout=10)
    assert world.cancelled == 10  # at the deadline, not before
    assert fake_clock.now == pytest.approx(10 + 6)
    assert isinstance(err.value.serving, Release)
    assert err.value.serving.digest == D1
    assert err.value.reasons == ["Task failed ELB health checks; container app: exit code 1"]
    assert any(isinstance(e, Note) and "cancelling" in e.text for e in recorder.events)
    assert outcomes(world) == [("v2", Outcome.TIMED_OUT), ("v1", Outcome.STABLE)]


def test_a_cancel_that_fails_says_how_to_recover(world: World, deployments: Deployments) -> None:
    world.frames = [Frame(0, "UPDATE_IN_PROGRESS", IN_FLIGHT, health=["unhealthy"])]
    world.cancel_error = "Update operation is not in progress"
    with pytest.raises(RollbackFailed) as err:
        deployments.deploy("v2", timeout=0)
    assert "cancelling the stack update failed" in err.value.message
    assert "describe-stack-events --stack-name fluoride-web" in (err.value.hint or "")
    assert outcomes(world)[0] == ("v2", Outcome.FAILED)


def test_deadline_just_after_completion_is_judged_not_cancelled(
    world: World, deployments: Deployments, fake_clock: FakeClock
) -> None:
    # At the deadline the stack is still updating; by the cancel it has completed.
    world.frames = [Frame(0, "UPDATE_IN_PROGRESS", DONE, health=HEALTHY)]
    world.cancel_error = "CancelUpdateStack cannot be called from current stack status"
    world.after_cancel = []

    def complete() -> Any:
        world.frames = [Frame(0, "UPDATE_COMPLETE", DONE, health=HEALTHY)]
        return _error("ValidationError", world.cancel_error or "")

    world.faults["CancelUpdateStack"] = [complete]
    assert deployments.deploy("v2", timeout=0).outcome is Outcome.STABLE
    assert outcomes(world)[0] == ("v2", Outcome.STABLE)


# -- transient faults ----------------------------------------------------------------------------


def test_throttling_while_waiting_is_survived(
    world: World, deployments: Deployments, recorder: Recorder
) -> None:
    # Hooks answer before botocore's retries, so each error stands for throttling that
    # outlasted them. The first look's DescribeServices and the second's DescribeStacks.
    world.frames = [Frame(0, "UPDATE_IN_PROGRESS", [OLD]),
                    Frame(6, "UPDATE_COMPLETE", DONE, health=HEALTHY)]
    world.faults["DescribeServices"] = [None, throttled()]
    world.faults["DescribeStacks"] = [None, None, throttled()]
    assert deployments.deploy("v2").outcome is Outcome.STABLE
    notes = [e.text for e in recorder.events if isinstance(e, Note)]
    assert sum("looking again" in n for n in notes) == 2
    assert not any(world.faults.values())  # both faults were met


@pytest.mark.parametrize("error", [
    botocore.exceptions.EndpointConnectionError(endpoint_url="https://ecs.eu-west-1"),
    botocore.exceptions.ConnectionClosedError(endpoint_url="https://ecs.eu-west-1"),
    botocore.exceptions.ReadTimeoutError(endpoint_url="https://ecs.eu-west-1"),
], ids=["endpoint", "closed", "read-timeout"])
def test_a_connection_dropped_mid_wait_is_retried(
    world: World, deployments: Deployments, error: Exception
) -> None:
    world.frames = [Frame(0, "UPDATE_IN_PROGRESS", [OLD]),
                    Frame(3, "UPDATE_COMPLETE", DONE, health=HEALTHY)]
    # The first DescribeServices is deploy's own look; the second is the first poll's.
    world.faults["DescribeServices"] = [None, dropped(error)]
    assert deployments.deploy("v2").outcome is Outcome.STABLE
    assert not world.faults["DescribeServices"]


def test_connection_lost_until_the_deadline_cancels(
    world: World, deployments: Deployments
) -> None:
    world.frames = [Frame(0, "UPDATE_IN_PROGRESS", IN_FLIGHT)]
    world.after_cancel = [Frame(0, "UPDATE_ROLLBACK_COMPLETE", [ROLLBACK_DEP], image=IMG1)]
    lost = dropped(botocore.exceptions.EndpointConnectionError(endpoint_url="https://ecs"))
    world.faults["DescribeServices"] = [None] + [lost] * 3  # 5 s, 3 s polls: 0, 3, 5
    with pytest.raises(DeploymentTimeout):
        deployments.deploy("v2", timeout=5)
    assert world.cancelled == 5
    assert outcomes(world)[0] == ("v2", Outcome.TIMED_OUT)


# -- refusals -----------------------------------------------------------------------------------


def test_a_second_deploy_names_who_started_the_running_one(
    world: World, deployments: Deployments
) -> None:
    world.history = [release_raw("r2", IMG2, "in progress", "v2"), V1]
    world.before = Frame(0, "UPDATE_IN_PROGRESS", IN_FLIGHT)
    with pytest.raises(DeploymentInProgress) as err:
        deployments.deploy("v3")
    assert err.value.started_by == CALLER
    assert err.value.started_at == NOW
    assert CALLER in err.value.message
    assert "2026-01-01 12:00:00 UTC" in err.value.message
    assert world.calls["CreateChangeSet"] == world.calls["PutObject"] == 0


def test_a_rollout_started_outside_cloudformation_also_blocks(
    world: World, deployments: Deployments
) -> None:
    world.before = Frame(0, "UPDATE_COMPLETE", IN_FLIGHT, image=IMG1)
    with pytest.raises(DeploymentInProgress, match="started outside Fluoride"):
        deployments.deploy("v3")
    assert world.calls["CreateChangeSet"] == 0


def test_a_broken_stack_is_refused_with_the_recovery(
    world: World, deployments: Deployments
) -> None:
    world.before = Frame(0, "UPDATE_ROLLBACK_FAILED", [OLD], image=IMG1)
    with pytest.raises(RollbackFailed, match="cannot be updated") as err:
        deployments.deploy("v3")
    assert "continue-update-rollback" in (err.value.hint or "")
    assert world.calls["CreateChangeSet"] == 0


def test_deploying_what_already_runs_changes_nothing(
    world: World, deployments: Deployments, recorder: Recorder
) -> None:
    release = deployments.deploy("v1")
    assert (release.id, release.outcome) == ("r1", Outcome.STABLE)
    assert any(isinstance(e, Note) and "already runs" in e.text for e in recorder.events)
    assert world.calls["CreateChangeSet"] == world.calls["UpdateService"] == 0
    assert outcomes(world) == [("v1", Outcome.STABLE)]


# -- following later ------------------------------------------------------------------------------


def test_no_wait_returns_in_progress_and_wait_stable_follows(
    world: World, deployments: Deployments
) -> None:
    world.frames = [Frame(0, "UPDATE_IN_PROGRESS", IN_FLIGHT),
                    Frame(3, "UPDATE_COMPLETE", DONE, health=HEALTHY)]
    release = deployments.deploy("v2", wait=False)
    assert release.outcome is Outcome.IN_PROGRESS
    assert outcomes(world)[0] == ("v2", Outcome.IN_PROGRESS)
    done = deployments.wait_stable()
    assert (done.id, done.outcome) == (release.id, Outcome.STABLE)
    assert outcomes(world)[0] == ("v2", Outcome.STABLE)


def test_wait_stable_after_an_unfollowed_rollback_raises(
    world: World, deployments: Deployments
) -> None:
    world.history = [release_raw("r2", IMG2, "in progress", "v2"), V1]
    world.before = Frame(0, "UPDATE_ROLLBACK_COMPLETE", [ROLLBACK_DEP], image=IMG1)
    world.stopped_tasks = [stopped(1, TD2, NEW, "Essential container in task exited")]
    with pytest.raises(RolledBack) as err:
        deployments.wait_stable()
    assert err.value.reasons == ["Essential container in task exited; container app: exit code 1"]
    assert outcomes(world)[0] == ("v2", Outcome.ROLLED_BACK)


def test_a_task_stopped_for_a_container_health_check_names_the_unhealthy_container(
    world: World, deployments: Deployments
) -> None:
    """ECS's reason names no container; the one whose ``healthStatus`` is UNHEALTHY is it."""
    world.history = [release_raw("r2", IMG2, "in progress", "v2"), V1]
    world.before = Frame(0, "UPDATE_ROLLBACK_COMPLETE", [ROLLBACK_DEP], image=IMG1)
    task = stopped(1, TD2, NEW, "Task failed container health checks", 0)
    task["containers"] = [{"name": "app", "exitCode": 0, "healthStatus": "UNKNOWN"},
                          {"name": "otel", "exitCode": 0, "healthStatus": "UNHEALTHY"},
                          {"name": "proxy", "exitCode": 137, "healthStatus": "UNHEALTHY",
                           "reason": "OutOfMemoryError"}]
    world.stopped_tasks = [task]
    with pytest.raises(RolledBack) as err:
        deployments.wait_stable()
    (reason,) = err.value.reasons
    assert reason.startswith(
        "Task failed container health checks; container otel: health check failed "
        "(UNHEALTHY); container proxy: health check failed (UNHEALTHY), exit code 137: "
        "OutOfMemoryError (an essential container's health check failed: for a sidecar, "
        "its health_command;")
    assert "raise health.grace_period" in reason


def test_wait_stable_judges_a_deployment_outside_cloudformation_by_ecs_alone(
    world: World, deployments: Deployments
) -> None:
    """The stack still says UPDATE_ROLLBACK_COMPLETE from an earlier failure; a forced new
    deployment of the serving image completes: that is steady, not a rollback."""
    forced = dep("ecs-svc/9", "PRIMARY", TD1, "IN_PROGRESS", running=1)
    world.started = 0
    world.frames = [
        Frame(0, "UPDATE_ROLLBACK_COMPLETE", [forced, dict(OLD, status="ACTIVE")], image=IMG1,
              health=["healthy", "initial"]),
        Frame(3, "UPDATE_ROLLBACK_COMPLETE", [dict(forced, rolloutState="COMPLETED",
                                                   runningCount=2)],
              image=IMG1, health=HEALTHY),
    ]
    serving = deployments.wait_stable()
    assert (serving.id, serving.outcome) == ("r1", Outcome.STABLE)
    assert outcomes(world) == [("v1", Outcome.STABLE)]


def test_wait_stable_on_an_ecs_deployment_that_never_settles(
    world: World, deployments: Deployments
) -> None:
    forced = dep("ecs-svc/9", "PRIMARY", TD1, "IN_PROGRESS", running=1, failed=4)
    world.before = Frame(0, "UPDATE_COMPLETE", [forced, dict(OLD, status="ACTIVE")],
                         image=IMG1, health=["unhealthy", "healthy"])
    world.stopped_tasks = [stopped(1, TD1, "ecs-svc/9", "Essential container in task exited")]
    with pytest.raises(DeploymentFailed, match="did not become steady") as err:
        deployments.wait_stable(timeout=3)
    assert type(err.value) is DeploymentFailed  # nothing was cancelled
    assert world.calls["CancelUpdateStack"] == 0
    assert err.value.reasons == ["Essential container in task exited; container app: "
                                 "exit code 1"]
    assert outcomes(world) == [("v1", Outcome.STABLE)]


# -- an outcome nobody saw is not written (issue 8) ---------------------------------------------


def test_an_unfollowed_release_is_not_called_failed_by_the_next_deploy(
    world: World, deployments: Deployments
) -> None:
    """The stack's last update predates the unfollowed release (the next deploy read the
    stack before the first one's update began): its outcome stays unknown, not FAILED."""
    later = NOW + dt.timedelta(minutes=5)
    world.history = [release_raw("r2", IMG2, "in progress", "v2", at=later), V1]
    world.frames = [Frame(0, "UPDATE_COMPLETE", [dep("ecs-svc/7", "PRIMARY",
                                                     TD2.replace(":2", ":3"), "COMPLETED",
                                                     running=2)],
                          image=IMG3, health=HEALTHY)]
    deployments.deploy("v3")
    history = world.releases()
    assert [(r.tag, r.outcome) for r in history] == [
        ("v3", Outcome.STABLE), ("v2", Outcome.IN_PROGRESS), ("v1", Outcome.STABLE)]
    assert history[1].reason is None


def test_a_later_look_that_sees_it_serving_makes_it_stable(
    world: World, deployments: Deployments
) -> None:
    world.history = [release_raw("r2", IMG2, "in progress", "v2"), V1]
    world.before = Frame(0, "UPDATE_COMPLETE", DONE, image=IMG2, health=HEALTHY)
    history = deployments.history()
    assert [(r.tag, r.outcome, r.reason) for r in history] == [
        ("v2", Outcome.STABLE, None), ("v1", Outcome.STABLE, None)]
    assert outcomes(world) == [("v2", Outcome.STABLE), ("v1", Outcome.STABLE)]
    assert world.calls["PutObject"] == 1
    deployments.history()  # nothing new: nothing written
    assert world.calls["PutObject"] == 1


def test_the_outcome_replaces_a_reason_written_meanwhile(
    world: World, deployments: Deployments
) -> None:
    """Another client's guess written onto our entry while we follow it does not stay."""
    world.frames = [Frame(0, "UPDATE_IN_PROGRESS", IN_FLIGHT),
                    Frame(3, "UPDATE_COMPLETE", DONE, health=HEALTHY)]

    def meddle() -> Any:
        assert world.history is not None
        world.history[0].update(outcome="failed", reason="not followed to the end")
        world.etag += 1
        return _response(), world._DescribeTargetHealth({})

    world.faults["DescribeTargetHealth"] = [meddle]
    assert deployments.deploy("v2").outcome is Outcome.STABLE
    newest = world.releases()[0]
    assert (newest.outcome, newest.reason) == (Outcome.STABLE, None)
