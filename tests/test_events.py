"""Progress: the events, the choice of reporter, and how each reporter shows them.

Pure parts (levels, the ``progress=`` check, the default choice, the HTML of a block) are
tables; the notebook reporter gets a fake ``display`` that records which handle got which
output; one emulator test runs real operations through it.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any

import pytest
from rich.console import Console

from fluoride.client import Fluoride, reporter_problems
from fluoride.errors import InvalidInput, RolledBack
from fluoride.events import (
    DeploymentProgress,
    FleetFinished,
    FleetStarted,
    ForService,
    HtmlReporter,
    LoggingReporter,
    Note,
    OperationFinished,
    OperationStarted,
    PlannedChange,
    PlanReady,
    ProgressEvent,
    RichProgress,
    ServiceEventSeen,
    ServiceFinished,
    StackEventSeen,
    auto_progress,
    default_reporter,
    describe,
    discard,
    log_level,
    plan_summary,
    progress_problems,
    reporter_for,
)
from fluoride.service import failure_summary

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def _stack_event(logical_id: str, status: str, reason: str | None = None) -> StackEventSeen:
    return StackEventSeen("fluoride-hello", logical_id, "AWS::X::Y", status, reason, NOW)


# -- the events ----------------------------------------------------------------------------

EVERY_EVENT: list[ProgressEvent] = [
    PlanReady("fluoride-hello", [PlannedChange("Add", "Table", "AWS::DynamoDB::Table")]),
    _stack_event("Table", "CREATE_COMPLETE"),
    DeploymentProgress("hello", "IN_PROGRESS", 1, 0, 1, 0),
    ServiceEventSeen("hello", "has started 1 tasks", NOW),
    Note("hello", "Deleted hello."),
    OperationStarted("hello", "deploy", "v2"),
    OperationFinished("hello", "deploy", True, "stable: v2", 3.0),
    ServiceFinished("hello", "stable", "v2", ok=True),
    ForService("hello", Note("hello", "x")),
]


@pytest.mark.parametrize("event", EVERY_EVENT, ids=lambda e: type(e).__name__)
def test_every_event_names_its_service(event: ProgressEvent) -> None:
    assert event.service == "hello"  # type: ignore[union-attr]  # fleet-wide ones: below


def test_fleet_wide_events_name_their_services() -> None:
    assert FleetStarted("deploy", ("a", "b"), 2).services == ("a", "b")
    assert FleetFinished("deploy", ("a",), ("b",), 1.0).services == ("a", "b")


@pytest.mark.parametrize(("event", "text"), [
    (OperationStarted("hello", "deploy", "v2"), "deploy hello (v2): started"),
    (OperationStarted("hello", "delete"), "delete hello: started"),
    (OperationFinished("hello", "deploy", True, "stable: v2", 3.04), "deploy hello done in "
     "3.0 s: stable: v2"),
    (OperationFinished("hello", "create", False, "StackFailed: x", 125), "create hello failed "
     "in 2 min 05 s: StackFailed: x"),
    (FleetFinished("rollback", ("a", "b"), (), 40), "rollback: 2 of 2 service(s) succeeded "
     "in 40 s"),
    (Note("hello", "kept <table>"), "kept <table>"),
])
def test_describe(event: ProgressEvent, text: str) -> None:
    assert describe(event) == text


# -- logging: one line per phase at INFO ---------------------------------------------------

@pytest.mark.parametrize(("event", "level"), [
    (_stack_event("Table", "CREATE_COMPLETE"), logging.DEBUG),  # one resource
    (_stack_event("Table", "CREATE_IN_PROGRESS"), logging.DEBUG),
    (_stack_event("Table", "CREATE_FAILED", "name taken"), logging.INFO),  # the cause
    (_stack_event("fluoride-hello", "CREATE_COMPLETE"), logging.INFO),  # the stack: a phase
    (ForService("hello", _stack_event("Table", "UPDATE_COMPLETE")), logging.DEBUG),
    (ServiceEventSeen("hello", "registered 1 targets in (target-group x)", NOW),
     logging.DEBUG),
    (ServiceEventSeen("hello", "has reached a steady state.", NOW), logging.INFO),
    (DeploymentProgress("hello", "IN_PROGRESS", 1, 0, 1, 0), logging.INFO),
    (Note("hello", "x"), logging.INFO),
    (PlanReady("fluoride-hello", [PlannedChange("Modify", "Service", "T")]), logging.INFO),
    (PlanReady("fluoride-hello", [PlannedChange("Add", f"R{i}", "T") for i in range(5)]),
     logging.DEBUG),  # said in short at INFO: plan_summary
    (OperationStarted("hello", "deploy"), logging.INFO),
    (OperationFinished("hello", "deploy", True, "stable", 1), logging.INFO),
    (OperationFinished("hello", "deploy", False, "RolledBack: x", 1), logging.WARNING),
])
def test_log_level(event: ProgressEvent, level: int) -> None:
    assert log_level(event) == level


@pytest.mark.parametrize(("changes", "text"), [
    ([], "fluoride-hello: no resource changes"),
    ([("Modify", "Service")], "fluoride-hello: plan: Modify Service (T)"),
    ([("Add", f"R{i}") for i in range(28)], "fluoride-hello: plan: 28 to add"),
    ([("Modify", "A"), ("Add", "B"), ("Modify", "C"), ("Remove", "D"), ("Add", "E")],
     "fluoride-hello: plan: 2 to modify, 2 to add, 1 to remove"),
])
def test_plan_summary(changes: list[tuple[str, str]], text: str) -> None:
    plan = PlanReady("fluoride-hello", [PlannedChange(a, i, "T") for a, i in changes])
    assert plan_summary(plan) == text


def test_logging_reporter_keeps_resources_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    report = LoggingReporter()
    with caplog.at_level(logging.INFO, logger="fluoride"):
        report(_stack_event("Table", "CREATE_COMPLETE"))
        report(_stack_event("Table", "CREATE_FAILED", "name taken"))
        report(_stack_event("fluoride-hello", "CREATE_COMPLETE"))
        report(PlanReady("fluoride-hello", [PlannedChange("Add", f"R{i}", "T")
                                            for i in range(9)]))
    assert caplog.messages == ["fluoride-hello: Table CREATE_FAILED: name taken",
                               "fluoride-hello: fluoride-hello CREATE_COMPLETE",
                               "fluoride-hello: plan: 9 to add"]


# -- choosing a reporter: pure -------------------------------------------------------------

@pytest.mark.parametrize(("in_kernel", "tty", "chosen"), [
    (True, True, "html"),
    (True, False, "html"),
    (False, True, "rich"),
    (False, False, "log"),
])
def test_auto_progress(in_kernel: bool, tty: bool, chosen: str) -> None:
    assert auto_progress(in_kernel=in_kernel, stderr_tty=tty) == chosen


@pytest.mark.parametrize(("value", "ok"), [
    (None, True), ("off", True), ("log", True), ("rich", True), ("html", True),
    (print, True), (lambda event: None, True), (LoggingReporter(), True),
    ("loud", False), ("HTML", False), ("", False), (True, False), (3, False),
    (["log"], False),
])
def test_progress_problems(value: object, ok: bool) -> None:
    problems = progress_problems(value)
    assert (problems == []) is ok
    if not ok:
        (problem,) = problems
        assert problem.field == "progress"
        assert repr(value)[:20] in problem.problem
        assert "'off', 'log', 'rich', 'html'" in (problem.allowed or "")


@pytest.mark.parametrize(("progress", "reporter", "fields"), [
    (None, None, []),
    ("log", None, []),
    (None, print, []),
    ("log", print, ["progress"]),  # one or the other
    (None, "log", ["reporter"]),  # a string is progress=, not a reporter
    ("nope", None, ["progress"]),
])
def test_reporter_problems(progress: object, reporter: object, fields: list[str]) -> None:
    assert [p.field for p in reporter_problems(progress, reporter)] == fields


def test_a_bad_progress_is_refused_naming_field_value_and_choices() -> None:
    with pytest.raises(InvalidInput) as caught:
        Fluoride(region="eu-west-1", progress="loud")  # type: ignore[arg-type]
    text = str(caught.value)
    assert "progress: 'loud' is not a way to show progress" in text
    assert "'off', 'log', 'rich', 'html'" in text


def test_a_bad_progress_starts_no_emulator() -> None:
    with pytest.raises(InvalidInput, match="progress"):
        Fluoride.local(progress="verbose")  # type: ignore[arg-type]


@pytest.mark.parametrize(("progress", "kind"), [
    ("off", type(discard)), ("log", LoggingReporter), ("rich", RichProgress),
])
def test_reporter_for(progress: str, kind: type) -> None:
    assert isinstance(reporter_for(progress), kind)


def test_reporter_for_keeps_a_function() -> None:
    seen: list[ProgressEvent] = []
    assert reporter_for(seen.append) == seen.append


def test_default_outside_a_notebook_and_a_terminal_is_logging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stderr", io.StringIO())  # not a TTY
    assert isinstance(default_reporter(), LoggingReporter)
    assert isinstance(Fluoride(region="eu-west-1").reporter, LoggingReporter)


def test_default_on_a_terminal_is_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stderr", Tty())
    assert isinstance(default_reporter(), RichProgress)


# -- notebooks: one block per operation ----------------------------------------------------

class FakeDisplay:
    """IPython's ``display(obj, display_id=True)``: records what each handle shows."""

    def __init__(self) -> None:
        self.handles: list[list[str]] = []  # per handle, every output it showed

    def __call__(self, block: str, display_id: bool) -> Any:
        assert display_id
        outputs = [block]
        self.handles.append(outputs)

        class Handle:
            def update(self, block: str) -> None:
                outputs.append(block)

        return Handle()


