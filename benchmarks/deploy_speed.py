"""How long a deployment takes on Fluoride's defaults and on peers' slow ones.

Everything runs in one process, in one run, on the embedded emulator started with
``Timing.from_settings(scale=...)``: each service's health checks, deregistration delay
and stop timeout come from *its own stack's settings* (the template passes them to the
emulated target group, task definition and service), multiplied by ``scale`` (0.01: one
wall-clock second models 100 s on AWS). A task starts ``IMAGE_PULL`` modelled seconds
after it is launched, the same for everyone. The baseline, two services made with peers'
defaults (health checks every 30 s with 5 passes, 300 s deregistration delay, 30 s stop
timeout), is measured in the same run, interleaved with Fluoride's.

THE MODELLED SECONDS ARE NOT MEASURED ON AWS. They are wall-clock seconds measured on the
emulator divided by ``scale``: the template's settings put through the emulator's timing
model (see docs/emulator.md, "Durations from the stack's settings"). What the model leaves
out (CloudFormation's own time to make and apply a change set, ENI attachment, the time
your application takes to answer) is the same for both sides and not in these figures.

For each deploy the script measures, with ``time.perf_counter``:

* ``start``: ``deploy()`` up to CloudFormation's ExecuteChangeSet. Simulated time is held
  meanwhile, so this is only the emulator's CPU time for the change set, not AWS time; it
  is shown, and left out of the modelled seconds;
* ``rollout``: from then until ``deploy()`` returns or raises. The simulated clock runs at
  wall-clock speed here, so ``modelled = rollout / scale``; it includes the SDK noticing
  the outcome (it polls every ``AWS_POLL_INTERVAL x scale`` wall seconds, 3 s modelled, as
  on AWS; an emulator poll costs some milliseconds of CPU, so there are fewer polls than
  on AWS);
* the AWS API calls ``deploy()`` made (botocore ``before-call`` hooks, as in
  ``benchmarks/api_calls.py``).

Scenarios: a healthy deploy; a broken image (its tasks fail their health checks) with the
ECS circuit breaker and rollback (time until ``RolledBack`` is raised); and, for peers
whose services have no circuit breaker, a broken image rolled out with UpdateService
alone, as such tools do: the time until 10 tasks have failed, when the deployment is
still IN_PROGRESS. It never ends by itself: unbounded. Each measurement is repeated
(``--repeat``, 3) and the median reported. Results go to
``benchmarks/results/deploy_speed.json``.

    python benchmarks/deploy_speed.py [--scale 0.01] [--repeat 3] [--output PATH]
"""

from __future__ import annotations

import argparse
import collections
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import attrs

from fluoride import Fluoride, RolledBack, Service, ServiceSpec
from fluoride.local import Timing
from fluoride.local._ecs import circuit_breaker_threshold
from fluoride.local._timing import RolloutSettings
from fluoride.releases.deployment import AWS_POLL_INTERVAL
from fluoride.spec import HealthCheck

#: Modelled seconds from a task's launch until it runs (image pull, container start).
IMAGE_PULL = 20.0
#: Wall seconds per modelled AWS second.
SCALE = 0.01
REPEAT = 3
#: The scenarios.
HEALTHY = "healthy deploy"
BREAKER = "broken image, circuit breaker"
NO_BREAKER = "broken image, no circuit breaker"
#: Failed tasks after which the no-circuit-breaker scenario stops looking.
NO_BREAKER_FAILURES = 10
RESULTS = Path(__file__).resolve().parent / "results" / "deploy_speed.json"

#: Fluoride's defaults: health checks every 5 s, 2 passes, 10 s deregistration, 10 s stop.
FLUORIDE = ServiceSpec()
#: Peers' defaults: ALB health checks every 30 s (timeout 5), 5 passes to be healthy and
#: 2 failures to be unhealthy, 300 s deregistration delay, ECS's 30 s stop timeout and no
#: health check grace period.
PEERS = ServiceSpec(
    health=HealthCheck(interval=30, timeout=5, healthy_threshold=5, unhealthy_threshold=2,
                       grace_period=0),
    deregistration_delay=300,
    stop_timeout=30,
)
SPECS = {"fluoride": FLUORIDE, "peers": PEERS}


def settings_of(spec: ServiceSpec) -> RolloutSettings:
    """The durations a spec's stack sets, as the emulator reads them."""
    return RolloutSettings(
        interval=spec.health.interval,
        healthy_threshold=spec.health.healthy_threshold,
        unhealthy_threshold=spec.health.unhealthy_threshold,
        grace_period=spec.health.grace_period,
        deregistration_delay=spec.deregistration_delay,
        stop_timeout=spec.stop_timeout,
    )


