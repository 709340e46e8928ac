"""Reporters: plain logging by default, live HTML in notebooks."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest

from fluoride.events import (
    HtmlReporter,
    LoggingReporter,
    Note,
    StackEventSeen,
    default_reporter,
    describe,
)

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def test_default_outside_a_notebook_is_logging() -> None:
    assert isinstance(default_reporter(), LoggingReporter)


def test_logging_reporter(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="fluoride"):
        LoggingReporter()(StackEventSeen("fluoride-x", "Table", "AWS::DynamoDB::Table",
                                         "CREATE_FAILED", "name taken", NOW))
    assert "fluoride-x: Table CREATE_FAILED: name taken" in caplog.text


def test_html_reporter_updates_one_block_and_escapes() -> None:
    shown: list[str] = []

    class Handle:
        def update(self, block: str) -> None:
            shown.append(block)

    def display(block: str, display_id: bool) -> Handle:
        assert display_id
        shown.append(block)
        return Handle()

    def html(text: str) -> Any:
        return text

    reporter = HtmlReporter(display=display, html=html, keep=2)
    for i in range(3):
        reporter(Note(f"step {i} <b>"))
    assert len(shown) == 3
    assert "step 0" not in shown[-1]  # only the newest two lines stay
    assert "step 2 &lt;b&gt;" in shown[-1]
    assert describe(Note("x")) == "x"


def test_status_shows_as_a_table_in_notebooks() -> None:
    from fluoride.infra.stack import StackState
    from fluoride.service import ServiceStatus

    status = ServiceStatus(
        name="hello<1>", state=StackState.ROLLED_BACK, stack_status="UPDATE_ROLLBACK_COMPLETE",
        desired=2, running=1, pending=1, url="http://x", outputs={}, image=None,
        reason="Resource update cancelled",
    )
    html = status._repr_html_()
    assert "<caption>hello&lt;1&gt;</caption>" in html
    assert "rolled back (UPDATE_ROLLBACK_COMPLETE)" in html
    assert "1 / 2 / 1" in html
    assert "none yet" in html
    assert "Resource update cancelled" in html
