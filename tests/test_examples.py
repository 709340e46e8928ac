"""The examples under examples/ run against the embedded emulator, as the docs show them."""

from __future__ import annotations

import runpy
import sys
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
        packaged = {t: whl.read(f"fluoride/templates/{t}")
                    for t in ("fluoride.yaml", "environment.yaml")}
    for template, body in packaged.items():
        assert body == (ROOT / "templates" / template).read_bytes(), template
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


def test_dataframes_example(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    runpy.run_path(str(EXAMPLES / "dataframes.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "'temperature': 21.5, 'samples': 3, 'ratio': 0.1" in out
    assert "'ratio': Decimal('0.1')" in out
    assert "item['readings'][1]" in out
    assert "200 rows written" in out
    assert "(201, 7) ['pk', 'batch', 'mass_g']" in out
    assert "4 summary rows written" in out
    assert "True\n201 rows from parquet" in out
    assert "skipping" not in out


def test_dataframes_example_without_pandas(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    # CI runs the examples against the wheel with the `local` extra and `pandas`; a user
    # without pandas gets the rest of the example and a line naming the extra.
    monkeypatch.setitem(sys.modules, "pandas", None)
    runpy.run_path(str(EXAMPLES / "dataframes.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "200 rows written" in out
    assert "skipping the DataFrame part (pip install 'fluoride[pandas]')" in out
    assert "summary rows written" not in out


def test_progress_events_example(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "progress_events.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "rolled back, as expected: v1" in out
    lines = [line for line in out.splitlines() if line.startswith(("ok ", "FAIL"))]
    assert [line.split(":")[0] for line in lines] == [
        "ok   create progress-demo", "ok   deploy progress-demo",
        "FAIL deploy progress-demo", "ok   delete progress-demo",
    ]
    assert "RolledBack: The deployment of v2" in lines[2]
    assert "a script logging at INFO shows" in out
def test_environment_example(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "environment.py"), run_name="__main__")
    out = capsys.readouterr().out
    urls = [line.split()[1] for line in out.splitlines()
            if line.split()[:1] in (["api"], ["web"], ["jobs"])]
    assert len(urls) == 3
    assert len(set(urls)) == 3
    assert all(u.startswith("https://") for u in urls)
    assert "services [api, jobs, web]" in out
    assert "refused: api, jobs, web" in out
    assert "reports admits: worker" in out
    assert "environment exists: False" in out
    assert "10 services: own ALBs $164.25/month, one gateway $16.43/month" in out
def test_strict_service_example(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "strict_service.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "user=1000 log_retention_days=365" in out
    assert "tags: IMMUTABLE encryption: KMS" in out
    assert "table deletion protection: True" in out
    assert "round trip: True" in out
    assert "proxy health: HEALTHY task health: HEALTHY" in out
    assert "app lines: 1, proxy lines: 1" in out
    assert ("proxy: [fluoride emulator] task <task> container proxy started from "
            "public.ecr.aws/envoyproxy/envoy:v1.31") in out
    assert "refused: strict -> standard would replace fluoride/records" in out
    assert "purged: bucket, repository, secret, table" in out


def test_private_network_example(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "private_network.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "VPC endpoint ecr.api: $14.60" in out  # 2 zones x 730 h x $0.01
    assert "com.amazonaws.us-east-1.logs Interface private DNS" in out
    assert "com.amazonaws.us-east-1.s3 Gateway route tables" in out
    assert "round trip: True" in out
    assert "endpoints left after delete: 0" in out
