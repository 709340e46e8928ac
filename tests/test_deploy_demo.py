"""``fluoride demo`` (the whole release tour) and the release example
the docs include, both on the emulator."""

from __future__ import annotations

import io
import runpy
from pathlib import Path

import pytest
from rich.console import Console

from fluoride.cli.demo import run_demo

EXAMPLES = Path(__file__).parent.parent / "examples"


def test_the_demo_tours_every_release_outcome() -> None:
    buffer = io.StringIO()
    run_demo("tour", console=Console(file=buffer, width=300, color_system=None))
    text = buffer.getvalue()
    steps = ["1. Create", "2. Push v1 and deploy it", "v1 serves:", "3. Deploy a broken v2",
             "RolledBack:", "stopped task: Task failed ELB health checks", "4. Deploy v3",
             "v3 serves:", "5. Roll back", "v1 serves again:", "6. History of tour",
             "stable (rollback)", "rolled back", "7. Delete", "Deleted tour."]
    at = 0
    for step in steps:  # each in this order
        found = text.find(step, at)
        assert found >= 0, f"{step!r} missing after position {at}:\n{text[at:]}"
        at = found + len(step)


def test_the_deploy_and_rollback_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "deploy_and_rollback.py"), run_name="__main__")
    assert capsys.readouterr().out.splitlines() == [
        "v1 stable True",
        "rolled back: Task failed ELB health checks",
        "serving: v1",
        "in progress",
        "v3 stable",
        "back to v1",
        "v1 stable (rollback)",
        "v3 stable ",
        "v2 rolled back ",
        "v1 stable ",
    ]
