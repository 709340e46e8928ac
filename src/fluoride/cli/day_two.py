"""``fluoride spec``, ``fluoride plan`` and ``fluoride update``: change a running service;
``fluoride exec``: run a command in one of its tasks.

Parse, call :class:`~fluoride.service.Service`, render; nothing else. Registered on the
main group by :data:`COMMANDS`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from fluoride.cli import Options, _console, client, show_status, spec_from
from fluoride.errors import ConfigError
from fluoride.names import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from fluoride.infra.plan import Plan

__all__ = ["COMMANDS"]

_CONFIG = click.option(
    "--config", "config", required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="fluoride.toml with the service's new spec (`fluoride spec NAME` starts one).")


def _show_plan(plan: Plan, output: str) -> None:
    if output == "json":
        from fluoride.cli.render import dumps

        click.echo(dumps(plan))
    else:
        _console().print(str(plan), highlight=False, markup=False)


@click.command("spec")
@click.argument("name")
@click.pass_obj
def spec(opts: Options, name: str) -> None:
    """Print NAME's live spec as fluoride.toml (`fluoride spec NAME > fluoride.toml`)."""
    from fluoride.spec import dumps_config

    with client(opts) as fl:
        live = fl.service(name).spec()
    click.echo(dumps_config(live, name=name), nl=False)


@click.command("plan")
@click.argument("name")
@_CONFIG
@click.pass_obj
def plan(opts: Options, name: str, config: Path) -> None:
    """Show what `fluoride update NAME --config F` would change; nothing changes."""
    new = spec_from(config)
    new.validate()
    with client(opts) as fl:
        _show_plan(fl.service(name).plan(new), opts.output)


@click.command("update")
@click.argument("name")
@_CONFIG
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@click.option("--allow-replacement", is_flag=True,
              help="Let a store be replaced or removed (the old one is kept with its data).")
@click.option("--no-wait", is_flag=True, help="Start the update and return.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True),
              default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds to wait for the new settings to serve.")
@click.pass_obj
def update(opts: Options, name: str, config: Path, yes: bool, allow_replacement: bool,
           no_wait: bool, timeout: float) -> None:
    """Apply the spec in --config to the running service NAME (the image stays).

    Shows the plan and asks first; --yes skips the question. Without a terminal to ask
    on, --yes is required.
    """
    new = spec_from(config)
    new.validate()
    if not yes and not sys.stdin.isatty():
        raise ConfigError(
            f"Refusing to update {name} without confirmation: there is no terminal to "
            "ask on.",
            hint="Look at `fluoride plan` first, then pass --yes.",
        )
    with client(opts) as fl:
        svc = fl.service(name)
        if not yes:
            the_plan = svc.plan(new)
            _show_plan(the_plan, "table")
            if the_plan.empty:
                return
            if not click.confirm(f"Apply these changes to {name}?", err=True):
                _console(stderr=True).print("Nothing was changed.")
                sys.exit(1)
        status = svc.update(new, wait=not no_wait, timeout=timeout,
                            allow_replacement=allow_replacement)
        show_status([status], opts)


@click.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.option("--task", "task", default=None, metavar="ID",
              help="The task (id or ARN); default: one of the service's running tasks.")
@click.option("--container", default="app", show_default=True, help="The container.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_obj
def exec_(opts: Options, name: str, task: str | None, container: str,
          command: tuple[str, ...]) -> None:
    """Run a command in a running task of NAME through ECS Exec: `fluoride exec NAME -- sh`.

    Needs AWS's session-manager-plugin and exec_enabled = true in the service's spec.
    Exits with the session's status.
    """
    with client(opts) as fl:
        status = fl.service(name).exec(list(command), container=container, task=task)
    sys.exit(status)


#: The commands this module adds to ``fluoride``.
COMMANDS = (spec, plan, update, exec_)
