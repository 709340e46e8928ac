"""``fluoride awscli install`` / ``uninstall``: enable ``aws fluoride`` in ~/.aws/config.

Shows the lines it adds or removes, asks (unless ``--yes``), then writes. The edit itself
is :mod:`fluoride.awscli_config` (pure); this module finds the file (``AWS_CONFIG_FILE``,
else ``~/.aws/config``), tells AWS CLI v1 from v2, and reads and writes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import click

from fluoride.errors import ConfigError

__all__ = ["awscli"]

_VERSION = re.compile(r"aws-cli/(\d+)\.")


def config_path() -> Path:
    """The AWS CLI's config file: ``AWS_CONFIG_FILE``, else ``~/.aws/config``."""
    return Path(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config").expanduser()


def site_packages() -> str:
    """The directory that holds the installed ``fluoride`` package (for v2's
    ``cli_legacy_plugin_path``)."""
    return str(Path(__file__).resolve().parents[2])  # .../site-packages/fluoride/cli/


def detect_major() -> str:
    """``v1`` or ``v2``: what ``aws --version`` on PATH says."""
    aws = shutil.which("aws")
    if aws is None:
        raise ConfigError("No `aws` command was found on PATH, so its version is unknown.",
                          hint="Pass --cli v1 or --cli v2.")
    try:
        done = subprocess.run([aws, "--version"], capture_output=True, text=True, timeout=60,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"`aws --version` failed: {exc}",
                          hint="Pass --cli v1 or --cli v2.") from exc
    found = _VERSION.search(done.stdout + done.stderr)
    if found is None or found.group(1) not in {"1", "2"}:
        raise ConfigError(
            f"`aws --version` did not say v1 or v2: {(done.stdout + done.stderr).strip()!r}",
            hint="Pass --cli v1 or --cli v2.")
    return f"v{found.group(1)}"


def _read(path: Path) -> str:
    if not path.exists():
        return ""
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read: {exc}") from exc


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".fluoride-tmp")
    temporary.write_text(text, "utf-8")
    if path.exists():
        shutil.copymode(path, temporary)
    temporary.replace(path)  # whole or not at all


def _apply(path: Path, added: tuple[str, ...], removed: tuple[str, ...], text: str,
           yes: bool) -> None:
    click.echo(f"{path}:")
    for line in removed:
        click.echo(f"- {line}")
    for line in added:
        click.echo(f"+ {line}")
    if not yes:
        click.confirm("Write these changes?", abort=True)
    _write(path, text)
    click.echo("Written.")


@click.group()
def awscli() -> None:
    """Enable or disable `aws fluoride` (the AWS CLI plugin) in ~/.aws/config."""


@awscli.command()
@click.option("--cli", "cli", type=click.Choice(["auto", "v1", "v2"]), default="auto",
              show_default=True,
              help="The AWS CLI to enable it for; auto asks `aws --version`. Only v2 gets "
              "cli_legacy_plugin_path (v1 fails on every command with it).")
@click.option("--plugin-path", help="With v2: the directory for cli_legacy_plugin_path "
              "(default: the site-packages that holds this fluoride).")
@click.option("--yes", is_flag=True, help="Write without asking.")
def install(cli: str, plugin_path: str | None, yes: bool) -> None:
    """Add `fluoride = fluoride.awscli` to [plugins] (and, for AWS CLI v2, the
    cli_legacy_plugin_path it needs), after showing the change."""
    from fluoride.awscli_config import has_legacy_path, install_plugin

    major = detect_major() if cli == "auto" else cli
    path = config_path()
    legacy = (plugin_path or site_packages()) if major == "v2" else None
    edit = install_plugin(_read(path), legacy_path=legacy)
    if major == "v1" and has_legacy_path(edit.text):
        click.echo(f"warning: {path} sets cli_legacy_plugin_path (for AWS CLI v2); AWS CLI "
                   "v1 fails on every command while it is there. Remove that line if this "
                   "file serves v1.", err=True)
    if not edit.changed:
        click.echo(f"{path} already enables `aws fluoride` (AWS CLI {major}); nothing to do.")
        return
    _apply(path, edit.added, edit.removed, edit.text, yes)
    click.echo(f"Try: aws fluoride list   (AWS CLI {major})")


@awscli.command()
@click.option("--yes", is_flag=True, help="Write without asking.")
def uninstall(yes: bool) -> None:
    """Remove the lines `install` adds (cli_legacy_plugin_path stays while other plugins
    are configured)."""
    from fluoride.awscli_config import uninstall_plugin

    path = config_path()
    edit = uninstall_plugin(_read(path))
    if not edit.changed:
        click.echo(f"{path} does not enable `aws fluoride`; nothing to do.")
        return
    _apply(path, edit.added, edit.removed, edit.text, yes)
