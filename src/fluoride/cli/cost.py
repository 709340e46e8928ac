"""``fluoride cost``: a service's monthly estimate before it is created. Parses, calls
:meth:`Service.estimate`, renders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from fluoride.cli import Options
    from fluoride.cost import CostEstimate
    from fluoride.service import Service
    from fluoride.spec import ServiceSpec

__all__ = ["cost", "estimate_note", "estimate_table"]


def estimate_table(estimate: CostEstimate) -> object:
    """A rich table of the estimate's lines, with the totals in its caption."""
    from fluoride.cli.render import table

    rendered = table(
        f"Monthly estimate in {estimate.region} (prices as of "
        f"{estimate.prices_as_of.isoformat()})",
        ["item", f"{estimate.currency}/month", "basis"],
        [(line.item, f"{line.monthly:,.2f}" + ("" if line.in_total else " *"), line.basis)
         for line in estimate.lines],
    )
    rendered.caption = (f"total {estimate.total:,.2f} {estimate.currency}/month at min_count, "
                        f"{estimate.total_at_max_count:,.2f} at max_count (* not in the total)")
    return rendered


@click.command()
@click.argument("name", required=False)
@click.option("--config", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="fluoride.toml with the service's spec (default: the default spec).")
@click.option("--output", "output", type=click.Choice(["table", "json"]), default=None,
              help="Overrides the global --output.")
@click.option("--refresh-prices", is_flag=True,
              help="Read current prices from the AWS Price List API (needs credentials "
                   "and pricing:GetProducts) instead of the shipped table.")
@click.option("--services", "services", type=int, default=None,
              help="Compare, for this many services, a load balancer each against one "
                   "environment's shared gateway (load balancer hours only).")
@click.pass_obj
def cost(opts: Options, name: str | None, config: Path | None, output: str | None,
         refresh_prices: bool, services: int | None) -> None:
    """Estimate NAME's monthly cost in USD before creating it (no AWS call unless
    --refresh-prices); with --services N, own ALBs against one gateway for N services."""
    from fluoride.cli import _console, client
    from fluoride.spec import ServiceSpec, load_config

    if services is not None:
        from fluoride.cost import compare_ingress

        with client(opts) as fl:
            comparison = compare_ingress(services, region=fl.region)
        if (output or opts.output) == "json":
            click.echo(json.dumps(comparison.to_json(), indent=2, sort_keys=True))
        else:
            click.echo(str(comparison))
        return

    config_name, spec = (None, ServiceSpec()) if config is None else load_config(config)
    with client(opts) as fl:
        prices = None
        if refresh_prices:
            from fluoride.infra.price_list import refresh_prices as refresh

            prices = refresh(fl.aws, fl.region)
        estimate = fl.service(name or config_name or "service").estimate(spec, prices=prices)
    if (output or opts.output) == "json":
        click.echo(json.dumps(estimate.to_json(), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        _console().print(estimate_table(estimate))


def estimate_note(service: Service, spec: ServiceSpec) -> str | None:
    """One line with the estimate's total for ``create`` to show first; ``None`` when the
    region is not in the price table (creating does not depend on the estimate)."""
    from fluoride.errors import FluorideError

    try:
        estimate = service.estimate(spec)
    except FluorideError:
        return None
    return (f"Estimated cost: {estimate.total:,.2f} {estimate.currency}/month at min_count, "
            f"{estimate.total_at_max_count:,.2f} at max_count (list prices as of "
            f"{estimate.prices_as_of.isoformat()}; `fluoride cost` shows each line).")
