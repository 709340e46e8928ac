"""``--select`` for ``fluoride deploy``, ``rollback`` and ``status``: many services at once.

:func:`register` adds the fleet options to those commands of the ``fluoride`` group, so
``fluoride deploy --select "team-*" v2`` deploys ``v2`` to every selected service, shows
one live line per service while it runs (on a terminal), then a summary table, and exits
with status 1 when any service failed. Like the rest of the CLI: parse, call the SDK,
render.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

    from fluoride.cli.fleet_lines import FleetLines

__all__ = ["deploy_many", "rollback_many", "status_many"]


def _context() -> tuple[Any, Console, Console]:
    from fluoride.cli import _console

    return click.get_current_context().obj, _console(), _console(stderr=True)


def deploy_many(*, select: Sequence[str], max_parallel: int, name: str | None,
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


def rollback_many(*, select: Sequence[str], max_parallel: int, name: str | None,
              to: str | None, no_wait: bool, timeout: float) -> None:
    if name is not None or to is not None or no_wait:
        raise click.UsageError("With --select give no NAME, --to or --no-wait: each "
                               "service goes back to its own previous release.")
    _run_fleet("rollback", select, max_parallel,
               lambda fl, sel, rep: fl.rollback_many(select=sel.patterns or "*",
                                                     tags=sel.tags,
                                                     max_parallel=max_parallel,
                                                     timeout=timeout, reporter=rep))


def status_many(*, select: Sequence[str], max_parallel: int, name: str | None) -> None:
    from fluoride.cli import client, show_status
    from fluoride.selection import Selector

    opts, _, _ = _context()
    if name is not None:
        raise click.UsageError("Give a NAME or --select, not both.")

    selector = Selector.parse(select)
    with client(opts) as fl:
        statuses = fl.status(*selector.patterns, tags=selector.tags,
                             max_parallel=max_parallel)
    show_status(statuses, opts)


def _run_fleet(operation: str, select: Sequence[str], max_parallel: int,
               call: Callable[[Any, Any, FleetLines], Any]) -> None:
    from fluoride.cli import client
    from fluoride.cli.fleet_lines import FleetLines
    from fluoride.cli.render import dumps, table
    from fluoride.selection import Selector

    opts, out, err = _context()
    selector = Selector.parse(select)
    with client(opts) as fl, FleetLines(err) as lines:
        result = call(fl, selector, lines)
    if opts.output == "json":
        click.echo(dumps(result.to_dict()))
    else:
        title = (f"{operation} ({selector}): {len(result.succeeded)} of {len(result)} "
                 f"succeeded in {result.seconds:.0f} s")
        out.print(table(title, ["service", "outcome", "serving", "detail"], result.rows()))
    if not result.ok:
        sys.exit(1)
