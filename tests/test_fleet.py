"""Many services at once: selection, the pool, FleetResult, the shared call budget.

Pure pieces are tested by tables; the fleet operations run on one embedded emulator.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import runpy
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from fluoride import Fluoride, ServiceSpec
from fluoride._release import Outcome, Release
from fluoride.errors import (
    ConfigError,
    DeploymentInProgress,
    DeploymentTimeout,
    FluorideError,
    ImageNotFound,
    RolledBack,
    ServiceNotFound,
)
from fluoride.events import (
    FleetFinished,
    FleetStarted,
    ForService,
    HtmlReporter,
    Note,
    ProgressEvent,
    ServiceFinished,
    describe,
)
from fluoride.fleet import (
    FleetFailed,
    FleetResult,
    StatusList,
    current_service,
    outcome_label,
    run_many,
)
from fluoride.local import Timing
from fluoride.ratelimit import RateBudget
from fluoride.selection import Selector
from fluoride.waiting import FakeClock

from .conftest import CliRun, cli_against

EXAMPLES = Path(__file__).parent.parent / "examples"


def _release(tag: str = "v1", outcome: Outcome = Outcome.STABLE) -> Release:
    return Release(id="r", image=f"repo@sha256:{'a' * 64}", digest=f"sha256:{'a' * 64}",
                   tags=(tag,), deployed_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
                   deployed_by=None, outcome=outcome)


# -- selection (pure) ---------------------------------------------------------------------

FOUND = {
    "team-a": {"team": "red", "project": "shop"},
    "team-b": {"team": "blue", "project": "shop"},
    "api": {"team": "red"},
    "worker": {},
}


@pytest.mark.parametrize(("patterns", "tags", "expected"), [
    ((), {}, ["api", "team-a", "team-b", "worker"]),
    (("team-*",), {}, ["team-a", "team-b"]),
    (("api",), {}, ["api"]),
    (("api", "team-?"), {}, ["api", "team-a", "team-b"]),
    ((), {"team": "red"}, ["api", "team-a"]),
    (("team-*",), {"team": "red"}, ["team-a"]),
    ((), {"team": "red", "project": "shop"}, ["team-a"]),
    ((), {"project": "s*"}, ["team-a", "team-b"]),
    (("nothing-*",), {}, []),
    ((), {"contact": "x"}, []),
])
def test_selector_picks(patterns: tuple[str, ...], tags: dict[str, str],
                        expected: list[str]) -> None:
    assert Selector.of(patterns, tags=tags).select(FOUND) == expected


@pytest.mark.parametrize(("items", "patterns", "tags"), [
    (["team-*"], ("team-*",), {}),
    (["team=red", "api"], ("api",), {"team": "red"}),
    (["project = shop"], (), {"project": "shop"}),
])
def test_selector_parses_the_cli_form(items: list[str], patterns: tuple[str, ...],
                                      tags: dict[str, str]) -> None:
    s = Selector.parse(items)
    assert (s.patterns, dict(s.tags)) == (patterns, tags)


def test_selector_names_every_bad_pattern_and_tag() -> None:
    with pytest.raises(ConfigError) as caught:
        Selector.of(["Team A", "ok-*"], tags={"owner": "me", "team": ""})
    fields = [e.field for e in caught.value.errors]
    assert fields == ["select[0]", "tags.owner", "tags.team"]
    assert "project, team, contact" in str(caught.value)


def test_selector_missing_lists_plain_names_only() -> None:
    assert Selector.of(["api", "gone", "x-*"]).missing(FOUND) == ["gone"]


# -- outcomes and the result (pure) -------------------------------------------------------

@pytest.mark.parametrize(("value", "label"), [
    (_release(), "stable"),
    (_release(outcome=Outcome.IN_PROGRESS), "in progress"),
    (RolledBack("r"), "rolled back"),
    (DeploymentTimeout("t"), "timed out"),
    (DeploymentInProgress("b"), "busy"),
    (ImageNotFound("i"), "image not found"),
    (ServiceNotFound("n"), "not found"),
    (ConfigError("c"), "failed"),
    (KeyError("bug"), "error"),
])
def test_outcome_labels(value: Any, label: str) -> None:
    assert outcome_label(value) == label


def test_fleet_result_splits_and_raises() -> None:
    broken = RolledBack("The deployment of v2 to b was rolled back.", reasons=["exit code 1"],
                        serving=_release("v1"))
    result = FleetResult("deploy", {"a": _release("v2"), "b": broken, "c": KeyError("x")})
    assert list(result) == ["a", "b", "c"]
    assert list(result.succeeded) == ["a"]
    assert list(result.failed) == ["b", "c"]
    assert not result.ok
    assert repr(result) == ("<FleetResult deploy: 1 succeeded, 2 failed "
                            "(b: rolled back, c: error)>")
    html = result._repr_html_()
    assert html.count("<tr>") == 4  # the header and one row per service
    assert "exit code 1" in html
    with pytest.raises(FleetFailed) as caught:
        result.raise_for_failures()
    assert set(caught.value.failures) == {"b", "c"}
    assert "2 of 3 services failed to deploy" in caught.value.message
    data = result.to_dict()
    assert data["failed"] == ["b", "c"]
    assert data["services"]["b"]["error"]["reasons"] == ["exit code 1"]
    assert data["services"]["b"]["serving"].tag == "v1"
    ok = FleetResult("deploy", {"a": _release()})
    assert ok.raise_for_failures() is ok


# -- the pool (pure: jobs are plain functions) --------------------------------------------

def test_one_failure_stops_and_hides_no_other() -> None:
    seen: list[ProgressEvent] = []
    started = threading.Barrier(3, timeout=10)

    def job(name: str) -> Any:
        def run(report: Any) -> Release:
            started.wait()  # all three run at once: the pool is really parallel
            report(Note(name, f"working on {current_service()}"))
            if name == "b":
                raise RolledBack("b rolled back")
            if name == "c":
                raise KeyError("a bug")
            return _release()
        return run

    out = run_many({n: job(n) for n in "abc"}, max_parallel=3, reporter=seen.append)
    assert isinstance(out["a"], Release)
    assert isinstance(out["b"], RolledBack)
    assert isinstance(out["c"], KeyError)
    assert isinstance(seen[0], FleetStarted)
    notes = {e.service: describe(e) for e in seen if isinstance(e, ForService)}
    assert notes == {n: f"{n}: working on {n}" for n in "abc"}
    finished = {e.service: (e.outcome, e.ok) for e in seen if isinstance(e, ServiceFinished)}
    assert finished == {"a": ("stable", True), "b": ("rolled back", False),
                        "c": ("error", False)}
    last = seen[-1]
    assert isinstance(last, FleetFinished)
    assert (last.succeeded, last.failed) == (("a",), ("b", "c"))


def test_the_pool_is_bounded() -> None:
    running = 0
    peak = 0
    lock = threading.Lock()
    gate = threading.Event()

    def run(_report: Any) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        gate.wait(0.05)
        with lock:
            running -= 1
        return 1

    run_many({f"s{i}": run for i in range(8)}, max_parallel=3)
    assert peak <= 3


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "4"])
def test_max_parallel_must_be_a_whole_number(bad: Any) -> None:
    with pytest.raises(ConfigError, match="max_parallel"):
        run_many({"a": lambda r: 1}, max_parallel=bad)


def test_html_reporter_shows_a_fleet_as_one_table() -> None:
    shown: list[str] = []

    class Handle:
        def update(self, block: str) -> None:
            shown.append(block)

    def display(block: str, display_id: bool) -> Handle:
        shown.append(block)
        return Handle()

    reporter = HtmlReporter(display=display, html=lambda s: s)
    reporter(FleetStarted("deploy", ("a", "b"), 2))
    reporter(ForService("a", Note("a", "a serves v2.")))
    reporter(ServiceFinished("b", "rolled back", "bad image", ok=False))
    last = shown[-1]
    assert last.count("<tr>") == 2
    assert "<td style='text-align:left'>a serves v2.</td>" in last
    assert "rolled back: bad image" in last
    handles = len(shown)
    reporter(FleetFinished("deploy", ("a",), ("b",), 12.0))
    assert len(shown) == handles + 1
    assert "deploy: 1 of 2 service(s) succeeded in 12 s; failed: b" in shown[-1]
    assert "<tr>" in shown[-1]  # the table stays under the summary


# -- the call budget (pure, fake clock) ---------------------------------------------------

def _times(budget: RateBudget, clock: FakeClock, calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        budget.acquire()
        out.append(clock.now)
    return out


def _within(times: list[float], rate: float, burst: float) -> bool:
    """No window of time holds more calls than the bucket allows."""
    return all(j - i + 1 <= burst + rate * (times[j] - times[i]) + 1e-9
               for i, j in itertools.combinations(range(len(times)), 2))


@pytest.mark.parametrize(("rate", "burst", "calls", "elapsed"), [
    (10, None, 10, 0.0),  # the burst goes at once
    (10, None, 30, 2.0),  # then 10 per second
    (2, 1, 5, 2.0),
    (0.5, 4, 6, 4.0),
])
def test_budget_paces_calls(rate: float, burst: float | None, calls: int,
                            elapsed: float) -> None:
    clock = FakeClock()
    budget = RateBudget(rate, burst, clock=clock)
    times = _times(budget, clock, calls)
    assert times[-1] == pytest.approx(elapsed)
    assert _within(times, rate, burst or max(1.0, rate))
    assert budget.calls == calls


def test_budget_refills_while_idle() -> None:
    clock = FakeClock()
    budget = RateBudget(5, 5, clock=clock)
    _times(budget, clock, 5)
    clock.now += 10  # idle: the bucket fills up, but no higher than the burst
    before = clock.now
    _times(budget, clock, 5)
    assert clock.now == before
    assert budget.acquire() == pytest.approx(0.2)


@pytest.mark.parametrize("bad", [0, -1, math.nan, "10", True])
def test_budget_rate_must_be_positive(bad: Any) -> None:
    with pytest.raises(ConfigError, match="calls per second"):
        RateBudget(bad)


def test_budget_is_optional_and_configurable() -> None:
    session = boto3.Session(aws_access_key_id="k", aws_secret_access_key="k",
                            region_name="eu-west-1")
    assert Fluoride(session=session).aws.budget is not None  # AWS: 10/s by default
    assert Fluoride(session=session, max_calls_per_second=math.inf).aws.budget is None
    set_ = Fluoride(session=session, max_calls_per_second=3).aws.budget
    assert set_ is not None
    assert set_.rate == 3
    local = Fluoride(session=session, endpoint_url="http://127.0.0.1:1")
    assert local.aws.budget is None  # the emulator: nothing to throttle
    with pytest.raises(ConfigError, match="max_calls_per_second"):
        Fluoride(session=session, max_calls_per_second=0)


# -- on the emulator ----------------------------------------------------------------------

NAMES = ["fleet-a", "fleet-b", "fleet-c", "fleet-d", "fleet-e", "other"]


@pytest.fixture(scope="module")
def events() -> list[ProgressEvent]:
    return []


@pytest.fixture(scope="module")
def local(events: list[ProgressEvent]) -> Iterator[Fluoride]:
    fast = Timing(task_start=0.05, health_check=0.05, drain=0.05)
    with Fluoride.local(reporter=events.append, timing=fast) as fl:
        for i, name in enumerate(NAMES):
            fl.service(name).create(ServiceSpec(team="red" if i % 2 else "blue",
                                                project="shop"))
        yield fl


def _push(fl: Fluoride, name: str, tag: str, *, healthy: bool = True) -> None:
    assert fl.emulator is not None
    fl.emulator.push_image(fl.service(name).outputs()["RepositoryName"], tag, healthy=healthy)


def test_one_broken_image_among_six(local: Fluoride, events: list[ProgressEvent]) -> None:
    for name in NAMES:
        _push(local, name, "v1")
        _push(local, name, "v2", healthy=name != "fleet-c")
    first = local.deploy_many(dict.fromkeys(NAMES, "v1"), max_parallel=6)
    assert first.ok, first
    events.clear()
    result = local.deploy_many(dict.fromkeys(NAMES, "v2"), max_parallel=4)
    assert sorted(result.failed) == ["fleet-c"]
    broken = result["fleet-c"]
    assert isinstance(broken, RolledBack)
    assert broken.reasons  # why its tasks stopped
    assert broken.serving is not None
    assert broken.serving.tag == "v1"
    assert {n: r.tag for n, r in result.succeeded.items()} == {
        n: "v2" for n in NAMES if n != "fleet-c"}
    # Every service's progress came tagged with its name; one finish each.
    tagged = {e.service for e in events if isinstance(e, ForService)}
    assert tagged == set(NAMES)
    finished = [e.service for e in events if isinstance(e, ServiceFinished)]
    assert sorted(finished) == sorted(NAMES)
    statuses = local.status()
    assert isinstance(statuses, StatusList)
    images = {s.name: s.image for s in statuses}
    assert all(images[n] == r.image for n, r in result.succeeded.items())
    with pytest.raises(FleetFailed):
        result.raise_for_failures()


def test_selection_by_glob_and_tag(local: Fluoride) -> None:
    assert [s.name for s in local.services("fleet-*")] == NAMES[:5]
    assert [s.name for s in local.services(team="red")] == ["fleet-b", "fleet-d", "other"]
    assert [s.name for s in local.services("fleet-*", team="red")] == ["fleet-b", "fleet-d"]
    assert [s.name for s in local.services(tags={"project": "shop"})] == sorted(NAMES)
    assert [s.name for s in local.status("fleet-[ab]")] == ["fleet-a", "fleet-b"]
    with pytest.raises(ServiceNotFound, match="nope"):
        local.services("fleet-a", "nope")
    _push(local, "fleet-b", "v3")
    _push(local, "fleet-d", "v3")
    result = local.deploy_many(select="fleet-*", team="red", image="v3")
    assert {n: r.tag for n, r in result.succeeded.items()} == {"fleet-b": "v3", "fleet-d": "v3"}
    back = local.rollback_many(["fleet-b", "fleet-d"])
    assert {n: r.tag for n, r in back.succeeded.items()} == {"fleet-b": "v2", "fleet-d": "v2"}


def test_bad_calls_fail_before_any_deploy(local: Fluoride) -> None:
    with pytest.raises(ConfigError):
        local.deploy_many({"Bad Name": "v1"})
    with pytest.raises(ConfigError, match="not both"):
        local.deploy_many({"fleet-a": "v1"}, select="fleet-*")
    with pytest.raises(ConfigError, match="No services"):
        local.deploy_many()
    result = local.deploy_many({"fleet-a": "no-such-tag", "ghost": "v1"})
    assert {n: outcome_label(e) for n, e in result.failed.items()} == {
        "fleet-a": "image not found", "ghost": "not found"}


def test_a_busy_service_in_the_set(local: Fluoride, events: list[ProgressEvent]) -> None:
    assert local.emulator is not None
    for name in ("fleet-a", "fleet-e"):
        _push(local, name, "v4")
    done: dict[str, FleetResult] = {}
    events.clear()
    with local.emulator.hold_rollouts() as hold:
        local.service("fleet-a").deploy("v4", wait=False)  # held: it stays in progress
        worker = threading.Thread(target=lambda: done.update(
            r=local.deploy_many({"fleet-a": "v4", "fleet-e": "v4"}, max_parallel=2)))
        worker.start()
        try:
            # Time moves only once fleet-a has been refused, so it is surely busy then.
            while not any(isinstance(e, ServiceFinished) for e in events) and worker.is_alive():
                worker.join(0.01)
            while worker.is_alive():
                hold.advance(0.05)
                worker.join(0.01)
        finally:
            worker.join(30)
    result = done["r"]
    assert isinstance(result["fleet-a"], DeploymentInProgress)
    assert isinstance(result["fleet-e"], Release)
    assert result["fleet-e"].tag == "v4"
    local.service("fleet-a").wait_stable()


def test_polls_share_one_budget(local: Fluoride) -> None:
    """Calls per second, counted by a hook that runs after the budget's, on the emulator's
    simulated clock: never more than the bucket allows, though two services poll."""
    assert local.emulator is not None
    clock = local.emulator.clock

    def run(rate: float) -> list[float]:
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                region_name=local.region)
        times: list[float] = []
        lock = threading.Lock()

        def count(**_: Any) -> None:
            with lock:
                times.append(clock.monotonic())

        session.events.register_last("before-call", count)
        fl = Fluoride(session=session, endpoint_url=local.endpoint_url, clock=clock,
                      reporter=lambda e: None, max_calls_per_second=rate)
        names = ["fleet-b", "other"]
        tag = f"r{int(rate)}"
        for name in names:
            _push(local, name, tag)
        result = fl.deploy_many(dict.fromkeys(names, tag), max_parallel=2)
        assert result.ok, result
        return sorted(times)

    # A call is counted a moment after its token was granted, and the other worker may
    # move the shared clock on in between: a window may also hold calls granted just
    # before it, at most one per worker (each worker's calls come one after another).
    slack = 2  # max_parallel
    limited = run(4)
    assert len(limited) > 20
    assert _within(limited, rate=4, burst=4 + slack)
    # The same fleet without the budget breaks the bound: the check can fail.
    unlimited = run(1000)
    assert not _within(unlimited, rate=4, burst=4 + slack)


def test_fleet_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "fleet.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "<FleetResult deploy: 3 succeeded, 1 failed (shop-cart: rolled back)>" in out
    assert "shop-cart rolled back" in out


def test_fluoride_error_stays_a_fluoride_error() -> None:
    assert issubclass(FleetFailed, FluorideError)


# -- the CLI ------------------------------------------------------------------------------

@pytest.fixture
def cli(local: Fluoride, monkeypatch: pytest.MonkeyPatch) -> CliRun:
    """The CLI against this module's emulator (the ``local`` fixture)."""
    return cli_against(local, monkeypatch)


