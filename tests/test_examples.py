"""The examples under examples/ run against the embedded emulator, as the docs show them."""

from __future__ import annotations

import runpy
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"


def test_notebook_data_example(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "notebook_data.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "'text': 'buy milk'" in out
    assert "note#2 call Ada" in out
    assert "day,count\ntue,5" in out
    assert "reports/monday.csv 16" in out
    assert "'api.key', 'db.password', 'password'" in out
    # Created again after delete(), the service has its kept data (adopted stores).
    assert out.count("'pk': 'note#2'") == 1
    assert "'text': 'call Ada'" in out


def test_quickstart_example(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "serving " in out
    assert "@sha256:" in out
    assert "{'pk': 'note#1', 'text': 'hi'}" in out
    assert "kept ['bucket', 'repository', 'secret', 'table']" in out


def test_the_wheel_carries_the_template(tmp_path: Path) -> None:
    # CI also builds the wheel with pip and runs these examples against it, installed.
    wheel = pytest.importorskip("hatchling.builders.wheel",
                                reason="hatchling (the dev extra) builds the wheel")
    [path] = wheel.WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    with zipfile.ZipFile(path) as whl:
        names = set(whl.namelist())
        packaged = whl.read("fluoride/templates/fluoride.yaml")
    assert packaged == (ROOT / "templates" / "fluoride.yaml").read_bytes()
    assert "fluoride/py.typed" in names
    assert "fluoride/infra/template.py" in names
    assert not [n for n in names if n.startswith(("tests/", "templates/", "src/"))]


def test_change_settings_example(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "change_settings.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "memory: 512 -> 1024" in out
    assert "The tasks restart (rolling, no downtime)" in out
    assert "image kept: True" in out
    assert "round trip: True" in out
    assert "settings stable memory: 512 -> 1024, environment.GREETING: 'hello' -> 'hi'" in out


def test_strict_service_example(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "strict_service.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "user=1000 log_retention_days=365" in out
    assert "tags: IMMUTABLE encryption: KMS" in out
    assert "table deletion protection: True" in out
    assert "round trip: True" in out
    assert "purged: bucket, repository, secret, table" in out
