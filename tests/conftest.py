"""Shared fixtures: the embedded emulator, a stubbed AWS seam, a fake clock."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import boto3
import pytest

from fluoride.aws import Aws
from fluoride.events import ProgressEvent
from fluoride.waiting import FakeClock

_names = itertools.count()


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
def fl() -> Iterator[object]:
    """One embedded emulator per test module; tests use unique service names."""
    from fluoride import Fluoride

    with Fluoride.local() as client:
        yield client


@pytest.fixture
def unique_name() -> str:
    return f"svc{next(_names)}"
