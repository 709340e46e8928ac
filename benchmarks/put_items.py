"""Time ``table.put_items(rows)`` against a loop of ``table.put_item(row)``, and count the
DynamoDB calls each makes, in the same run on the embedded emulator.

A service is created on ``Fluoride.local()``; then, ``--repeat`` times (default 3) and
alternating which goes first, ``--rows`` rows (default 1,000; each a string key, a float,
an int and a short list) are written both ways, each time under fresh keys. Wall clock
with ``time.perf_counter``; calls counted with a botocore ``before-call`` hook on the
table's client. The median of each is reported, and what the call count means on AWS,
where a Fluoride client shares a budget of 10 calls a second by default
(``max_calls_per_second``): the least time those calls can take there.

Results go to ``benchmarks/results/put_items.json``.

    python benchmarks/put_items.py [--rows 1000] [--repeat 3] [--output PATH]
"""

from __future__ import annotations

import argparse
import collections
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fluoride import Fluoride
from fluoride.ratelimit import DEFAULT_CALLS_PER_SECOND
from fluoride.stores.data import Table

ROOT = Path(__file__).resolve().parent.parent


def rows(prefix: str, count: int) -> list[dict[str, Any]]:
    return [{"pk": f"{prefix}#{i:05}", "score": i / 7, "n": i, "tags": ["a", "b"]}
            for i in range(count)]


def batch(table: Table, items: list[dict[str, Any]]) -> None:
    assert table.put_items(items) == len(items)


def loop(table: Table, items: list[dict[str, Any]]) -> None:
    for item in items:
        table.put_item(item)


def measure(table: Table, how: Callable[[Table, list[dict[str, Any]]], None],
            items: list[dict[str, Any]]) -> tuple[float, collections.Counter[str]]:
    # A fresh handle each time: put_items reads the key once per handle (DescribeTable),
    # and a user's first batch pays that too.
    fresh = Table(table.aws, table.name, table.arn)
    calls: collections.Counter[str] = collections.Counter()
    fresh.resource.meta.client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.update([model.name]))
    start = time.perf_counter()
    how(fresh, items)
    return time.perf_counter() - start, calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", type=Path,
                        default=ROOT / "benchmarks" / "results" / "put_items.json")
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {"put_items": [], "put_item loop": []}
    calls: dict[str, collections.Counter[str]] = {}
    with Fluoride.local() as fl:
        svc = fl.service("bench-put-items")
        svc.create()
        table = svc.table
        ways = {"put_items": batch, "put_item loop": loop}
        for run in range(args.repeat):
            order = list(ways) if run % 2 == 0 else list(reversed(ways))
            for name in order:
                elapsed, counted = measure(table, ways[name],
                                           rows(f"{name.replace(' ', '-')}-{run}", args.rows))
                times[name].append(elapsed)
                calls[name] = counted  # the same every run
        stored = sum(1 for _ in table.scan())
        svc.delete(purge_data=True)
    expected = 2 * args.repeat * args.rows
    if stored != expected:
        print(f"the table holds {stored} items, expected {expected}", file=sys.stderr)
        return 1
    results = []
    for name in ways:
        total = sum(calls[name].values())
        results.append({
            "case": name,
            "rows": args.rows,
            "median_s": round(statistics.median(times[name]), 3),
            "runs_s": [round(t, 3) for t in times[name]],
            "calls": dict(sorted(calls[name].items())),
            "calls_total": total,
            "aws_floor_s_at_default_budget": round(total / DEFAULT_CALLS_PER_SECOND, 1),
        })
    speedup = results[1]["median_s"] / results[0]["median_s"]
    report = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "repeat": args.repeat,
        "default_calls_per_second_on_aws": DEFAULT_CALLS_PER_SECOND,
        "results": results,
        "put_items_speedup": round(speedup, 1),
    }
    for r in results:
        print(f"{r['case']:>14}: {r['rows']} rows in {r['median_s']:.3f} s (median of "
              f"{args.repeat}), {r['calls_total']} calls {r['calls']}; on AWS at "
              f"{DEFAULT_CALLS_PER_SECOND:g} calls/s at least "
              f"{r['aws_floor_s_at_default_budget']} s")
    print(f"put_items is {speedup:.1f}x faster here")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
