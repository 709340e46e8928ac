"""Container logs: ``since`` parsing, paging and following against botocore's Stubber, and the
emulator's task lines through ``Service.logs`` and ``fluoride logs``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from botocore.stub import Stubber

from fluoride.aws import Aws
from fluoride.errors import AwsError, ConfigError
from fluoride.logs import LogLine, follow_logs, parse_time, read_logs
from fluoride.waiting import FakeClock

GROUP = "/fluoride/hello"
NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
T0 = int(NOW.timestamp() * 1000)


def _event(event_id: str, ms: int, message: str, task: str = "abc123") -> dict[str, Any]:
    return {"eventId": event_id, "timestamp": ms, "message": message,
            "logStreamName": f"app/app/{task}", "ingestionTime": ms}


# -- since -------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "ago"), [
    ("30s", dt.timedelta(seconds=30)),
    ("10m", dt.timedelta(minutes=10)),
    ("2h", dt.timedelta(hours=2)),
    ("1d", dt.timedelta(days=1)),
    (" 5m ", dt.timedelta(minutes=5)),
    (dt.timedelta(minutes=3), dt.timedelta(minutes=3)),
])
def test_since_durations_mean_that_long_ago(value: str | dt.timedelta, ago: dt.timedelta) -> None:
    assert parse_time(value, now=NOW) == NOW - ago


def test_since_datetimes_are_utc() -> None:
    other_zone = dt.datetime(2024, 5, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert parse_time(other_zone) == NOW
    assert parse_time(other_zone).tzinfo == dt.timezone.utc
    naive = dt.datetime(2024, 5, 1, 12, 0)  # local time, as datetime.timestamp() reads it
    assert parse_time(naive).timestamp() == naive.timestamp()


@pytest.mark.parametrize("bad", ["", "10", "10x", "m", "-5m", "1.5h", "10 minutes", 10, None,
                                 dt.timedelta(minutes=-1)])
def test_bad_since_is_refused_before_any_call(stub_aws: Aws, bad: Any) -> None:
    with Stubber(stub_aws.client("logs")) as stub:  # no responses: any call would fail
        with pytest.raises(ConfigError) as error:
            read_logs(stub_aws, GROUP, since=bad)
        assert "'10m'" in error.value.message
        assert "timedelta" in error.value.message
        assert "since=" in error.value.message
        with pytest.raises(ConfigError):
            follow_logs(stub_aws, GROUP, since=bad, clock=FakeClock())
        stub.assert_no_pending_responses()


def test_bad_until_and_limit_are_refused(stub_aws: Aws) -> None:
    with Stubber(stub_aws.client("logs")):
        with pytest.raises(ConfigError, match="until="):
            read_logs(stub_aws, GROUP, since="1h", until="soon")
        with pytest.raises(ConfigError, match="limit"):
            read_logs(stub_aws, GROUP, since="1h", limit=0)


# -- reading -----------------------------------------------------------------------------


def test_pages_are_read_lazily_in_order(stub_aws: Aws) -> None:
    start = dt.datetime.fromtimestamp(T0 / 1000, tz=dt.timezone.utc)
    with Stubber(stub_aws.client("logs")) as stub:
        stub.add_response("filter_log_events", {
            "events": [_event("1", T0 + 1, "one\n", "aaa"), _event("2", T0 + 2, "two", "bbb")],
            "nextToken": "page-2",
        }, {"logGroupName": GROUP, "startTime": T0, "interleaved": True,
            "filterPattern": "ERROR"})
        stub.add_response("filter_log_events", {"events": [], "nextToken": "page-3"},
                          {"logGroupName": GROUP, "startTime": T0, "interleaved": True,
                           "filterPattern": "ERROR", "nextToken": "page-2"})
        stub.add_response("filter_log_events", {"events": [_event("3", T0 + 3, "three")]},
                          {"logGroupName": GROUP, "startTime": T0, "interleaved": True,
                           "filterPattern": "ERROR", "nextToken": "page-3"})
        lines = read_logs(stub_aws, GROUP, since=start, pattern="ERROR")
        first = next(lines)
        assert len(stub._queue) == 2  # type: ignore[attr-defined]  # Stubber's queue is private
        assert first == LogLine(
            timestamp=start + dt.timedelta(milliseconds=1), task_id="aaa", message="one")
        rest = list(lines)
        stub.assert_no_pending_responses()
    assert [(line.task_id, line.message) for line in rest] == [("bbb", "two"), ("abc123", "three")]


def test_a_stream_prefix_narrows_the_streams_read(stub_aws: Aws) -> None:
    start = dt.datetime.fromtimestamp(T0 / 1000, tz=dt.timezone.utc)
    with Stubber(stub_aws.client("logs")) as stub:
        stub.add_response("filter_log_events", {"events": [_event("1", T0 + 1, "up")]},
                          {"logGroupName": GROUP, "startTime": T0, "interleaved": True,
                           "logStreamNamePrefix": "proxy/proxy/"})
        lines = read_logs(stub_aws, GROUP, since=start, stream_prefix="proxy/proxy/")
        assert "proxy/proxy/*" in repr(lines)
        assert [line.message for line in lines] == ["up"]
        stub.assert_no_pending_responses()


def test_limit_stops_early_and_bounds_the_page(stub_aws: Aws) -> None:
    start = dt.datetime.fromtimestamp(T0 / 1000, tz=dt.timezone.utc)
    end = start + dt.timedelta(minutes=5)
    with Stubber(stub_aws.client("logs")) as stub:
        stub.add_response("filter_log_events", {
            "events": [_event("1", T0 + 1, "one"), _event("2", T0 + 2, "two")],
            "nextToken": "more",
        }, {"logGroupName": GROUP, "startTime": T0, "endTime": T0 + 300_000,
            "interleaved": True, "limit": 2})
        lines = list(read_logs(stub_aws, GROUP, since=start, until=end, limit=2))
        stub.assert_no_pending_responses()  # the next page was never asked for
    assert [line.message for line in lines] == ["one", "two"]


def test_a_missing_log_group_is_a_clear_error(stub_aws: Aws) -> None:
    with Stubber(stub_aws.client("logs")) as stub:
        stub.add_client_error("filter_log_events", "ResourceNotFoundException",
                              "The specified log group does not exist.")
        with pytest.raises(AwsError) as error:
            list(read_logs(stub_aws, GROUP, since="10m"))
    assert "the log group /fluoride/hello does not exist" in str(error.value).lower()
    assert error.value.code == "ResourceNotFoundException"
    assert error.value.resource == GROUP
    assert error.value.__cause__ is not None


def test_other_failures_are_translated_by_code(stub_aws: Aws) -> None:
    with Stubber(stub_aws.client("logs")) as stub:
        stub.add_client_error("filter_log_events", "AccessDeniedException", "no")
        with pytest.raises(AwsError, match="Access denied to FilterLogEvents"):
            list(read_logs(stub_aws, GROUP, since="10m"))


# -- following ---------------------------------------------------------------------------


def test_follow_shows_new_lines_once_and_stops(stub_aws: Aws) -> None:
    start = dt.datetime.fromtimestamp(T0 / 1000, tz=dt.timezone.utc)
    clock = FakeClock()
    polls = []

    def stop() -> bool:
        polls.append(clock.now)
        return len(polls) >= 3

    later = T0 + 60_000
    with Stubber(stub_aws.client("logs")) as stub:
        base = {"logGroupName": GROUP, "interleaved": True}
        stub.add_response("filter_log_events", {"events": [_event("1", T0 + 5, "first")]},
                          {**base, "startTime": T0})
        # the second look reads from the newest line shown (minus the overlap) again:
        # "1" comes back and is dropped; "2" and "3" are new
        stub.add_response("filter_log_events", {"events": [
            _event("1", T0 + 5, "first"), _event("2", T0 + 5, "same millisecond"),
        ], "nextToken": "t"}, {**base, "startTime": T0})
        stub.add_response("filter_log_events", {"events": [_event("3", later, "second")]},
                          {**base, "startTime": T0, "nextToken": "t"})
        stub.add_response("filter_log_events", {"events": [
            _event("3", later, "second"), _event("4", later + 1, "third", "other"),
        ]}, {**base, "startTime": later - 10_000})
        lines = list(follow_logs(stub_aws, GROUP, since=start, clock=clock,
                                 poll_interval=2.0, stop=stop))
        stub.assert_no_pending_responses()
    assert [(line.message, line.task_id) for line in lines] == [
        ("first", "abc123"), ("same millisecond", "abc123"), ("second", "abc123"),
        ("third", "other"),
    ]
    assert clock.sleeps == [2.0, 2.0]  # slept on the injected clock between looks only
    assert polls == [0.0, 2.0, 4.0]


def test_follow_ends_when_the_caller_stops_iterating(stub_aws: Aws) -> None:
    clock = FakeClock()
    with Stubber(stub_aws.client("logs")) as stub:
        stub.add_response("filter_log_events", {"events": []})
        stub.add_response("filter_log_events", {"events": [_event("9", T0, "hello")]})
        lines = follow_logs(stub_aws, GROUP, since="5m", clock=clock)
        assert next(lines).message == "hello"
        lines.close()  # ends the generator underneath
    assert clock.sleeps == [2.0]


# -- the emulator ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deployed(fl: Any) -> Any:
    """A service of this module's emulator with v1 deployed (one task running)."""
    svc = fl.service("logs-demo")
    svc.create()
    fl.emulator.push_image("fluoride/logs-demo", "v1")
    svc.deploy("v1")
    return svc


