"""The AWS API calls of deploy, status, history and waiting stay within their budget.

Measured by ``benchmarks/api_calls.py`` on the emulator with botocore event hooks. A
change that adds a call fails here; raise a budget only with a reason beside it.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from ._bench import load_benchmark

#: operation -> the most calls allowed.
BUDGET = {
    "deploy: start": 9,
    "deploy: outcome": 1,
    "deploy (wait=False): start": 9,
    "wait_stable: start": 3,
    "wait_stable: outcome": 1,
    # status and history look at what ECS serves (issue 8, releases made outside Fluoride):
    # the service and its PRIMARY deployment's task definition.
    "status": 4,
    "history": 4,
    "one poll of a wait": 3,
}


def _load_benchmark() -> ModuleType:
    return load_benchmark("api_calls")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _load_benchmark()


@pytest.fixture(scope="module")
def measured(bench: ModuleType) -> dict[str, Any]:
    return dict(bench.measure("budget"))


@pytest.mark.parametrize("operation", sorted(BUDGET))
def test_within_budget(measured: dict[str, Any], operation: str) -> None:
    m = measured[operation]
    assert m.total <= BUDGET[operation], (operation, m.calls)


def test_the_minimums_are_honest(bench: ModuleType, measured: dict[str, Any]) -> None:
    for operation, (minimum, _why) in bench.MINIMUM.items():
        assert measured[operation].total >= minimum, (operation, measured[operation].calls)


@pytest.mark.parametrize("operation", ["deploy", "wait_stable"])
def test_each_api_at_most_once_per_poll(measured: dict[str, Any], operation: str) -> None:
    polls = measured[f"{operation}: poll"]
    assert polls.polls >= 1
    for api, count in polls.calls.items():
        assert count <= polls.polls, (api, count, polls.polls)


def test_nothing_but_the_named_phases(measured: dict[str, Any]) -> None:
    phases = {k.rsplit(": ", 1)[-1] for k in measured if ": " in k}
    assert phases <= {"start", "poll", "outcome"}


# -- fleets: each service's calls in deploy_many cost what a single deploy's do ------------


@pytest.fixture(scope="module")
def fleet() -> dict[str, Any]:
    measured = load_benchmark("fleet").measure(2, parallels=(2,), baseline=False,
                                               status=False)
    return dict(measured["deploys"]["deploy_many max_parallel=2"])


def test_a_fleet_poll_costs_a_single_poll(fleet: dict[str, Any]) -> None:
    assert fleet["polls_per_service"] >= 1
    assert fleet["max_calls_per_poll"] <= BUDGET["one poll of a wait"], fleet
    assert fleet["max_same_api_per_poll"] <= 1, fleet


def test_a_fleet_deploy_starts_and_ends_like_a_single_one(fleet: dict[str, Any]) -> None:
    single = BUDGET["deploy: start"] + BUDGET["deploy: outcome"]
    assert fleet["max_calls_outside_polls_of_one_service"] <= single, fleet