def predicted_healthy(spec: ServiceSpec, image_pull: float = IMAGE_PULL) -> float:
    """Modelled seconds of a healthy one-task rollout: start, healthy, the old task drains."""
    s = settings_of(spec)
    return image_pull + s.healthy_after + s.drain_after


def predicted_rolled_back(spec: ServiceSpec, image_pull: float = IMAGE_PULL) -> float:
    """Modelled seconds until a broken image is rolled back: tasks fail one after another
    until the circuit breaker's threshold, then the rollback deployment rolls out."""
    s = settings_of(spec)
    failures = circuit_breaker_threshold(spec.min_count)
    return failures * (image_pull + s.unhealthy_after) + predicted_healthy(spec, image_pull)


def predicted_failures(spec: ServiceSpec, failures: int, image_pull: float = IMAGE_PULL) -> float:
    """Modelled seconds until ``failures`` tasks of a broken image have failed."""
    return failures * (image_pull + settings_of(spec).unhealthy_after)


@attrs.frozen
class Run:
    """One measured deploy."""

    start: float  # wall s, simulated time held (emulator CPU for the change set)
    rollout: float  # wall s, simulated time running
    calls: dict[str, int]
    outcome: str

    @property
    def wall(self) -> float:
        return self.start + self.rollout

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


@attrs.frozen
class Scenario:
    """The runs of one scenario on one side, and what the settings predict."""

    name: str
    side: str
    runs: tuple[Run, ...]
    predicted: float  # modelled s, from the settings alone
    scale: float

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def start(self) -> float:
        return statistics.median(r.start for r in self.runs)

    @property
    def rollout(self) -> float:
        return statistics.median(r.rollout for r in self.runs)

    @property
    def modelled(self) -> float:
        return self.rollout / self.scale

    @property
    def calls(self) -> float | None:
        counted = [r.total_calls for r in self.runs if r.calls]
        return statistics.median(counted) if counted else None


@attrs.define
class _Meter:
    """Counts API calls and holds simulated time from a deploy's start to ExecuteChangeSet."""

    calls: collections.Counter[str] = attrs.field(factory=collections.Counter)
    counting: bool = False
    released_at: float | None = None
    _hold: ExitStack = attrs.field(factory=ExitStack)

    def before_call(self, event_name: str, **kwargs: Any) -> None:
        if self.counting:
            self.calls[event_name.split(".", 1)[1]] += 1

    def after_execute(self, **kwargs: Any) -> None:
        self.release()

    def release(self) -> None:
        if self.released_at is None:
            self._hold.close()
            self.released_at = time.perf_counter()

    @contextmanager
    def measuring(self, fl: Fluoride) -> Iterator[Callable[[], tuple[float, float]]]:
        """Inside: calls are counted and simulated time is held until ExecuteChangeSet.
        Yields a function giving (start, rollout) wall seconds so far."""
        assert fl.emulator is not None
        self.calls, self.counting, self.released_at = collections.Counter(), True, None
        self._hold = ExitStack()
        self._hold.enter_context(fl.emulator.hold_rollouts())
        began = time.perf_counter()

        def split() -> tuple[float, float]:
            now = time.perf_counter()
            released = self.released_at if self.released_at is not None else now
            return released - began, now - released

        try:
            yield split
        finally:
            self.counting = False
            self.release()


def _deploy(fl: Fluoride, meter: _Meter, svc: Service, image: str, scale: float) -> Run:
    deployments = attrs.evolve(svc.deployments, poll_interval=AWS_POLL_INTERVAL * scale)
    with meter.measuring(fl) as split:
        try:
            deployments.deploy(image)
            outcome = "STABLE"
        except RolledBack:
            outcome = "RolledBack"
        start, rollout = split()
    return Run(start, rollout, dict(meter.calls), outcome)


