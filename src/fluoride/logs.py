"""CloudWatch Logs: a service's container output as :class:`LogLine` values, read or followed.

Each task's container writes to the service's log group through the ``awslogs`` driver,
one stream per task named ``<prefix>/<container>/<task-id>``; the lines of every task are
read together, oldest first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, SupportsIndex, TypeAlias, overload

import attrs
import botocore.exceptions

from fluoride._display import Preview, compact, fit, html_table, plural, truncate
from fluoride.aws import Aws, client_error_code, translate
from fluoride.errors import AwsError, ConfigError, how

if TYPE_CHECKING:
    from fluoride.waiting import Clock

__all__ = ["LogLine", "LogLines", "LogStream", "TimeSpec", "follow_logs", "parse_time",
           "read_logs"]

#: What ``since`` and ``until`` accept: ``"30s"``, ``"10m"``, ``"2h"``, ``"1d"``, a
#: :class:`~datetime.datetime` or a :class:`~datetime.timedelta` (how long ago).
TimeSpec: TypeAlias = str | dt.datetime | dt.timedelta

ALLOWED_FORMS = (
    "a duration such as '30s', '10m', '2h' or '1d' (that long ago), "
    "a datetime, or a timedelta"
)

_DURATION = re.compile(r"\s*(\d+)\s*([smhd])\s*")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

#: FilterLogEvents returns at most this many events per call.
_MAX_PAGE = 10_000

#: While following, each poll reads again from this long before the newest line shown:
#: CloudWatch may ingest one task's line after a newer line of another task, and the
#: overlap catches it (lines already shown are recognised by their event id).
FOLLOW_OVERLAP = dt.timedelta(seconds=10)


@attrs.frozen
class LogLine:
    """One line a service's container wrote.

    Attributes:
        timestamp: when the container wrote it (UTC, aware).
        task_id: the ECS task that wrote it (the last part of the log stream's name,
            ``<prefix>/<container>/<task-id>``).
        message: the line, without its trailing newline.

    .. versionadded:: 0.1
    """

    timestamp: dt.datetime
    task_id: str
    message: str

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> LogLine:
        """A line from one event of FilterLogEvents."""
        return cls(
            timestamp=dt.datetime.fromtimestamp(event["timestamp"] / 1000, tz=dt.timezone.utc),
            task_id=str(event.get("logStreamName", "")).rsplit("/", 1)[-1],
            message=str(event.get("message", "")).rstrip("\r\n"),
        )

    def __repr__(self) -> str:
        return compact("LogLine", f"{_clock(self.timestamp)} {_short_task(self.task_id)} "
                                  f"{self.message}")

    def _repr_html_(self) -> str:
        """One row for notebooks."""
        return LogLines([self])._repr_html_()


def _clock(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _short_task(task_id: str) -> str:
    """The first 8 characters of a task id (as the ECS console shows it)."""
    return task_id[:8]


def _rows(lines: Iterable[LogLine]) -> list[tuple[str, str, str]]:
    return [(_clock(line.timestamp), _short_task(line.task_id), line.message)
            for line in lines]


_COLUMNS = ("time (UTC)", "task", "message")


class LogLines(list[LogLine]):
    """Log lines kept in a list that a notebook shows as a table: ``LogLines(svc.logs())``
    reads them all; ``svc.logs().head(50)`` the first 50.

    .. versionadded:: 0.3
    """

    def __init__(self, lines: Iterable[LogLine] = ()) -> None:
        super().__init__(lines)

    @overload
    def __getitem__(self, index: SupportsIndex) -> LogLine: ...
    @overload
    def __getitem__(self, index: slice) -> LogLines: ...
    def __getitem__(self, index: SupportsIndex | slice) -> LogLine | LogLines:
        """A line, or for a slice (``lines[-20:]``) :class:`LogLines` again."""
        if isinstance(index, slice):
            return LogLines(super().__getitem__(index))
        return super().__getitem__(index)

    def __repr__(self) -> str:
        if not self:
            return "<LogLines: none>"
        tasks = len({line.task_id for line in self})
        return compact("LogLines", fit((
            plural(len(self), "line"), plural(tasks, "task"),
            f"{_clock(self[0].timestamp)} to {_clock(self[-1].timestamp)} UTC")))

    def _repr_html_(self) -> str:
        """A table: time, task, message."""
        return html_table(_COLUMNS, _rows(self), caption=plural(len(self), "log line"),
                          cell_limit=500)


class LogStream(Preview[LogLine]):
    """What :meth:`Service.logs` returns: an iterator of :class:`LogLine` that fetches
    page by page as you iterate, exactly as before. Shown in a notebook (or by ``repr``),
    it fetches and shows only its first lines (``limit``, default 10) and says so; those
    lines are kept, so iterating afterwards still yields them. A followed stream
    (``follow=True``) never ends, so showing it fetches nothing.

    ``head(n)`` peeks at the next ``n`` lines as :class:`LogLines`, without consuming them.

    .. versionadded:: 0.3
    """

    noun = "line"

    def head(self, n: int = 10) -> LogLines:
        return LogLines(super().head(n))

    def _text_of(self, item: LogLine) -> str:
        return " ".join(_rows([item])[0])

    def _table(self, items: Sequence[LogLine]) -> tuple[Sequence[str], list[Sequence[object]]]:
        return _COLUMNS, list(_rows(items))

    def _not_peeked(self) -> str:
        return "followed as lines arrive; iterate to read them (showing fetches nothing)"


def parse_time(value: TimeSpec, *, name: str = "since",
               now: dt.datetime | None = None) -> dt.datetime:
    """The point in time ``value`` means, as an aware UTC datetime.

    ``value`` is a duration string (``"30s"``, ``"10m"``, ``"2h"``, ``"1d"``) or a
    :class:`~datetime.timedelta`, both meaning that long before ``now`` (default: the
    present), or a :class:`~datetime.datetime` (a naive one is local time, as
    :meth:`datetime.datetime.timestamp` reads it).

    Raises :class:`ConfigError` naming ``name`` and the allowed forms for anything else.

    Example::

        parse_time("10m")   # ten minutes ago
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.astimezone()  # local time, as datetime.timestamp() reads it
        return value.astimezone(dt.timezone.utc)
    if isinstance(value, dt.timedelta):
        if value < dt.timedelta(0):
            raise _bad_time(name, value, "a negative timedelta would be in the future")
        return now - value
    if isinstance(value, str):
        match = _DURATION.fullmatch(value)
        if match:
            amount, unit = int(match.group(1)), match.group(2)
            return now - dt.timedelta(**{_UNITS[unit]: amount})
    raise _bad_time(name, value)


