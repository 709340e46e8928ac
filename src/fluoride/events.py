"""Typed progress events and the reporters that show them.

The library never prints. Long operations send events to a *reporter*, any callable taking
a :class:`ProgressEvent` positionally (a plain function, a lambda, a bound method). Each
operation of a service (``create``, ``deploy``, ``rollback``, ``update``, ``delete``,
``wait_stable``, ``push``) begins with :class:`OperationStarted` and ends with
:class:`OperationFinished`; a fleet operation with :class:`FleetStarted` and
:class:`FleetFinished`. Every event names its service (``event.service``; a fleet's
events name theirs in ``services``). ``docs/events.md`` lists them all.

The reporters here: :class:`LoggingReporter` (the ``fluoride`` logger; per-resource stack
events at DEBUG), :class:`HtmlReporter` (a notebook: one live block per operation, in the
cell that runs it) and :class:`RichProgress` (a terminal: a live line on standard error).
:func:`reporter_for` picks one from ``Fluoride(progress=...)``.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable, Sequence
from html import escape as html_escape
from typing import TYPE_CHECKING, Any, Literal, Protocol

import attrs

from fluoride._check import refuse, shown
from fluoride.errors import FieldError
from fluoride.names import STACK_PREFIX

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

__all__ = [
    "PROGRESS_ALLOWED",
    "PROGRESS_CHOICES",
    "DeploymentProgress",
    "FleetFinished",
    "FleetStarted",
    "ForService",
    "HtmlReporter",
    "LoggingReporter",
    "Note",
    "OperationFinished",
    "OperationStarted",
    "PlanReady",
    "PlannedChange",
    "Progress",
    "ProgressEvent",
    "Reporter",
    "RichProgress",
    "ServiceEventSeen",
    "ServiceFinished",
    "StackEventSeen",
    "auto_progress",
    "default_reporter",
    "describe",
    "discard",
    "log_level",
    "plan_summary",
    "progress_problems",
    "render_block",
    "reporter_for",
    "service_of",
]

logger = logging.getLogger("fluoride")


def _service_of_stack(stack: str) -> str:
    return stack.removeprefix(STACK_PREFIX)


@attrs.frozen
class PlannedChange:
    """One resource change of a plan: ``action`` is Add, Modify, Remove or Import.

    Not an event itself: :class:`PlanReady` carries a list of them.
    """

    action: str
    logical_id: str
    resource_type: str
    replacement: str | None = None


@attrs.frozen
class PlanReady:
    """The change set of a stack operation, before it runs (create, deploy, update).

    ``stack`` is the CloudFormation stack (``fluoride-<service>``); ``changes`` its
    resource changes (empty: nothing to change).
    """

    stack: str
    changes: Sequence[PlannedChange]

    @property
    def service(self) -> str:
        """The service whose stack this is."""
        return _service_of_stack(self.stack)


@attrs.frozen
class StackEventSeen:
    """A new CloudFormation stack event: one resource (``logical_id``, of
    ``resource_type``) reached ``status``, with CloudFormation's ``reason`` if it gave one.
    When ``logical_id`` is the stack itself, a phase of the whole operation."""

    stack: str
    logical_id: str
    resource_type: str
    status: str
    reason: str | None
    timestamp: dt.datetime

    @property
    def service(self) -> str:
        """The service whose stack this is."""
        return _service_of_stack(self.stack)

    @property
    def is_phase(self) -> bool:
        """Whether this is the stack's own event (a phase), not one resource's."""
        return self.logical_id == self.stack


@attrs.frozen
class DeploymentProgress:
    """One look at a running ECS deployment, sent when something changed: its
    ``rollout_state`` (``IN_PROGRESS``, ``COMPLETED``, ``FAILED``), the task counts and,
    when known, the load balancer's healthy and unhealthy targets."""

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
    """A new ECS service event (``message``, e.g. "has started 1 tasks")."""

    service: str
    message: str
    timestamp: dt.datetime


@attrs.frozen
class Note:
    """A plain message about ``service``: what was kept, what happens next."""

    service: str
    text: str


