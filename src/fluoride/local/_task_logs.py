"""What an emulated task "writes": a line when it starts and one when it stops.

No container runs in the emulator, so there is no real output. Instead each simulated
task gets these lines in the log stream the ``awslogs`` driver would give it
(``<awslogs-stream-prefix>/<container>/<task-id>`` in the ``awslogs-group`` of its task
definition), through moto's logs backend, so ``Service.logs()`` and ``fluoride logs``
have something true to show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from moto.logs.models import logs_backends

from fluoride.local._errors import tolerated

__all__ = ["PREFIX", "write_task_line"]


#: Every line starts with this, so nobody mistakes it for their application's output.
PREFIX = "[fluoride emulator]"


def write_task_line(backend: Any, task_definition_arn: str, task_id: str,
                    when: dt.datetime, message: str | Callable[[str, str], str | None]) -> None:
    """Append ``PREFIX message`` at ``when`` (naive UTC, as moto keeps time) to the
    ``awslogs`` stream of each container of the task definition, each under its own
    stream prefix. ``message`` may be a function of the container's name and image (a
    sidecar's line then says what that container did, not the app's; ``None``: that
    container writes nothing).

    Never raises: a missing task definition or log group (a deleted stack) means there is
    nowhere to write, as on AWS, and the simulation must go on regardless.
    """
    with tolerated(f"a log line for task {task_id}"):
        task_definition = backend.describe_task_definition(task_definition_arn)
        for container in task_definition.container_definitions:
            text = message if isinstance(message, str) else message(
                str(container.get("name", "")), str(container.get("image", "")))
            if text is not None:
                _write(backend, container, task_id, when, f"{PREFIX} {text}")


def _write(backend: Any, container: dict[str, Any], task_id: str, when: dt.datetime,
           message: str) -> None:
    config = container.get("logConfiguration") or {}
    options = config.get("options") or {}
    group = options.get("awslogs-group")
    if config.get("logDriver") != "awslogs" or not group:
        return
    prefix = options.get("awslogs-stream-prefix")
    stream = f"{prefix}/{container.get('name', '')}/{task_id}" if prefix else task_id
    logs = logs_backends[backend.account_id][options.get("awslogs-region")
                                              or backend.region_name]
    if group not in logs.groups:
        return  # the driver fails the same way on AWS (unless awslogs-create-group)
    if stream not in logs.groups[group].streams:
        logs.create_log_stream(group, stream)
    millis = int(when.replace(tzinfo=dt.timezone.utc).timestamp() * 1000)
    logs.put_log_events(group, stream, [{"timestamp": millis, "message": message}])
