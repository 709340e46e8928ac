"""``Fluoride``: the entry point. Holds the AWS seam and makes :class:`Service` handles."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

import boto3

from fluoride.errors import ConfigError
from fluoride.names import SERVICE_TAG

if TYPE_CHECKING:
    import botocore.config

    from fluoride.aws import Aws
    from fluoride.events import Reporter
    from fluoride.local import Emulator, Timing
    from fluoride.service import Service, ServiceStatus
    from fluoride.spec import ServiceSpec
    from fluoride.waiting import Clock

# Everything past boto3 is imported by the method that uses it (the AWS seam, events and
# clock when a client is made; the service, stack and deployment layers when they are
# used), so `fluoride.Fluoride` costs about what `import boto3` does (benchmarks/startup.py).

__all__ = ["Fluoride"]

#: Credentials the emulator accepts (it checks none); never real ones.
LOCAL_KEY = "testing"
_POLL_ALLOWED = "None (the default), or seconds above 0; at least 1 on AWS"


class Fluoride:
    """A client for Fluoride services in one AWS account and region.

    ``Fluoride()`` uses boto3's default credential chain and region;
    ``Fluoride(profile="lab", region="eu-west-1")`` a named profile; ``Fluoride(session=...)``
    a session you made (it wins over ``profile``). ``endpoint_url`` sends every call
    elsewhere (an emulator). :meth:`local` starts the embedded emulator.

    Progress of long operations goes to ``reporter`` (default: the ``fluoride`` logger, or
    live HTML in a notebook). ``poll_interval`` sets the seconds between looks while a
    deployment is followed (default 3 s on AWS; at least 1 s there, for API rate limits).

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
    ) -> None:
        from fluoride._check import endpoint_problems, refuse, seconds_problems
        from fluoride.aws import Aws
        from fluoride.events import default_reporter
        from fluoride.waiting import SystemClock

        refuse("Fluoride()", endpoint_problems(endpoint_url) + ([] if poll_interval is None
               else seconds_problems(poll_interval, "poll_interval", allowed=_POLL_ALLOWED)))
        self.aws = Aws.from_options(
            session=session,
            profile=profile,
            region=region,
            endpoint_url=endpoint_url,
            config=config,
        )
        self.reporter: Reporter = reporter or default_reporter()
        self.clock: Clock = clock or SystemClock()
        self.emulator: Emulator | None = None
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
    ) -> Fluoride:
        """A client wired to a fresh embedded emulator on 127.0.0.1 (no AWS account needed).

        Needs the ``local`` extra (``pip install 'fluoride[local]'``). Use it as a context
        manager, or call :meth:`close`, to stop the emulator.
        """
        from fluoride.local import start_emulator

        emulator = start_emulator(port=port, timing=timing)
        session = boto3.Session(
            aws_access_key_id=LOCAL_KEY,
            aws_secret_access_key=LOCAL_KEY,
            region_name=emulator.region,
        )
        fl = cls(
            session=session, endpoint_url=emulator.endpoint_url, reporter=reporter, clock=clock
        )
        fl.emulator = emulator
        return fl

    @staticmethod
    def template(spec: ServiceSpec | None = None, *, keep_comments: bool = False) -> str:
        """The CloudFormation template Fluoride deploys, with ``spec``'s environment
        variables in place (default: a spec with none). Makes no AWS call.

        ``keep_comments`` keeps the comments that say why each resource is there; the body
        sent to CloudFormation goes without them (it is limited to 51,200 bytes).
        """
        from fluoride.infra.template import load_template
        from fluoride.spec import ServiceSpec, render_environment

        spec = spec or ServiceSpec()
        return render_environment(load_template(), spec.environment,
                                  secret_env=spec.secret_env, keep_comments=keep_comments)

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

    def service(self, name: str) -> Service:
        """A handle on the service ``name``; validates the name, makes no AWS call."""
        from fluoride.service import Service

        return Service(name=name, aws=self.aws, reporter=self.reporter, clock=self.clock,
                       poll_interval=self.poll_interval)

    def services(self) -> list[Service]:
        """Every Fluoride service in the account and region (found by the stack tag)."""
        from fluoride.infra.stack import list_service_stacks

        return [self.service(info.tags[SERVICE_TAG]) for info in list_service_stacks(self.aws)]

    def status(self) -> list[ServiceStatus]:
        """The status of every Fluoride service in the account and region (without the
        serving release, which :meth:`Service.status` adds: this stays one ECS call a
        service)."""
        from fluoride.infra.stack import list_service_stacks

        return [
            self.service(info.tags[SERVICE_TAG]).status_of(info)
            for info in list_service_stacks(self.aws)
        ]

    def close(self) -> None:
        """Stop the embedded emulator, if this client started one."""
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None

    def __enter__(self) -> Fluoride:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _default_poll_interval(aws: Aws) -> float:
    from fluoride.releases.deployment import default_poll_interval

    return default_poll_interval(aws)
