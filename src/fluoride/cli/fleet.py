"""``--select`` for ``fluoride deploy``, ``rollback`` and ``status``: many services at once.

:func:`register` adds the fleet options to those commands of the ``fluoride`` group, so
``fluoride deploy --select "team-*" v2`` deploys ``v2`` to every selected service, shows
one live line per service while it runs (on a terminal), then a summary table, and exits
with status 1 when any service failed. Like the rest of the CLI: parse, call the SDK,
render.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any

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

__all__ = ["FleetLines", "register"]

SELECT_HELP = ("Work on many services: a name, a glob such as 'team-*', or a stack tag "
               "such as team=payments (repeat to combine; names and globs add up, tags "
               "narrow). '*' is every service.")


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


def _wrap(command: click.Command, fleet: Callable[..., None]) -> None:
    """Give ``command`` the fleet options; with ``--select`` it runs ``fleet`` instead."""
    original = command.callback
    assert original is not None
    command.params.insert(0, click.Option(["--select", "select"], multiple=True,
                                          metavar="NAME|GLOB|KEY=VALUE", help=SELECT_HELP))
    command.params.insert(1, click.Option(["--max-parallel"], type=click.IntRange(min=1),
                                          default=4, show_default=True,
                                          help="With --select: how many services at once."))
    name = next(p for p in command.params if p.name == "name")
    name.required = False  # with --select there is no NAME

    @functools.wraps(original)
    def callback(*, select: Sequence[str], max_parallel: int, **kwargs: Any) -> Any:
        if select:
            return fleet(select=select, max_parallel=max_parallel, **kwargs)
        if kwargs.get("name") is None and command.name != "status":
            raise click.UsageError("Give the service NAME, or --select.")
        return original(**kwargs)

    command.callback = callback


def register(main: click.Group) -> None:
    """Add ``--select`` and ``--max-parallel`` to ``deploy``, ``rollback`` and ``status``."""
    _wrap(main.commands["deploy"], _deploy)
    _wrap(main.commands["rollback"], _rollback)
    _wrap(main.commands["status"], _status)


def _context() -> tuple[Any, Console, Console]:
    from fluoride.cli import err, out

    return click.get_current_context().obj, out, err


def _deploy(*, select: Sequence[str], max_parallel: int, name: str | None,
            image: str | None, no_wait: bool, timeout: float) -> None:
    # With --select the one positional argument is the image: `deploy --select 'a-*' v2`.
    if image is not None:
        raise click.UsageError("With --select give only the IMAGE, no NAME.")
    if no_wait:
        raise click.UsageError("--no-wait works on one service; a fleet deploy waits.")
    _run_fleet("deploy", select, max_parallel,
               lambda fl, sel, rep: fl.deploy_many(select=sel.patterns or "*",
                                                   tags=sel.tags, image=name,
                                                   max_parallel=max_parallel,
                                                   timeout=timeout, reporter=rep))


def _rollback(*, select: Sequence[str], max_parallel: int, name: str | None,
              to: str | None, no_wait: bool, timeout: float) -> None:
    if name is not None or to is not None or no_wait:
        raise click.UsageError("With --select give no NAME, --to or --no-wait: each "
                               "service goes back to its own previous release.")
    _run_fleet("rollback", select, max_parallel,
               lambda fl, sel, rep: fl.rollback_many(select=sel.patterns or "*",
                                                     tags=sel.tags,
                                                     max_parallel=max_parallel,
                                                     timeout=timeout, reporter=rep))


def _status(*, select: Sequence[str], max_parallel: int, name: str | None) -> None:
    from fluoride.cli import client, run, show_status
    from fluoride.selection import Selector

    opts, _, _ = _context()
    if name is not None:
        raise click.UsageError("Give a NAME or --select, not both.")

    def body() -> None:
        selector = Selector.parse(select)
        with client(opts) as fl:
            statuses = fl.status(*selector.patterns, tags=selector.tags,
                                 max_parallel=max_parallel)
        show_status(statuses, opts.output)

    run(body)


def _run_fleet(operation: str, select: Sequence[str], max_parallel: int,
               call: Callable[[Any, Any, FleetLines], Any]) -> None:
    from fluoride.cli import client, run
    from fluoride.cli.render import dumps, table
    from fluoride.selection import Selector

    opts, out, err = _context()
    failed = False

    def body() -> None:
        nonlocal failed
        selector = Selector.parse(select)
        with client(opts) as fl, FleetLines(err) as lines:
            result = call(fl, selector, lines)
        failed = not result.ok
        if opts.output == "json":
            click.echo(dumps(result.to_dict()))
            return
        title = (f"{operation} ({selector}): {len(result.succeeded)} of {len(result)} "
                 f"succeeded in {result.seconds:.0f} s")
        out.print(table(title, ["service", "outcome", "serving", "detail"], result.rows()))

    run(body)
    if failed:
        sys.exit(1)
