"""``fluoride env create|status|delete`` on the embedded emulator, and the environment
TOML file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fluoride import Fluoride, ServiceSpec
from fluoride.cli import main
from fluoride.errors import ConfigError
from fluoride.spec._toml import loads_environment_config

Run = Callable[..., Result]


@pytest.fixture
def run(fl: Fluoride, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", fl.region)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, ["--endpoint-url", str(fl.endpoint_url), *args],
                             catch_exceptions=False)

    return invoke


def test_env_create_status_delete(run: Run, fl: Fluoride, tmp_path: Path) -> None:
    config = tmp_path / "env.toml"
    config.write_text('scheme = "internal"\nmax_albs = 2\ningress_cidrs = ["10.0.0.0/8"]\n')
    result = run("env", "create", "clilab", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "internal" in result.output
    result = run("--output", "json", "env", "status", "clilab")
    assert result.exit_code == 0, result.output
    status: dict[str, Any] = json.loads(result.output)
    assert (status["scheme"], status["max_albs"], status["services"]) == ("internal", 2, [])

    # TODO(gwemu): a short name; the emulator's generated host fails ACM's 64-character
    # common name for longer ones (see tests/test_environments.py).
    fl.service("cu").create(ServiceSpec(gateway="clilab"))
    result = run("env", "delete", "clilab")
    assert result.exit_code == 1
    assert "in use" in result.output
    assert "cu" in result.output
    result = run("status")
    assert "clilab" in result.output  # the fleet table's environment column

    fl.service("cu").delete(purge_data=True)
    result = run("env", "delete", "clilab")
    assert result.exit_code == 0, result.output
    result = run("env", "status", "clilab")
    assert result.exit_code == 1
    assert "No environment clilab" in result.output


def test_env_create_refuses_a_bad_file(run: Run, tmp_path: Path) -> None:
    config = tmp_path / "env.toml"
    config.write_text('scheme = "public"\nmax_albs = "ten"\n')
    result = run("env", "create", "bad", "--config", str(config))
    assert result.exit_code == 1
    assert "scheme" in result.output
    assert "max_albs" in result.output


@pytest.mark.parametrize(("text", "fields"), [
    ('name = "lab"\nscheme = "internal"\n', []),
    ('scheme = "public"\n', ["scheme"]),
    ('max_albs = "3"\n', ["max_albs"]),
    ('colour = "blue"\n', ["colour"]),
    ('name = "Lab"\n', ["name"]),
    ("scheme = \n", None),
])
def test_environment_toml(text: str, fields: list[str] | None) -> None:
    if fields == []:
        name, spec = loads_environment_config(text)
        assert (name, spec.scheme) == ("lab", "internal")
        return
    with pytest.raises(ConfigError) as info:
        loads_environment_config(text)
    if fields is not None:
        assert [e.field for e in info.value.errors] == fields
