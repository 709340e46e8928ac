"""How long each public value's plain repr is, and whether it has an HTML display.

Runs a short life of one service on the embedded emulator (create, deploy, a deploy that
rolls back, data, logs, a plan, an estimate, a fleet deploy, delete), keeps every value a
notebook cell would show, and prints a table: its type, the length of ``repr()``, whether
that repr is one line, and whether ``_repr_html_`` exists. It uses only APIs that the
release before the display work had, so the same script measures before and after:

    PYTHONPATH=/work/main/src python benchmarks/reprs.py     # before (main)
    python benchmarks/reprs.py                               # after
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import fluoride
from fluoride import Fluoride, FluorideError, ServiceSpec
from fluoride.local import Timing


def _values(fl: Fluoride) -> list[tuple[str, Callable[[], Any]]]:
    assert fl.emulator is not None
    emulator = fl.emulator
    svc = fl.service("hello")
    status = svc.create(ServiceSpec(team="lab", environment={"MODE": "demo"}))
    repo = svc.outputs()["RepositoryName"]
    emulator.push_image(repo, "v1")
    release = svc.deploy("v1")
    emulator.push_image(repo, "v2")
    svc.deploy("v2")
    emulator.push_image(repo, "v3", healthy=False)
    failed: Any = None
    try:
        svc.deploy("v3")
    except FluorideError as exc:
        failed = exc
    table = svc.table
    table.put_item({"pk": "note#1", "text": "hello <b>world</b>", "stars": 5})
    table.put_item({"pk": "note#2", "text": "second", "stars": 3})
    logs = fl.aws.client("logs")
    group = svc.outputs()["LogGroupName"]
    logs.create_log_stream(logGroupName=group, logStreamName="app/web/0123456789abcdef")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="app/web/0123456789abcdef",
                        logEvents=[{"timestamp": now + i, "message": f"GET /items/{i} 200"}
                                   for i in range(30)])
    plan = svc.plan(ServiceSpec(team="lab", environment={"MODE": "demo"}, memory=1024))
    fleet = fl.deploy_many({"hello": "v2"})
    values: list[tuple[str, Callable[[], Any]]] = [
        ("Fluoride", lambda: fl),
        ("Service", lambda: svc),
        ("ServiceStatus (create)", lambda: status),
        ("ServiceStatus (status)", svc.status),
        ("Release", lambda: release),
        ("history()", svc.history),
        ("fl.status()", fl.status),
        ("Table", lambda: table),
        ("Bucket", lambda: svc.bucket),
        ("Secret", lambda: svc.secret),
        ("table.scan()", table.scan),
        ("svc.logs()", lambda: svc.logs(since="1h")),
        ("LogLine", lambda: next(iter(svc.logs(since="1h")))),
        # LogLines is the list type of the display work; before it, a plain list
        ("LogLines(svc.logs())", lambda: getattr(fluoride, "LogLines", list)(
            svc.logs(since="1h"))),
        ("Plan", lambda: plan),
        ("CostEstimate", lambda: svc.estimate(ServiceSpec())),
        ("FleetResult", lambda: fleet),
        (f"{type(failed).__name__} (caught)", lambda: failed),
        ("ServiceSpec", svc.spec),
    ]
    values.append(("DeleteResult", svc.delete))
    return values


def main() -> int:
    fast = Timing(task_start=0.05, health_check=0.05, drain=0.05)
    rows = []
    with Fluoride.local(timing=fast, reporter=lambda event: None) as fl:
        for label, make in _values(fl):
            value = make()
            text = repr(value)
            html = getattr(value, "_repr_html_", None)
            rows.append((label, len(text), "\n" not in text, callable(html)))
    print(f"{'value':<28} {'repr chars':>10}  one line  _repr_html_")
    for label, length, single, has_html in rows:
        print(f"{label:<28} {length:>10}  {'yes' if single else 'NO':<8}  "
              f"{'yes' if has_html else 'no'}")
    longest = max(rows, key=lambda r: r[1])
    print(f"\nlongest: {longest[0]} ({longest[1]} characters); "
          f"{sum(r[3] for r in rows)} of {len(rows)} have _repr_html_")
    return 0


if __name__ == "__main__":
    sys.exit(main())
