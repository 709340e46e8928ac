"""The emulator's own failures are logged at ERROR and fail the test run; AWS's answers are not.

The emulator carries on after a bug in a simulated happening or a shim (the emulated world
must not stop), so ``tests/conftest.py`` fails any test during which the ``fluoride.local``
logger records an ERROR, unless the test is marked ``emulator_errors``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from moto.ecs.exceptions import ClusterNotFoundException

from fluoride.local._errors import is_aws_error, tolerated

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.emulator_errors  # the AttributeError below is logged, as it must be
def test_tolerated_logs_the_emulator_s_failures_at_error_and_aws_errors_below(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="fluoride.local"):
        with tolerated("deleting a cluster that is gone"):
            raise ClusterNotFoundException()
        with tolerated("a shim with a bug"):
            raise AttributeError("'NoneType' object has no attribute 'arn'")
        with tolerated("a narrower expectation", KeyError):
            raise KeyError("gone")
    levels = [(r.levelname, r.getMessage().split(":")[1].strip()) for r in caplog.records]
    assert levels == [("DEBUG", "deleting a cluster that is gone"),
                      ("ERROR", "a shim with a bug failed"),
                      ("DEBUG", "a narrower expectation")]
    assert caplog.records[1].exc_info is not None  # with its traceback


def test_aws_errors_are_told_from_bugs() -> None:
    from moto.cloudformation.exceptions import ValidationError

    assert is_aws_error(ClusterNotFoundException())
    assert is_aws_error(ValidationError("stack", message="bad"))
    assert not is_aws_error(AttributeError("x"))
    assert not is_aws_error(KeyError("x"))


def test_a_test_fails_when_the_emulator_logs_an_error(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import _fail_on_emulator_errors, pytest_configure\n")
    (tmp_path / "test_probe.py").write_text(textwrap.dedent("""
        import logging

        import pytest

        def test_unmarked():
            logging.getLogger("fluoride.local").error("emulator: a happening failed")

        @pytest.mark.emulator_errors
        def test_marked():
            logging.getLogger("fluoride.local").error("emulator: expected here")

        def test_warning_only():
            logging.getLogger("fluoride.local").warning("emulator: a cleanup failed")

        def test_other_logger():
            logging.getLogger("fluoride").error("not the emulator")
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         "-p", "no:xdist", "-rA", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    outcomes = {line.split("::")[-1].split()[0]: line.split()[0]
                for line in done.stdout.splitlines() if "::test_" in line}
    assert outcomes == {"test_unmarked": "ERROR", "test_marked": "PASSED",
                        "test_warning_only": "PASSED", "test_other_logger": "PASSED"}, done.stdout
    assert "the emulator logged 1 error(s) of its own" in done.stdout
    assert "a happening failed" in done.stdout
