"""The ``fluoride`` command: parses options, calls the SDK, renders. Nothing else."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import attrs
import click
from rich.console import Console

from fluoride.cli.render import RichReporter, dumps, table
from fluoride.client import Fluoride
from fluoride.errors import DeploymentFailed, FluorideError
from fluoride.events import describe
from fluoride.infra.template import load_template
from fluoride.names import DEFAULT_TIMEOUT
from fluoride.releases.history import Release
from fluoride.service import ServiceStatus
from fluoride.spec import ServiceSpec, load_config

F = TypeVar("F", bound=Callable[..., Any])

out = Console()
err = Console(stderr=True)


@attrs.frozen
class Options:
    profile: str | None
    region: str | None
    endpoint_url: str | None
    local: bool
    output: str


@contextmanager
def client(opts: Options) -> Iterator[Fluoride]:
    reporter = RichReporter(err)
    if opts.local:
        with Fluoride.local(reporter=reporter) as fl:
            yield fl
    else:
        yield Fluoride(profile=opts.profile, region=opts.region,
                       endpoint_url=opts.endpoint_url, reporter=reporter)


def run(fn: Callable[[], None]) -> None:
    """Run a command body; a FluorideError becomes a clear message and exit status 1."""
    try:
        fn()
    except FluorideError as exc:
        err.print(f"[red bold]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err.print(f"[yellow]hint:[/] {exc.hint}", highlight=False)
        sys.exit(1)


def show_status(statuses: list[ServiceStatus], output: str) -> None:
    if output == "json":
        click.echo(dumps(statuses))
        return
    out.print(table(
        "Fluoride services",
        ["service", "state", "stack status", "tasks (run/want/pend)", "image", "url"],
        [
            (s.name, s.state.value, s.stack_status, f"{s.running}/{s.desired}/{s.pending}",
             s.release.short if s.release else (s.image or "(none yet)"), s.url)
            for s in statuses
        ],
    ))
    for s in statuses:  # a running deployment's progress (Service.status() only)
        if s.deployment is not None:
            out.print(f"deploying: {describe(s.deployment)}", highlight=False)


@click.group()
@click.option("--profile", help="AWS profile to use.")
@click.option("--region", help="AWS region (default: your AWS configuration).")
@click.option("--endpoint-url", help="Send every AWS call here (an emulator).")
@click.option("--local", is_flag=True, help="Run against a fresh embedded emulator.")
@click.option("--output", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.version_option(package_name="fluoride")
@click.pass_context
def main(ctx: click.Context, profile: str | None, region: str | None,
         endpoint_url: str | None, local: bool, output: str) -> None:
    """Fluoride: a microservice in a box on AWS."""
    ctx.obj = Options(profile, region, endpoint_url, local, output)


@main.command()
@click.argument("name")
@click.option("--config", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="fluoride.toml with the service's spec.")
@click.option("--image", help="Image to run from the start (default: none until deploy).")
@click.pass_obj
def create(opts: Options, name: str, config: Path | None, image: str | None) -> None:
    """Create the service NAME."""
    def body() -> None:
        spec = ServiceSpec() if config is None else load_config(config)[1]
        spec.validate()
        with client(opts) as fl:
            status = fl.service(name).create(spec, image=image)
            show_status([status], opts.output)
    run(body)


@main.command()
@click.argument("name", required=False)
@click.pass_obj
def status(opts: Options, name: str | None) -> None:
    """Show NAME's status, or every service's."""
    def body() -> None:
        with client(opts) as fl:
            statuses = [fl.service(name).status()] if name else fl.status()
            show_status(statuses, opts.output)
    run(body)


@main.command("list")
@click.pass_obj
def list_(opts: Options) -> None:
    """List every Fluoride service in the account and region."""
    def body() -> None:
        with client(opts) as fl:
            names = [s.name for s in fl.services()]
        if opts.output == "json":
            click.echo(dumps(names))
        else:
            out.print(table("Fluoride services", ["service"], [(n,) for n in names]))
    run(body)


@main.command()
@click.argument("name")
@click.option("--purge-data", is_flag=True, help="Also delete the table, bucket, secret "
              "and image repository (every object version). Cannot be undone.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def delete(opts: Options, name: str, purge_data: bool, yes: bool) -> None:
    """Delete the service NAME (its data is kept unless --purge-data)."""
    def body() -> None:
        if not yes:
            what = "and ALL its data " if purge_data else ""
            click.confirm(f"Delete {name} {what}?", abort=True, err=True)
        with client(opts) as fl:
            result = fl.service(name).delete(purge_data=purge_data)
        if opts.output == "json":
            click.echo(dumps(result))
    run(body)


@main.command()
@click.option("--config", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Render with this fluoride.toml's environment variables.")
def template(config: Path | None) -> None:
    """Print the CloudFormation template Fluoride uses."""
    def body() -> None:
        from fluoride.spec import render_environment

        spec = ServiceSpec() if config is None else load_config(config)[1]
        # With its comments: they say why each resource is there (the SDK sends it without).
        click.echo(render_environment(load_template(), spec.environment, keep_comments=True),
                   nl=False)
    run(body)


@main.command()
@click.option("--port", type=int, default=0, help="Port on 127.0.0.1 (default: a free one).")
def local(port: int) -> None:
    """Run the embedded emulator as a server for other tools, until Ctrl-C."""
    def body() -> None:
        from fluoride.local import start_emulator

        emulator = start_emulator(port=port)
        click.echo(f"Fluoride emulator on {emulator.endpoint_url}\n"
                   "Point your tools at it:\n"
                   f"  export AWS_ENDPOINT_URL={emulator.endpoint_url}\n"
                   "  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing\n"
                   f"  export AWS_DEFAULT_REGION={emulator.region}\n"
                   f"  fluoride --endpoint-url {emulator.endpoint_url} list\n"
                   "Ctrl-C stops it.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            emulator.stop()
    run(body)


@main.command()
@click.option("--name", default="hello", show_default=True)
def demo(name: str) -> None:
    """A tour of Fluoride on the embedded emulator (no AWS account needed)."""
    def body() -> None:
        from fluoride.cli.demo import run_demo

        run_demo(name, console=err)
    run(body)


# -- releases ----------------------------------------------------------------------------
# deploy, rollback, history, push: parse, call Service, render. Nothing else.


def show_releases(title: str, releases: list[Release], output: str) -> None:
    if output == "json":
        click.echo(dumps(releases))
        return
    out.print(table(
        title, ["when (UTC)", "release", "outcome", "by", "digest / image", "note"],
        [
            (f"{r.deployed_at:%Y-%m-%d %H:%M:%S}", r.tag or "", r.outcome.value,
             (r.deployed_by or "?").rsplit("/", 1)[-1], r.digest or r.image,
             ("rollback" if r.rollback else "") + (f" {r.reason}" if r.reason else ""))
            for r in releases
        ],
    ))


@contextmanager
def failure_details() -> Iterator[None]:
    """Show a failed deployment's stopped-task reasons and what serves now, then re-raise."""
    try:
        yield
    except DeploymentFailed as exc:
        for reason in exc.reasons:
            err.print(f"[red]stopped task:[/] {reason}", highlight=False)
        if isinstance(exc.serving, Release):
            err.print(f"[green]serving:[/] {exc.serving.short}", highlight=False)
        raise


