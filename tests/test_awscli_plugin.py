"""``aws fluoride ...``: the AWS CLI v1 plugin.

The pure pieces always run. The end-to-end test runs the real AWS CLI v1 against the
embedded emulator; it needs a Python with ``awscli`` and fluoride's dependencies: this
one, or the one ``FLUORIDE_AWSCLI_PYTHON`` names (awscli pins docutils<=0.19, which the
docs toolchain cannot share, so it usually lives in a venv of its own). Without one it is
skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fluoride import Fluoride, ServiceSpec
from fluoride.awscli import FluorideCommand, add_command, awscli_initialize, fluoride_arguments

SRC = Path(__file__).resolve().parents[1] / "src"


def _globals(**given: Any) -> argparse.Namespace:
    values = {"profile": None, "region": None, "endpoint_url": None, "output": None}
    values.update(given)
    return argparse.Namespace(**values)


@pytest.mark.parametrize(("args", "given", "expected"), [
    (["list"], {}, ["list"]),
    (["status", "api"], {"profile": "lab", "region": "eu-west-1"},
     ["--profile", "lab", "--region", "eu-west-1", "status", "api"]),
    (["deploy", "--select", "team-*", "v2"], {"endpoint_url": "http://127.0.0.1:5000"},
     ["--endpoint-url", "http://127.0.0.1:5000", "deploy", "--select", "team-*", "v2"]),
    (["list"], {"output": "json"}, ["--output", "json", "list"]),
    (["list"], {"output": "text"}, ["--output", "table", "list"]),
    (["list"], {"output": "yaml"}, ["--output", "json", "list"]),
    (["help"], {}, ["--help"]),
    (["deploy", "help"], {}, ["deploy", "--help"]),
])
def test_the_aws_globals_become_fluoride_options(args: list[str], given: dict[str, Any],
                                                 expected: list[str]) -> None:
    assert fluoride_arguments(args, _globals(**given)) == expected


def test_the_plugin_registers_one_top_level_command() -> None:
    registered: list[tuple[str, Any]] = []

    class Emitter:
        def register(self, event: str, handler: Any) -> None:
            registered.append((event, handler))

    awscli_initialize(Emitter())
    assert [event for event, _ in registered] == ["building-command-table.main"]
    table: dict[str, Any] = {"s3": object()}
    registered[0][1](command_table=table, session=None, command_object=None)
    assert isinstance(table["fluoride"], FluorideCommand)
    assert table["fluoride"].lineage_names == ["fluoride"]
    assert set(table) == {"s3", "fluoride"}
    add_command(table)  # the handler tolerates the keyword arguments it does not use


def test_the_command_returns_fluorides_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    command = FluorideCommand()
    assert command(["--help"], _globals()) == 0
    assert "Usage: aws fluoride" in capsys.readouterr().out
    assert command(["no-such-command"], _globals()) == 2


def _awscli_python() -> str | None:
    given = os.environ.get("FLUORIDE_AWSCLI_PYTHON")
    if given:
        return given
    return sys.executable if importlib.util.find_spec("awscli") is not None else None


def test_aws_fluoride_end_to_end(fl: Fluoride, tmp_path: Path, unique_name: str) -> None:
    python = _awscli_python()
    if python is None:
        pytest.skip("AWS CLI v1 is not installed here (set FLUORIDE_AWSCLI_PYTHON to a "
                    "Python that has awscli and fluoride's dependencies)")
    fl.service(unique_name).create(ServiceSpec(team="cli"))
    config = tmp_path / "config"
    config.write_text("[default]\nregion = us-east-1\n")
    # enabled as a user does it: `fluoride awscli install`
    from click.testing import CliRunner

    from fluoride.cli import main

    def setup(*args: str) -> None:
        done = CliRunner().invoke(main, ["awscli", *args, "--yes"],
                                  env={"AWS_CONFIG_FILE": str(config)})
        assert done.exit_code == 0, done.output

    setup("install", "--cli", "v1")
    env = {
        **os.environ,
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PYTHONPATH": str(SRC),
    }
    env.pop("AWS_PROFILE", None)

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [python, "-m", "awscli", "--endpoint-url", str(fl.endpoint_url),
             "--region", fl.region, *args],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )

    listed = aws("--output", "json", "fluoride", "list")
    assert listed.returncode == 0, listed.stderr
    assert unique_name in json.loads(listed.stdout)
    status = aws("fluoride", "status", unique_name, "--output", "json")
    assert status.returncode == 0, status.stderr
    [one] = json.loads(status.stdout)
    assert (one["name"], one["state"]) == (unique_name, "complete")
    table = aws("fluoride", "status", "--select", "team=cli")
    assert table.returncode == 0, table.stderr
    assert unique_name in table.stdout
    missing = aws("fluoride", "status", "no-such-service")
    assert missing.returncode == 1
    assert "no-such-service" in missing.stderr
    # `fluoride awscli uninstall`: the AWS CLI knows no `fluoride` command any more
    setup("uninstall")
    assert config.read_text() == "[default]\nregion = us-east-1\n"
    gone = aws("fluoride", "list")
    assert gone.returncode != 0
    assert "Invalid choice" in gone.stderr
