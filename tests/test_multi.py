"""A fleet across accounts and regions: ``Fleet([...])`` over two embedded emulators.

The emulators run in one process with two accounts and two regions (each server names
its account to moto per request), so this is a two-account, two-region fleet.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import fluoride
from fluoride import Fleet, FleetResult, Fluoride, ServiceSpec, StatusList, Target
from fluoride._release import Release
from fluoride.errors import ConfigError, InvalidInput, RolledBack, ServiceNotFound
from fluoride.events import ForService, ProgressEvent, ServiceFinished
from fluoride.local import Timing
from fluoride.local._emulator import place_problems
from fluoride.multi import resolve_keys
from tests.test_fleet import _within

A = "123456789012/us-east-1"
B = "210987654321/eu-west-1"
C = "210987654321/us-east-1"


# -- pure pieces --------------------------------------------------------------------------

@pytest.mark.parametrize(("keys", "found", "expected"), [
    # a plain name: wherever it is
    (["api"], {A: ["api"], B: ["api", "web"]},
     {"api": [f"{A}/api", f"{B}/api"]}),
    (["web"], {A: ["api"], B: ["api", "web"]}, {"web": [f"{B}/web"]}),
    # found nowhere: no target (the deploy says ServiceNotFound under the key)
    (["ghost"], {A: ["api"]}, {"ghost": []}),
    # region/name: every member of that region, whether it has the service or not
    (["us-east-1/api"], {A: ["api"], B: ["api"], C: []},
     {"us-east-1/api": [f"{A}/api", f"{C}/api"]}),
    # account/region/name: that member
    ([f"{B}/api"], {A: ["api"], B: ["api"]}, {f"{B}/api": [f"{B}/api"]}),
    (["eu-west-1/api", "us-east-1/web"], {A: ["web"], B: ["api"]},
     {"eu-west-1/api": [f"{B}/api"], "us-east-1/web": [f"{A}/web"]}),
])
def test_keys_resolve_to_targets(keys: list[str], found: dict[str, list[str]],
                                 expected: dict[str, list[str]]) -> None:
    resolved, problems = resolve_keys(keys, found)
    assert problems == []
    assert {k: [str(t) for t in ts] for k, ts in resolved.items()} == expected


@pytest.mark.parametrize(("keys", "field", "says"), [
    (["ap-south-1/api"], "images['ap-south-1/api']", "none of the fleet's places"),
    (["999999999999/us-east-1/api"], "images['999999999999/us-east-1/api']",
     "none of the fleet's places"),
    (["a/b/c/api"], "images['a/b/c/api']", "not a service name"),
    (["Bad Name"], "images['Bad Name']", ""),
    (["api", "eu-west-1/api"], "images['eu-west-1/api']", "as 'api' does"),
])
def test_bad_keys_are_named(keys: list[str], field: str, says: str) -> None:
    _, problems = resolve_keys(keys, {A: ["api"], B: ["api"]})
    assert [p.field for p in problems] == [field]
    assert says in problems[0].problem


@pytest.mark.parametrize(("region", "account", "fields"), [
    ("us-east-1", "123456789012", []),
    ("eu-west-1", "210987654321", []),
    ("us-gov-west-1", "000000000001", []),
    ("mars-1", "123456789012", ["region"]),
    ("EU-WEST-1", "123456789012", ["region"]),
    ("eu-west-1", "1234", ["account_id"]),
    ("eu-west-1", 123456789012, ["account_id"]),
    ("", "12345678901a", ["region", "account_id"]),
])
def test_emulator_place_is_checked(region: Any, account: Any, fields: list[str]) -> None:
    assert [p.field for p in place_problems(region, account)] == fields


def test_bad_places_start_no_emulator() -> None:
    with pytest.raises(InvalidInput, match="account_id"):
        Fluoride.local(account_id="42")


@pytest.mark.parametrize("members", [[], [None], [("lab",)], [("lab", 1)], "lab"])
def test_bad_members_are_refused(members: Any) -> None:
    with pytest.raises(InvalidInput, match="members"):
        Fleet(members)


def test_pairs_make_clients() -> None:
    fleet = Fleet([(None, "eu-west-1"), (None, "us-east-1")])
    assert [m.region for m in fleet.members] == ["eu-west-1", "us-east-1"]


def test_the_package_exports_the_fleet_names() -> None:
    for name in ("Fleet", "FleetResult", "FleetFailed", "StatusList", "Target"):
        assert name in fluoride.__all__
        assert getattr(fluoride, name).__name__ == name
    assert all(hasattr(fluoride, name) for name in fluoride.__all__)


# -- two emulators: two accounts, two regions ---------------------------------------------

FAST = Timing(task_start=0.05, health_check=0.05, drain=0.05)
#: service -> its team, in each place
IN_A = {"api": "red", "web": "blue"}
IN_B = {"api": "red", "jobs": "red"}


@pytest.fixture(scope="module")
def events() -> list[ProgressEvent]:
    return []


@pytest.fixture(scope="module")
def pair(events: list[ProgressEvent]) -> Iterator[tuple[Fluoride, Fluoride]]:
    with Fluoride.local(timing=FAST, reporter=events.append) as a, Fluoride.local(
        timing=FAST, reporter=events.append, region="eu-west-1", account_id="210987654321"
    ) as b:
        for fl, services in ((a, IN_A), (b, IN_B)):
            for name, team in services.items():
                fl.service(name).create(ServiceSpec(team=team, project="shop"))
        yield a, b


def _push(fl: Fluoride, name: str, tag: str, *, healthy: bool = True) -> None:
    assert fl.emulator is not None
    fl.emulator.push_image(fl.service(name).outputs()["RepositoryName"], tag, healthy=healthy)


def test_two_places_hold_their_own_services(pair: tuple[Fluoride, Fluoride]) -> None:
    a, b = pair
    assert [s.name for s in a.services()] == ["api", "web"]
    assert [s.name for s in b.services()] == ["api", "jobs"]
    assert b.service("api").outputs()["TableArn"].startswith(
        "arn:aws:dynamodb:eu-west-1:210987654321:")
    fleet = Fleet([a, b])
    assert fleet.places() == [A, B]


def test_status_and_selection_across_places(pair: tuple[Fluoride, Fluoride]) -> None:
    fleet = Fleet(pair)
    statuses = fleet.status()
    assert isinstance(statuses, StatusList)
    assert [(s.account, s.region, s.name) for s in statuses] == [
        ("123456789012", "us-east-1", "api"), ("123456789012", "us-east-1", "web"),
        ("210987654321", "eu-west-1", "api"), ("210987654321", "eu-west-1", "jobs")]
    assert [row[0] for row in statuses.rows()] == [
        f"{A}/api", f"{A}/web", f"{B}/api", f"{B}/jobs"]
    assert f"{B}/jobs" in statuses._repr_html_()
    assert [s.aws.region for s in fleet.services("api")] == ["us-east-1", "eu-west-1"]
    assert [s.name for s in fleet.services(team="red")] == ["api", "api", "jobs"]
    assert [s.name for s in fleet.services("j*", team="red")] == ["jobs"]
    # a plain name present in one place only is found; one nowhere is not
    assert [s.name for s in fleet.services("web")] == ["web"]
    with pytest.raises(ServiceNotFound, match="ghost"):
        fleet.status("ghost")


def test_deploy_across_places_with_one_failure(
    pair: tuple[Fluoride, Fluoride], events: list[ProgressEvent]
) -> None:
    a, b = pair
    for fl, services in ((a, IN_A), (b, IN_B)):
        for name in services:
            _push(fl, name, "v1")
            # api's v2 is broken in eu-west-1 only
            _push(fl, name, "v2", healthy=not (fl is b and name == "api"))
    fleet = Fleet([a, b])
    first = fleet.deploy_many(select="*", image="v1", max_parallel=4)
    assert first.ok, first
    assert sorted(first) == [f"{A}/api", f"{A}/web", f"{B}/api", f"{B}/jobs"]
    events.clear()
    result = fleet.deploy_many({"api": "v2", "us-east-1/web": "v2", "ghost": "v2"})
    assert isinstance(result, FleetResult)
    assert sorted(result.succeeded) == [f"{A}/api", f"{A}/web"]
    assert sorted(result.failed) == [f"{B}/api", "ghost"]
    broken = result[f"{B}/api"]
    assert isinstance(broken, RolledBack)
    assert broken.serving is not None
    assert broken.serving.tag == "v1"
    assert isinstance(result["ghost"], ServiceNotFound)
    assert result.targets[f"{B}/api"] == Target("210987654321", "eu-west-1", "api")
    data = result.to_dict()["services"]
    assert (data[f"{B}/api"]["account"], data[f"{B}/api"]["region"],
            data[f"{B}/api"]["service"]) == ("210987654321", "eu-west-1", "api")
    # the same name in two accounts: two releases, two images in two registries
    released = result[f"{A}/api"]
    assert isinstance(released, Release)
    assert released.image.startswith("123456789012.dkr.ecr.us-east-1.")
    # progress names where each service is
    assert {e.service for e in events if isinstance(e, ServiceFinished)} == set(result)
    assert f"{B}/api" in {e.service for e in events if isinstance(e, ForService)}
    # what each place serves now: b's api rolled back to v1, the others serve v2
    tags = {f"{s.account}/{s.region}/{s.name}": s.image for s in fleet.status()}
    assert tags[f"{A}/api"] == released.image
    assert tags[f"{B}/api"] == broken.serving.image
    back = fleet.rollback_many([f"{A}/api"])
    assert [(k, r.tag) for k, r in back.succeeded.items()] == [(f"{A}/api", "v1")]


def test_bad_requests_deploy_nothing(pair: tuple[Fluoride, Fluoride]) -> None:
    fleet = Fleet(pair)
    with pytest.raises(InvalidInput, match="ap-south-1"):
        fleet.deploy_many({"ap-south-1/api": "v1"})
    with pytest.raises(ConfigError, match="not both"):
        fleet.deploy_many({"api": "v1"}, select="*")
    with pytest.raises(ConfigError, match="No services"):
        fleet.rollback_many()
    with pytest.raises(ConfigError, match="max_parallel"):
        fleet.deploy_many({"api": "v1"}, max_parallel=0)


def test_one_client_per_place(pair: tuple[Fluoride, Fluoride]) -> None:
    a, _ = pair
    again = Fluoride(session=a.session, endpoint_url=a.endpoint_url)
    with pytest.raises(ConfigError, match=A):
        Fleet([a, again]).places()


def test_each_place_has_its_own_budget(pair: tuple[Fluoride, Fluoride]) -> None:
    """Calls per second of each place, counted by hooks after the budget's on the
    emulators' shared simulated clock: each place keeps to its budget, and the two
    together go faster than one budget would let them (the budgets are separate)."""
    a, b = pair
    assert a.emulator is not None
    clock = a.emulator.clock
    times: dict[str, list[float]] = {A: [], B: []}
    lock = threading.Lock()

    def member(fl: Fluoride, place: str) -> Fluoride:
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                region_name=fl.region)

        def count(**_: Any) -> None:
            with lock:
                times[place].append(clock.monotonic())

        session.events.register_last("before-call", count)
        return Fluoride(session=session, endpoint_url=fl.endpoint_url, clock=clock,
                        reporter=lambda e: None)

    rate = 3
    fleet = Fleet([member(a, A), member(b, B)], max_calls_per_second=rate)
    for fl, name in ((a, "web"), (b, "jobs")):
        _push(fl, name, "b1")
    result = fleet.deploy_many({"us-east-1/web": "b1", "eu-west-1/jobs": "b1"}, max_parallel=2)
    assert result.ok, result
    # As in test_fleet: a call is counted a moment after its token was granted, and the
    # other worker may move the shared clock on in between (at most one call per worker).
    slack = 2
    for place in (A, B):
        assert len(times[place]) > 10
        assert _within(sorted(times[place]), rate=rate, burst=rate + slack), place
    # One budget for both places would hold them to that together; they are not held.
    assert not _within(sorted(times[A] + times[B]), rate=rate, burst=rate + slack)


def test_the_regions_example_runs() -> None:
    # In a process of its own: its emulators serve the same accounts as this module's,
    # whose services would be selected too (moto's state is one per process).
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).parent.parent
    done = subprocess.run(
        [sys.executable, str(root / "examples" / "fleet_regions.py")],
        env={**os.environ, "PYTHONPATH": str(root / "src")},
        capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "['123456789012/us-east-1', '210987654321/eu-west-1']" in out
    assert "<FleetResult deploy: 4 succeeded>" in out
    assert ("<FleetResult deploy: 2 succeeded, 1 failed "
            "(210987654321/eu-west-1/api: rolled back)>") in out
    assert "api in eu-west-1 (210987654321) rolled back; v1 serves again" in out
    assert "210987654321 eu-west-1 jobs complete" in out


def test_the_calls_a_fleet_status_makes(pair: tuple[Fluoride, Fluoride]) -> None:
    """Per member: GetCallerIdentity once (its account), one DescribeStacks per status;
    then one DescribeServices per service, as one client's status makes."""
    calls: list[str] = []
    lock = threading.Lock()

    def member(fl: Fluoride) -> Fluoride:
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                region_name=fl.region)

        def count(model: Any, **_: Any) -> None:
            with lock:
                calls.append(model.name)

        session.events.register("before-call", count)
        return Fluoride(session=session, endpoint_url=fl.endpoint_url, reporter=lambda e: None)

    fleet = Fleet([member(fl) for fl in pair])
    services = len(fleet.status())
    assert sorted(calls) == sorted(["GetCallerIdentity"] * 2 + ["DescribeStacks"] * 2
                                   + ["DescribeServices"] * services)
    calls.clear()
    fleet.status()
    assert sorted(calls) == sorted(["DescribeStacks"] * 2 + ["DescribeServices"] * services)
