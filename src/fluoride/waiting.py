"""One poll loop for every wait: a real deadline on a monotonic clock and an injected sleep.

Every wait in Fluoride (stack operations, deployments) goes through :func:`poll`, so tests
can make waiting free by injecting a :class:`Clock` whose ``sleep`` only advances time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TypeVar

import attrs

__all__ = ["Clock", "Deadline", "FakeClock", "SystemClock", "poll"]

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
) -> T | None:
    """Call ``check`` until it returns something other than ``None`` or the deadline passes.

    Sleeps ``interval`` between calls (growing by half each time up to ``max_interval``),
    never past the deadline. Returns ``check``'s result, or ``None`` when the deadline
    passed first; the caller decides what a timeout means.
    """
    clock = deadline.clock
    delay = interval
    cap = interval if max_interval is None else max_interval
    while True:
        result = check()
        if result is not None:
            return result
        remaining = deadline.remaining()
        if remaining <= 0:
            return None
        clock.sleep(min(delay, remaining))
        delay = min(cap, delay * 1.5)