def test_emulated_tasks_write_their_start(deployed: Any) -> None:
    lines = list(deployed.logs(since="1h"))
    started = [line for line in lines if "started from" in line.message]
    assert started, lines
    [line] = started
    assert line.message.startswith(f"[fluoride emulator] task {line.task_id} started from ")
    assert "fluoride/logs-demo" in line.message
    assert abs(line.timestamp - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=5)
    assert list(deployed.logs(since="1h", pattern="nothing-says-this")) == []


def test_emulated_tasks_write_their_stop(fl: Any, deployed: Any) -> None:
    fl.emulator.push_image("fluoride/logs-demo", "v2")
    deployed.deploy("v2")
    lines = list(deployed.logs(since="1h"))
    stopped = [line for line in lines if " stopped: " in line.message]
    assert stopped, lines
    assert "Scaling activity initiated by" in stopped[0].message
    assert len([line for line in lines if "started from" in line.message]) == 2


def test_cli_prints_one_line_per_event(fl: Any, deployed: Any,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from fluoride.cli import main

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", fl.region)
    runner = CliRunner()
    base = ["--endpoint-url", str(fl.endpoint_url)]
    result = runner.invoke(main, [*base, "logs", "logs-demo", "--since", "1h"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [line] = [text for text in result.stdout.splitlines() if "started from" in text][:1]
    when, task_id, message = line.split(" ", 2)
    assert message.startswith(f"[fluoride emulator] task {task_id} started")
    assert dt.datetime.fromisoformat(when).tzinfo is not None

    result = runner.invoke(main, [*base, "--output", "json", "logs", "logs-demo", "--since",
                                  "1h", "--filter", "started"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    records = [json.loads(text) for text in result.stdout.splitlines()]
    assert records
    assert all("started" in r["message"] for r in records)
    assert set(records[0]) == {"timestamp", "task_id", "message"}

    result = runner.invoke(main, [*base, "logs", "logs-demo", "--since", "soon"])
    assert result.exit_code == 1
    assert "'10m'" in result.output


def test_ctrl_c_ends_follow_cleanly(fl: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from fluoride.cli import main
    from fluoride.service import Service

    asked: dict[str, Any] = {}

    def logs(self: Service, since: str, *, follow: bool, pattern: str | None,
             container: str | None) -> Any:
        asked.update(name=self.name, since=since, follow=follow, pattern=pattern,
                     container=container)
        yield LogLine(timestamp=NOW, task_id="t1", message="hello")
        raise KeyboardInterrupt  # what Ctrl-C does during the follow loop's sleep

    monkeypatch.setattr(Service, "logs", logs)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", fl.region)
    result = CliRunner().invoke(main, ["--endpoint-url", str(fl.endpoint_url), "logs", "web",
                                       "--follow", "--filter", "ERROR"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "2024-05-01T12:00:00.000+00:00 t1 hello\n"
    assert asked == {"name": "web", "since": "10m", "follow": True, "pattern": "ERROR",
                     "container": None}