@attrs.frozen
class OperationStarted:
    """An operation of one service begins: ``operation`` is ``create``, ``deploy``,
    ``rollback``, ``update``, ``delete``, ``wait_stable`` or ``push``; ``detail`` what it
    was given (the image, the target release), or empty."""

    service: str
    operation: str
    detail: str = ""


@attrs.frozen
class OperationFinished:
    """An operation of one service ended, ``ok`` or not, after ``seconds``. ``summary`` is
    the one line that says how (``stable: v2@sha256:1a2b3c4d``, or the error's message)."""

    service: str
    operation: str
    ok: bool
    summary: str
    seconds: float


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


@attrs.frozen
class FleetFinished:
    """A fleet operation ended after ``seconds``: the services that ``succeeded`` and
    those that ``failed`` (each in the order given)."""

    operation: str
    succeeded: Sequence[str]
    failed: Sequence[str]
    seconds: float

    @property
    def services(self) -> Sequence[str]:
        """Every service of the operation."""
        return (*self.succeeded, *self.failed)


#: Every event a reporter may receive (annotate a reporter's parameter with it).
ProgressEvent = (
    PlanReady | StackEventSeen | DeploymentProgress | ServiceEventSeen | Note
    | OperationStarted | OperationFinished
    | FleetStarted | ForService | ServiceFinished | FleetFinished
)


class Reporter(Protocol):
    """Anything that accepts progress events, positionally: ``def f(event, /)``, a plain
    ``def f(event: ProgressEvent) -> None``, a lambda, a bound method."""

    def __call__(self, event: ProgressEvent, /) -> None: ...


def discard(event: ProgressEvent, /) -> None:
    """The reporter of ``progress="off"``: shows nothing."""


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
    if isinstance(event, OperationStarted):
        return f"{event.operation} {event.service}" + (f" ({event.detail})" if event.detail
                                                       else "") + ": started"
    if isinstance(event, OperationFinished):
        word = "done" if event.ok else "failed"
        return (f"{event.operation} {event.service} {word} in {_seconds(event.seconds)}"
                + (f": {event.summary}" if event.summary else ""))
    if isinstance(event, FleetStarted):
        return (f"{event.operation} {len(event.services)} service(s), at most "
                f"{event.max_parallel} at a time: " + ", ".join(event.services))
    if isinstance(event, FleetFinished):
        text = (f"{event.operation}: {len(event.succeeded)} of {len(event.services)} "
                f"service(s) succeeded in {_seconds(event.seconds)}")
        return text + (f"; failed: {', '.join(event.failed)}" if event.failed else "")
    if isinstance(event, ForService):
        text = describe(event.event)
        # Most events name their service (or its stack) already.
        named = text.startswith((f"{event.service}: ", f"fluoride-{event.service}: "))
        return text if named else f"{event.service}: {text}"
    if isinstance(event, ServiceFinished):
        return f"{event.service}: {event.outcome}" + (f": {event.detail}" if event.detail else "")
    return event.text


def plan_summary(event: PlanReady, *, limit: int = 4) -> str:
    """A plan in one short line: its changes when there are at most ``limit``, else how
    many of each action (``fluoride-hello: plan: 28 to add``). Pure."""
    if len(event.changes) <= limit:
        return describe(event)
    counts: dict[str, int] = {}
    for change in event.changes:
        counts[change.action] = counts.get(change.action, 0) + 1
    words = {"Add": "add", "Modify": "modify", "Remove": "remove", "Import": "import"}
    return f"{event.stack}: plan: " + ", ".join(
        f"{n} to {words.get(action, action.lower())}" for action, n in counts.items()
    )


def _seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


def service_of(event: ProgressEvent) -> str | None:
    """The service a fleet event is about, or ``None`` for any other event."""
    if isinstance(event, (ForService, ServiceFinished)):
        return event.service
    return None


def _is_detail(event: ProgressEvent) -> bool:
    """Whether ``event`` is one resource's or one task's doing, not a phase."""
    if isinstance(event, ForService):
        return _is_detail(event.event)
    if isinstance(event, StackEventSeen):
        return not event.is_phase
    if isinstance(event, ServiceEventSeen):
        # target (de)registrations: DeploymentProgress counts the healthy targets
        return "target" in event.message
    return False


