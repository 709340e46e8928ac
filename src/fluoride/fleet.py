"""Many services at once: a bounded pool of workers, and what each service came to.

:func:`run_many` runs one job per service (a deploy, a rollback, a status read) on at most
``max_parallel`` threads. One service's failure never stops or hides another's: each ends
as its value or its exception in a :class:`FleetResult`. boto3 clients are thread-safe and
:class:`~fluoride.aws.Aws` makes them under a lock, so the workers share one client each.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, SupportsIndex, TypeVar, overload

import attrs

from fluoride._display import compact, html_table, plural
from fluoride._release import Release
from fluoride.errors import (
    ConfigError,
    DeploymentFailed,
    DeploymentInProgress,
    DeploymentTimeout,
    FluorideError,
    ImageNotFound,
    RollbackFailed,
    RolledBack,
    ServiceNotFound,
    how,
)
from fluoride.events import (
    FleetFinished,
    FleetStarted,
    ForService,
    ProgressEvent,
    Reporter,
    ServiceFinished,
)
from fluoride.service import ServiceStatus

__all__ = [
    "DEFAULT_MAX_PARALLEL",
    "FleetFailed",
    "FleetResult",
    "StatusList",
    "Target",
    "check_max_parallel",
    "current_service",
    "outcome_label",
    "run_many",
]

T = TypeVar("T")

#: How many services a fleet operation works on at once by default.
DEFAULT_MAX_PARALLEL = 4

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "fluoride_fleet_service", default=None
)


def current_service() -> str | None:
    """The service the calling worker thread works on, inside :func:`run_many`; else
    ``None``. For tooling that attributes API calls (botocore hooks) to services."""
    return _current.get()


def check_max_parallel(value: object) -> int:
    """``value`` if it is a whole number of workers (1 or more), else :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"max_parallel={value!r} is not a number of services to work on at once.",
            hint="Give a whole number, 1 or more (the default is "
            f"{DEFAULT_MAX_PARALLEL}).",
        )
    return value


#: error type -> its label, most specific first.
_LABELS: Sequence[tuple[type[BaseException], str]] = (
    (RolledBack, "rolled back"),
    (DeploymentTimeout, "timed out"),
    (RollbackFailed, "rollback failed"),
    (DeploymentInProgress, "busy"),
    (DeploymentFailed, "failed"),
    (ImageNotFound, "image not found"),
    (ServiceNotFound, "not found"),
    (FluorideError, "failed"),
)


def outcome_label(value: Release | BaseException) -> str:
    """One word or two for how a service ended: the release's outcome (``stable``), or
    the error's kind (``rolled back``, ``busy``, ``not found``, ``error`` for a bug)."""
    if isinstance(value, Release):
        return value.outcome.value
    return next((label for kind, label in _LABELS if isinstance(value, kind)), "error")


def _detail(value: Release | BaseException) -> str:
    if isinstance(value, Release):
        return value.short
    if isinstance(value, FluorideError):
        return value.message.splitlines()[0]
    return f"{type(value).__name__}: {value}"


@attrs.frozen
class Target:
    """One service in one account and region. ``str()`` is ``account/region/name``: the
    key of a :class:`~fluoride.multi.Fleet`'s results.

    .. versionadded:: 0.2
    """

    account: str
    region: str
    name: str

    @property
    def place(self) -> str:
        """``account/region``."""
        return f"{self.account}/{self.region}"

    def __str__(self) -> str:
        return f"{self.account}/{self.region}/{self.name}"


class FleetFailed(FluorideError):
    """Some services of a fleet operation failed. ``failures`` maps each to its error;
    ``result`` is the whole :class:`FleetResult` (the successes too)."""

    def __init__(self, result: FleetResult) -> None:
        self.result = result
        self.failures = result.failed
        parts = [f"{name} ({outcome_label(e)}: {_detail(e)})" for name, e in self.failures.items()]
        super().__init__(
            f"{len(self.failures)} of {len(result)} services failed to {result.operation}: "
            + "; ".join(parts),
            hint=f"The others succeeded; see result.failed, or {how('fleet_status')}.",
        )


