"""Fleet operations at 10 and 50 services on the embedded emulator: time, calls, memory.

For each fleet size, in one run on one emulator:

- ``fl.status()`` (concurrent reads) against the reads one after another (as before);
- sequential single deploys (``svc.deploy`` in a loop: the baseline), then ``deploy_many``
  at ``max_parallel`` 1, 4 and 8: wall time, API calls per service, the most calls one
  service made in one poll, and the peak calls per second (any one-second window);
- the process's memory (the emulator runs in it) and the emulator's time per create.

Calls are counted with a botocore ``before-call`` hook and attributed to services with
:func:`fluoride.fleet.current_service`; polls by wrapping the deployment's ``check``.
It also writes the call rates these counts imply on AWS (3 s between polls, the client's
budget of 10 calls/s). Results go to ``benchmarks/results/fleet.json``.

    python benchmarks/fleet.py            # 10 and 50 services (a few minutes)
    python benchmarks/fleet.py --sizes 5  # quicker
    python benchmarks/fleet.py --gateway --sizes 50
        # 50 services behind one environment's ECS gateway (issue 14): deploy_many at
        # max_parallel 8 only; results in benchmarks/results/fleet_gateway.json
"""

from __future__ import annotations

import argparse
import collections
import json
import resource
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from fluoride import Fluoride, ServiceSpec
from fluoride.fleet import current_service, run_many
from fluoride.ratelimit import DEFAULT_CALLS_PER_SECOND
from fluoride.releases.deployment import AWS_POLL_INTERVAL, _Follower

RESULTS = Path(__file__).parent / "results" / "fleet.json"


@attrs.define
class Calls:
    """Every API call: when, for which service, in which poll (``None``: outside polls)."""

    seen: list[tuple[float, str | None, str, int | None]] = attrs.field(factory=list)
    lock: threading.Lock = attrs.field(factory=threading.Lock)
    local: threading.local = attrs.field(factory=threading.local)
    polls: collections.Counter[str] = attrs.field(factory=collections.Counter)
    _ids: Iterator[int] = attrs.field(factory=lambda: iter(range(10**9)))

    def __call__(self, event_name: str, **kwargs: Any) -> None:
        with self.lock:
            self.seen.append((time.perf_counter(), current_service(),
                              event_name.split(".", 1)[1], getattr(self.local, "poll", None)))

    @contextmanager
    def poll(self) -> Iterator[None]:
        with self.lock:
            self.local.poll = next(self._ids)
            service = current_service()
            if service is not None:
                self.polls[service] += 1
        try:
            yield
        finally:
            self.local.poll = None

    @contextmanager
    def window(self) -> Iterator[list[tuple[float, str | None, str, int | None]]]:
        """The calls made inside the block."""
        start = len(self.seen)
        self.polls.clear()
        out: list[tuple[float, str | None, str, int | None]] = []
        try:
            yield out
        finally:
            out.extend(self.seen[start:])


