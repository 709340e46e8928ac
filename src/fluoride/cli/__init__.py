"""The ``fluoride`` command: parses options, calls the SDK, renders. Nothing else.

Start-up matters for a command people type: this module imports only click and Fluoride's
base (names, errors) at module level. boto3, rich and the SDK are imported inside the
commands that use them, so ``fluoride --help`` does not pay for them
(``benchmarks/startup.py`` measures it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from fluoride.errors import DeploymentFailed, FluorideError, hints_for
from fluoride.names import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from rich.console import Console

    from fluoride.client import Fluoride
    from fluoride.releases.history import Release
    from fluoride.service import ServiceStatus
    from fluoride.spec import ServiceSpec

__all__ = ["main"]


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr)


def report_error(exc: FluorideError) -> None:
    """Show ``exc`` as the user should read it: what failed, then what to do."""
    err = _console(stderr=True)
    if isinstance(exc, DeploymentFailed):  # the stopped tasks' reasons and what serves now
        for reason in exc.reasons:
            err.print(f"[red]stopped task:[/] {reason}", highlight=False)
        if exc.serving is not None:
            err.print(f"[green]serving:[/] {exc.serving.short}", highlight=False)
    err.print(f"[red bold]error:[/] {exc.message}", highlight=False)
    if exc.hint:
        err.print(f"[yellow]hint:[/] {exc.hint}", highlight=False)


class FluorideGroup(click.Group):
    """The command group: a :class:`FluorideError` from any command becomes a clear message
    on standard error and exit status 1 (anything else is a bug and keeps its traceback).
    Within it, hints name CLI commands (:func:`fluoride.errors.hints_for`).

    Commands defined in other modules of this package (``LAZY``) are imported when they
    are listed or run, so those modules may import this one without a cycle at load time.
    """

    #: command name -> "module:attribute" of a click command defined elsewhere
    LAZY: dict[str, str] = {
        "spec": "fluoride.cli.day_two:spec",
        "plan": "fluoride.cli.day_two:plan",
        "update": "fluoride.cli.day_two:update",
        "exec": "fluoride.cli.day_two:exec_",
        "cost": "fluoride.cli.cost:cost",
        "env": "fluoride.cli.env:env",
        "awscli": "fluoride.cli.awscli:awscli",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.LAZY:
            import importlib

            module, attribute = self.LAZY[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        # Hints name commands here (`fluoride logs hello --since 15m`), not SDK calls.
        with hints_for("cli"):
            try:
                return super().invoke(ctx)
            except FluorideError as exc:
                report_error(exc)
                ctx.exit(1)


class Options:
    """The group's options, handed to every command."""

    def __init__(self, profile: str | None, region: str | None, endpoint_url: str | None,
                 local: bool, output: str) -> None:
        self.profile = profile
        self.region = region
        self.endpoint_url = endpoint_url
        self.local = local
        self.output = output

    @property
    def json(self) -> bool:
        return self.output == "json"


@contextmanager
def client(opts: Options) -> Iterator[Fluoride]:
    """The SDK client the options ask for, progress shown on standard error."""
    from fluoride.cli.render import RichReporter
    from fluoride.client import Fluoride

    reporter = RichReporter(_console(stderr=True))
    if opts.local:
        with Fluoride.local(reporter=reporter) as fl:
            yield fl
    else:
        yield Fluoride(profile=opts.profile, region=opts.region,
                       endpoint_url=opts.endpoint_url, reporter=reporter)


def spec_from(config: Path | None) -> ServiceSpec:
    from fluoride.spec import ServiceSpec, load_config

    return ServiceSpec() if config is None else load_config(config)[1]


def show(value: object) -> None:
    from fluoride.cli.render import dumps

    click.echo(dumps(value))


def show_status(statuses: list[ServiceStatus], opts: Options) -> None:
    if opts.json:
        show(statuses)
        return
    from fluoride.cli.render import status_table
    from fluoride.events import describe

    out = _console()
    out.print(status_table(statuses))
    for s in statuses:  # a running deployment's progress (Service.status() only)
        if s.deployment is not None:
            out.print(f"deploying: {describe(s.deployment)}", highlight=False)


def show_releases(title: str, releases: list[Release], opts: Options) -> None:
    if opts.json:
        show(releases)
        return
    from fluoride.cli.render import releases_table

    _console().print(releases_table(title, releases))