def _bad_time(name: str, value: object, why: str | None = None) -> ConfigError:
    return ConfigError(
        f"{name}={value!r} is not a time Fluoride understands"
        + (f" ({why})" if why else "")
        + f": use {ALLOWED_FORMS}.",
        hint=f"For example {name}='10m' for the last ten minutes.",
    )


def _millis(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


def read_logs(
    aws: Aws,
    log_group: str,
    *,
    since: TimeSpec,
    until: TimeSpec | None = None,
    pattern: str | None = None,
    limit: int | None = None,
    stream_prefix: str | None = None,
) -> LogStream:
    """The lines in ``log_group`` from ``since`` up to ``until`` (default: now), every
    task's interleaved, oldest first, fetched page by page as you iterate.

    ``pattern`` is a CloudWatch Logs filter pattern (``"ERROR"``, ``'"exact phrase"'``,
    ``"?ERROR ?WARN"``); ``limit`` stops after that many lines; ``stream_prefix`` reads
    only the streams whose names begin with it (one container's: ``"app/app/"``).

    Raises :class:`ConfigError` for a bad ``since``, ``until`` or ``limit`` at once,
    before any AWS call; while iterating, :class:`AwsError` when the log group does not
    exist or the call fails.

    Example::

        for line in read_logs(aws, "/fluoride/hello", since="1h", pattern="ERROR"):
            print(line.timestamp, line.task_id, line.message)

    .. versionadded:: 0.1
    """
    start = _millis(parse_time(since, name="since"))
    end = None if until is None else _millis(parse_time(until, name="until"))
    if limit is not None and (isinstance(limit, bool) or limit < 1):
        raise ConfigError(f"limit={limit!r} must be a positive number of lines.")
    lines = _read(aws, log_group, start=start, end=end, pattern=pattern, limit=limit,
                  stream_prefix=stream_prefix)
    return LogStream(lines, title=_title(log_group, since, pattern, stream_prefix))


def _title(log_group: str, since: TimeSpec, pattern: str | None,
           stream_prefix: str | None = None) -> str:
    when = since if isinstance(since, str) else str(since)
    return (f"{log_group}" + (f" {stream_prefix}*" if stream_prefix else "")
            + f" since {when}"
            + (f" matching {truncate(pattern, 30)!r}" if pattern else ""))


def _read(aws: Aws, log_group: str, *, start: int, end: int | None, pattern: str | None,
          limit: int | None, stream_prefix: str | None = None) -> Iterator[LogLine]:
    events = _events(aws, log_group, start=start, end=end, pattern=pattern, limit=limit,
                     stream_prefix=stream_prefix)
    for shown, event in enumerate(events, start=1):
        yield LogLine.from_event(event)
        if limit is not None and shown >= limit:
            return


def follow_logs(
    aws: Aws,
    log_group: str,
    *,
    since: TimeSpec,
    clock: Clock,
    poll_interval: float = 2.0,
    stop: Callable[[], bool] | None = None,
    pattern: str | None = None,
    stream_prefix: str | None = None,
) -> LogStream:
    """The lines in ``log_group`` from ``since`` on, then each new line as it arrives
    (``tail -f``): looks again every ``poll_interval`` seconds, sleeping on ``clock``.

    Never ends by itself: it ends when ``stop()`` returns true (asked after each look),
    or when you stop iterating (``break``, Ctrl-C). A line is shown once, even when a
    later look reads it again.

    Raises :class:`ConfigError` for a bad ``since`` or ``poll_interval`` at once, before
    any AWS call; while iterating, the errors of :func:`read_logs`.

    .. versionadded:: 0.1
    """
    start = _millis(parse_time(since, name="since"))
    if not poll_interval > 0:
        raise ConfigError(f"poll_interval={poll_interval!r} must be more than 0 seconds.")
    lines = _follow(aws, log_group, start=start, clock=clock, poll_interval=poll_interval,
                    stop=stop, pattern=pattern, stream_prefix=stream_prefix)
    return LogStream(lines, title="following " + _title(log_group, since, pattern, stream_prefix),
                     peek=False)


def _follow(aws: Aws, log_group: str, *, start: int, clock: Clock, poll_interval: float,
            stop: Callable[[], bool] | None, pattern: str | None,
            stream_prefix: str | None = None) -> Iterator[LogLine]:
    overlap = int(FOLLOW_OVERLAP.total_seconds() * 1000)
    seen: dict[str, int] = {}  # event id -> timestamp, for the events since `start`
    while True:
        for event in _events(aws, log_group, start=start, end=None, pattern=pattern,
                             limit=None, stream_prefix=stream_prefix):
            event_id = str(event.get("eventId", ""))
            if event_id in seen:
                continue
            seen[event_id] = int(event["timestamp"])
            yield LogLine.from_event(event)
        if seen:
            start = max(start, max(seen.values()) - overlap)
            seen = {k: ts for k, ts in seen.items() if ts >= start}
        if stop is not None and stop():
            return
        clock.sleep(poll_interval)


def _events(aws: Aws, log_group: str, *, start: int, end: int | None, pattern: str | None,
            limit: int | None, stream_prefix: str | None = None) -> Iterator[Mapping[str, Any]]:
    """Every event of FilterLogEvents, page by page as the caller iterates (botocore's
    paginator follows ``nextToken``)."""
    request: dict[str, Any] = {
        "logGroupName": log_group,
        "startTime": start,
        # Deprecated (AWS always interleaves now) but still honoured by older endpoints.
        "interleaved": True,
    }
    if end is not None:
        request["endTime"] = end
    if pattern:
        request["filterPattern"] = pattern
    if stream_prefix:
        request["logStreamNamePrefix"] = stream_prefix
    if limit is not None:
        request["limit"] = min(limit, _MAX_PAGE)
    pages = iter(aws.client("logs").get_paginator("filter_log_events").paginate(**request))
    while True:
        with _translated(log_group):  # the call is made when the next page is asked for
            page = next(pages, None)
        if page is None:
            return
        yield from page.get("events", [])


@contextmanager
def _translated(log_group: str) -> Iterator[None]:
    with translate("FilterLogEvents", log_group):
        try:
            yield
        except botocore.exceptions.ClientError as exc:
            if client_error_code(exc) == "ResourceNotFoundException":
                raise AwsError(
                    f"The log group {log_group} does not exist; the service has not run "
                    "any task yet?",
                    operation="FilterLogEvents",
                    resource=log_group,
                    code="ResourceNotFoundException",
                    hint=f"The service's stack creates it: {how('status')} shows whether the "
                    "service exists and runs tasks.",
                ) from exc
            raise