def peak_per_second(times: Sequence[float]) -> int:
    """The most calls in any one-second window."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def summarise(calls: Sequence[tuple[float, str | None, str, int | None]], seconds: float,
              services: int, polls: collections.Counter[str]) -> dict[str, Any]:
    per_service = collections.Counter(s for _, s, _, _ in calls if s is not None)
    outside_polls = collections.Counter(s for _, s, _, p in calls if s is not None and p is None)
    per_poll: collections.Counter[tuple[str | None, int]] = collections.Counter(
        (s, p) for _, s, _, p in calls if p is not None)
    apis_per_poll: collections.Counter[tuple[int, str]] = collections.Counter(
        (p, op) for _, _, op, p in calls if p is not None)
    return {
        "seconds": round(seconds, 2),
        "calls": len(calls),
        "calls_per_service": round(len(calls) / services, 1),
        "max_calls_of_one_service": max(per_service.values(), default=0),
        "max_calls_outside_polls_of_one_service": max(outside_polls.values(), default=0),
        "polls_per_service": round(sum(polls.values()) / services, 1),
        "max_calls_per_poll": max(per_poll.values(), default=0),
        "max_same_api_per_poll": max(apis_per_poll.values(), default=0),
        "peak_calls_per_second": peak_per_second([t for t, _, _, _ in calls]),
    }


def aws_model(n: int, max_parallel: int, *, calls_per_poll: int = 3,
              budget: float = DEFAULT_CALLS_PER_SECOND) -> dict[str, Any]:
    """What the counts mean on AWS, where a wait polls every 3 s and the client's calls
    share the default budget: the call rate while ``min(n, max_parallel)`` services poll."""
    polling = min(n, max_parallel)
    wanted = polling * calls_per_poll / AWS_POLL_INTERVAL
    rate = min(wanted, budget)
    return {
        "services_polling_at_once": polling,
        "calls_per_second_unbudgeted": round(wanted, 2),
        "calls_per_second": round(rate, 2),
        "seconds_between_polls_per_service": round(polling * calls_per_poll / rate, 2),
        # One DescribeStacks (another per further page of stacks), one DescribeServices each.
        "status_calls": 1 + n,
        "status_seconds_at_budget": round(max(0.0, (1 + n - budget) / budget), 2),
    }


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(n: int, *, parallels: Sequence[int] = (1, 4, 8), baseline: bool = True,
            status: bool = True, gateway: bool = False) -> dict[str, Any]:
    """Create ``n`` services on a fresh emulator and measure the fleet operations; with
    ``gateway``, behind one environment's ECS gateway instead of an ALB each."""
    calls = Calls()
    check = _Follower.check

    def counted(self: _Follower) -> Any:
        with calls.poll():
            return check(self)

    out: dict[str, Any] = {"services": n, "ingress": "gateway" if gateway else "own ALBs"}
    with Fluoride.local(reporter=lambda e: None) as fl, _patched(counted):
        rss_before = _rss_mb()  # the emulator is running, with no service yet
        fl.aws.session.events.register("before-call", calls)
        assert fl.emulator is not None
        names = [f"fleet{i:03d}" for i in range(n)]
        start = time.perf_counter()
        if gateway:
            from fluoride import EnvironmentSpec

            fl.environment("bench").create(EnvironmentSpec())
        run_many({name: _creator(fl, name, gateway=gateway) for name in names},
                 max_parallel=1)
        created = time.perf_counter() - start
        out["emulator"] = {
            "create_seconds_per_service": round(created / n, 2),
            "process_max_rss_mb": round(_rss_mb(), 1),
            "max_rss_growth_mb_per_service": round((_rss_mb() - rss_before) / n, 2),
        }
        repos = {name: fl.service(name).outputs()["RepositoryName"] for name in names}

        def push(tag: str) -> None:
            assert fl.emulator is not None
            for repo in repos.values():
                fl.emulator.push_image(repo, tag)

        push("v0")
        fl.deploy_many(dict.fromkeys(names, "v0"), max_parallel=8).raise_for_failures()

        if status:
            with calls.window() as seen:
                t = time.perf_counter()
                fl.status()
                concurrent = time.perf_counter() - t
            with calls.window() as seen_seq:
                t = time.perf_counter()
                _status_one_after_another(fl)
                sequential = time.perf_counter() - t
            out["status"] = {
                "concurrent": {"seconds": round(concurrent, 3), "calls": len(seen)},
                "one_after_another": {"seconds": round(sequential, 3), "calls": len(seen_seq)},
            }

        rounds: dict[str, Any] = {}
        if baseline:
            push("base")
            with calls.window() as seen:
                t = time.perf_counter()
                for name in names:
                    run_many({name: _deployer(fl, name, "base")}, max_parallel=1)
                seconds = time.perf_counter() - t
            rounds["sequential single deploys"] = summarise(seen, seconds, n, calls.polls)
        for p in parallels:
            tag = f"p{p}"
            push(tag)
            with calls.window() as seen:
                result = fl.deploy_many(dict.fromkeys(names, tag), max_parallel=p)
            result.raise_for_failures()
            rounds[f"deploy_many max_parallel={p}"] = {
                **summarise(seen, result.seconds, n, calls.polls),
                "process_max_rss_mb": round(_rss_mb(), 1),
            }
        out["deploys"] = rounds
        out["client_memory"] = _client_memory(fl, names)
        out["on_aws"] = {f"max_parallel={p}": aws_model(n, p) for p in (*parallels, n)}
    return out