def _endpoint_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse a malformed --endpoint-url, and one given with --local, before anything runs."""
    from fluoride._check import endpoint_problems

    problems = endpoint_problems(value, "--endpoint-url")
    if problems:
        raise click.BadParameter(problems[0].message.partition(": ")[2], ctx, param)
    if value is not None and ctx.params.get("local"):
        raise click.UsageError(_CONFLICT, ctx)
    return value


def _local(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value and ctx.params.get("endpoint_url") is not None:
        raise click.UsageError(_CONFLICT, ctx)
    return value


_CONFLICT = ("--local and --endpoint-url conflict: --local starts a fresh embedded emulator, "
             "--endpoint-url sends calls to one already running. Give one of them.")


@click.group(cls=FluorideGroup)
@click.option("--profile", help="AWS profile to use.")
@click.option("--region", help="AWS region (default: your AWS configuration).")
@click.option("--endpoint-url", callback=_endpoint_url,
              help="Send every AWS call here (an emulator), e.g. http://127.0.0.1:4566.")
@click.option("--local", is_flag=True, callback=_local,
              help="Run against a fresh embedded emulator (not with --endpoint-url).")
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
    spec = spec_from(config)
    spec.validate()
    with client(opts) as fl:
        from fluoride.cli.cost import estimate_note

        note = estimate_note(fl.service(name), spec)
        if note:
            _console(stderr=True).print(note, highlight=False)
        show_status([fl.service(name).create(spec, image=image)], opts)


@main.command()
@click.argument("name", required=False)
@click.pass_obj
def status(opts: Options, name: str | None) -> None:
    """Show NAME's status, or every service's."""
    with client(opts) as fl:
        show_status([fl.service(name).status()] if name else fl.status(), opts)


@main.command("list")
@click.pass_obj
def list_(opts: Options) -> None:
    """List every Fluoride service in the account and region."""
    with client(opts) as fl:
        names = [s.name for s in fl.services()]
    if opts.json:
        show(names)
        return
    from fluoride.cli.render import table

    _console().print(table("Fluoride services", ["service"], [(n,) for n in names]))


@main.command()
@click.argument("name")
@click.option("--purge-data", is_flag=True, help="Also delete the table, bucket, secret "
              "and image repository (every object version). Cannot be undone.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def delete(opts: Options, name: str, purge_data: bool, yes: bool) -> None:
    """Delete the service NAME (its data is kept unless --purge-data)."""
    if not yes:
        what = "and ALL its data " if purge_data else ""
        click.confirm(f"Delete {name} {what}?", abort=True, err=True)
    with client(opts) as fl:
        result = fl.service(name).delete(purge_data=purge_data)
    if opts.json:
        show(result)


@main.command()
@click.option("--config", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Render with this fluoride.toml's environment variables.")
@click.option("--resolved", is_flag=True,
              help="Print what CloudFormation would evaluate for the service --name (JSON): "
              "parameters substituted, conditions applied. Reads the account's network.")
@click.option("--name", default="service", show_default=True,
              help="The service the resolved template is for.")
@click.option("--account", help="Fill in AWS::AccountId (with --resolved).")
@click.pass_obj
def template(opts: Options, config: Path | None, resolved: bool, name: str,
             account: str | None) -> None:
    """Print the CloudFormation template Fluoride uses, or with --resolved, what it
    evaluates to for a spec (for cfn-guard, checkov or cfn-nag)."""
    from fluoride.client import Fluoride

    spec = spec_from(config)
    if not resolved:
        # With its comments: they say why each resource is there (the SDK sends it without).
        click.echo(Fluoride.template(spec, keep_comments=True), nl=False)
        return
    with client(opts) as fl:
        click.echo(fl.service(name).template(spec, resolved=True, region=fl.region,
                                             account=account), nl=False)


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0,
              help="Port on 127.0.0.1 (default: a free one).")
def local(port: int) -> None:
    """Run the embedded emulator as a server for other tools, until Ctrl-C."""
    import time

    from fluoride.client import Fluoride

    with Fluoride.local(port=port) as fl:
        click.echo(f"Fluoride emulator on {fl.endpoint_url}\n"
                   "Point your tools at it:\n"
                   f"  export AWS_ENDPOINT_URL={fl.endpoint_url}\n"
                   "  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing\n"
                   f"  export AWS_DEFAULT_REGION={fl.region}\n"
                   f"  fluoride --endpoint-url {fl.endpoint_url} list\n"
                   "Ctrl-C stops it.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


@main.command()
@click.option("--name", default="hello", show_default=True)
def demo(name: str) -> None:
    """A tour of Fluoride on the embedded emulator (no AWS account needed)."""
    from fluoride.cli.demo import run_demo

    run_demo(name, console=_console(stderr=True))


# -- releases ----------------------------------------------------------------------------
# deploy, rollback, history, push: parse, call Service, render. Nothing else.


@main.command()
@click.argument("name")
@click.argument("image", required=False)
@click.option("--no-wait", is_flag=True, help="Start the deployment and return.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True),
              default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds to wait before cancelling (the previous release serves again).")
@click.pass_obj
def deploy(opts: Options, name: str, image: str | None, no_wait: bool, timeout: float) -> None:
    """Deploy IMAGE to NAME: a tag or digest in its repository, a full image reference,
    or (without IMAGE) the newest image pushed there."""
    with client(opts) as fl:
        release = fl.service(name).deploy(image, wait=not no_wait, timeout=timeout)
    show_releases(f"Deployed to {name}", [release], opts)


@main.command()
@click.argument("name")
@click.option("--to", "to", help="A tag or digest to go back to (default: the last release "
              "that was stable before the current one).")
@click.option("--no-wait", is_flag=True, help="Start the rollback and return.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True),
              default=DEFAULT_TIMEOUT, show_default=True)
@click.pass_obj
def rollback(opts: Options, name: str, to: str | None, no_wait: bool, timeout: float) -> None:
    """Roll NAME back (a running deployment is cancelled)."""
    with client(opts) as fl:
        release = fl.service(name).rollback(to, wait=not no_wait, timeout=timeout)
    show_releases(f"{name} now serves", [release], opts)


@main.command()
@click.argument("name")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many to show.")
@click.pass_obj
def history(opts: Options, name: str, limit: int) -> None:
    """Show NAME's releases, newest first."""
    with client(opts) as fl:
        releases = fl.service(name).history()
    show_releases(f"Releases of {name}", releases[:limit], opts)