def _notebook(keep: int = 12) -> tuple[HtmlReporter, FakeDisplay]:
    display = FakeDisplay()
    return HtmlReporter(display=display, html=lambda text: text, keep=keep), display


def test_two_operations_write_to_two_handles_and_the_first_keeps_its_summary() -> None:
    report, display = _notebook()
    report(OperationStarted("hello", "deploy", "v2"))
    report(_stack_event("Service", "UPDATE_COMPLETE"))
    report(Note("hello", "hello serves v2."))
    report(OperationFinished("hello", "deploy", True, "stable: v2", 20))
    first_final = display.handles[0][-1]
    report(OperationStarted("hello", "rollback"))
    report(Note("hello", "Cancelling"))
    report(OperationFinished("hello", "rollback", True, "stable: v1", 5))

    assert len(display.handles) == 2
    first, second = display.handles
    assert first[-1] == first_final  # the later operation never touched it
    assert "deploy hello done in 20 s: stable: v2" in first[-1]
    folded = first[-1].split("<details>")[1]
    assert folded.index("Service UPDATE_COMPLETE") < folded.index("hello serves v2.")  # in order
    assert "rollback" not in first[-1]
    assert "rollback hello done in 5.0 s: stable: v1" in second[-1]
    assert "deploy" not in second[-1]


