"""``Environment``: a shared ECS gateway that many services sit behind.

An environment is one CloudFormation stack, ``fluoride-env-<name>``
(``templates/environment.yaml``): an ``AWS::ECS::Gateway`` of type ``HostSharedAlb`` (a
pool of at most ``max_albs`` shared HTTPS load balancers that ECS runs), its
infrastructure role, the load balancers' security group and the access-log bucket. A
service joins it with ``ServiceSpec(gateway=<name>)``; ECS then gives the service a route,
a certificate and a generated ``https://`` hostname, and the service's own stack holds no
load balancer.

Example::

    env = fl.environment("lab")
    env.create(EnvironmentSpec(scheme="internet-facing"))
    fl.service("api").create(ServiceSpec(gateway="lab"))
    env.services()      # [Service(name='api')]
    env.delete()        # refused while api uses it

.. versionadded:: 0.3.0
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from html import escape as html_escape
from typing import TYPE_CHECKING, Any

import attrs
import botocore.exceptions

from fluoride._check import refuse
from fluoride._version import version
from fluoride.aws import translate
from fluoride.errors import (
    AwsError,
    ConfigError,
    EnvironmentInUse,
    EnvironmentNotFound,
    ServiceExists,
    ServiceNotFound,
    StoreNotFound,
)
from fluoride.events import Note, Reporter
from fluoride.infra.network import resolve_network
from fluoride.infra.stack import Stack, StackInfo, StackState, list_service_stacks
from fluoride.infra.template import load_environment_template
from fluoride.names import ENVIRONMENT_TAG, SERVICE_TAG, VERSION_TAG, environment_stack_name
from fluoride.spec import EnvironmentSpec, environment_spec_problems
from fluoride.spec._environment import _without_comment_lines
from fluoride.spec._envspec import (
    environment_from_parameters,
    environment_name_problems,
    environment_parameters,
)
from fluoride.stores.retention import empty_bucket, purge_bucket
from fluoride.waiting import retry_call

if TYPE_CHECKING:
    from fluoride.aws import Aws
    from fluoride.service import Service
    from fluoride.waiting import Clock

__all__ = ["Environment", "EnvironmentStatus", "environment_services"]

#: Seconds a read is retried through faults (as the service verbs do).
_PATIENCE = 30.0


@attrs.frozen
class EnvironmentStatus:
    """What an environment is now.

    Attributes:
        name: the environment's name.
        state: the stack's status reduced to complete / in progress / rolled back / failed.
        stack_status: CloudFormation's own status.
        gateway_arn: the ECS gateway's ARN (``None`` until the stack has made it).
        gateway_status: ECS's status of the gateway (``ACTIVE``...), when it could be read.
        scheme: ``internet-facing`` or ``internal``.
        max_albs: the most shared load balancers the gateway may run.
        current_albs: how many it runs now, when ECS said.
        services: the services behind it (by name).
        reason: CloudFormation's status reason, if any.
    """

    name: str
    state: StackState
    stack_status: str
    gateway_arn: str | None
    gateway_status: str | None
    scheme: str
    max_albs: int
    current_albs: int | None
    services: tuple[str, ...]
    reason: str | None = None

    def __repr__(self) -> str:
        albs = f"{self.current_albs}/{self.max_albs}" if self.current_albs is not None \
            else f"max {self.max_albs}"
        return (f"<EnvironmentStatus {self.name}: {self.state.value}, {self.scheme}, "
                f"ALBs {albs}, services [{', '.join(self.services)}]>")

    def _repr_html_(self) -> str:
        current = "?" if self.current_albs is None else str(self.current_albs)
        rows = [
            ("state", f"{self.state.value} ({self.stack_status})"),
            ("gateway", f"{self.gateway_arn or 'not made yet'}"
                        + (f" ({self.gateway_status})" if self.gateway_status else "")),
            ("scheme", self.scheme),
            ("shared load balancers", f"{current} of at most {self.max_albs}"),
            ("services", ", ".join(self.services) or "none"),
        ]
        if self.reason:
            rows.append(("reason", self.reason))
        body = "".join(
            f"<tr><th style='text-align:left'>{html_escape(k)}</th>"
            f"<td style='text-align:left'>{html_escape(v)}</td></tr>" for k, v in rows)
        return (f"<table><caption>environment {html_escape(self.name)}</caption>{body}"
                "</table>")


def environment_services(aws: Aws, name: str) -> list[str]:
    """The services whose stacks sit behind environment ``name`` (one DescribeStacks)."""
    return [info.tags[SERVICE_TAG] for info in list_service_stacks(aws)
            if info.parameters.get("Gateway") == name]


@attrs.define
class Environment:
    """A handle on one environment, made by :meth:`Fluoride.environment`; no AWS call
    until used.

    .. versionadded:: 0.3.0
    """

    name: str
    aws: Aws = attrs.field(repr=False)
    reporter: Reporter = attrs.field(repr=False)
    clock: Clock = attrs.field(repr=False)
    poll_interval: float | None = attrs.field(default=None, repr=False)
    _stack: Stack | None = attrs.field(default=None, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        problems = environment_name_problems(self.name)
        if problems:
            raise ConfigError(f"{self.name!r} cannot name an environment.", errors=problems)

    def __repr__(self) -> str:
        return f"Environment(name={self.name!r})"

    @property
    def stack(self) -> Stack:
        """The environment's stack, ``fluoride-env-<name>``."""
        if self._stack is None:
            self._stack = Stack(self.aws, environment_stack_name(self.name), clock=self.clock)
        return self._stack

    @property
    def stack_name(self) -> str:
        return environment_stack_name(self.name)

    # -- create ----------------------------------------------------------------------------

    def parameters(self, spec: EnvironmentSpec) -> dict[str, str]:
        """The template parameters ``spec`` maps to (the network resolved: the default
        VPC's when the spec names none); no change is made."""
        spec.validate()
        network = resolve_network(self.aws, spec.vpc_id, spec.subnet_ids)
        ec2 = self.aws.client("ec2")
        with translate("DescribeVpcs", network.vpc_id):
            vpcs = ec2.describe_vpcs(VpcIds=[network.vpc_id])["Vpcs"]
        cidr = vpcs[0].get("CidrBlock", "") if vpcs else ""
        return environment_parameters(self.name, spec, vpc_id=network.vpc_id,
                                      subnet_ids=network.subnet_ids, vpc_cidr=cidr)

    @staticmethod
    def template_body() -> str:
        """The environment template as sent to CloudFormation (without comment lines)."""
        return _without_comment_lines(load_environment_template())

    def tags(self, spec: EnvironmentSpec) -> dict[str, str]:
        tags = {ENVIRONMENT_TAG: self.name, VERSION_TAG: version()}
        tags.update({k: v for k in ("project", "team", "contact")
                     if (v := getattr(spec, k)) is not None})
        return tags

    def create(self, spec: EnvironmentSpec | None = None, *, wait: bool = True
               ) -> EnvironmentStatus:
        """Create the environment's stack: its gateway, role, security group and log bucket.

        ``spec`` defaults to ``EnvironmentSpec()`` (internet-facing, up to 10 shared load
        balancers, open to 0.0.0.0/0 on HTTPS 443). Creating an environment that exists with
        the same spec returns its status; with another spec raises :class:`ServiceExists`
        (an environment's settings cannot be changed in place yet).

        Raises :class:`ConfigError` for a bad spec (before any AWS call),
        :class:`NoDefaultVpc`, or :class:`StackFailed` (the failed stack is deleted).
        """
        refuse("create()", environment_spec_problems(spec))
        spec = spec or EnvironmentSpec()
        spec.validate()
        existing = retry_call(self.stack.describe, clock=self.clock, seconds=_PATIENCE)
        params = self.parameters(spec)
        if existing is not None and existing.state in (StackState.COMPLETE,
                                                       StackState.IN_PROGRESS):
            if existing.tags.get(ENVIRONMENT_TAG) == self.name and all(
                existing.parameters.get(k) == v for k, v in params.items()
            ):
                self.reporter(Note(self.name, f"Environment {self.name} exists already, with this "
                                   "spec: nothing to do."))
                return self.status()
            raise ServiceExists(
                f"The stack {self.stack_name} already exists ({existing.status}) with "
                "another spec.",
                resource=self.stack_name,
                hint="Use another name, or delete the environment (once no service uses it) "
                "and create it again.",
            )
        self.stack.create(template_body=self.template_body(), parameters=params,
                          tags=self.tags(spec), reporter=self.reporter, wait=wait)
        return retry_call(self.status, clock=self.clock, seconds=_PATIENCE)

    # -- read ------------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.stack.describe() is not None

    def _require(self) -> StackInfo:
        info = retry_call(self.stack.describe, clock=self.clock, seconds=_PATIENCE)
        if info is None or info.tags.get(ENVIRONMENT_TAG) != self.name:
            raise EnvironmentNotFound(
                f"No environment {self.name} (stack {self.stack_name}) in {self.aws.region}.",
                resource=self.stack_name,
                hint=f"Create it: fl.environment({self.name!r}).create(EnvironmentSpec()), or "
                f"`fluoride env create {self.name}`.",
            )
        return info

    def spec(self) -> EnvironmentSpec:
        """The spec the environment's stack runs (read back from its parameters)."""
        info = self._require()
        spec = environment_from_parameters(dict(info.parameters))
        return attrs.evolve(spec, project=info.tags.get("project"), team=info.tags.get("team"),
                            contact=info.tags.get("contact"))

    def outputs(self) -> Mapping[str, str]:
        return self._require().outputs

    def gateway(self) -> Mapping[str, Any] | None:
        """ECS's description of the gateway (``DescribeGateway``), or ``None`` before the
        stack has made it."""
        arn = self._require().outputs.get("GatewayArn")
        if not arn:
            return None
        return self._describe_gateway(arn)

    def _describe_gateway(self, arn: str) -> Mapping[str, Any] | None:
        ecs: Any = self.aws.client("ecs")
        try:
            with translate("DescribeGateway", arn):
                answer = ecs.describe_gateway(gateway=arn)
        except AwsError as exc:
            if exc.code in ("GatewayNotFoundException", "ResourceNotFoundException"):
                return None
            raise
        gateway: Mapping[str, Any] = answer.get("gateway") or {}
        return gateway

    def status(self) -> EnvironmentStatus:
        """The stack's state, the gateway's, and the services behind it.

        Raises :class:`EnvironmentNotFound`.
        """
        info = self._require()
        arn = info.outputs.get("GatewayArn") or None
        gateway = self._describe_gateway(arn) if arn else None
        alb = ((gateway or {}).get("configuration") or {}).get("hostSharedAlb") or {}
        return EnvironmentStatus(
            name=self.name,
            state=info.state,
            stack_status=info.status,
            gateway_arn=arn,
            gateway_status=(gateway or {}).get("status"),
            scheme=info.parameters.get("Scheme", "internet-facing"),
            max_albs=int(info.parameters.get("MaxAlbs") or 10),
            current_albs=alb.get("currentAlbCount"),
            services=tuple(self._service_names()),
            reason=info.reason,
        )

    def _service_names(self) -> list[str]:
        return retry_call(lambda: environment_services(self.aws, self.name), clock=self.clock,
                          seconds=_PATIENCE)

    def services(self) -> list[Service]:
        """Handles on the services behind this environment's gateway."""
        from fluoride.service import Service

        return [Service(name=n, aws=self.aws, reporter=self.reporter, clock=self.clock,
                        poll_interval=self.poll_interval) for n in self._service_names()]

    # -- delete ----------------------------------------------------------------------------

    def delete(self, *, wait: bool = True) -> None:
        """Delete the environment: its gateway, role, security group and access logs.

        Refused with :class:`EnvironmentInUse`, naming them, while services sit behind it
        (move each to its own load balancer with ``update()``, or delete it, first).
        Raises :class:`EnvironmentNotFound` when there is no such environment.
        """
        info = self._require()
        users = self._service_names()
        if users:
            raise EnvironmentInUse(
                f"Environment {self.name} is in use by {len(users)} service(s): "
                f"{', '.join(users)}. Nothing was deleted.",
                services=users, resource=self.stack_name,
                hint="Delete those services, or move each to its own load balancer "
                "(update() with gateway=None), then delete the environment.",
            )
        log_bucket = info.outputs.get("AccessLogBucketName")

        def empty_logs() -> None:
            if log_bucket:
                with contextlib.suppress(StoreNotFound):
                    retry_call(lambda: empty_bucket(self.aws, log_bucket), clock=self.clock,
                               seconds=_PATIENCE)

        self.stack.delete(reporter=self.reporter, wait=wait, on_accepted=empty_logs)
        if log_bucket and wait:
            with contextlib.suppress(StoreNotFound):
                retry_call(lambda: purge_bucket(self.aws, log_bucket), clock=self.clock,
                           seconds=_PATIENCE)
        self.reporter(Note(self.name, f"Deleted environment {self.name}."))

    def _repr_html_(self) -> str:
        """The status as a table in a notebook (one read), or why there is none."""
        try:
            return self.status()._repr_html_()
        except (EnvironmentNotFound, ServiceNotFound):
            return (f"<p>environment {html_escape(self.name)}: not created "
                    f"(stack {html_escape(self.stack_name)})</p>")
        except (AwsError, botocore.exceptions.BotoCoreError) as exc:  # shown, not raised
            return f"<p>environment {html_escape(self.name)}: {html_escape(str(exc))}</p>"
