"""``fluoride env create|status|delete NAME``: environments (a shared ECS gateway that
services join with ``gateway = "NAME"`` in their ``fluoride.toml``). Parses, calls
:class:`~fluoride.environment.Environment`, renders."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from fluoride.cli import Options
    from fluoride.environment import EnvironmentStatus

__all__ = ["env"]


def _show(status: EnvironmentStatus, opts: Options) -> None:
    from fluoride.cli import _console, show
    from fluoride.cli.render import table

    if opts.json:
        show(status)
        return
    albs = "?" if status.current_albs is None else str(status.current_albs)
    _console().print(table(
        f"Environment {status.name}", ["field", "value"],
        [("state", f"{status.state.value} ({status.stack_status})"),
         ("gateway", status.gateway_arn or ""),
         ("gateway status", status.gateway_status or ""),
         ("scheme", status.scheme),
         ("shared load balancers", f"{albs} of at most {status.max_albs}"),
         ("services", ", ".join(status.services) or "none")]))


@click.group()
def env() -> None:
    """Environments: one shared ECS gateway (HTTPS, generated hostnames) for many services."""


@env.command()
@click.argument("name")
@click.option("--config", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML with the environment's spec (scheme, max_albs, ingress_cidrs, "
                   "waf_acl_arn, access_log_retention_days, vpc_id, subnet_ids).")
@click.pass_obj
def create(opts: Options, name: str, config: Path | None) -> None:
    """Create the environment NAME (stack fluoride-env-NAME)."""
    from fluoride.cli import client
    from fluoride.spec import EnvironmentSpec
    from fluoride.spec._toml import load_environment_config

    spec = EnvironmentSpec() if config is None else load_environment_config(config)[1]
    with client(opts) as fl:
        _show(fl.environment(name).create(spec), opts)


@env.command()
@click.argument("name")
@click.pass_obj
def status(opts: Options, name: str) -> None:
    """Show the environment NAME: its gateway and the services behind it."""
    from fluoride.cli import client

    with client(opts) as fl:
        _show(fl.environment(name).status(), opts)


@env.command()
@click.argument("name")
@click.pass_obj
def delete(opts: Options, name: str) -> None:
    """Delete the environment NAME (refused while services use it)."""
    from fluoride.cli import client

    with client(opts) as fl:
        fl.environment(name).delete()
    click.echo(f"Deleted environment {name}.")
