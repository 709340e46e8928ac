"""``fluoride spec``, ``plan`` and ``update`` on the embedded emulator."""

from __future__ import annotations

import json
from pathlib import Path

from fluoride import Fluoride, ServiceSpec
from fluoride.spec import loads_config

from .conftest import CliRun


def test_spec_plan_update(cli: CliRun, fl: Fluoride, unique_name: str, tmp_path: Path) -> None:
    svc = fl.service(unique_name)
    svc.create(ServiceSpec(memory=1024, environment={"MODE": "slow"}))
    fl.emulator.push_image(f"fluoride/{unique_name}", "v1")  # type: ignore[union-attr]  # local() has one
    svc.deploy("v1")  # so that the update restarts tasks, and history records it
    result = cli("spec", unique_name)
    assert result.exit_code == 0, result.output
    name, spec = loads_config(result.stdout)
    assert (name, spec) == (unique_name, ServiceSpec(memory=1024, environment={"MODE": "slow"}))

    config = tmp_path / "fluoride.toml"
    config.write_text(result.stdout.replace("memory = 1024", "memory = 2048"))
    result = cli("plan", unique_name, "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "memory: 1024 -> 2048" in result.stdout
    result = cli("--output", "json", "plan", unique_name, "--config", str(config))
    assert json.loads(result.stdout)["settings"] == [
        {"field": "memory", "old": "1024", "new": "2048"}]

    result = cli("update", unique_name, "--config", str(config))  # no terminal, no --yes
    assert result.exit_code == 1
    assert "--yes" in result.output
    assert svc.spec().memory == 1024

    result = cli("update", unique_name, "--config", str(config), "--yes")
    assert result.exit_code == 0, result.output
    assert svc.spec().memory == 2048

    # The tasks restarted: history shows a settings release and what it changed.
    result = cli("history", unique_name)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "settings" in line)
    assert "memory: 1024 -> 2048" in row
    assert "stable" in row


def test_update_refuses_to_replace_a_store(cli: CliRun, fl: Fluoride, unique_name: str,
                                           tmp_path: Path) -> None:
    fl.service(unique_name).create()
    config = tmp_path / "fluoride.toml"
    config.write_text('[stores]\npartition_key = "id"\n')
    result = cli("update", unique_name, "--config", str(config), "--yes")
    assert result.exit_code == 1
    assert "table" in result.output
    assert "--allow-replacement" in result.output