def test_stack_events_are_folded_and_lines_are_escaped() -> None:
    report, display = _notebook(keep=2)
    report(OperationStarted("hello", "create"))
    for i in range(3):
        report(Note("hello", f"step {i} <b>"))
    report(_stack_event("Table", "CREATE_COMPLETE"))
    running = display.handles[0][-1]
    visible, folded = running.split("<details>")
    assert "step 0" not in visible  # only the newest two lines while it runs
    assert "step 2 &lt;b&gt;" in visible
    assert "Table CREATE_COMPLETE" in folded
    assert "Table" not in visible
    report(OperationFinished("hello", "create", False, "StackFailed: <x>", 9))
    final = display.handles[0][-1]
    summary, everything = final.split("<details>")
    assert "create hello failed in 9.0 s: StackFailed: &lt;x&gt;" in summary
    assert "step 0" not in summary  # the lines fold away under the summary ...
    for text in ("step 0", "step 2", "Table CREATE_COMPLETE"):  # ... all of them
        assert text in everything
    assert len(display.handles) == 1


def test_nested_operations_stay_in_the_outer_block() -> None:
    report, display = _notebook()
    report(OperationStarted("hello", "update"))
    report(OperationStarted("hello", "wait_stable"))
    report(OperationFinished("hello", "wait_stable", True, "stable", 1))
    assert "update hello" in display.handles[0][-1]
    report(OperationFinished("hello", "update", True, "hello is complete", 2))
    assert len(display.handles) == 1
    assert "update hello done" in display.handles[0][-1]