def test_cli_deploys_a_selection(local: Fluoride, cli: CliRun) -> None:
    _push(local, "fleet-b", "c1")
    _push(local, "fleet-d", "c1", healthy=False)
    result = cli("--output", "json", "deploy", "--select", "fleet-*", "--select", "team=red",
                 "c1", "--max-parallel", "2")
    assert result.exit_code == 1  # one failed
    data = json.loads(result.stdout)
    assert data["succeeded"] == ["fleet-b"]
    assert data["failed"] == ["fleet-d"]
    assert data["services"]["fleet-d"]["outcome"] == "rolled back"
    assert data["services"]["fleet-b"]["release"]["tags"] == ["c1"]
    table = cli("deploy", "--select", "fleet-b", "c1")
    assert table.exit_code == 0, table.output
    assert "1 of 1 succeeded" in table.stdout
    status = cli("status", "--select", "team=red")
    assert status.exit_code == 0
    assert "fleet-b" in status.stdout
    assert "fleet-a" not in status.stdout


def test_cli_rejects_a_name_with_select(cli: CliRun) -> None:
    result = cli("deploy", "--select", "fleet-*", "fleet-a", "v2")
    assert result.exit_code == 2
    assert "only the IMAGE" in result.output
    assert cli("deploy").exit_code == 2
    bad = cli("status", "--select", "Bad Name")
    assert bad.exit_code == 1
    assert "select[0]" in bad.output
