"""One live line per service while a fleet operation runs (``fluoride deploy --select``)."""

from __future__ import annotations

import attrs
import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from fluoride.events import (
    FleetStarted,
    ProgressEvent,
    ServiceFinished,
    describe,
    service_of,
)

__all__ = ["FleetLines"]


@attrs.define
class FleetLines:
    """Progress of a fleet operation: on a terminal one live line per service (its newest
    event), elsewhere each event as a line of its own."""

    console: Console
    _rows: dict[str, tuple[str, str]] = attrs.field(factory=dict, init=False)
    _live: Live | None = attrs.field(default=None, init=False)

    def __enter__(self) -> FleetLines:
        if self.console.is_terminal:
            self._live = Live(self._table(), console=self.console, refresh_per_second=8,
                              transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def __call__(self, event: ProgressEvent) -> None:
        if isinstance(event, FleetStarted):
            self._rows.update(dict.fromkeys(event.services, ("dim", "queued")))
        service = service_of(event)
        if service is not None:
            style = "cyan"
            if isinstance(event, ServiceFinished):
                style = "green" if event.ok else "red"
            self._rows[service] = (style, describe(event).removeprefix(f"{service}: "))
        if self._live is not None:
            self._live.update(self._table())
        else:
            self.console.print(describe(event), highlight=False, markup=False, emoji=False)

    def _table(self) -> Table:
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column("service", style="bold")
        table.add_column("progress", overflow="ellipsis", no_wrap=True)
        for name, (style, text) in self._rows.items():
            table.add_row(name, f"[{style}]{click.unstyle(text)}[/]")
        return table
