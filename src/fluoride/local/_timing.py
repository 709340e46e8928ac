"""How long things take in the emulator, and the clock the emulated world runs on."""

from __future__ import annotations

import bisect
import datetime as dt
import threading
import time

import attrs

__all__ = ["SimClock", "Timing"]


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"Timing.{attribute.name} must be >= 0, got {value!r}")


@attrs.frozen
class Timing:
    """Simulated durations in the emulator, in seconds of wall-clock time.

    The defaults make a healthy rollout of one task take about a second, so demos and
    tests stay fast. Durations from the template (health check interval, grace period,
    deregistration delay, stop timeout) are not used: these knobs replace them.

    Attributes:
        task_start: a task's PROVISIONING -> RUNNING (image pull and container start).
        health_check: a registered target's ``initial`` -> ``healthy``/``unhealthy``; for a
            service without a load balancer, how long a broken container runs before it exits.
        drain: a stopping task's deregistration and stop (``draining`` -> gone, STOPPED).

    .. versionadded:: 0.1
    """

    task_start: float = attrs.field(default=0.2, validator=_non_negative)
    health_check: float = attrs.field(default=0.2, validator=_non_negative)
    drain: float = attrs.field(default=0.2, validator=_non_negative)


class SimClock:
    """Monotonic seconds that stand still while held, with a mapping to wall-clock time.

    ``now()`` is ``time.monotonic()`` minus the time spent held. ``wall(t)`` is the UTC wall
    time at which simulated time ``t`` was (or will be) reached, so timestamps of events
    processed lazily still read as if they had happened on time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held_since: float | None = None
        self._held_total = 0.0
        self._holds = 0
        start = time.monotonic()
        # (simulated time, wall time) anchors; a new one is added on each release.
        self._anchor_sim: list[float] = [0.0]
        self._anchor_wall: list[dt.datetime] = [_utcnow()]
        self._origin = start

    def now(self) -> float:
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> float:
        real = time.monotonic()
        held = self._held_total
        if self._held_since is not None:
            held += real - self._held_since
        return real - self._origin - held

    @property
    def held(self) -> bool:
        with self._lock:
            return self._holds > 0

    def hold(self) -> None:
        """Stop simulated time (nestable)."""
        with self._lock:
            if self._holds == 0:
                self._held_since = time.monotonic()
            self._holds += 1

    def release(self) -> None:
        """Undo one :meth:`hold`; time runs again when the last hold is released."""
        with self._lock:
            if self._holds == 0:
                return
            self._holds -= 1
            if self._holds == 0 and self._held_since is not None:
                self._held_total += time.monotonic() - self._held_since
                self._held_since = None
                self._anchor_now()

    def advance(self, seconds: float) -> None:
        """Move simulated time forward by ``seconds`` at once (held or not)."""
        if seconds < 0:
            raise ValueError("simulated time only moves forward")
        with self._lock:
            if self._held_since is not None:
                self._held_total -= seconds
            else:
                self._origin -= seconds
            self._anchor_now()

    def _anchor_now(self) -> None:
        # Simulated time from here on maps to the present, never before what came earlier.
        sim = self._now_locked()
        wall = max(_utcnow(), self._wall_locked(sim))
        self._anchor_sim.append(sim)
        self._anchor_wall.append(wall)

    def wall(self, t: float) -> dt.datetime:
        """Naive UTC wall time (as moto stores it) of simulated time ``t``."""
        with self._lock:
            return self._wall_locked(t)

    def _wall_locked(self, t: float) -> dt.datetime:
        i = max(0, bisect.bisect_right(self._anchor_sim, t) - 1)
        return self._anchor_wall[i] + dt.timedelta(seconds=t - self._anchor_sim[i])


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