@main.command()
@click.argument("name")
@click.argument("image")
@click.option("--tag", help="Tag in the service's repository (default: IMAGE's tag).")
@click.pass_obj
def push(opts: Options, name: str, image: str, tag: str | None) -> None:
    """Push the local IMAGE to NAME's repository with docker, podman or finch."""
    with client(opts) as fl:
        digest = fl.service(name).push(image, tag=tag)
    if opts.json:
        show({"digest": digest})
    else:
        click.echo(digest)


# -- logs --------------------------------------------------------------------------------
# One line per event, as it arrives; Ctrl-C ends --follow.


@main.command()
@click.argument("name")
@click.option("--since", default="10m", show_default=True,
              help="How far back: 30s, 10m, 2h or 1d.")
@click.option("--follow", "-f", is_flag=True, help="Keep showing new lines until Ctrl-C.")
@click.option("--filter", "pattern", metavar="PATTERN",
              help="A CloudWatch Logs filter pattern, e.g. ERROR or '\"exact phrase\"'.")
@click.option("--container", "-c", metavar="NAME", default=None,
              help="A sidecar's name, to show its lines instead of the app's.")
@click.pass_obj
def logs(opts: Options, name: str, since: str, follow: bool, pattern: str | None,
         container: str | None) -> None:
    """Show what NAME's app container (or, with --container, a sidecar) wrote: time (UTC),
    task id, message."""
    from fluoride.cli.render import dumps

    with client(opts) as fl:
        lines = fl.service(name).logs(since, follow=follow, pattern=pattern,
                                      container=container)
        try:
            for line in lines:
                if opts.json:
                    click.echo(dumps(line, indent=None))
                else:
                    click.echo(f"{line.timestamp.isoformat(timespec='milliseconds')} "
                               f"{line.task_id} {line.message}")
        except KeyboardInterrupt:  # the way to end --follow: not an error
            pass


# -- many services ------------------------------------------------------------------------
# --select / --max-parallel on deploy, rollback and status. The options are attached here
# (cheap); what runs with --select lives in cli/fleet.py, imported only then, so
# `fluoride --help` and single-service commands do not load it.

SELECT_HELP = ("Work on many services: a name, a glob such as 'team-*', or a stack tag "
               "such as team=payments (repeat to combine; names and globs add up, tags "
               "narrow). '*' is every service.")


def _with_fleet_options(command: click.Command, fleet: str) -> None:
    """Give ``command`` the fleet options; with ``--select`` it runs ``fleet`` (a function
    of :mod:`fluoride.cli.fleet`) instead."""
    import functools

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
    def callback(*, select: tuple[str, ...], max_parallel: int, **kwargs: Any) -> Any:
        if select:
            from fluoride.cli import fleet as fleet_module

            run = getattr(fleet_module, fleet)
            return run(select=select, max_parallel=max_parallel, **kwargs)
        if kwargs.get("name") is None and command.name != "status":
            raise click.UsageError("Give the service NAME, or --select.")
        return original(**kwargs)

    command.callback = callback


for _command, _fleet in (("deploy", "deploy_many"), ("rollback", "rollback_many"),
                         ("status", "status_many")):
    _with_fleet_options(main.commands[_command], _fleet)


if __name__ == "__main__":  # python -m fluoride.cli
    main()
