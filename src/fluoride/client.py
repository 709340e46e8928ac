"""``Fluoride``: the entry point. Holds the AWS seam and makes :class:`Service` handles."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import boto3

from fluoride.errors import ConfigError
from fluoride.names import DEFAULT_TIMEOUT, SERVICE_TAG

if TYPE_CHECKING:
    import botocore.config

    from fluoride._release import Release
    from fluoride.aws import Aws
    from fluoride.environment import Environment
    from fluoride.errors import FieldError
    from fluoride.events import Progress, Reporter
    from fluoride.fleet import FleetResult, StatusList
    from fluoride.infra.stack import StackInfo
    from fluoride.local import Emulator, Timing
    from fluoride.ratelimit import RateBudget
    from fluoride.service import Service, ServiceStatus
    from fluoride.spec import ServiceSpec
    from fluoride.waiting import Clock

# Everything past boto3 is imported by the method that uses it (the AWS seam, events and
# clock when a client is made; the service, stack and deployment layers when they are
# used), so `fluoride.Fluoride` costs about what `import boto3` does (benchmarks/startup.py).

__all__ = ["Fluoride", "LocalFluoride"]

_Client = TypeVar("_Client", bound="Fluoride")

#: Credentials the emulator accepts (it checks none); never real ones.
LOCAL_KEY = "testing"
_POLL_ALLOWED = "None (the default), or seconds above 0; at least 1 on AWS"


class Fluoride:
    """A client for Fluoride services in one AWS account and region.

    ``Fluoride()`` uses boto3's default credential chain and region;
    ``Fluoride(profile="lab", region="eu-west-1")`` a named profile; ``Fluoride(session=...)``
    a session you made (it wins over ``profile``). ``endpoint_url`` sends every call
    elsewhere (an emulator). :meth:`local` starts the embedded emulator.

    Progress of long operations is shown as ``progress`` says: ``"html"`` (a live block in
    the notebook cell that runs each operation), ``"rich"`` (a live line on standard
    error), ``"log"`` (the ``fluoride`` logger; per-resource stack events at DEBUG),
    ``"off"``, or any function taking one :mod:`event <fluoride.events>`. The default
    (``None``) is ``"html"`` in a Jupyter kernel, ``"rich"`` when standard error is a
    terminal, and ``"log"`` otherwise (a script run by cron or CI). ``reporter`` is the
    older spelling of a function ``progress``; give one or the other. ``poll_interval``
    sets the seconds between looks while a deployment is followed (default 3 s on AWS; at
    least 1 s there, for API rate limits).
    ``max_calls_per_second`` is the budget every call of this client shares, across threads
    and services (default 10 on AWS, none on the emulator; ``math.inf`` for none).

    Example::

        with Fluoride.local() as fl:
            svc = fl.service("hello")
            svc.create()
    """

    def __init__(
        self,
        *,
        session: boto3.Session | None = None,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        config: botocore.config.Config | None = None,
        reporter: Reporter | None = None,
        clock: Clock | None = None,
        poll_interval: float | None = None,
        max_calls_per_second: float | None = None,
        progress: Progress | None = None,
    ) -> None:
        from fluoride._check import endpoint_problems, refuse, seconds_problems
        from fluoride.aws import Aws
        from fluoride.events import reporter_for
        from fluoride.waiting import SystemClock

        refuse("Fluoride()", endpoint_problems(endpoint_url) + ([] if poll_interval is None
               else seconds_problems(poll_interval, "poll_interval", allowed=_POLL_ALLOWED))
               + reporter_problems(progress, reporter))
        self.aws = Aws.from_options(
            session=session,
            profile=profile,
            region=region,
            endpoint_url=endpoint_url,
            config=config,
        )
        self.reporter: Reporter = reporter or reporter_for(progress)
        self.clock: Clock = clock or SystemClock()
        self.aws.budget = self._budget(max_calls_per_second)
        self._emulator: Emulator | None = None
        # Sub-second polling is for the emulator, whose own default is 0.1 s.
        if poll_interval is not None and poll_interval < 1 <= _default_poll_interval(self.aws):
            raise ConfigError(
                f"poll_interval={poll_interval} would poll AWS more than once a second per "
                "service and run into API throttling.",
                hint="Use 1 s or more (the default is 3 s on AWS).",
            )
        self.poll_interval = poll_interval

    @classmethod
    def local(
        cls,
        *,
        port: int = 0,
        timing: Timing | None = None,
        reporter: Reporter | None = None,
        clock: Clock | None = None,
        max_calls_per_second: float | None = None,
        region: str | None = None,
        account_id: str | None = None,
        progress: Progress | None = None,
    ) -> LocalFluoride:
        """A client wired to a fresh embedded emulator on 127.0.0.1 (no AWS account needed).

        Returns a :class:`LocalFluoride`, whose ``emulator`` is always there (typed
        :class:`~fluoride.local.Emulator`, not ``Emulator | None``). Needs the ``local``
        extra (``pip install 'fluoride[local]'``). Use it as a context manager, or call
        :meth:`~Fluoride.close`, to stop the emulator. ``progress`` and ``reporter`` as for
        :class:`Fluoride`.

        ``region`` (default ``us-east-1``) and ``account_id`` (12 digits, default
        ``123456789012``) say where the emulator's services live: two ``Fluoride.local()``
        clients with different ones are two separate places, as for a
        :class:`~fluoride.multi.Fleet` across regions and accounts.

        .. versionchanged:: 0.2 ``region``, ``account_id`` and ``progress``.
        """
        from fluoride._check import refuse
        from fluoride.local import start_emulator

        # Checked before the emulator starts: a bad value costs no server.
        refuse("Fluoride.local()", reporter_problems(progress, reporter))
        place: dict[str, str] = {}
        if region is not None:
            place["region"] = region
        if account_id is not None:
            place["account_id"] = account_id
        emulator = start_emulator(port=port, timing=timing, **place)
        session = boto3.Session(
            aws_access_key_id=LOCAL_KEY,
            aws_secret_access_key=LOCAL_KEY,
            region_name=emulator.region,
        )
        try:
            return LocalFluoride(
                emulator, session=session, reporter=reporter, clock=clock,
                max_calls_per_second=max_calls_per_second, progress=progress,
            )
        except BaseException:
            emulator.stop()
            raise

    @staticmethod
    def template(spec: ServiceSpec | None = None, *, keep_comments: bool = False) -> str:
        """The CloudFormation template Fluoride deploys, with ``spec``'s environment
        variables in place (default: a spec with none). Makes no AWS call.

        ``keep_comments`` keeps the comments that say why each resource is there; the body
        sent to CloudFormation goes without them (inline it is limited to 51,200 bytes; a
        larger one goes through the staging bucket, ``fluoride.infra.staging``).
        """
        from fluoride.infra.template import load_template
        from fluoride.spec import ServiceSpec, render_environment

        spec = spec or ServiceSpec()
        return render_environment(load_template(), spec.environment,
                                  secret_env=spec.secret_env, sidecars=spec.sidecars,
                                  endpoints=spec.network.endpoints,
                                  grace_period=spec.health.grace_period,
                                  keep_comments=keep_comments)

    @property
    def emulator(self) -> Emulator | None:
        """The embedded emulator this client started (:meth:`local`), or ``None``."""
        return self._emulator

    @property
    def session(self) -> boto3.Session:
        """The boto3 session every call uses."""
        return self.aws.session

    @property
    def endpoint_url(self) -> str | None:
        """Where calls go instead of AWS (the emulator), or ``None``."""
        return self.aws.endpoint_url

    @property
    def region(self) -> str:
        return self.aws.region

    # -- how a client shows itself (no AWS call: what is known) ---------------------------

    def _shown(self) -> tuple[str | None, str, str]:
        """(account or ``None`` when not known without a call, region, where calls go)."""
        emulator = getattr(self, "emulator", None)
        region = self.aws.session.region_name or "no region set"
        if emulator is not None:
            return emulator.account_id, region, f"embedded emulator {emulator.endpoint_url}"
        caller = self.aws.known_caller
        account = caller.split(":")[4] if caller and caller.count(":") >= 5 else None
        where = "AWS" if self.endpoint_url is None else f"endpoint {self.endpoint_url}"
        return account, region, where

    def __repr__(self) -> str:
        from fluoride._display import compact, fit

        account, region, where = self._shown()
        return compact("Fluoride", fit((f"account {account}" if account else None, region,
                                        where)))

    def _repr_html_(self) -> str:
        """The client for notebooks: account, region and where calls go."""
        from fluoride._display import html_fields

        account, region, where = self._shown()
        return html_fields((
            ("account", account or "not known yet (asked on the first call that needs it)"),
            ("region", region),
            ("calls go to", where),
        ), caption="Fluoride client")

    def service(self, name: str) -> Service:
        """A handle on the service ``name``; validates the name, makes no AWS call."""
        from fluoride.service import Service

        return Service(name=name, aws=self.aws, reporter=self.reporter, clock=self.clock,
                       poll_interval=self.poll_interval)

    def environment(self, name: str) -> Environment:
        """A handle on the environment ``name`` (a shared ECS gateway); validates the name,
        makes no AWS call.

        .. versionadded:: 0.3.0
        """
        from fluoride.environment import Environment

        return Environment(name=name, aws=self.aws, reporter=self.reporter, clock=self.clock,
                           poll_interval=self.poll_interval)

    def _budget(self, rate: float | None) -> RateBudget | None:
        """The shared call budget: ``rate``, or the default for where calls go."""
        from fluoride.ratelimit import DEFAULT_CALLS_PER_SECOND, RateBudget, check_rate
        from fluoride.releases.deployment import LOCAL_POLL_INTERVAL

        if rate is None:
            if _default_poll_interval(self.aws) == LOCAL_POLL_INTERVAL:
                return None  # the emulator: nothing to throttle
            rate = DEFAULT_CALLS_PER_SECOND
        rate = check_rate(rate)
        return None if math.isinf(rate) else RateBudget(rate, clock=self.clock)

    def _select(
        self,
        patterns: Iterable[str],
        team: str | None,
        project: str | None,
        tags: Mapping[str, str] | None,
    ) -> list[StackInfo]:
        from fluoride.errors import ServiceNotFound, how
        from fluoride.infra.stack import list_service_stacks
        from fluoride.selection import Selector

        wanted = dict(tags or {})
        wanted.update({k: v for k, v in (("team", team), ("project", project)) if v})
        selector = Selector.of(list(patterns), tags=wanted)
        infos = {info.tags[SERVICE_TAG]: info for info in list_service_stacks(self.aws)}
        missing = selector.missing(infos)
        if missing:
            raise ServiceNotFound(
                "No such service: " + ", ".join(missing) + ".",
                resource=", ".join(missing),
                hint=f"{how('list')} shows the services; a glob such as 'team-*' may "
                "match none.",
            )
        chosen = selector.select({name: info.tags for name, info in infos.items()})
        return [infos[name] for name in chosen]

    def services(
        self,
        *select: str,
        team: str | None = None,
        project: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> list[Service]:
        """The Fluoride services in the account and region (found by the stack tag):
        every one, or those ``select`` names or globs (``"team-*"``) and whose stack tags
        match ``team``, ``project`` or ``tags`` (the spec's ``project``, ``team``,
        ``contact``). One DescribeStacks call (a page per 100 stacks).

        Raises :class:`ServiceNotFound` for a plain name that is not there, and
        :class:`ConfigError` for a bad pattern or tag.
        """
        return [self.service(info.tags[SERVICE_TAG])
                for info in self._select(select, team, project, tags)]

    def status(
        self,
        *select: str,
        team: str | None = None,
        project: str | None = None,
        tags: Mapping[str, str] | None = None,
        max_parallel: int = 8,
    ) -> StatusList:
        """The status of every Fluoride service in the account and region (or of those
        selected, as in :meth:`services`): one DescribeStacks, then each service's
        DescribeServices, at most ``max_parallel`` at a time. A list that shows as a table.
        """
        from fluoride.fleet import StatusList, check_max_parallel, run_many

        check_max_parallel(max_parallel)
        infos = self._select(select, team, project, tags)

        def read(info: StackInfo) -> Callable[[Reporter], ServiceStatus]:
            def run(_: Reporter) -> ServiceStatus:
                svc = self.service(info.tags[SERVICE_TAG])
                return svc.status_of(info)
            return run

        done = run_many({info.tags[SERVICE_TAG]: read(info) for info in infos},
                        max_parallel=max_parallel)
        return StatusList.collect(done)

    def deploy_many(
        self,
        images: Mapping[str, str | None] | None = None,
        *,
        select: str | Iterable[str] | None = None,
        team: str | None = None,
        project: str | None = None,
        tags: Mapping[str, str] | None = None,
        image: str | None = None,
        max_parallel: int = 4,
        timeout: float = DEFAULT_TIMEOUT,
        reporter: Reporter | None = None,
    ) -> FleetResult:
        """Deploy to many services at once, at most ``max_parallel`` at a time.

        ``images`` maps each service to its image (as :meth:`Service.deploy` takes it;
        ``None``: the newest in its repository). Or select the services (``select`` names
        or globs, ``team``, ``project``, ``tags``, as in :meth:`services`) and give them
        all ``image``. Each deployment is followed as :meth:`Service.deploy` follows one,
        with ``timeout`` each; one service's failure stops no other.

        Returns a :class:`~fluoride.fleet.FleetResult`: each name -> its :class:`Release`
        or its error (:class:`RolledBack`, :class:`DeploymentInProgress`,
        :class:`ServiceNotFound`, ...). It raises nothing for a service's failure: call
        ``result.raise_for_failures()``. Progress goes to ``reporter`` (default: the
        client's) as events wrapped in :class:`~fluoride.events.ForService`.

        Raises :class:`ConfigError` for a bad name, selection or ``max_parallel``.

        Example::

            result = fl.deploy_many({"api": "v2", "worker": "v2"}, max_parallel=2)
            print(result)          # <FleetResult deploy: 1 succeeded, 1 failed (...)>
            result.raise_for_failures()

        .. versionadded:: 0.2
        """
        targets = self._targets(images, select, team, project, tags, image)

        def deploy(img: str | None) -> Callable[[Service], Release]:
            return lambda svc: svc.deploy(img, timeout=timeout)

        return self._many("deploy", {name: deploy(img) for name, img in targets.items()},
                          max_parallel, reporter)

    def rollback_many(
        self,
        names: Iterable[str] | None = None,
        *,
        select: str | Iterable[str] | None = None,
        team: str | None = None,
        project: str | None = None,
        tags: Mapping[str, str] | None = None,
        max_parallel: int = 4,
        timeout: float = DEFAULT_TIMEOUT,
        reporter: Reporter | None = None,
    ) -> FleetResult:
        """Roll many services back at once (:meth:`Service.rollback` each: a running
        deployment is cancelled, else the previous stable release is deployed again).
        Services by ``names`` or by selection, as in :meth:`deploy_many`.

        .. versionadded:: 0.2
        """
        given = None if names is None else dict.fromkeys(names)
        targets = self._targets(given, select, team, project, tags, None)
        return self._many(
            "rollback",
            {name: (lambda svc: svc.rollback(timeout=timeout)) for name in targets},
            max_parallel, reporter,
        )

    def _targets(
        self,
        images: Mapping[str, str | None] | None,
        select: str | Iterable[str] | None,
        team: str | None,
        project: str | None,
        tags: Mapping[str, str] | None,
        image: str | None,
    ) -> dict[str, str | None]:
        from fluoride.errors import ConfigError
        from fluoride.spec import validate_service_name

        selecting = select is not None or team or project or tags
        if images is not None:
            if selecting or image is not None:
                raise ConfigError(
                    "Give the services either as a mapping of names to images, or as a "
                    "selection (select=, team=, project=, tags=) with image=, not both."
                )
            for name in images:
                validate_service_name(name)
            return dict(images)
        if not selecting:
            raise ConfigError(
                "No services were given.",
                hint="Pass {name: image, ...}, or select=\"team-*\" (or team=...) with "
                "image=...; select=\"*\" means every service.",
            )
        patterns = [select] if isinstance(select, str) else list(select or ())
        return dict.fromkeys((info.tags[SERVICE_TAG] for info in
                              self._select(patterns, team, project, tags)), image)

    def _many(
        self,
        operation: str,
        jobs: Mapping[str, Callable[[Service], Release]],
        max_parallel: int,
        reporter: Reporter | None,
    ) -> FleetResult:
        from fluoride.fleet import FleetResult, run_many, timed
        from fluoride.service import Service

        def job(name: str, work: Callable[[Service], Release]) -> Callable[[Reporter], Release]:
            def run(report: Reporter) -> Release:
                svc = Service(name=name, aws=self.aws, reporter=report, clock=self.clock,
                              poll_interval=self.poll_interval)
                return work(svc)
            return run

        outcomes, seconds = timed(lambda: run_many(
            {name: job(name, work) for name, work in jobs.items()},
            max_parallel=max_parallel, reporter=reporter or self.reporter, operation=operation,
        ))
        return FleetResult(operation, outcomes, seconds)

    def close(self) -> None:
        """Stop the embedded emulator, if this client started one."""
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None

    def __enter__(self: _Client) -> _Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class LocalFluoride(Fluoride):
    """A :class:`Fluoride` client on the embedded emulator, made by :meth:`Fluoride.local`.

    ``emulator`` is the :class:`~fluoride.local.Emulator` it started, so
    ``fl.emulator.push_image(...)`` type-checks without a ``None`` check. After
    :meth:`~Fluoride.close` the emulator is stopped (its methods then fail to connect).

    Example::

        with Fluoride.local() as fl:        # a LocalFluoride
            fl.emulator.push_image("fluoride/hello", "v1")
    """

    def __init__(self, emulator: Emulator, **options: Any) -> None:
        super().__init__(endpoint_url=emulator.endpoint_url, **options)
        self._emulator = emulator
        self._started: Emulator = emulator

    @property
    def emulator(self) -> Emulator:
        """The embedded emulator (``endpoint_url``, ``push_image``, ``hold_rollouts``...)."""
        return self._started


def reporter_problems(progress: object, reporter: object) -> list[FieldError]:
    """The problems of ``progress=`` and ``reporter=`` together (empty: none). Pure."""
    from fluoride.errors import FieldError
    from fluoride.events import PROGRESS_ALLOWED, progress_problems

    problems = progress_problems(progress)
    if reporter is not None and not callable(reporter):
        problems.append(FieldError("reporter", f"{reporter!r} cannot be called with an event",
                                   allowed="a function taking one event, or None"))
    if reporter is not None and progress is not None:
        problems.append(FieldError(
            "progress", f"{progress!r} was given together with reporter={reporter!r}",
            allowed="one of the two: progress=" + PROGRESS_ALLOWED))
    return problems


def _default_poll_interval(aws: Aws) -> float:
    from fluoride.releases.deployment import default_poll_interval

    return default_poll_interval(aws)
