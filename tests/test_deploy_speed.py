"""Deploy speed, as a model: durations derived from each stack's own settings.

No wall-clock assertions. With ``Timing.from_settings`` the emulator times each service's
rollout from its own health check, deregistration and stop settings; holding simulated
time and stepping it by hand shows, deterministically, that a rollout on Fluoride's
defaults completes at exactly (pull + 5 x 2 + 10 + 10) x scale while one on peers'
defaults (30 s x 5 checks, 300 s deregistration, 30 s stop timeout) is still in progress,
and what a broken image costs each. ``benchmarks/deploy_speed.py`` measures the same in
wall-clock time; its specs and predictions are the ones checked here.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from fluoride import Fluoride, ServiceSpec
from fluoride.local import RolloutHold, SimulatedClock, Timing
from fluoride.local._timing import RolloutSettings
from fluoride.service import Service

from ._bench import load_benchmark

SCALE = 0.01
PULL = 20.0
#: One modelled second, in simulated (wall) seconds: how sharp the checks below are.
TICK = 1.0 * SCALE


def _load_benchmark() -> ModuleType:
    return load_benchmark("deploy_speed")


BENCH = _load_benchmark()
OURS: ServiceSpec = BENCH.FLUORIDE
PEERS: ServiceSpec = BENCH.PEERS


# ---------------------------------------------------------------- the timing model alone


def test_the_default_timing_ignores_the_settings() -> None:
    timing = Timing()
    assert not timing.derive
    slow = RolloutSettings(interval=300, healthy_threshold=10, deregistration_delay=3600)
    assert timing.health_verdict(slow, healthy=True) == timing.health_check
    assert timing.health_verdict(slow, healthy=False) == timing.health_check
    assert timing.stop(slow, drain=True, load_balanced=True) == timing.drain
    assert timing.stop(slow, drain=False, load_balanced=True) == 0.05


def test_derived_durations_are_the_settings_times_the_scale() -> None:
    timing = Timing.from_settings(scale=SCALE, image_pull=PULL)
    assert timing.derive
    assert timing.task_start == pytest.approx(PULL * SCALE)
    ours = RolloutSettings(interval=5, healthy_threshold=2, unhealthy_threshold=2,
                           grace_period=10, deregistration_delay=10, stop_timeout=10)
    assert timing.health_verdict(ours, healthy=True) == pytest.approx(10 * SCALE)
    assert timing.health_verdict(ours, healthy=False) == pytest.approx(10 * SCALE)
    assert timing.stop(ours, drain=True, load_balanced=True) == pytest.approx(20 * SCALE)
    assert timing.stop(ours, drain=True, load_balanced=False) == pytest.approx(10 * SCALE)
    assert timing.stop(ours, drain=False, load_balanced=True) == pytest.approx(1 * SCALE)
    # Without a load balancer there is no setting to read: the knob stays.
    assert timing.health_verdict(None, healthy=False) == timing.health_check


def test_the_grace_period_delays_an_unhealthy_verdict() -> None:
    settings = RolloutSettings(interval=5, unhealthy_threshold=2, grace_period=60)
    assert settings.unhealthy_after == 60
    assert RolloutSettings(interval=30, unhealthy_threshold=3).unhealthy_after == 90


def test_missing_settings_are_aws_defaults() -> None:
    aws = RolloutSettings()
    assert (aws.interval, aws.healthy_threshold, aws.unhealthy_threshold) == (30, 5, 2)
    assert (aws.deregistration_delay, aws.stop_timeout, aws.grace_period) == (300, 30, 0)


def test_the_scale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="scale"):
        Timing(derive=True, scale=0)
    with pytest.raises(ValueError, match="image_pull"):
        Timing.from_settings(image_pull=-1)


def test_the_benchmark_specs_are_valid_and_as_documented() -> None:
    for spec in (OURS, PEERS):
        spec.validate()
    assert BENCH.predicted_healthy(OURS) == PULL + 5 * 2 + 10 + 10
    assert BENCH.predicted_healthy(PEERS) == PULL + 30 * 5 + 300 + 30


# ---------------------------------------------------------------- on the emulator


@pytest.fixture(scope="module")
def local() -> Iterator[Fluoride]:
    # The SDK waits on simulated time, so setting up takes no modelled minutes of wall time.
    timing = Timing.from_settings(scale=SCALE, image_pull=PULL)
    with Fluoride.local(reporter=lambda event: None, timing=timing,
                        clock=SimulatedClock()) as fl:
        yield fl


@pytest.fixture(scope="module")
def services(local: Fluoride) -> dict[str, Service]:
    made = {}
    for side, spec in (("ours", OURS), ("peers", PEERS)):
        svc = local.service(f"speed-{side}")
        svc.create(spec)
        push(local, svc, "v1")
        svc.deploy("v1")
        made[side] = svc
    return made


def push(fl: Fluoride, svc: Service, tag: str, *, healthy: bool = True) -> str:
    assert fl.emulator is not None
    return fl.emulator.push_image(svc.outputs()["RepositoryName"], tag, healthy=healthy)


def newest(fl: Fluoride, svc: Service) -> dict[str, Any]:
    """The service's newest ECS deployment (the one the last update started)."""
    out = svc.outputs()
    raw = fl.aws.client("ecs").describe_services(cluster=out["ClusterName"],
                                                 services=[out["EcsServiceName"]])
    deployments = raw["services"][0]["deployments"]
    return dict(max(deployments, key=lambda d: d["createdAt"]))


