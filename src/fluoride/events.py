"""Typed progress events and the reporters that show them.

The library never prints. Long operations send events to a *reporter*, any callable taking
a :class:`ProgressEvent`. The CLI renders them with rich; elsewhere they go to logging.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from html import escape as html_escape
from typing import Any, Protocol

import attrs

__all__ = [
    "DeploymentProgress",
    "FleetStarted",
    "ForService",
    "HtmlReporter",
    "LoggingReporter",
    "Note",
    "PlanReady",
    "PlannedChange",
    "ProgressEvent",
    "Reporter",
    "ServiceEventSeen",
    "ServiceFinished",
    "StackEventSeen",
    "default_reporter",
    "describe",
    "service_of",
]

logger = logging.getLogger("fluoride")


@attrs.frozen
class PlannedChange:
    """One resource change of a plan: ``action`` is Add, Modify, Remove or Import."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str | None = None


@attrs.frozen
class PlanReady:
    """The change set of a stack operation, before it runs."""

    stack: str
    changes: Sequence[PlannedChange]


@attrs.frozen
class StackEventSeen:
    """A new CloudFormation stack event."""

    stack: str
    logical_id: str
    resource_type: str
    status: str
    reason: str | None
    timestamp: dt.datetime


@attrs.frozen
class DeploymentProgress:
    """One look at a running ECS deployment."""

    service: str
    rollout_state: str
    desired: int
    running: int
    pending: int
    failed: int
    healthy_targets: int | None = None
    unhealthy_targets: int | None = None


@attrs.frozen
class ServiceEventSeen:
    """A new ECS service event."""

    service: str
    message: str
    timestamp: dt.datetime


@attrs.frozen
class Note:
    """A plain message (what was kept, what happens next)."""

    text: str


@attrs.frozen
class FleetStarted:
    """A fleet operation (``deploy``, ``rollback``) begins on ``services``, at most
    ``max_parallel`` at a time."""

    operation: str
    services: Sequence[str]
    max_parallel: int


@attrs.frozen
class ForService:
    """What one service of a fleet operation reported: ``event``, from ``service``."""

    service: str
    event: ProgressEvent


@attrs.frozen
class ServiceFinished:
    """One service of a fleet operation is done: ``outcome`` is ``stable``, ``rolled back``,
    ``busy``, ... and ``detail`` the release or the error's message."""

    service: str
    outcome: str
    detail: str
    ok: bool


ProgressEvent = (
    PlanReady | StackEventSeen | DeploymentProgress | ServiceEventSeen | Note
    | FleetStarted | ForService | ServiceFinished
)


class Reporter(Protocol):
    """Anything that accepts progress events."""

    def __call__(self, event: ProgressEvent, /) -> None: ...


def describe(event: ProgressEvent) -> str:
    """A one-line plain-text rendering of an event."""
    if isinstance(event, PlanReady):
        if not event.changes:
            return f"{event.stack}: no resource changes"
        return f"{event.stack}: plan: " + ", ".join(
            f"{c.action} {c.logical_id} ({c.resource_type})" for c in event.changes
        )
    if isinstance(event, StackEventSeen):
        text = f"{event.stack}: {event.logical_id} {event.status}"
        return text + (f": {event.reason}" if event.reason else "")
    if isinstance(event, DeploymentProgress):
        text = (
            f"{event.service}: {event.rollout_state} running {event.running}/{event.desired}, "
            f"pending {event.pending}, failed {event.failed}"
        )
        if event.healthy_targets is not None:
            # The target group's view: old tasks count until they have drained.
            text += f"; load balancer: {event.healthy_targets} healthy target(s)"
        return text
    if isinstance(event, ServiceEventSeen):
        return f"{event.service}: {event.message}"
    if isinstance(event, FleetStarted):
        return (f"{event.operation} {len(event.services)} service(s), at most "
                f"{event.max_parallel} at a time: " + ", ".join(event.services))
    if isinstance(event, ForService):
        text = describe(event.event)
        # Most events name their service (or its stack) already.
        named = text.startswith((f"{event.service}: ", f"fluoride-{event.service}: "))
        return text if named else f"{event.service}: {text}"
    if isinstance(event, ServiceFinished):
        return f"{event.service}: {event.outcome}" + (f": {event.detail}" if event.detail else "")
    return event.text


def service_of(event: ProgressEvent) -> str | None:
    """The service a fleet event is about, or ``None`` for any other event."""
    if isinstance(event, (ForService, ServiceFinished)):
        return event.service
    return None


@attrs.frozen
class LoggingReporter:
    """The default reporter: each event as one INFO record on the ``fluoride`` logger."""

    def __call__(self, event: ProgressEvent) -> None:
        logger.info("%s", describe(event))


@attrs.define
class HtmlReporter:
    """Shows progress in a Jupyter notebook: one live HTML block per operation.

    ``display`` is IPython's ``display`` (injected in tests); the block is updated in place,
    showing the newest ``keep`` lines. A fleet operation shows one live table instead:
    a row per service with its latest event.
    """

    display: Callable[..., Any]
    html: Callable[[str], Any]
    keep: int = 12
    _lines: list[str] = attrs.field(factory=list, init=False)
    _rows: dict[str, str] = attrs.field(factory=dict, init=False)
    _handle: Any = attrs.field(default=None, init=False)

    def __call__(self, event: ProgressEvent) -> None:
        if isinstance(event, FleetStarted):
            self._rows.update(dict.fromkeys(event.services, "queued"))
        service = service_of(event)
        if service is not None:
            text = describe(event)
            self._rows[service] = text.removeprefix(f"{service}: ")
        else:
            self._lines.append(describe(event))
        body = "".join(
            f"<div>{html_escape(line)}</div>" for line in self._lines[-self.keep :]
        )
        if self._rows:
            body += "<table>" + "".join(
                f"<tr><th style='text-align:left'>{html_escape(name)}</th>"
                f"<td style='text-align:left'>{html_escape(text)}</td></tr>"
                for name, text in self._rows.items()
            ) + "</table>"
        block = self.html(f'<div style="font-family: monospace">{body}</div>')
        if self._handle is None:
            self._handle = self.display(block, display_id=True)
        else:
            self._handle.update(block)


def default_reporter() -> Reporter:
    """HTML in a Jupyter kernel, the ``fluoride`` logger everywhere else."""
    try:
        from IPython import get_ipython  # type: ignore[import-not-found,unused-ignore]
        from IPython.display import HTML, display  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return LoggingReporter()
    shell = get_ipython()
    if shell is None or "IPKernelApp" not in getattr(shell, "config", {}):
        return LoggingReporter()
    return HtmlReporter(display=display, html=HTML)