def log_level(event: ProgressEvent) -> int:
    """The level :class:`LoggingReporter` logs ``event`` at: DEBUG for one resource's
    stack event or a target (de)registration (dozens on a create), INFO for the rest
    (one line per phase), WARNING for a failed operation."""
    if isinstance(event, OperationFinished) and not event.ok:
        return logging.WARNING
    if isinstance(event, StackEventSeen) and event.status.endswith("FAILED"):
        return logging.INFO  # the resource that failed: people need to see it
    if isinstance(event, PlanReady) and len(event.changes) > 4:
        return logging.DEBUG  # LoggingReporter says it at INFO in short (plan_summary)
    return logging.DEBUG if _is_detail(event) else logging.INFO


@attrs.frozen
class LoggingReporter:
    """Each event as one record on the ``fluoride`` logger, at :func:`log_level`."""

    def __call__(self, event: ProgressEvent, /) -> None:
        if isinstance(event, PlanReady) and plan_summary(event) != describe(event):
            logger.info("%s", plan_summary(event))  # every change, one line: at DEBUG
        logger.log(log_level(event), "%s", describe(event))


# -- notebooks ------------------------------------------------------------------------------

_MAX_LINES = 400  # of one operation's folded events (a create has about a hundred)


@attrs.define
class _Block:
    """One operation's live output."""

    title: str
    handle: Any = None
    lines: list[str] = attrs.field(factory=list)  # notes, deployment progress, phases
    details: list[str] = attrs.field(factory=list)  # per-resource stack events and the like
    every: list[str] = attrs.field(factory=list)  # all of them, in order
    rows: dict[str, str] = attrs.field(factory=dict)  # a fleet: service -> newest event
    summary: str | None = None
    ok: bool = True


def render_block(block: _Block, keep: int) -> str:
    """A block as HTML: the title (or, once finished, the summary line), the newest
    ``keep`` lines, a fleet's table, and every event folded behind ``<details>``."""
    if block.summary is None:
        head = f"<b>{html_escape(block.title)}</b> &#8230;"
    else:
        mark, colour = ("&#10004;", "green") if block.ok else ("&#10008;", "#c00")
        head = (f"<span style='color:{colour}'>{mark}</span> "
                f"<b>{html_escape(block.summary)}</b>")
    body = f"<div>{head}</div>"
    if block.summary is None:
        body += "".join(f"<div>{html_escape(line)}</div>" for line in block.lines[-keep:])
    if block.rows:
        body += "<table>" + "".join(
            f"<tr><th style='text-align:left'>{html_escape(name)}</th>"
            f"<td style='text-align:left'>{html_escape(text)}</td></tr>"
            for name, text in block.rows.items()
        ) + "</table>"
    finished = block.summary is not None
    folded = block.every if finished else block.details
    if folded:
        shown = folded[-_MAX_LINES:]
        more = len(folded) - len(shown)
        what = "event(s)" if finished else "resource event(s)"
        body += (
            f"<details><summary>{len(folded)} {what}</summary>"
            + (f"<div>({more} earlier not shown)</div>" if more else "")
            + "".join(f"<div>{html_escape(line)}</div>" for line in shown)
            + "</details>"
        )
    return f'<div style="font-family: monospace">{body}</div>'


