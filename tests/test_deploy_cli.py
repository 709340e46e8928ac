"""``fluoride deploy / rollback / history / push`` on the embedded emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fluoride import Fluoride, ServiceSpec

from .conftest import CliRun
from .test_registry import D2, calls, make_engines


def test_deploy_rollback_history(fl: Fluoride, cli: CliRun, unique_name: str) -> None:
    svc = fl.service(unique_name)
    svc.create(ServiceSpec())
    assert fl.emulator is not None
    repo = svc.outputs()["RepositoryName"]
    v1 = fl.emulator.push_image(repo, "v1")
    fl.emulator.push_image(repo, "v2", healthy=False)

    result = cli("--output", "json", "deploy", unique_name, "v1")
    assert result.exit_code == 0, result.output
    [release] = json.loads(result.stdout)
    assert (release["digest"], release["outcome"]) == (v1, "stable")

    result = cli("deploy", unique_name, "v2", "--timeout", "60")
    assert result.exit_code == 1
    assert "rolled back" in result.stderr
    assert "stopped task:" in result.stderr
    assert "health checks" in result.stderr
    assert "serving: v1" in result.stderr

    result = cli("--output", "json", "status", unique_name)
    assert result.exit_code == 0, result.output
    [status] = json.loads(result.stdout)
    assert (status["release"]["digest"], status["release"]["tags"]) == (v1, ["v1"])
    assert status["deployment"] is None

    result = cli("--output", "json", "history", unique_name)
    assert [(r["tags"], r["outcome"]) for r in json.loads(result.stdout)] == [
        (["v2"], "rolled back"), (["v1"], "stable")]
    result = cli("history", unique_name)
    assert "rolled back" in result.stdout

    result = cli("rollback", unique_name)
    assert result.exit_code == 1
    assert "no earlier stable release" in result.stderr

    fl.emulator.push_image(repo, "v3")
    assert cli("deploy", unique_name).exit_code == 0  # the newest: v3
    result = cli("--output", "json", "rollback", unique_name, "--to", "v1")
    assert result.exit_code == 0, result.output
    [back] = json.loads(result.stdout)
    assert (back["digest"], back["rollback"]) == (v1, True)


def test_push_uses_the_engine_on_path(
    fl: Fluoride, cli: CliRun, unique_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fl.service(unique_name).create(ServiceSpec())
    path, log = make_engines(tmp_path, "podman")
    monkeypatch.setenv("PATH", path)
    monkeypatch.delenv("FLUORIDE_CONTAINER_ENGINE", raising=False)
    monkeypatch.setenv("FAKE_DIGEST", D2)
    result = cli("push", unique_name, "myapp:v7")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == D2
    assert [c["argv"][0] for c in calls(log)] == ["login", "tag", "push"]
    assert calls(log)[2]["argv"][1].endswith(f"fluoride/{unique_name}:v7")


def test_push_without_an_engine(fl: Fluoride, cli: CliRun, unique_name: str, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    fl.service(unique_name).create(ServiceSpec())
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("FLUORIDE_CONTAINER_ENGINE", raising=False)
    result = cli("push", unique_name, "myapp:v7")
    assert result.exit_code == 1
    assert "No container engine was found" in result.stderr
