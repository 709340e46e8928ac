"""How long things take in the emulator, and the clock the emulated world runs on."""

from __future__ import annotations

import bisect
import datetime as dt
import threading
import time

import attrs

__all__ = ["RolloutSettings", "SimClock", "Timing"]


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"Timing.{attribute.name} must be >= 0, got {value!r}")


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"Timing.{attribute.name} must be > 0, got {value!r}")


@attrs.frozen
class RolloutSettings:
    """The durations a service's own stack sets, in seconds of AWS time.

    The emulator reads them from the emulated target group, task definition and service
    when :attr:`Timing.derive` is on. A setting the stack does not make has AWS's default.

    Attributes:
        interval: the target group's ``HealthCheckIntervalSeconds`` (AWS default 30).
        healthy_threshold: ``HealthyThresholdCount`` (AWS default 5).
        unhealthy_threshold: ``UnhealthyThresholdCount`` (AWS default 2).
        grace_period: the service's ``HealthCheckGracePeriodSeconds`` (default 0).
        deregistration_delay: the target group's ``deregistration_delay.timeout_seconds``
            (AWS default 300).
        stop_timeout: the essential container's ``stopTimeout`` (ECS default 30).
    """

    interval: float = 30.0
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2
    grace_period: float = 0.0
    deregistration_delay: float = 300.0
    stop_timeout: float = 30.0

    @property
    def healthy_after(self) -> float:
        """A new target's first check one interval after it registers, then one check per
        interval until ``healthy_threshold`` consecutive passes."""
        return self.interval * self.healthy_threshold

    @property
    def unhealthy_after(self) -> float:
        """``unhealthy_threshold`` failed checks, one per interval; ECS ignores them until
        the grace period is over."""
        return max(self.interval * self.unhealthy_threshold, self.grace_period)

    @property
    def drain_after(self) -> float:
        """The deregistration delay, then the whole stop timeout (a container that does not
        exit on SIGTERM is killed only then)."""
        return self.deregistration_delay + self.stop_timeout


@attrs.frozen
class Timing:
    """Simulated durations in the emulator, in seconds of wall-clock time.

    The defaults make a healthy rollout of one task take about a second, so demos and
    tests stay fast. Durations from the template (health check interval, grace period,
    deregistration delay, stop timeout) are not used: these knobs replace them.

    With ``derive=True`` (see :meth:`from_settings`) the durations come from each
    service's own settings instead (:class:`RolloutSettings`), multiplied by ``scale``:
    a target is healthy ``interval x healthy_threshold`` after it registers, unhealthy
    after ``max(interval x unhealthy_threshold, grace period)``, and a stopping task
    takes ``deregistration delay + stop timeout``. ``task_start`` still times the start
    (``image_pull x scale`` from :meth:`from_settings`); ``health_check`` is then only used
    for a service without a load balancer (how long a broken container runs), and
    ``drain`` not at all.

    Attributes:
        task_start: a task's PROVISIONING -> RUNNING (image pull and container start).
        health_check: a registered target's ``initial`` -> ``healthy``/``unhealthy``; for a
            service without a load balancer, how long a broken container runs before it exits.
        drain: a stopping task's deregistration and stop (``draining`` -> gone, STOPPED).
        derive: take the health check, deregistration and stop durations from each
            service's settings, times ``scale``.
        scale: wall-clock seconds per second of modelled AWS time, with ``derive``
            (0.01: one wall second models 100 s on AWS).

    .. versionadded:: 0.1
    """

    task_start: float = attrs.field(default=0.2, validator=_non_negative)
    health_check: float = attrs.field(default=0.2, validator=_non_negative)
    drain: float = attrs.field(default=0.2, validator=_non_negative)
    derive: bool = False
    scale: float = attrs.field(default=1.0, validator=_positive)

    @classmethod
    def from_settings(cls, scale: float = 0.01, image_pull: float = 20.0) -> Timing:
        """Durations derived from each service's own settings, ``scale`` wall seconds per
        modelled second; a task starts ``image_pull`` modelled seconds after launch.

        Example: ``Timing.from_settings(scale=0.01)`` makes a deployment on Fluoride's
        defaults (health checks every 5 s, 2 passes, deregistration 10 s, stop timeout
        10 s) take (20 + 5 x 2 + 10 + 10) x 0.01 = 0.5 s of wall-clock time.
        """
        if image_pull < 0:
            raise ValueError(f"image_pull must be >= 0, got {image_pull!r}")
        return cls(task_start=image_pull * scale, derive=True, scale=scale)

    def health_verdict(self, settings: RolloutSettings | None, *, healthy: bool) -> float:
        """Wall seconds from a target's registration to its ``healthy``/``unhealthy``
        verdict (``settings`` is ``None`` for a service without a load balancer)."""
        if not self.derive or settings is None:
            return self.health_check
        return self.scale * (settings.healthy_after if healthy else settings.unhealthy_after)

    def container_verdict(self, interval: float, retries: int, start_period: float, *,
                          healthy: bool) -> float:
        """Wall seconds from a container's start to its health check's verdict (a container
        ``healthCheck`` in its task definition: ECS's defaults are 30 s, 3, 0).

        Without ``derive`` it is ``health_check``. With it: the first run, one ``interval``
        after the start, passes; a failing check is ``UNHEALTHY`` after ``retries`` failures
        in a row that count, and failures within ``start_period`` do not.
        """
        if not self.derive:
            return self.health_check
        return self.scale * (interval if healthy else start_period + interval * retries)

    def stop(self, settings: RolloutSettings | None, *, drain: bool,
             load_balanced: bool) -> float:
        """Wall seconds from a task's stop to STOPPED.

        ``drain``: the task was running and is stopped (it deregisters and gets SIGTERM);
        otherwise its container already exited or never started, and ECS records the stop
        a moment later (one modelled second with ``derive``).
        """
        if not self.derive or settings is None:
            return self.drain if (drain and load_balanced) else min(self.drain, 0.05)
        if not drain:
            return self.scale * 1.0
        if load_balanced:
            return self.scale * settings.drain_after
        return self.scale * settings.stop_timeout


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