@attrs.define
class HtmlReporter:
    """Shows progress in a Jupyter notebook: one live HTML block per operation, in the
    output of the cell that runs it.

    Each top-level :class:`OperationStarted` (or :class:`FleetStarted`) opens a new block
    with a new display handle, so a later operation never rewrites an earlier cell. While
    it runs the block shows the newest ``keep`` lines; per-resource stack events are folded
    behind a ``<details>`` element. When it ends, the block keeps one summary line and
    every event, folded. A fleet operation shows a table: a row per service with its
    newest event. ``display`` and ``html`` are IPython's (injected in tests).
    """

    display: Callable[..., Any]
    html: Callable[[str], Any]
    keep: int = 12
    _block: _Block | None = attrs.field(default=None, init=False)
    _depth: int = attrs.field(default=0, init=False)

    def __call__(self, event: ProgressEvent, /) -> None:
        if isinstance(event, (OperationStarted, FleetStarted)):
            self._depth += 1
            if self._depth == 1 or self._block is None:
                title = (f"{event.operation} {event.service}"
                         + (f" ({event.detail})" if event.detail else "")
                         if isinstance(event, OperationStarted) else describe(event))
                self._block = _Block(title=title)
            if isinstance(event, FleetStarted):
                self._block.rows.update(dict.fromkeys(event.services, "queued"))
            elif self._depth > 1:
                self._block.lines.append(describe(event))
                self._block.every.append(describe(event))
            self._show(self._block)
            return
        block = self._block
        if block is None or block.summary is not None:
            # an event outside any operation: a block of its own
            block = self._block = _Block(title=describe(event))
        if isinstance(event, (OperationFinished, FleetFinished)) and self._depth > 0:
            self._depth -= 1
            if self._depth == 0:
                block.summary = describe(event)
                block.ok = event.ok if isinstance(event, OperationFinished) else not event.failed
                self._show(block)
                return
        service = service_of(event)
        text = describe(event)
        block.every.append(text)
        if service is not None:
            block.rows[service] = text.removeprefix(f"{service}: ")
        if _is_detail(event):
            block.details.append(text)
        elif service is None:
            block.lines.append(text)
        self._show(block)

    def _show(self, block: _Block) -> None:
        shown = self.html(render_block(block, self.keep))
        if block.handle is None:
            block.handle = self.display(shown, display_id=True)
        else:
            block.handle.update(shown)


# -- terminals ------------------------------------------------------------------------------

@attrs.define
class RichProgress:
    """A terminal's progress, on standard error: while an operation runs, one live line
    (a spinner, the operation, its newest event and how many resources changed); when it
    ends, its summary line stays. Notes, plans and failed resources are printed as lines
    of their own; per-resource stack events only count. A fleet shows a row per service.

    ``console`` defaults to rich's console on standard error.
    """

    console: Console | None = None
    _live: Live | None = attrs.field(default=None, init=False)
    _title: str = attrs.field(default="", init=False)
    _latest: str = attrs.field(default="", init=False)
    _resources: int = attrs.field(default=0, init=False)
    _rows: dict[str, str] = attrs.field(factory=dict, init=False)
    _depth: int = attrs.field(default=0, init=False)

    def _console(self) -> Console:
        if self.console is None:
            from rich.console import Console

            self.console = Console(stderr=True)
        return self.console

    def __call__(self, event: ProgressEvent, /) -> None:
        console = self._console()
        if isinstance(event, (OperationStarted, FleetStarted)):
            self._depth += 1
            if self._depth == 1:
                self._start(describe(event).removesuffix(": started"))
                if isinstance(event, FleetStarted):
                    self._rows = dict.fromkeys(event.services, "queued")
            self._refresh()
            return
        if isinstance(event, (OperationFinished, FleetFinished)) and self._depth > 0:
            self._depth -= 1
            if self._depth == 0:
                self._stop()
                ok = event.ok if isinstance(event, OperationFinished) else not event.failed
                mark = "[green]\u2714[/]" if ok else "[red]\u2718[/]"
                console.print(mark, describe(event), highlight=False)
                return
        service = service_of(event)
        if service is not None:
            self._rows[service] = describe(event).removeprefix(f"{service}: ")
        inner = event.event if isinstance(event, ForService) else event
        if isinstance(inner, StackEventSeen) and not inner.is_phase:
            self._resources += inner.status.endswith("COMPLETE")
            if inner.status.endswith("FAILED"):
                self._print(describe(event), "red")
        elif isinstance(inner, Note) and service is None:
            self._print(describe(event), "bold")
        elif isinstance(inner, PlanReady) and service is None:
            self._print(plan_summary(inner), "")
        self._latest = describe(event)
        if self._live is None and service is None and not isinstance(inner, (Note, PlanReady,
                                                                             StackEventSeen)):
            self._print(self._latest, "dim")  # outside any operation
        self._refresh()

    def _print(self, text: str, style: str) -> None:
        self._console().print(text, style=style or None, highlight=False, markup=False,
                              emoji=False)

    def _start(self, title: str) -> None:
        from rich.live import Live

        self._title, self._latest, self._resources, self._rows = title, "", 0, {}
        self._live = Live(self._renderable(), console=self._console(), transient=True,
                          refresh_per_second=8)
        self._live.start()

    def _stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._renderable())

    def _renderable(self) -> Any:
        from rich.spinner import Spinner
        from rich.table import Table
        from rich.text import Text

        line = Text(self._title, style="bold")
        if self._resources:
            line.append(f"  {self._resources} resource(s) done", style="cyan")
        if self._latest and not self._rows:
            line.append(f"  {self._latest}", style="dim")
        line.truncate(max(self._console().width - 3, 20), overflow="ellipsis")
        spinner = Spinner("dots", text=line)
        if not self._rows:
            return spinner
        grid = Table.grid(padding=(0, 1))
        grid.add_row(spinner)
        rows = Table(show_header=False, box=None, pad_edge=False)
        rows.add_column("service", style="bold")
        rows.add_column("progress", overflow="ellipsis", no_wrap=True)
        for name, text in self._rows.items():
            rows.add_row(name, text)
        grid.add_row(rows)
        return grid