def stack_status(svc: Service) -> str:
    return svc.stack.require().status


def step_to(hold: RolloutHold, clock: list[float], modelled: float) -> None:
    """Advance simulated time to ``modelled`` AWS seconds after the deployments started."""
    hold.advance(modelled * SCALE - clock[0])
    clock[0] = modelled * SCALE


def test_the_emulator_reads_each_stack_s_settings(local: Fluoride,
                                                  services: dict[str, Service]) -> None:
    elbv2 = local.aws.client("elbv2")
    for side, spec in (("ours", OURS), ("peers", PEERS)):
        arn = services[side].outputs()["TargetGroupArn"]
        group = elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
        assert group["HealthCheckIntervalSeconds"] == spec.health.interval
        assert group["HealthyThresholdCount"] == spec.health.healthy_threshold
        attributes = {a["Key"]: a["Value"] for a in
                      elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]}
        assert attributes["deregistration_delay.timeout_seconds"] == \
            str(spec.deregistration_delay)


def test_ours_completes_while_the_peers_one_is_still_in_progress(
    local: Fluoride, services: dict[str, Service]
) -> None:
    ours, peers = services["ours"], services["peers"]
    ours_done = BENCH.predicted_healthy(OURS)  # 20 + 5 x 2 + 10 + 10 = 50
    peers_done = BENCH.predicted_healthy(PEERS)  # 20 + 30 x 5 + 300 + 30 = 500
    for svc in (ours, peers):
        push(local, svc, "v2")
    assert local.emulator is not None
    clock = [0.0]
    with local.emulator.hold_rollouts() as hold:
        ours.deploy("v2", wait=False)
        peers.deploy("v2", wait=False)
        step_to(hold, clock, ours_done - 1)
        assert newest(local, ours)["rolloutState"] == "IN_PROGRESS"
        step_to(hold, clock, ours_done)
        assert newest(local, ours)["rolloutState"] == "COMPLETED"
        assert stack_status(ours) == "UPDATE_COMPLETE"
        peer = newest(local, peers)
        assert peer["rolloutState"] == "IN_PROGRESS"
        assert peer["runningCount"] == 1  # started: its target is still being checked
        step_to(hold, clock, peers_done - 1)
        assert newest(local, peers)["rolloutState"] == "IN_PROGRESS"
        assert stack_status(peers) == "UPDATE_IN_PROGRESS"
        step_to(hold, clock, peers_done)
        assert newest(local, peers)["rolloutState"] == "COMPLETED"
        assert stack_status(peers) == "UPDATE_COMPLETE"
    for svc in (ours, peers):
        assert svc.wait_stable().tag == "v2"


def test_a_broken_image_rolls_back_sooner_on_ours(local: Fluoride,
                                                  services: dict[str, Service]) -> None:
    ours, peers = services["ours"], services["peers"]
    tripped = BENCH.predicted_failures(OURS, 3)  # 3 x (20 + 5 x 2) = 90
    ours_back = BENCH.predicted_rolled_back(OURS)  # 90 + 50 = 140
    peers_tripped = BENCH.predicted_failures(PEERS, 3)  # 3 x (20 + 30 x 2) = 240
    peers_back = BENCH.predicted_rolled_back(PEERS)  # 240 + 500 = 740
    for svc in (ours, peers):
        push(local, svc, "broken", healthy=False)
    assert local.emulator is not None
    clock = [0.0]
    with local.emulator.hold_rollouts() as hold:
        ours.deploy("broken", wait=False)
        peers.deploy("broken", wait=False)
        broken = {side: newest(local, svc)["id"] for side, svc in services.items()}
        step_to(hold, clock, tripped - 1)
        assert deployment(local, ours, broken["ours"])["failedTasks"] == 2
        step_to(hold, clock, tripped)
        assert deployment(local, ours, broken["ours"])["rolloutState"] == "FAILED"
        peer = deployment(local, peers, broken["peers"])
        assert (peer["rolloutState"], peer["failedTasks"]) == ("IN_PROGRESS", 1)
        step_to(hold, clock, ours_back - 1)
        assert stack_status(ours) == "UPDATE_ROLLBACK_IN_PROGRESS"
        step_to(hold, clock, ours_back)
        assert stack_status(ours) == "UPDATE_ROLLBACK_COMPLETE"
        assert stack_status(peers) == "UPDATE_IN_PROGRESS"  # 1 failed task, 80 s each
        step_to(hold, clock, peers_tripped - 1)
        assert deployment(local, peers, broken["peers"])["rolloutState"] == "IN_PROGRESS"
        step_to(hold, clock, peers_tripped)
        assert deployment(local, peers, broken["peers"])["rolloutState"] == "FAILED"
        step_to(hold, clock, peers_back - 1)
        assert stack_status(peers) == "UPDATE_ROLLBACK_IN_PROGRESS"
        step_to(hold, clock, peers_back)
        assert stack_status(peers) == "UPDATE_ROLLBACK_COMPLETE"


def deployment(fl: Fluoride, svc: Service, deployment_id: str) -> dict[str, Any]:
    out = svc.outputs()
    raw = fl.aws.client("ecs").describe_services(cluster=out["ClusterName"],
                                                 services=[out["EcsServiceName"]])
    return dict(next(d for d in raw["services"][0]["deployments"] if d["id"] == deployment_id))
