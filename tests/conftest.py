"""Shared fixtures: the embedded emulator, a stubbed AWS seam, a fake clock."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import boto3
import pytest

from fluoride.aws import Aws
from fluoride.events import ProgressEvent
from fluoride.waiting import FakeClock

if TYPE_CHECKING:
    from click.testing import Result

    from fluoride import Fluoride

#: Runs the ``fluoride`` CLI against an emulator: ``cli("status", "hello")``.
CliRun = Callable[..., "Result"]

_names = itertools.count()


# --------------------------------------------------------------- the emulator's own errors

EMULATOR_ERRORS_MARKER = "emulator_errors"


class _Collector(logging.Handler):
    """Keeps the ERROR records of the emulator's logger (from any thread)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# Installed at import, so that errors logged while module-scoped fixtures start an emulator
# are seen too (they are reported by the next test that ends).
_emulator_errors = _Collector()
logging.getLogger("fluoride.local").addHandler(_emulator_errors)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{EMULATOR_ERRORS_MARKER}: the test expects the emulator to log an error of its own",
    )


@pytest.fixture(autouse=True)
def _fail_on_emulator_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test fails when the emulator logs an error of its own (``fluoride.local``, ERROR):
    the emulator carries on after its own bugs, so only this makes them seen."""
    yield
    records, _emulator_errors.records = _emulator_errors.records, []
    if records and request.node.get_closest_marker(EMULATOR_ERRORS_MARKER) is None:
        text = "\n".join(_emulator_errors.format(r) for r in records)
        pytest.fail(f"the emulator logged {len(records)} error(s) of its own:\n{text}",
                    pytrace=False)


class Recorder:
    """A reporter that keeps every event."""

    def __init__(self) -> None:
        self.events: list[ProgressEvent] = []

    def __call__(self, event: ProgressEvent) -> None:
        self.events.append(event)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def offline_session() -> boto3.Session:
    """A session with dummy credentials; only for Stubber-backed clients."""
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    )


@pytest.fixture
def stub_aws(offline_session: boto3.Session) -> Aws:
    return Aws(session=offline_session)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A plain moto server, without fluoride's shims: one per test module. For the store
    handles (which need nothing moto lacks) and for showing a gap against plain moto."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def plain_aws(endpoint: str, region: str = "eu-west-1") -> Aws:
    """An :class:`Aws` seam on a plain moto server (``moto_endpoint``), dummy credentials."""
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )
    return Aws(session=session, endpoint_url=endpoint)


@pytest.fixture(scope="module")
def fl() -> Iterator[object]:
    """One embedded emulator per test module; tests use unique service names."""
    from fluoride import Fluoride

    with Fluoride.local() as client:
        yield client


@pytest.fixture
def unique_name() -> str:
    return f"svc{next(_names)}"


def cli_against(fl: Fluoride, monkeypatch: pytest.MonkeyPatch) -> CliRun:
    """The ``fluoride`` CLI pointed at ``fl``'s emulator, with dummy credentials; exceptions
    propagate (a raw one is a bug the test should show)."""
    from click.testing import CliRunner

    from fluoride.cli import main

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", fl.region)
    monkeypatch.setenv("COLUMNS", "250")  # rich tables: one row a line
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, ["--endpoint-url", str(fl.endpoint_url), *args],
                             input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def cli(fl: Fluoride, monkeypatch: pytest.MonkeyPatch) -> CliRun:
    """The CLI against this module's emulator (the ``fl`` fixture)."""
    return cli_against(fl, monkeypatch)
