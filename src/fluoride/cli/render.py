"""Rendering for the CLI: rich tables and a rich progress reporter. No logic lives here."""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
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

__all__ = ["RichReporter", "table", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """attrs values, enums and datetimes as plain JSON-ready data."""
    if attrs.has(type(value)):
        return {k: to_jsonable(v) for k, v in attrs.asdict(value, recurse=False).items()}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value), indent=2, sort_keys=True)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> Table:
    out = Table(title=title, title_justify="left")
    for column in columns:
        out.add_column(column)
    for row in rows:
        out.add_row(*("" if v is None else str(v) for v in row))
    return out


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