@attrs.frozen(eq=False, repr=False)
class FleetResult(Mapping[str, "Release | Exception"]):
    """What a fleet operation came to: each service name -> its :class:`Release` or error.

    A mapping in the order the services were given. ``succeeded`` and ``failed`` split it;
    :meth:`raise_for_failures` raises :class:`FleetFailed` when anything failed.

    Attributes:
        operation: ``deploy`` or ``rollback``.
        outcomes: service name -> the release serving now, or the error that stopped it
            (:class:`RolledBack` with its ``reasons``, :class:`DeploymentInProgress`, ...).
        seconds: how long the whole operation took.
        targets: for a :class:`~fluoride.multi.Fleet` across accounts and regions, each
            key (``account/region/name``) -> its :class:`Target`; empty for one client.

    Example::

        result = fl.deploy_many({"api": "v2", "worker": "v2"})
        for name, error in result.failed.items():
            print(name, error)
        result.raise_for_failures()

    .. versionadded:: 0.2
    """

    operation: str
    outcomes: Mapping[str, Release | Exception]
    seconds: float = 0.0
    targets: Mapping[str, Target] = attrs.field(factory=dict)

    def __getitem__(self, name: str) -> Release | Exception:
        return self.outcomes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.outcomes)

    def __len__(self) -> int:
        return len(self.outcomes)

    @property
    def succeeded(self) -> dict[str, Release]:
        """The services that succeeded, with the release each serves now."""
        return {k: v for k, v in self.outcomes.items() if isinstance(v, Release)}

    @property
    def failed(self) -> dict[str, Exception]:
        """The services that failed, with their errors."""
        return {k: v for k, v in self.outcomes.items() if not isinstance(v, Release)}

    @property
    def ok(self) -> bool:
        """Whether every service succeeded."""
        return not self.failed

    def raise_for_failures(self) -> FleetResult:
        """Raise :class:`FleetFailed` when any service failed; else return ``self``."""
        if self.failed:
            raise FleetFailed(self)
        return self

    def rows(self) -> list[tuple[str, str, str, str]]:
        """One row per service: name, outcome, release (or image), detail."""
        out: list[tuple[str, str, str, str]] = []
        for name, value in self.outcomes.items():
            if isinstance(value, Release):
                out.append((name, outcome_label(value), value.short,
                            "rollback" if value.rollback else ""))
                continue
            serving = value.serving if isinstance(value, DeploymentFailed) else None
            detail = _detail(value)
            if isinstance(value, DeploymentFailed) and value.reasons and (
                value.reasons[0] not in detail
            ):
                detail += f" (stopped task: {value.reasons[0]})"
            out.append((name, outcome_label(value),
                        serving.short if serving is not None else "", detail))
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain data (releases stay :class:`Release` values) for JSON output."""
        services: dict[str, Any] = {}
        for name, value in self.outcomes.items():
            entry: dict[str, Any] = {"outcome": outcome_label(value), "ok": False}
            target = self.targets.get(name)
            if target is not None:
                entry.update(account=target.account, region=target.region,
                             service=target.name)
            if isinstance(value, Release):
                entry.update(ok=True, release=value)
            else:
                entry["error"] = {
                    "type": type(value).__name__,
                    "message": value.message if isinstance(value, FluorideError) else str(value),
                    "hint": value.hint if isinstance(value, FluorideError) else None,
                }
                if isinstance(value, DeploymentFailed):
                    entry["error"]["reasons"] = list(value.reasons)
                    entry["serving"] = value.serving
            services[name] = entry
        return {
            "operation": self.operation,
            "seconds": round(self.seconds, 3),
            "succeeded": sorted(self.succeeded),
            "failed": sorted(self.failed),
            "services": services,
        }

    def __repr__(self) -> str:
        failed = self.failed
        text = f"{self.operation}: {len(self) - len(failed)} succeeded"
        if failed:
            text += f", {len(failed)} failed (" + ", ".join(
                f"{name}: {outcome_label(e)}" for name, e in failed.items()) + ")"
        return compact("FleetResult", text)

    def _repr_html_(self) -> str:
        """A table for notebooks (Jupyter calls this to show the value)."""
        return _html_table(
            f"{self.operation}: {len(self.succeeded)} of {len(self)} succeeded",
            ("service", "outcome", "release", "detail"),
            self.rows(),
        )


class StatusList(list[ServiceStatus]):
    """The statuses of many services: a list that shows as a table (notebooks and the CLI).

    .. versionadded:: 0.2
    """

    @overload
    def __getitem__(self, index: SupportsIndex) -> ServiceStatus: ...
    @overload
    def __getitem__(self, index: slice) -> StatusList: ...
    def __getitem__(self, index: SupportsIndex | slice) -> ServiceStatus | StatusList:
        """A status, or for a slice a :class:`StatusList` again (still a table)."""
        if isinstance(index, slice):
            return StatusList(super().__getitem__(index))
        return super().__getitem__(index)

    @classmethod
    def collect(cls, done: Mapping[str, ServiceStatus | Exception]) -> StatusList:
        """The statuses :func:`run_many` read, in its order; the first read that failed is
        raised (a status read that fails is the caller's to see, not a row)."""
        statuses = cls()
        for value in done.values():
            if isinstance(value, Exception):
                raise value
            statuses.append(value)
        return statuses

    def rows(self) -> list[tuple[str, str, str, str, str, str, str]]:
        """One row per service: name, state, stack status, tasks, image, url, environment
        (whose gateway serves it; ``(own ALB)`` for its own load balancer)."""
        return [
            (_where(s), s.state.value, s.stack_status, f"{s.running}/{s.desired}/{s.pending}",
             s.release.short if s.release else (s.image or "(none yet)"), s.url or "",
             s.environment or "(own ALB)")
            for s in self
        ]

    def __repr__(self) -> str:
        return compact("StatusList", f"{plural(len(self), 'service')}: " + (
            ", ".join(f"{_where(s)} {s.state.value}" for s in self) or "none"))

    def _repr_html_(self) -> str:
        return _html_table(
            f"{len(self)} Fluoride service(s)",
            ("service", "state", "stack status", "tasks (run/want/pend)", "image", "url",
             "environment"),
            self.rows(),
        )


def _where(status: ServiceStatus) -> str:
    """The service's name, after its account and region when a fleet read it."""
    if status.account is None or status.region is None:
        return status.name
    return str(Target(status.account, status.region, status.name))


def _html_table(caption: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    return html_table(columns, rows, caption=caption)


@attrs.define
class SerialReporter:
    """Hands events from many worker threads to ``reporter`` one at a time."""

    reporter: Reporter
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def __call__(self, event: ProgressEvent) -> None:
        with self._lock:
            self.reporter(event)

    def for_service(self, service: str) -> Reporter:
        """A reporter that wraps each event of ``service`` in :class:`ForService`."""
        return lambda event: self(ForService(service, event))


def run_many(
    jobs: Mapping[str, Callable[[Reporter], T]],
    *,
    max_parallel: int,
    reporter: Reporter | None = None,
    operation: str = "deploy",
) -> dict[str, T | Exception]:
    """Run each service's job on at most ``max_parallel`` threads; every job runs to its
    end whatever the others do. A job gets a reporter for its own events.

    Returns service -> the job's value or the exception it raised, in the order given.
    With a ``reporter``, a :class:`FleetStarted` comes first, a :class:`ServiceFinished`
    ends each service's events (only for jobs returning a :class:`Release`), and a
    :class:`FleetFinished` comes last (also when the run is interrupted).
    """
    check_max_parallel(max_parallel)
    serial = SerialReporter(reporter or (lambda event: None))
    if reporter is not None:
        serial(FleetStarted(operation, tuple(jobs), max_parallel))
    started = time.monotonic()
    results: dict[str, T | Exception] = {}
    try:
        results = _run_pool(jobs, max_parallel, serial, reporter is not None)
    finally:
        if reporter is not None:
            ok = [name for name, value in results.items() if not isinstance(value, Exception)]
            serial(FleetFinished(operation, tuple(ok),
                                 tuple(name for name in jobs if name not in ok),
                                 time.monotonic() - started))
    return results


def _run_pool(
    jobs: Mapping[str, Callable[[Reporter], T]],
    max_parallel: int,
    serial: SerialReporter,
    reporting: bool,
) -> dict[str, T | Exception]:

    def one(name: str, job: Callable[[Reporter], T]) -> T | Exception:
        token = _current.set(name)
        try:
            value: T | Exception = job(serial.for_service(name))
        # Any failure, a bug's too, belongs to this service alone; it is kept (not hidden)
        # in the result, and raise_for_failures() raises it.
        except Exception as exc:
            value = exc
        finally:
            _current.reset(token)
        if reporting and isinstance(value, (Release, Exception)):
            serial(ServiceFinished(name, outcome_label(value), _detail(value),
                                   ok=isinstance(value, Release)))
        return value

    if not jobs:
        return {}
    pool = ThreadPoolExecutor(max_workers=min(max_parallel, len(jobs)),
                              thread_name_prefix="fluoride-fleet")
    try:
        futures = {
            name: pool.submit(contextvars.copy_context().run, one, name, job)
            for name, job in jobs.items()
        }
        results = {name: future.result() for name, future in futures.items()}
    except BaseException:
        # Ctrl-C: start no other service; those running end their current step alone.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """``fn()`` and the seconds it took (wall time, for the result's summary)."""
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start
