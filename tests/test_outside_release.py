"""Releases made outside Fluoride, the way ecs-deploy and the console make them: a new
task definition revision with another image, then ``UpdateService``. Plain boto3 calls on
the emulator; Fluoride must report what ECS serves, not what the stack says.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from fluoride import Fluoride, ServiceSpec
from fluoride.local import Timing
from fluoride.releases.history import Outcome
from fluoride.service import Service

from .conftest import Recorder


@pytest.fixture(scope="module")
def local() -> Iterator[Fluoride]:
    fast = Timing(task_start=0.05, health_check=0.05, drain=0.05)
    with Fluoride.local(reporter=Recorder(), timing=fast) as fl:
        yield fl


_n = iter(range(1000))


@pytest.fixture
def svc(local: Fluoride) -> Service:
    service = local.service(f"out{next(_n)}")
    service.create(ServiceSpec(port=8080, health_path="/health"))
    assert local.emulator is not None
    for tag in ("v1", "v2", "v3"):
        local.emulator.push_image(service.outputs()["RepositoryName"], tag)
    service.deploy("v1")
    return service


def ecs_deploy(fl: Fluoride, svc: Service, tag: str) -> str:
    """What ``ecs deploy CLUSTER SERVICE --tag TAG`` does: copy the running task definition
    with another image tag, register it, point the service at it, wait for steady state."""
    out = svc.outputs()
    ecs = fl.aws.client("ecs")
    service = ecs.describe_services(cluster=out["ClusterName"],
                                    services=[out["EcsServiceName"]])["services"][0]
    td = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])[
        "taskDefinition"]
    containers: list[Any] = [dict(c, image=f"{out['RepositoryUri']}:{tag}")
                  for c in td["containerDefinitions"]]
    keep = ("family", "taskRoleArn", "executionRoleArn", "networkMode", "volumes",
            "requiresCompatibilities", "cpu", "memory")
    args: dict[str, Any] = {k: v for k, v in td.items() if k in keep}
    new = ecs.register_task_definition(containerDefinitions=containers, **args)[
        "taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=out["ClusterName"], service=out["EcsServiceName"],
                       taskDefinition=new)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the emulator's rollout, in simulated time
        now = ecs.describe_services(cluster=out["ClusterName"],
                                    services=[out["EcsServiceName"]])["services"][0]
        primary = next(d for d in now["deployments"] if d["status"] == "PRIMARY")
        if primary["rolloutState"] == "COMPLETED" and len(now["deployments"]) == 1:
            return new
        time.sleep(0.05)
    raise AssertionError("the outside deployment did not complete")


def digest(fl: Fluoride, svc: Service, tag: str) -> str:
    ecr = fl.aws.client("ecr")
    found = ecr.describe_images(repositoryName=svc.outputs()["RepositoryName"],
                                imageIds=[{"imageTag": tag}])["imageDetails"][0]
    return str(found["imageDigest"])


def test_status_reports_what_ecs_serves(local: Fluoride, svc: Service) -> None:
    v1 = svc.status()
    assert v1.drift is None
    ecs_deploy(local, svc, "v2")
    status = svc.status()
    assert status.image == v1.image  # the stack still says v1 ...
    assert status.release is not None  # ... but v2 serves, and status says so
    assert status.release.digest == digest(local, svc, "v2")
    assert status.release.image.endswith(":v2")
    assert status.drift is not None
    assert digest(local, svc, "v2") in status.drift
    assert "outside Fluoride" in status.drift
    assert "v1" in status.drift


def test_history_shows_the_outside_release_once(local: Fluoride, svc: Service) -> None:
    td = ecs_deploy(local, svc, "v2")
    history = svc.history()
    assert [(r.outcome, r.deployed_by is None) for r in history[:2]] == [
        (Outcome.STABLE, True), (Outcome.STABLE, False)]
    outside = history[0]
    assert outside.digest == digest(local, svc, "v2")
    assert outside.reason is not None
    assert "outside Fluoride" in outside.reason
    assert td.rsplit("/", 1)[-1] in outside.reason
    assert svc.history() == history  # found once, not again on every look


def test_deploy_brings_back_what_the_stack_names(local: Fluoride, svc: Service) -> None:
    ecs_deploy(local, svc, "v2")
    back = svc.deploy("v1")  # the stack says v1 already; ECS serves v2
    assert back.outcome is Outcome.STABLE
    assert back.digest == digest(local, svc, "v1")
    status = svc.status()
    assert status.drift is None
    assert status.release is not None
    assert status.release.digest == digest(local, svc, "v1")
    assert [r.tag for r in svc.history()[:3]] == ["v1", None, "v1"]


def test_rollback_after_an_outside_release_goes_to_the_last_fluoride_one(
    local: Fluoride, svc: Service
) -> None:
    svc.deploy("v3")
    ecs_deploy(local, svc, "v2")
    back = svc.rollback()  # from what serves (v2, outside) to the release before it
    assert back.digest == digest(local, svc, "v3")
    assert svc.status().release is not None
    assert svc.status().drift is None


def test_deploying_a_new_image_after_an_outside_release(local: Fluoride, svc: Service) -> None:
    ecs_deploy(local, svc, "v2")
    v3 = svc.deploy("v3")
    assert v3.outcome is Outcome.STABLE
    status = svc.status()
    assert (status.drift, status.release) == (None, v3)
