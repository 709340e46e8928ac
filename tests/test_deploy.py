"""Deployments on the embedded emulator, through the public API: every outcome."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from fluoride import Fluoride, ServiceSpec
from fluoride.errors import DeploymentInProgress, DeploymentTimeout, ImageNotFound, RolledBack
from fluoride.events import DeploymentProgress, Note, ProgressEvent, ServiceEventSeen
from fluoride.local import Timing
from fluoride.releases.history import Outcome, Release
from fluoride.service import Service

from .conftest import Recorder


class Hook:
    """A reporter that records, and runs ``on`` once when a note containing ``text`` comes."""

    def __init__(self) -> None:
        self.events: list[ProgressEvent] = []
        self.text: str | None = None
        self.action: Any = None

    def on(self, text: str, action: Any) -> None:
        self.text, self.action = text, action

    def __call__(self, event: ProgressEvent) -> None:
        self.events.append(event)
        if isinstance(event, Note) and self.text and self.text in event.text:
            self.text = None
            self.action()


@pytest.fixture(scope="module")
def hook() -> Hook:
    return Hook()


@pytest.fixture(scope="module")
def local(hook: Hook) -> Iterator[Fluoride]:
    # Faster than the default simulated timing: these tests are about outcomes, not pace.
    fast = Timing(task_start=0.05, health_check=0.05, drain=0.05)
    with Fluoride.local(reporter=hook, timing=fast) as fl:
        yield fl


_n = iter(range(1000))


@pytest.fixture
def svc(local: Fluoride, hook: Hook) -> Service:
    """A fresh service with v1 pushed and deployed."""
    hook.events.clear()
    service = local.service(f"dep{next(_n)}")
    service.create(ServiceSpec(port=8080, health_path="/health"))
    push(local, service, "v1")
    service.deploy("v1")
    hook.events.clear()
    return service


def push(fl: Fluoride, svc: Service, tag: str, *, healthy: bool = True) -> str:
    assert fl.emulator is not None
    return fl.emulator.push_image(svc.outputs()["RepositoryName"], tag, healthy=healthy)


@contextlib.contextmanager
def held(fl: Fluoride) -> Iterator[contextlib.ExitStack]:
    """Rollouts stand still until the block ends or the returned stack is closed."""
    assert fl.emulator is not None
    with contextlib.ExitStack() as stack:
        stack.enter_context(fl.emulator.hold_rollouts())
        yield stack


def ecs_service(fl: Fluoride, svc: Service) -> dict[str, Any]:
    out = svc.outputs()
    raw = fl.aws.client("ecs").describe_services(cluster=out["ClusterName"],
                                                 services=[out["EcsServiceName"]])
    return dict(raw["services"][0])


def test_success_is_the_new_deployment_completed(local: Fluoride, svc: Service,
                                                 hook: Hook) -> None:
    digest = push(local, svc, "v2")
    release = svc.deploy("v2")
    assert (release.outcome, release.digest, release.tags) == (Outcome.STABLE, digest, ("v2",))
    assert release.image == f"{svc.outputs()['RepositoryUri']}@{digest}"
    assert release.deployed_by == local.aws.caller_arn()
    assert release.finished_at is not None
    status = svc.status()
    assert status.image == release.image
    assert status.release == release
    assert status.deployment is None
    assert (status.running, status.desired) == (1, 1)
    progress = [e for e in hook.events if isinstance(e, DeploymentProgress)]
    assert progress[-1].rollout_state == "COMPLETED"
    assert progress[-1].healthy_targets == 1
    assert any(isinstance(e, ServiceEventSeen) and "steady state" in e.message
               for e in hook.events)


def test_no_image_means_the_newest_pushed(local: Fluoride, svc: Service) -> None:
    push(local, svc, "v2")
    newest = push(local, svc, "v3")
    assert svc.deploy().digest == newest


def test_a_broken_image_rolls_back_with_the_reason(local: Fluoride, svc: Service) -> None:
    v1 = svc.status().release
    assert v1 is not None
    push(local, svc, "v2", healthy=False)
    with pytest.raises(RolledBack) as err:
        svc.deploy("v2")
    e = err.value
    assert any("health checks" in r for r in e.reasons), e.reasons
    assert any("deployment failed" in m for m in e.events), e.events
    assert isinstance(e.serving, Release)
    assert e.serving.digest == v1.digest
    assert "rolled back" in e.message
    history = svc.history()
    assert [r.outcome for r in history[:2]] == [Outcome.ROLLED_BACK, Outcome.STABLE]
    assert history[0].reason == e.reasons[0]
    assert svc.status().release == v1


def test_stable_only_because_rolled_back_is_never_success(local: Fluoride,
                                                          svc: Service) -> None:
    """After ECS's rollback the service is steady: a PRIMARY deployment COMPLETED with
    every task running and healthy. Peers report exactly this as a successful deploy.
    """
    push(local, svc, "v2", healthy=False)
    with pytest.raises(RolledBack):
        svc.deploy("v2")
    ecs = ecs_service(local, svc)
    primary = next(d for d in ecs["deployments"] if d["status"] == "PRIMARY")
    assert primary["rolloutState"] == "COMPLETED"
    assert primary["runningCount"] == primary["desiredCount"] == ecs["runningCount"] == 1
    tg = svc.outputs()["TargetGroupArn"]
    health = local.aws.client("elbv2").describe_target_health(TargetGroupArn=tg)
    assert [t["TargetHealth"]["State"] for t in health["TargetHealthDescriptions"]] == [
        "healthy"]
    # ... and a later look does not turn the rolled-back release into a success either.
    assert svc.history()[0].outcome is Outcome.ROLLED_BACK
    assert svc.wait_stable(timeout=30).outcome is Outcome.STABLE  # the *old* release
    assert svc.wait_stable(timeout=30).tags == ("v1",)
    assert svc.history()[0].outcome is Outcome.ROLLED_BACK


def test_deadline_cancels_and_the_previous_release_serves(local: Fluoride, svc: Service,
                                                          hook: Hook) -> None:
    v1 = svc.status().release
    push(local, svc, "v2")
    with held(local) as hold:
        # The rollout stands still; once Fluoride cancels, time runs again.
        hook.on("cancelling the update", hold.close)
        with pytest.raises(DeploymentTimeout) as err:
            svc.deploy("v2", timeout=0.5)
    assert isinstance(err.value.serving, Release)
    assert v1 is not None
    assert err.value.serving.digest == v1.digest
    status = svc.status()
    assert status.stack_status == "UPDATE_ROLLBACK_COMPLETE"
    assert status.release == v1
    assert svc.history()[0].outcome is Outcome.TIMED_OUT


def test_no_wait_then_wait_stable(local: Fluoride, svc: Service) -> None:
    push(local, svc, "v2")
    with held(local):
        started = svc.deploy("v2", wait=False)
        assert started.outcome is Outcome.IN_PROGRESS
        status = svc.status()
        assert status.deployment is not None
        assert status.deployment.rollout_state == "IN_PROGRESS"
        assert status.release is not None
        assert status.release.tags == ("v1",)  # still serving
        assert svc.history()[0] == started
    done = svc.wait_stable(timeout=30)
    assert (done.id, done.outcome) == (started.id, Outcome.STABLE)
    assert svc.history()[0].outcome is Outcome.STABLE


def test_a_second_deploy_is_refused_naming_the_first(local: Fluoride, svc: Service) -> None:
    push(local, svc, "v2")
    push(local, svc, "v3")
    with held(local):
        started = svc.deploy("v2", wait=False)
        with pytest.raises(DeploymentInProgress) as err:
            svc.deploy("v3")
    assert err.value.started_by == started.deployed_by
    assert err.value.started_at == started.deployed_at
    assert started.deployed_by is not None
    assert started.deployed_by in err.value.message
    svc.wait_stable(timeout=30)


def test_rollback_goes_to_the_last_stable_release(local: Fluoride, svc: Service) -> None:
    v1 = svc.history()[0]
    push(local, svc, "v2", healthy=False)
    with pytest.raises(RolledBack):
        svc.deploy("v2")
    push(local, svc, "v3")
    v3 = svc.deploy("v3")
    back = svc.rollback()
    assert back.digest == v1.digest
    assert back.rollback
    assert back.id != v1.id
    assert svc.status().release == back
    assert [(r.tag, r.outcome) for r in svc.history()] == [
        ("v1", Outcome.STABLE), ("v3", Outcome.STABLE), ("v2", Outcome.ROLLED_BACK),
        ("v1", Outcome.STABLE)]
    # Rolling back again returns to v3; to= picks any release, digest or tag.
    assert svc.rollback().digest == v3.digest
    assert svc.rollback(to="v1").digest == v1.digest
    assert svc.rollback(to=v3).digest == v3.digest


def test_rollback_without_an_earlier_release(local: Fluoride, svc: Service) -> None:
    with pytest.raises(ImageNotFound, match="no earlier stable release"):
        svc.rollback()


def test_rollback_cancels_a_running_deployment(local: Fluoride, svc: Service,
                                               hook: Hook) -> None:
    push(local, svc, "v2")
    with held(local) as hold:
        svc.deploy("v2", wait=False)
        hook.on("Cancelling the running deployment", hold.close)
        serving = svc.rollback()
    assert serving.tags == ("v1",)
    history = svc.history()
    assert [(r.tag, r.outcome) for r in history[:2]] == [("v2", Outcome.CANCELLED),
                                                         ("v1", Outcome.STABLE)]
    assert svc.status().stack_status == "UPDATE_ROLLBACK_COMPLETE"


def test_history_is_shared_between_two_clients(local: Fluoride, svc: Service) -> None:
    session = boto3.Session(aws_access_key_id="bob", aws_secret_access_key="bob",
                            region_name=local.region)
    other = Fluoride(session=session, endpoint_url=local.endpoint_url, reporter=Recorder())
    bobs = other.service(svc.name)
    assert bobs.history() == svc.history()
    push(local, svc, "v2")
    mine = svc.deploy("v2")
    assert bobs.history()[0] == mine
    assert bobs.rollback().tags == ("v1",)  # from the other laptop
    assert svc.history()[0].rollback


def test_rollback_to_a_release_during_a_deployment(local: Fluoride, svc: Service,
                                                   hook: Hook) -> None:
    push(local, svc, "v2")
    v3 = push(local, svc, "v3")
    with held(local) as hold:
        svc.deploy("v2", wait=False)
        hook.on("Cancelling the running deployment", hold.close)
        serving = svc.rollback(to="v3")
    assert serving.digest == v3
    assert [(r.tag, r.outcome, r.rollback) for r in svc.history()[:3]] == [
        ("v3", Outcome.STABLE, True), ("v2", Outcome.CANCELLED, False),
        ("v1", Outcome.STABLE, False)]
