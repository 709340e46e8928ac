"""Count the AWS API calls of spec(), plan() and update() on the embedded emulator.

Uses the harness of ``benchmarks/api_calls.py`` (a botocore ``before-call`` hook). An
update's total depends on how many polls its wait takes; the start (everything before the
first poll of a rollout) does not.

    python benchmarks/api_calls_day_two.py
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import attrs

sys.path.insert(0, str(Path(__file__).parent))

from api_calls import Counter

from fluoride import Fluoride, ServiceSpec


def measure() -> dict[str, collections.Counter[str]]:
    counter = Counter()
    results: dict[str, collections.Counter[str]] = {}
    with Fluoride.local(reporter=lambda event: None) as fl:
        fl.aws.session.events.register("before-call", counter)
        svc = fl.service("bench")
        svc.create(ServiceSpec())
        assert fl.emulator is not None
        fl.emulator.push_image(svc.outputs()["RepositoryName"], "v1")
        svc.deploy("v1")
        spec = svc.spec()
        for label, fn in [
            ("spec()", svc.spec),
            ("plan() (memory)", lambda: svc.plan(attrs.evolve(spec, memory=1024))),
            ("update() (memory: tasks restart)",
             lambda: svc.update(attrs.evolve(spec, memory=1024))),
            ("update() (max_count: in place)",
             lambda: svc.update(attrs.evolve(spec, memory=1024, max_count=8))),
            ("update() (nothing to change)",
             lambda: svc.update(attrs.evolve(spec, memory=1024, max_count=8))),
        ]:
            with counter.counting():
                fn()
            total: collections.Counter[str] = collections.Counter()
            for calls in counter.calls.values():
                total.update(calls)
            results[label] = total
    return results


def main() -> int:
    for label, calls in measure().items():
        made = ", ".join(f"{k} x{v}" if v > 1 else k for k, v in sorted(calls.items()))
        print(f"{label:<34} {sum(calls.values()):>4}  {made}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