def _broken_without_breaker(fl: Fluoride, svc: Service, image: str, scale: float,
                            failures: int) -> Run:
    """Roll ``image`` out with UpdateService alone and the circuit breaker off (as tools
    without one do) and wait for ``failures`` failed tasks; the deployment goes on."""
    assert fl.emulator is not None
    out = svc.outputs()
    ecs = fl.session.client("ecs", endpoint_url=fl.endpoint_url)
    cluster, name = out["ClusterName"], out["EcsServiceName"]
    current = ecs.describe_services(cluster=cluster, services=[name])["services"][0]
    td: dict[str, Any] = dict(
        ecs.describe_task_definition(taskDefinition=current["taskDefinition"])["taskDefinition"])
    keep = ("family", "taskRoleArn", "executionRoleArn", "networkMode", "cpu", "memory",
            "requiresCompatibilities")
    again: dict[str, Any] = {k: td[k] for k in keep if k in td}
    again["containerDefinitions"] = [dict(c, image=image) for c in td["containerDefinitions"]]
    registered = ecs.register_task_definition(**again)["taskDefinition"]["taskDefinitionArn"]
    with fl.emulator.hold_rollouts():
        ecs.update_service(
            cluster=cluster, service=name, taskDefinition=registered,
            deploymentConfiguration={
                "deploymentCircuitBreaker": {"enable": False, "rollback": False},
                "maximumPercent": 200, "minimumHealthyPercent": 100,
            },
        )
    began = time.perf_counter()
    while True:
        deployment = ecs.describe_services(cluster=cluster, services=[name])["services"][0][
            "deployments"][0]
        if deployment["failedTasks"] >= failures:
            break
        time.sleep(AWS_POLL_INTERVAL * scale)
    rollout = time.perf_counter() - began
    return Run(0.0, rollout, {}, str(deployment["rolloutState"]))


def measure(scale: float = SCALE, repeat: int = REPEAT, image_pull: float = IMAGE_PULL,
            failures: int = NO_BREAKER_FAILURES) -> list[Scenario]:
    """Run every scenario ``repeat`` times on a fresh emulator; medians per scenario."""
    runs: dict[tuple[str, str], list[Run]] = collections.defaultdict(list)
    meter = _Meter()
    timing = Timing.from_settings(scale=scale, image_pull=image_pull)
    with Fluoride.local(reporter=lambda event: None, timing=timing) as fl:
        assert fl.emulator is not None
        # Clients copy the session's hooks when they are made: register before the first.
        fl.aws.session.events.register("before-call", meter.before_call)
        fl.aws.session.events.register("after-call.cloudformation.ExecuteChangeSet",
                                       meter.after_execute)
        services: dict[str, Service] = {}
        for side, spec in SPECS.items():
            svc = fl.service(f"speed-{side}")
            svc.create(spec)
            fl.emulator.push_image(svc.outputs()["RepositoryName"], "first")
            svc.deploy("first")
            services[side] = svc
        for i in range(repeat):
            for scenario, healthy in ((HEALTHY, True), (BREAKER, False)):
                for side, svc in services.items():
                    repo = svc.outputs()["RepositoryName"]
                    tag = f"{'good' if healthy else 'bad'}{i}"
                    fl.emulator.push_image(repo, tag, healthy=healthy)
                    runs[(scenario, side)].append(_deploy(fl, meter, svc, tag, scale))
        peers = services["peers"]
        uri = peers.outputs()["RepositoryUri"]
        for i in range(repeat):
            digest = fl.emulator.push_image(peers.outputs()["RepositoryName"], f"nocb{i}",
                                            healthy=False)
            runs[(NO_BREAKER, "peers")].append(
                _broken_without_breaker(fl, peers, f"{uri}@{digest}", scale, failures))
    predictions: dict[str, Callable[[ServiceSpec], float]] = {
        HEALTHY: lambda spec: predicted_healthy(spec, image_pull),
        BREAKER: lambda spec: predicted_rolled_back(spec, image_pull),
        NO_BREAKER:
            lambda spec: predicted_failures(spec, failures, image_pull),
    }
    return [
        Scenario(name, side, tuple(found), predictions[name](SPECS[side]), scale)
        for (name, side), found in runs.items()
    ]


def _outcome(scenario: Scenario) -> str:
    outcomes = sorted({r.outcome for r in scenario.runs})
    return "/".join(outcomes)


