"""Progress events for team tooling: collect every event of a create, a good deploy, a
deploy that rolls back and a delete; print one line per operation (what a chat bot would
post); count what a script's log shows at INFO (one line per phase) against DEBUG.

Runs on the embedded emulator (no AWS account needed). docs/events.md explains the events.
"""

from __future__ import annotations

import collections
import logging

from fluoride import Fluoride, OperationFinished, ProgressEvent, RolledBack
from fluoride.events import log_level


def main() -> None:
    events: list[ProgressEvent] = []
    with Fluoride.local(progress=events.append) as fl:  # any function taking one event
        svc = fl.service("progress-demo")
        svc.create()
        fl.emulator.push_image("fluoride/progress-demo", "v1")
        fl.emulator.push_image("fluoride/progress-demo", "v2", healthy=False)
        svc.deploy("v1")
        try:
            svc.deploy("v2")
        except RolledBack as exc:
            print("rolled back, as expected:", exc.serving.short if exc.serving else None)
        svc.delete()

    for event in events:
        if isinstance(event, OperationFinished):
            mark = "ok  " if event.ok else "FAIL"
            print(f"{mark} {event.operation} {event.service}: {event.summary}")
    kinds = collections.Counter(type(event).__name__ for event in events)
    print("events:", dict(sorted(kinds.items())))
    info = sum(log_level(event) >= logging.INFO for event in events)
    print(f"a script logging at INFO shows {info} of {len(events)} events "
          "(DEBUG shows every resource)")


if __name__ == "__main__":
    main()
