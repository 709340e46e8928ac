"""Rendering for the CLI: rich tables and a rich progress reporter. No logic lives here."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import attrs
from cattrs.preconf.json import JsonConverter, make_converter
from rich.console import Console
from rich.table import Table

from fluoride.events import (
    DeploymentProgress,
    Note,
    PlanReady,
    ProgressEvent,
    ServiceEventSeen,
    StackEventSeen,
    describe,
)

if TYPE_CHECKING:
    from fluoride._release import Release
    from fluoride.service import ServiceStatus

__all__ = ["RichReporter", "dumps", "releases_table", "status_table", "table"]


@cache
def _json() -> JsonConverter:
    # cattrs' JSON preset: attrs values as dicts of their fields, enums as their values,
    # datetimes in ISO 8601.
    return make_converter()


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """``value`` (attrs values, lists and dicts of them) as JSON with sorted keys."""
    if isinstance(value, list) and type(value) is not list:
        value = list(value)  # ReleaseList, StatusList, LogLines: cattrs knows plain lists
    return _json().dumps(value, indent=indent, sort_keys=True)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> Table:
    out = Table(title=title, title_justify="left")
    for column in columns:
        out.add_column(column)
    for row in rows:
        out.add_row(*("" if v is None else str(v) for v in row))
    return out


def releases_table(title: str, releases: Sequence[Release]) -> Table:
    """Releases, one a row: when, tag, kind, outcome, who, digest (or image), and what
    changed (a settings release) or why it failed."""
    return table(
        title, ["when (UTC)", "release", "kind", "outcome", "by", "digest / image", "note"],
        [
            (f"{r.deployed_at:%Y-%m-%d %H:%M:%S}", r.tag or "", r.kind,
             r.outcome.value + (" (rollback)" if r.rollback else ""),
             (r.deployed_by or "?").rsplit("/", 1)[-1], r.digest or r.image,
             release_note(r))
            for r in releases
        ],
    )


def release_note(release: Release) -> str:
    """What a history row says besides the release: the settings changed, then why it
    failed (either may be missing)."""
    parts = [release.change if release.kind == "settings" else None, release.reason]
    return "; ".join(p for p in parts if p)


def status_table(statuses: Sequence[ServiceStatus]) -> Table:
    """Services, one a row: state, stack status, task counts, what serves, URL."""
    return table(
        "Fluoride services",
        ["service", "state", "stack status", "tasks (run/want/pend)", "image", "url",
         "environment"],
        [
            (s.name, s.state.value, s.stack_status, f"{s.running}/{s.desired}/{s.pending}",
             s.release.short if s.release else (s.image or "(none yet)"), s.url,
             s.environment or "(own ALB)")
            for s in statuses
        ],
    )


@attrs.define
class RichReporter:
    """Shows progress events on a rich console, one line each, coloured by outcome."""

    console: Console

    def __call__(self, event: ProgressEvent) -> None:
        text = describe(event)
        style = "dim"
        if isinstance(event, StackEventSeen):
            if event.status.endswith("FAILED"):
                style = "red"
            elif event.status.endswith("COMPLETE"):
                style = "green"
        elif isinstance(event, PlanReady):
            self.console.print(f"[bold]Plan for {event.stack}[/]: {len(event.changes)} change(s)")
            for change in event.changes:
                self.console.print(f"  {change.action:<7} {change.logical_id} "
                                   f"[dim]{change.resource_type}[/]", highlight=False)
            return
        elif isinstance(event, DeploymentProgress):
            style = "cyan"
        elif isinstance(event, ServiceEventSeen):
            style = "yellow"
        elif isinstance(event, Note):
            style = "bold"
        self.console.print(text, style=style, highlight=False, markup=False, emoji=False)