def to_json(scenarios: list[Scenario], scale: float, repeat: int, image_pull: float,
            failures: int) -> dict[str, Any]:
    """The results file's content."""
    by_key = {(s.name, s.side): s for s in scenarios}
    ratios = {
        name: round(by_key[(name, "peers")].modelled / by_key[(name, "fluoride")].modelled, 2)
        for name in (HEALTHY, BREAKER)
    }
    return {
        "benchmark": "benchmarks/deploy_speed.py",
        "what": "Modelled AWS seconds come from each stack's own settings through the "
                "emulator's timing model (Timing.from_settings), not from AWS: "
                "modelled = measured wall seconds of the rollout / scale.",
        "python": platform.python_version(),
        "scale": scale,
        "repeat": repeat,
        "image_pull_modelled_s": image_pull,
        "poll_interval_modelled_s": AWS_POLL_INTERVAL,
        "no_breaker_failures": failures,
        "settings": {side: attrs.asdict(settings_of(spec)) for side, spec in SPECS.items()},
        "scenarios": [
            {
                "scenario": s.name,
                "settings": s.side,
                "outcome": _outcome(s),
                "wall_s_median": round(s.wall, 3),
                "start_wall_s_median": round(s.start, 3),
                "rollout_wall_s_median": round(s.rollout, 3),
                "modelled_aws_s_median": round(s.modelled, 1),
                "settings_predict_s": s.predicted,
                "api_calls_median": s.calls,
                "runs": [
                    {"start_wall_s": round(r.start, 3), "rollout_wall_s": round(r.rollout, 3),
                     "api_calls": r.total_calls if r.calls else None, "calls": r.calls,
                     "outcome": r.outcome}
                    for r in s.runs
                ],
            }
            for s in scenarios
        ],
        "ratio_peers_to_fluoride_modelled": ratios,
    }


def table(scenarios: list[Scenario]) -> str:
    """The results as a plain-text table."""
    by_key = {(s.name, s.side): s for s in scenarios}
    header = (f"{'scenario':<34} {'settings':<8} {'wall s':>7} {'start s':>7} "
              f"{'modelled s':>10} {'predict s':>9} {'ratio':>6} {'API calls':>9}  outcome")
    lines = [header, "-" * len(header)]
    for s in scenarios:
        ours = by_key.get((s.name, "fluoride"))
        ratio = f"{s.modelled / ours.modelled:.1f}x" if ours and s.side == "peers" else ""
        calls = "-" if s.calls is None else f"{s.calls:.0f}"
        start = f"{s.start:.2f}"
        outcome = _outcome(s)
        if s.name == NO_BREAKER:
            start, ratio = "-", "-"
            outcome += f" at {NO_BREAKER_FAILURES} failed tasks: unbounded"
        lines.append(f"{s.name:<34} {s.side:<8} {s.wall:>7.2f} {start:>7} "
                     f"{s.modelled:>10.0f} {s.predicted:>9.0f} {ratio:>6} {calls:>9}  {outcome}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--scale", type=float, default=SCALE,
                        help="wall seconds per modelled AWS second (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=REPEAT,
                        help="runs per measurement; the median is reported (default %(default)s)")
    parser.add_argument("--image-pull", type=float, default=IMAGE_PULL,
                        help="modelled seconds from launch to running (default %(default)s)")
    parser.add_argument("--output", type=Path, default=RESULTS,
                        help="where the JSON results go (default %(default)s)")
    args = parser.parse_args(argv)
    scenarios = measure(args.scale, args.repeat, args.image_pull, NO_BREAKER_FAILURES)
    print(f"Deploy speed on the emulator, scale {args.scale} (1 wall second models "
          f"{1 / args.scale:.0f} s on AWS), image pull {args.image_pull:.0f} s modelled, "
          f"median of {args.repeat} runs.")
    print("Modelled seconds come from each stack's own settings through the emulator's "
          "timing model, NOT from AWS:\nmodelled = rollout wall seconds / scale. 'start' is "
          "the emulator's CPU time for the change set (simulated time held: not modelled).\n"
          "'predict' is the settings' arithmetic alone; the rest is the SDK noticing the "
          "outcome\n(it polls every 3 modelled seconds) and the emulator's own latency.\n")
    print(table(scenarios))
    side = {s.side: s for s in scenarios if s.name == BREAKER}
    cb = circuit_breaker_threshold(FLUORIDE.min_count)
    print(f"\nbroken image: the circuit breaker trips at {cb} failed tasks (0.5 x desired "
          "count, 3 to 200), then ECS rolls back;\nwithout a circuit breaker ECS keeps "
          f"replacing failed tasks: {NO_BREAKER_FAILURES} failed after "
          f"{predicted_failures(PEERS, NO_BREAKER_FAILURES, args.image_pull):.0f} s "
          "(predicted), and the deployment never ends by itself.")
    if side:
        print(f"Fluoride's settings: {side['fluoride'].modelled:.0f} s to RolledBack; "
              f"peers' settings with a breaker: {side['peers'].modelled:.0f} s.")
    data = to_json(scenarios, args.scale, args.repeat, args.image_pull, NO_BREAKER_FAILURES)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
