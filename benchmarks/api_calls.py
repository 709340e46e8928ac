"""Count the AWS API calls of deploy, status, history and one poll of a wait.

Runs on the embedded emulator and counts every call with a botocore ``before-call`` hook,
then prints each operation's calls beside the minimum it needs and why. The budget test
(``tests/test_api_budget.py``) holds these counts, so they cannot creep up unnoticed.

    python benchmarks/api_calls.py
"""

from __future__ import annotations

import collections
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from fluoride import Fluoride, ServiceSpec
from fluoride.releases.deployment import (
    AWS_POLL_INTERVAL,
    ServiceOutputs,
    _Follower,
    before_update,
)
from fluoride.releases.ecs import describe_service

#: The fewest calls each operation can make, and why.
MINIMUM: dict[str, tuple[int, str]] = {
    "deploy: start": (9, "DescribeStacks (parameters, outputs), DescribeServices (busy? "
                      "which deployment runs now), DescribeImages (tag -> digest), "
                      "GetCallerIdentity (who), CreateChangeSet, DescribeChangeSet (ready), "
                      "GetObject + PutObject (history), ExecuteChangeSet"),
    "one poll of a wait": (3, "DescribeStacks (finished or rolled back), DescribeServices "
                           "(the deployment by id: tasks, events), DescribeTargetHealth"),
    "deploy: outcome": (1, "PutObject: the outcome into the history (conditional on the "
                        "ETag of the deploy's own write)"),
    "wait_stable: start": (3, "DescribeStacks (outputs), GetObject (which release is "
                           "pending), DescribeServices (which deployment runs)"),
    "wait_stable: outcome": (1, "PutObject (conditional on the ETag just read)"),
    "status": (4, "DescribeStacks, DescribeServices, GetObject (the serving release), "
               "DescribeTaskDefinition (the image ECS serves)"),
    "history": (4, "DescribeStacks (the history bucket is a stack output), GetObject, "
                "DescribeServices + DescribeTaskDefinition (a release made outside Fluoride)"),
}


@attrs.define
class Counter:
    """Counts API calls by phase (``start``, ``poll``, ``outcome``) and operation."""

    calls: dict[str, collections.Counter[str]] = attrs.field(factory=dict)
    phase: str | None = None
    polls: int = 0

    def __call__(self, event_name: str, **kwargs: Any) -> None:
        if self.phase is not None:
            self.calls.setdefault(self.phase, collections.Counter())[
                event_name.split(".", 1)[1]] += 1

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.calls, self.phase, self.polls = {}, "start", 0
        try:
            yield
        finally:
            self.phase = None

    @contextmanager
    def polling(self) -> Iterator[None]:
        """Inside one poll: its calls count as ``poll``; after the first, ``outcome``."""
        outer, self.phase = self.phase, "poll"
        self.polls += 1
        try:
            yield
        finally:
            self.phase = "outcome" if outer is not None else None


@attrs.frozen
class Measured:
    """The calls of one operation (or one phase of it) and how long it took."""

    name: str
    calls: dict[str, int]
    seconds: float = 0.0
    polls: int = 0

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def measure(name: str = "bench") -> dict[str, Measured]:
    """Create a service on a fresh emulator and count each operation's calls by phase."""
    results: dict[str, Measured] = {}
    counter = Counter()
    check = _Follower.check

    def counted_check(self: _Follower) -> Any:
        with counter.polling():
            return check(self)

    with Fluoride.local(reporter=lambda event: None) as fl, _patched(counted_check):
        # Clients copy the session's hooks when they are made: register before the first.
        fl.aws.session.events.register("before-call", counter)
        svc = fl.service(name)
        svc.create(ServiceSpec())
        assert fl.emulator is not None
        repo = svc.outputs()["RepositoryName"]
        for tag in ("v1", "v2", "v3"):
            fl.emulator.push_image(repo, tag)
        svc.deploy("v1")

        def run(label: str, fn: Callable[[], object]) -> None:
            with counter.counting():
                start = time.perf_counter()
                fn()
                seconds = time.perf_counter() - start
            for phase, calls in counter.calls.items():
                results[f"{label}: {phase}"] = Measured(label, dict(calls), seconds,
                                                         counter.polls)

        run("deploy", lambda: svc.deploy("v2"))
        run("deploy (wait=False)", lambda: svc.deploy("v3", wait=False))
        run("wait_stable", svc.wait_stable)
        run("status", svc.status)
        run("history", svc.history)
        results["status"] = results.pop("status: start")
        results["history"] = results.pop("history: start")

        # One complete look (targets included) at the settled service.
        info = svc.stack.require()
        where = ServiceOutputs.from_info(info)
        ecs = describe_service(fl.aws, where.cluster, where.ecs_service)
        assert ecs is not None
        assert ecs.primary is not None
        follower = _Follower(svc.deployments, where, before_update(ecs),
                             deployment_id=ecs.primary.id, steady=True)
        run("one", lambda: check(follower))
        results["one poll of a wait"] = results.pop("one: start")
        polls = [m for k, m in results.items() if k.endswith(": poll")]
        results["polls per wait"] = Measured("polls", {}, 0.0,
                                             max(m.polls for m in polls))
    return results


@contextmanager
def _patched(check: Callable[[_Follower], Any]) -> Iterator[None]:
    original = _Follower.check
    _Follower.check = check  # type: ignore[method-assign,assignment]  # counting wrapper
    try:
        yield
    finally:
        _Follower.check = original  # type: ignore[method-assign]


def main() -> int:
    results = measure()
    print(f"{'operation':<22} {'calls':>5} {'minimum':>7}  calls made")
    for label, (minimum, why) in MINIMUM.items():
        m = results[label]
        made = ", ".join(f"{k} x{v}" if v > 1 else k for k, v in sorted(m.calls.items()))
        print(f"{label:<22} {m.total:>5} {minimum:>7}  {made}")
        print(f"{'':<22} {'':>5} {'':>7}  minimum: {why}")
    deploy = results["deploy: start"]
    print(f"\nA healthy deploy on the emulator took {deploy.seconds:.2f} s and "
          f"{deploy.polls} polls; each poll makes at most "
          f"{results['one poll of a wait'].total} calls (2 before the new tasks run).")
    per_second = MINIMUM["one poll of a wait"][0] / AWS_POLL_INTERVAL
    print(f"On AWS a wait polls every {AWS_POLL_INTERVAL:.0f} s: at most {per_second:.1f} "
          "calls/s per service, each API at most once per poll.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