def _client_memory(fl: Fluoride, names: Sequence[str]) -> dict[str, float]:
    """What the client itself holds for the fleet: Python allocations of a status() and of
    the FleetResult of a no-op deploy_many, traced alone (the emulator's server threads
    allocate too, so this is an upper bound)."""
    tracemalloc.start()
    try:
        statuses = fl.status()
        _, status_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        held = tracemalloc.get_traced_memory()[0]
        del statuses
        return {"status_peak_mb": round(status_peak / 2**20, 2),
                "kept_after_status_mb": round(held / 2**20, 2)}
    finally:
        tracemalloc.stop()


def _creator(fl: Fluoride, name: str, *, gateway: bool = False) -> Callable[[Any], object]:
    spec = ServiceSpec(team="bench", gateway="bench" if gateway else None)
    return lambda _report: fl.service(name).create(spec)


def _deployer(fl: Fluoride, name: str, tag: str) -> Callable[[Any], object]:
    # Through run_many only so the calls are attributed to the service; one at a time.
    return lambda _report: fl.service(name).deploy(tag)


def _status_one_after_another(fl: Fluoride) -> None:
    """The status read as it was before fleets: each service's read after the last."""
    from fluoride.infra.stack import list_service_stacks
    from fluoride.names import SERVICE_TAG

    for info in list_service_stacks(fl.aws):
        svc = fl.service(info.tags[SERVICE_TAG])
        svc._status_from(info, svc._ecs(info))


@contextmanager
def _patched(check: Callable[[_Follower], Any]) -> Iterator[None]:
    original = _Follower.check
    _Follower.check = check  # type: ignore[method-assign,assignment]  # counting wrapper
    try:
        yield
    finally:
        _Follower.check = original  # type: ignore[method-assign]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--no-write", action="store_true", help="Do not write the JSON.")
    parser.add_argument("--gateway", action="store_true",
                        help="Services behind one environment's gateway (max_parallel 8).")
    args = parser.parse_args(argv)
    results = [measure(n, parallels=(8,), baseline=False, gateway=True) if args.gateway
               else measure(n) for n in args.sizes]
    for r in results:
        n = r["services"]
        print(f"\n== {n} services ==  emulator: {r['emulator']}")
        s = r["status"]
        print(f"status: concurrent {s['concurrent']['seconds']} s / {s['concurrent']['calls']} "
              f"calls; one after another {s['one_after_another']['seconds']} s / "
              f"{s['one_after_another']['calls']} calls")
        print(f"{'deploys':<32} {'s':>7} {'calls':>6} {'/svc':>6} {'/poll':>5} "
              f"{'peak/s':>6} {'polls/svc':>9}")
        for label, d in r["deploys"].items():
            print(f"{label:<32} {d['seconds']:>7} {d['calls']:>6} {d['calls_per_service']:>6} "
                  f"{d['max_calls_per_poll']:>5} {d['peak_calls_per_second']:>6} "
                  f"{d['polls_per_service']:>9}")
        for label, m in r["on_aws"].items():
            print(f"on AWS, {label}: {m}")
    if not args.no_write:
        path = RESULTS.with_name("fleet_gateway.json") if args.gateway else RESULTS
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({"fleet": results}, indent=2) + "\n")
        print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
