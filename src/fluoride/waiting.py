"""One poll loop for every wait: a real deadline on a monotonic clock and an injected sleep.

Every wait in Fluoride (stack operations, deployments, purges) goes through :func:`poll`, so
tests can make waiting free by injecting a :class:`Clock` whose ``sleep`` only advances
time. A look that fails with a *transient* fault (throttling that outlasted botocore's own
retries, a dropped connection: :func:`is_transient`) counts as "not yet": the wait goes on
until its own deadline. :func:`retry_call` does the same for one call that is safe to
repeat, and :func:`jittered_backoff` gives the delays for retries that contend with other
clients.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

import attrs
import botocore.exceptions

from fluoride.errors import AwsError, FluorideError

__all__ = [
    "Clock",
    "Deadline",
    "FakeClock",
    "SystemClock",
    "describe_fault",
    "is_transient",
    "jittered_backoff",
    "poll",
    "retry_call",
]

#: Error codes that mean "too fast" or "not now" rather than "no": looking again is right.
THROTTLED = frozenset({
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "503",
})
_CONNECTION = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)


def is_transient(exc: BaseException) -> bool:
    """Throttling that outlasted botocore's retries, or a dropped connection: look again.

    Works on raw botocore errors and on the :class:`AwsError` that
    :func:`fluoride.aws.translate` made of them (keyed on the code, or on the cause).
    """
    if isinstance(exc, _CONNECTION):
        return True
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code")) in THROTTLED
    if isinstance(exc, AwsError):
        cause = exc.__cause__
        return exc.code in THROTTLED or (cause is not None and is_transient(cause))
    return False


def describe_fault(exc: BaseException) -> str:
    """A short text for a transient fault, for a progress note."""
    return exc.message if isinstance(exc, FluorideError) else f"{type(exc).__name__}: {exc}"

T = TypeVar("T")


class Clock(Protocol):
    """Where time comes from: ``monotonic()`` seconds, ``sleep(seconds)`` and wall time."""

    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


@attrs.frozen
class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@attrs.define
class FakeClock:
    """A clock for tests: ``sleep`` advances time instantly and records each sleep."""

    now: float = 0.0
    sleeps: list[float] = attrs.field(factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@attrs.frozen
class Deadline:
    """A point in monotonic time, measured on ``clock``."""

    clock: Clock
    at: float

    @classmethod
    def after(cls, clock: Clock, seconds: float) -> Deadline:
        return cls(clock, clock.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self.at - self.clock.monotonic())


def poll(
    check: Callable[[], T | None],
    *,
    deadline: Deadline,
    interval: float,
    max_interval: float | None = None,
    on_fault: Callable[[BaseException], None] | None = None,
) -> T | None:
    """Call ``check`` until it returns something other than ``None`` or the deadline passes.

    Sleeps ``interval`` between calls (growing by half each time up to ``max_interval``),
    never past the deadline. Returns ``check``'s result, or ``None`` when the deadline
    passed first; the caller decides what a timeout means.

    A ``check`` that raises a transient fault (:func:`is_transient`) is a look that said
    "not yet": ``on_fault`` hears of it and the loop goes on. Any other error propagates.
    """
    clock = deadline.clock
    delay = interval
    cap = interval if max_interval is None else max_interval
    while True:
        try:
            result = check()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if on_fault is not None:
                on_fault(exc)
            result = None
        if result is not None:
            return result
        remaining = deadline.remaining()
        if remaining <= 0:
            return None
        clock.sleep(min(delay, remaining))
        delay = min(cap, delay * 1.5)


def retry_call(
    call: Callable[[], T],
    *,
    clock: Clock,
    seconds: float,
    on_fault: Callable[[BaseException], None] | None = None,
    interval: float = 1.0,
    max_interval: float = 10.0,
    rng: Callable[[], float] = random.random,
) -> T:
    """``call()``, repeated after a transient fault with jittered backoff for ``seconds``.

    Only for calls that are safe to repeat (reads, and writes whose repetition is checked
    by the caller). The last fault is raised when the time is up; other errors at once.
    """
    deadline = Deadline.after(clock, seconds)
    delays = jittered_backoff(interval, max_interval, rng=rng)
    while True:
        try:
            return call()
        except Exception as exc:
            remaining = deadline.remaining()
            if not is_transient(exc) or remaining <= 0:
                raise
            if on_fault is not None:
                on_fault(exc)
            clock.sleep(min(next(delays), remaining))


def jittered_backoff(
    base: float, cap: float, *, rng: Callable[[], float] = random.random
) -> Iterator[float]:
    """Endless delays with "full jitter": a random share of ``base * 2**n``, at most ``cap``.

    Clients that collided once do not collide again in lock step.
    """
    n = 0
    while True:
        yield rng() * min(cap, base * 2**n)
        n += 1