def test_events_outside_an_operation_get_a_block_of_their_own() -> None:
    report, display = _notebook()
    report(OperationStarted("hello", "delete"))
    report(OperationFinished("hello", "delete", True, "deleted", 1))
    report(Note("hello", "a stray note"))
    assert len(display.handles) == 2
    assert "a stray note" in display.handles[1][-1]
    assert "a stray note" not in display.handles[0][-1]


# -- terminals -----------------------------------------------------------------------------

def test_rich_progress_leaves_summaries_and_notes_not_resources() -> None:
    out = io.StringIO()
    report = RichProgress(Console(file=out, width=200, force_terminal=False))
    report(OperationStarted("hello", "create"))
    for i in range(30):
        report(_stack_event(f"Resource{i}", "CREATE_COMPLETE"))
    report(_stack_event("Table", "CREATE_FAILED", "name taken"))
    report(Note("hello", "Removed what the failed create kept"))
    report(OperationFinished("hello", "create", False, "StackFailed: name taken", 30))
    lines = out.getvalue().splitlines()
    assert lines == [
        "fluoride-hello: Table CREATE_FAILED: name taken",
        "Removed what the failed create kept",
        "✘ create hello failed in 30 s: StackFailed: name taken",
    ]


# -- end to end on the emulator ------------------------------------------------------------

def test_each_operation_gets_its_own_block_on_the_emulator() -> None:
    report, display = _notebook()
    events: list[ProgressEvent] = []

    def both(event: ProgressEvent) -> None:
        events.append(event)
        report(event)

    with Fluoride.local(progress=both) as fl:
        svc = fl.service("blocks")
        svc.create()
        fl.emulator.push_image("fluoride/blocks", "v1")
        svc.deploy("v1")
        svc.delete()

    started = [(e.operation, e.service) for e in events if isinstance(e, OperationStarted)]
    assert started == [("create", "blocks"), ("deploy", "blocks"), ("delete", "blocks")]
    finished = [e for e in events if isinstance(e, OperationFinished)]
    assert [e.ok for e in finished] == [True, True, True]
    assert len(display.handles) == 3
    for handle, word in zip(display.handles, ("create", "deploy", "delete"), strict=True):
        assert f"{word} blocks done" in handle[-1]
        assert all(other not in handle[-1].split("<details>")[0]
                   for other in {"create", "deploy", "delete"} - {word})
    assert "stable: v1" in display.handles[1][-1]
    assert all(getattr(e, "service", "blocks") == "blocks" for e in events)


# -- the summary line of a failed operation (pure) -----------------------------------------

@pytest.mark.parametrize(("error", "summary"), [
    (RolledBack("The deployment of v2 was rolled back: bad.\nmore"),
     "RolledBack: The deployment of v2 was rolled back: bad."),
    (InvalidInput("deploy() was refused"), "InvalidInput: deploy() was refused"),
    (KeyboardInterrupt(), "interrupted"),
    (KeyError("x"), "KeyError: 'x'"),
    (RuntimeError("first\nsecond"), "RuntimeError: first"),
])
def test_failure_summary(error: BaseException, summary: str) -> None:
    assert failure_summary(error) == summary
