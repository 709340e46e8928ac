"""The emulated world's own state: its clock, its scheduled happenings and its lock.

moto's backends are process-wide, so this is too: one :data:`WORLD` per process. Every
request to the emulator runs under :attr:`World.lock` after :meth:`World.advance` has
played every happening that is due, so all readers see one consistent, lazily evaluated
timeline and no background thread is needed.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from fluoride.local._errors import log
from fluoride.local._timing import SimClock, Timing

__all__ = ["WORLD", "World"]


#: A happening runs with the simulated time it was due at.
Happening = Callable[[float], None]


@attrs.define(eq=False)
class _Scheduled:
    due: float
    seq: int
    action: Happening
    cancelled: bool = False

    def __lt__(self, other: _Scheduled) -> bool:
        return (self.due, self.seq) < (other.due, other.seq)


class World:
    """Clock, timing, schedule and per-process emulator state (see the module docstring)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.timing = Timing()
        self.clock = SimClock()
        self._queue: list[_Scheduled] = []
        self._seq = itertools.count()
        #: Called by :meth:`advance` after the due happenings (polled conditions).
        self.pollers: list[Callable[[float], None]] = []
        #: Per-subsystem state, keyed by subsystem name; cleared by :meth:`reset`.
        self.state: dict[str, Any] = {}
        self._advancing = False
        self._playing_at: float | None = None

    def reset(self, timing: Timing | None = None) -> None:
        """Forget everything (moto's backends are reset separately)."""
        with self.lock:
            self.timing = timing or Timing()
            self.clock = SimClock()
            self._queue.clear()
            self.state.clear()

    def now(self) -> float:
        return self.clock.now()

    def event_time(self) -> float:
        """The simulated time of what is happening now: the due time of the happening
        being played, else the present."""
        return self.now() if self._playing_at is None else self._playing_at

    def schedule(self, delay: float, action: Happening, *, at: float | None = None) -> _Scheduled:
        """Run ``action(due)`` once simulated time reaches ``(at or now) + delay``."""
        base = self.event_time() if at is None else at
        item = _Scheduled(base + delay, next(self._seq), action)
        heapq.heappush(self._queue, item)
        return item

    def advance(self) -> None:
        """Play every happening that is due, in time order, then the pollers."""
        with self.lock:
            if self._advancing:  # a happening that makes an API-level call re-enters
                return
            self._advancing = True
            try:
                now = self.now()
                # A hair of tolerance: stepping by hand (skip) must reach what it aims at
                # despite floating-point sums.
                while self._queue and self._queue[0].due <= now + 1e-9:
                    item = heapq.heappop(self._queue)
                    if not item.cancelled:
                        self._playing_at = item.due
                        self._play(item.action, item.due)
                self._playing_at = now
                for poller in list(self.pollers):
                    self._play(poller, now)
            finally:
                self._playing_at = None
                self._advancing = False

    @staticmethod
    def _play(action: Happening, at: float) -> None:
        # A bug in one happening must not stop the world (or fail an unrelated request).
        try:
            action(at)
        except Exception:
            log.exception("emulator: a simulated happening failed at t=%.3f", at)

    def pending(self) -> int:
        """How many happenings are still scheduled (for tests and diagnostics)."""
        with self.lock:
            return sum(1 for item in self._queue if not item.cancelled)

    def skip(self, seconds: float) -> None:
        """Move simulated time forward and play what became due."""
        with self.lock:
            self.clock.advance(seconds)
            self.advance()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Stop simulated time inside the block: rollouts and stack operations stand still."""
        self.clock.hold()
        try:
            yield
        finally:
            self.clock.release()


WORLD = World()