@main.command()
@click.argument("name")
@click.argument("image", required=False)
@click.option("--no-wait", is_flag=True, help="Start the deployment and return.")
@click.option("--timeout", type=float, default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds to wait before cancelling (the previous release serves again).")
@click.pass_obj
def deploy(opts: Options, name: str, image: str | None, no_wait: bool, timeout: float) -> None:
    """Deploy IMAGE to NAME: a tag or digest in its repository, a full image reference,
    or (without IMAGE) the newest image pushed there."""
    def body() -> None:
        with client(opts) as fl, failure_details():
            release = fl.service(name).deploy(image, wait=not no_wait, timeout=timeout)
        show_releases(f"Deployed to {name}", [release], opts.output)
    run(body)


@main.command()
@click.argument("name")
@click.option("--to", "to", help="A tag or digest to go back to (default: the last release "
              "that was stable before the current one).")
@click.option("--no-wait", is_flag=True, help="Start the rollback and return.")
@click.option("--timeout", type=float, default=DEFAULT_TIMEOUT, show_default=True)
@click.pass_obj
def rollback(opts: Options, name: str, to: str | None, no_wait: bool, timeout: float) -> None:
    """Roll NAME back (a running deployment is cancelled)."""
    def body() -> None:
        with client(opts) as fl, failure_details():
            release = fl.service(name).rollback(to, wait=not no_wait, timeout=timeout)
        show_releases(f"{name} now serves", [release], opts.output)
    run(body)


@main.command()
@click.argument("name")
@click.option("--limit", type=int, default=20, show_default=True, help="How many to show.")
@click.pass_obj
def history(opts: Options, name: str, limit: int) -> None:
    """Show NAME's releases, newest first."""
    def body() -> None:
        with client(opts) as fl:
            releases = fl.service(name).history()
        show_releases(f"Releases of {name}", releases[:limit], opts.output)
    run(body)


@main.command()
@click.argument("name")
@click.argument("image")
@click.option("--tag", help="Tag in the service's repository (default: IMAGE's tag).")
@click.pass_obj
def push(opts: Options, name: str, image: str, tag: str | None) -> None:
    """Push the local IMAGE to NAME's repository with docker, podman or finch."""
    def body() -> None:
        with client(opts) as fl:
            digest = fl.service(name).push(image, tag=tag)
        click.echo(dumps({"digest": digest}) if opts.output == "json" else digest)
    run(body)


# -- logs --------------------------------------------------------------------------------
# One line per event, as it arrives; Ctrl-C ends --follow.


@main.command()
@click.argument("name")
@click.option("--since", default="10m", show_default=True,
              help="How far back: 30s, 10m, 2h or 1d.")
@click.option("--follow", "-f", is_flag=True, help="Keep showing new lines until Ctrl-C.")
@click.option("--filter", "pattern", metavar="PATTERN",
              help="A CloudWatch Logs filter pattern, e.g. ERROR or '\"exact phrase\"'.")
@click.pass_obj
def logs(opts: Options, name: str, since: str, follow: bool, pattern: str | None) -> None:
    """Show what NAME's containers wrote: time (UTC), task id, message."""
    import json

    from fluoride.cli.render import to_jsonable

    def body() -> None:
        with client(opts) as fl:
            lines = fl.service(name).logs(since, follow=follow, pattern=pattern)
            try:
                for line in lines:
                    if opts.output == "json":
                        click.echo(json.dumps(to_jsonable(line), sort_keys=True))
                    else:
                        click.echo(f"{line.timestamp.isoformat(timespec='milliseconds')} "
                                   f"{line.task_id} {line.message}")
            except KeyboardInterrupt:  # the way to end --follow: not an error
                pass
    run(body)


# --select / --max-parallel on deploy, rollback and status: many services (cli/fleet.py).
from fluoride.cli.fleet import register as _register_fleet  # noqa: E402  # after the commands

_register_fleet(main)


if __name__ == "__main__":  # python -m fluoride.cli
    main()