# -- choosing ------------------------------------------------------------------------------

#: What ``Fluoride(progress=...)`` takes, besides a callable.
PROGRESS_CHOICES = ("off", "log", "rich", "html")
#: The type of ``Fluoride(progress=...)``: a choice by name, or a reporter.
Progress = Literal["off", "log", "rich", "html"] | Reporter


#: What ``progress=`` accepts, in words.
PROGRESS_ALLOWED = ("'off', 'log', 'rich', 'html', a function taking one event, or None "
                    "(the default: html in a notebook, rich on a terminal, else log)")


def progress_problems(progress: object, field: str = "progress") -> list[FieldError]:
    """The problem of a ``progress=`` value (empty: none). Pure: a table tests it."""
    if progress is None or callable(progress) or (
        isinstance(progress, str) and progress in PROGRESS_CHOICES
    ):
        return []
    return [FieldError(field, f"{shown(progress)} is not a way to show progress",
                       allowed=PROGRESS_ALLOWED)]


def auto_progress(*, in_kernel: bool, stderr_tty: bool) -> str:
    """The default of ``progress=``: ``html`` in a Jupyter kernel, ``rich`` when standard
    error is a terminal, else ``log`` (the ``fluoride`` logger). Pure."""
    if in_kernel:
        return "html"
    return "rich" if stderr_tty else "log"


def _in_kernel() -> bool:
    """Whether this runs in a Jupyter (IPython) kernel."""
    if "IPython" not in sys.modules:  # not imported: certainly no kernel
        return False
    try:
        from IPython import get_ipython  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _stderr_tty() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced by an object without it, or closed
        return False


def _html_reporter() -> HtmlReporter:
    from fluoride.errors import ConfigError

    try:
        from IPython.display import HTML, display  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise ConfigError(
            "progress='html' needs IPython, which is not installed.",
            hint="Run it in a Jupyter notebook (pip install jupyter), or use "
            "progress='rich' or 'log'.",
        ) from exc
    return HtmlReporter(display=display, html=HTML)


def reporter_for(progress: object) -> Reporter:
    """The reporter ``Fluoride(progress=...)`` asks for (``None``: :func:`auto_progress`).

    Raises :class:`~fluoride.errors.ConfigError` naming the value and what is accepted.
    """
    refuse("Fluoride()", progress_problems(progress))
    if progress is None:
        progress = auto_progress(in_kernel=_in_kernel(), stderr_tty=_stderr_tty())
    if callable(progress):
        reporter: Reporter = progress
        return reporter
    if progress == "off":
        return discard
    if progress == "rich":
        return RichProgress()
    if progress == "html":
        return _html_reporter()
    return LoggingReporter()


def default_reporter() -> Reporter:
    """HTML in a Jupyter kernel, a live line on standard error when it is a terminal, the
    ``fluoride`` logger everywhere else (:func:`auto_progress`)."""
    return reporter_for(None)

