"""``fluoride env create|status|delete`` on the embedded emulator, and the environment
TOML file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fluoride import Fluoride, ServiceSpec
from fluoride.errors import ConfigError
from fluoride.spec import SERVICE_NAME_MAX
from fluoride.spec._toml import loads_environment_config

from .conftest import CliRun


def test_env_create_status_delete(cli: CliRun, fl: Fluoride, tmp_path: Path) -> None:
    config = tmp_path / "env.toml"
    config.write_text('scheme = "internal"\nmax_albs = 2\ningress_cidrs = ["10.0.0.0/8"]\n')
    result = cli("env", "create", "clilab", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "internal" in result.output
    result = cli("--output", "json", "env", "status", "clilab")
    assert result.exit_code == 0, result.output
    status: dict[str, Any] = json.loads(result.output)
    assert (status["scheme"], status["max_albs"], status["services"]) == ("internal", 2, [])

    name = "cu-" + "x" * (SERVICE_NAME_MAX - 3)  # the longest valid name
    fl.service(name).create(ServiceSpec(gateway="clilab"))
    result = cli("env", "delete", "clilab")
    assert result.exit_code == 1
    assert "in use" in result.output
    assert name in result.output
    result = cli("status")
    assert "clilab" in result.output  # the fleet table's environment column

    fl.service(name).delete(purge_data=True)
    result = cli("env", "delete", "clilab")
    assert result.exit_code == 0, result.output
    result = cli("env", "status", "clilab")
    assert result.exit_code == 1
    assert "No environment clilab" in result.output


def test_env_create_refuses_a_bad_file(cli: CliRun, tmp_path: Path) -> None:
    config = tmp_path / "env.toml"
    config.write_text('scheme = "public"\nmax_albs = "ten"\n')
    result = cli("env", "create", "bad", "--config", str(config))
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
