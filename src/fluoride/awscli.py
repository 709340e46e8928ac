"""``aws fluoride ...``: the ``fluoride`` commands inside the AWS CLI, as a plugin.

Enable it with two lines of ``~/.aws/config`` (AWS CLI v1; v2 also needs
``cli_legacy_plugin_path`` pointing at the site-packages that holds fluoride)::

    [plugins]
    fluoride = fluoride.awscli

``fluoride awscli install`` writes them (and ``uninstall`` removes them); see
:mod:`fluoride.awscli_config`.

The AWS CLI imports this module and calls :func:`awscli_initialize`, which adds a
``fluoride`` command to its table. That command hands its arguments to the same click
commands as ``fluoride`` (``aws fluoride deploy api v2`` is ``fluoride deploy api v2``),
with the AWS CLI's own ``--profile``, ``--region``, ``--endpoint-url`` and ``--output``.

Nothing here imports the AWS CLI: it calls in through the plugin hooks only.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["FluorideCommand", "awscli_initialize", "fluoride_arguments"]

#: The AWS CLI's ``--output`` -> fluoride's (fluoride has no text or YAML form).
_OUTPUTS = {"json": "json", "table": "table", "text": "table", "yaml": "json",
            "yaml-stream": "json"}


def awscli_initialize(cli: Any) -> None:
    """The AWS CLI's plugin entry point: register ``fluoride`` in its top-level commands.

    ``cli`` is the AWS CLI's event emitter.
    """
    cli.register("building-command-table.main", add_command)


def add_command(command_table: dict[str, Any], session: Any = None, **kwargs: Any) -> None:
    """The ``building-command-table.main`` handler."""
    command_table["fluoride"] = FluorideCommand(session)


def fluoride_arguments(args: Sequence[str], parsed_globals: argparse.Namespace | Any) -> list[str]:
    """The ``fluoride`` command line for ``aws fluoride ARGS`` with the AWS CLI's globals.

    >>> ns = argparse.Namespace(profile="lab", region=None, endpoint_url=None, output="text")
    >>> fluoride_arguments(["status", "api"], ns)
    ['--profile', 'lab', '--output', 'table', 'status', 'api']
    """
    out: list[str] = []
    for option, attribute in (("--profile", "profile"), ("--region", "region"),
                              ("--endpoint-url", "endpoint_url")):
        value = getattr(parsed_globals, attribute, None)
        if value:
            out += [option, str(value)]
    output = getattr(parsed_globals, "output", None)
    if output:
        out += ["--output", _OUTPUTS.get(str(output), "table")]
    rest = list(args)
    if rest[:1] == ["help"]:  # `aws fluoride help`, as the AWS CLI spells it
        rest = ["--help", *rest[1:]]
    elif rest[-1:] == ["help"]:  # `aws fluoride deploy help`
        rest = [*rest[:-1], "--help"]
    return out + rest


class FluorideCommand:
    """The ``fluoride`` entry of the AWS CLI's command table (its ``CLICommand`` interface:
    ``name``, ``lineage``, ``arg_table``, ``__call__`` and ``create_help_command``)."""

    def __init__(self, session: Any = None) -> None:
        self._session = session
        self._name = "fluoride"

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value

    @property
    def lineage(self) -> list[FluorideCommand]:
        return [self]

    @property
    def lineage_names(self) -> list[str]:
        return [self._name]

    @property
    def arg_table(self) -> dict[str, Any]:
        return {}

    def create_help_command(self) -> None:
        return None  # `aws fluoride help` goes to click's --help

    def __call__(self, args: Sequence[str], parsed_globals: Any) -> int:
        """Run ``fluoride`` with ``args``; return its exit status (the AWS CLI's)."""
        from fluoride.cli import main

        try:
            main.main(args=fluoride_arguments(args, parsed_globals), prog_name="aws fluoride",
                      standalone_mode=True)
        except SystemExit as exc:
            code = exc.code
            return code if isinstance(code, int) else (0 if code is None else 1)
        finally:
            sys.stdout.flush()
        return 0
