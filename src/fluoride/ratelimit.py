"""One client-side budget of AWS calls per second, shared by every client of a ``Fluoride``.

A fleet operation runs many services' polls at once; AWS throttles per account and API, so
a deploy of fifty services must not send fifty services' worth of calls per second. Every
client :class:`~fluoride.aws.Aws` makes takes a token from one :class:`RateBudget` before
each call (a botocore ``before-call`` hook), and waits on the injected clock when there is
none left: tests give it a fake clock and wait for nothing.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import attrs

from fluoride.errors import ConfigError
from fluoride.waiting import Clock, SystemClock

__all__ = ["DEFAULT_CALLS_PER_SECOND", "RateBudget", "check_rate"]

#: The default budget on AWS, in calls per second for the whole client. A deploy's poll
#: costs at most 3 calls every 3 s (1 call/s per service), so 10 services poll at their
#: own pace; beyond that the polls of each service spread out instead of adding load to
#: an account whose limits other tools share.
DEFAULT_CALLS_PER_SECOND = 10.0


def check_rate(value: float, field: str = "max_calls_per_second") -> float:
    """``value`` if it can be a rate of calls per second, else a :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
        value > 0 and not math.isnan(value)
    ):
        raise ConfigError(
            f"{field}={value!r} is not a rate of calls per second.",
            hint="Give a number above 0 (e.g. 10), math.inf for no limit, or None for the "
            f"default ({DEFAULT_CALLS_PER_SECOND:g} on AWS, none on the emulator).",
        )
    return float(value)


@attrs.define
class RateBudget:
    """A token bucket: ``burst`` calls at once, then ``rate`` calls per second.

    Thread-safe. :meth:`acquire` reserves a token and sleeps on ``clock`` until it is due,
    so callers that arrive together leave one after another, in order.

    Attributes:
        rate: tokens added per second.
        burst: the most tokens the bucket holds (default: one second's worth, at least 1).
        clock: where time comes from and where waits sleep.
        calls: how many calls took a token so far.
        waited: the total seconds callers waited.

    Example::

        budget = RateBudget(rate=10)
        budget.acquire()  # returns at once, or after the wait its token needs
    """

    rate: float = attrs.field(converter=check_rate)
    burst: float | None = None
    clock: Clock = attrs.field(factory=SystemClock, repr=False)
    calls: int = attrs.field(default=0, init=False)
    waited: float = attrs.field(default=0.0, init=False)
    _capacity: float = attrs.field(default=1.0, init=False, repr=False)
    _tokens: float = attrs.field(default=0.0, init=False, repr=False)
    _stamp: float | None = attrs.field(default=None, init=False, repr=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        burst = self.burst
        if burst is None:
            burst = max(1.0, self.rate) if math.isfinite(self.rate) else 1.0
        if isinstance(burst, bool) or not isinstance(burst, (int, float)) or not (
            1 <= burst < math.inf
        ):
            raise ConfigError(
                f"burst={burst!r} cannot size the call budget.",
                hint="Give a finite number of calls, at least 1.",
            )
        self._capacity = self._tokens = float(burst)

    def reserve(self) -> float:
        """Take a token now and return how many seconds to wait before using it."""
        with self._lock:
            self.calls += 1
            if math.isinf(self.rate):
                return 0.0
            now = self.clock.monotonic()
            if self._stamp is not None:
                self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
            self.waited += wait
            return wait

    def acquire(self) -> float:
        """Wait (on the clock) until a call may go; return the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self.clock.sleep(wait)
        return wait

    def before_call(self, **kwargs: Any) -> None:
        """The botocore ``before-call`` handler: one token per API call (retries are
        botocore's own, paced by its adaptive mode)."""
        self.acquire()
