"""``Service``: the verbs a user calls on one microservice (create, status, delete, ...)."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal, TypeVar

import attrs
import botocore.exceptions

from fluoride._check import refuse
from fluoride._display import (
    MAX_REPR,
    Html,
    compact,
    console_url,
    fit,
    html_fields,
    html_link,
    html_table,
)
from fluoride._release import ReleaseList
from fluoride._version import version
from fluoride.errors import (
    AwsError,
    ConfigError,
    DeploymentInProgress,
    FieldError,
    FluorideError,
    ServiceExists,
    StackFailed,
    StoreNotFound,
    StoresRetained,
    how,
)
from fluoride.events import (
    DeploymentProgress,
    Note,
    OperationFinished,
    OperationStarted,
    Reporter,
    describe,
)
from fluoride.infra.callers import caller_security_groups
from fluoride.infra.network import endpoint_preflight, resolve_network
from fluoride.infra.stack import (
    CALL_PATIENCE,
    Stack,
    StackInfo,
    StackState,
)
from fluoride.infra.template import load_template
from fluoride.infra.upgrade import template_note, template_tags
from fluoride.names import (
    APP_CONTAINER,
    DEFAULT_TIMEOUT,
    SERVICE_TAG,
    VERSION_TAG,
    alarm_topic_name,
    log_group_name,
    repository_name,
    stack_name,
)
from fluoride.releases.ecs import EcsService, describe_service
from fluoride.releases.history import Outcome, Release
from fluoride.releases.reference import (
    check_deploy,
    check_push,
    check_rollback,
    check_wait,
    create_image_problems,
)
from fluoride.spec import (
    ServiceSpec,
    render_environment,
    spec_argument_problems,
    to_parameters,
    user_tags,
    validate_service_name,
)
from fluoride.spec._readback import spec_tags
from fluoride.stores.data import (
    Bucket,
    Secret,
    Table,
    bucket_from_outputs,
    secret_from_outputs,
    table_from_outputs,
)
from fluoride.stores.retention import (
    Purged,
    RetainedStores,
    bucket_policy,
    default_store_names,
    empty_bucket,
    find_retained,
    purge_bucket,
    purge_repository,
    purge_secret,
    purge_table,
)
from fluoride.waiting import retry_call

if TYPE_CHECKING:
    from fluoride.aws import Aws
    from fluoride.cost import CostEstimate, Usage
    from fluoride.infra.plan import Plan
    from fluoride.infra.prices import PriceTable
    from fluoride.logs import LogStream, TimeSpec
    from fluoride.releases.deployment import Deployments
    from fluoride.waiting import Clock

__all__ = ["SPEC_TAG", "DeleteResult", "Service", "ServiceStatus"]

_LOG_BUCKET_ATTEMPTS = 5

#: The stack tag holding a fingerprint of the spec it was created from, so a second
#: ``create()`` can tell a re-run (same spec) from a different service of the same name.
SPEC_TAG = "fluoride:spec"


@attrs.frozen
class ServiceStatus:
    """What a service is doing now.

    Attributes:
        name: the service name.
        state: the stack's status reduced to complete / in progress / rolled back / failed.
        stack_status: CloudFormation's own status.
        desired, running, pending: ECS task counts (0 when the service has no tasks yet).
        url: where the service answers, or ``None``.
        outputs: every stack output.
        image: the image the stack runs (``None`` before the first deploy).
        release: the release serving now (:meth:`Service.status` only; ``None`` before the
            first image, and in :meth:`Fluoride.status`, which stays cheap).
        deployment: a running deployment's progress, or ``None``.
        drift: when ECS serves another image than the stack's (set outside Fluoride),
            that said in words (:meth:`Service.status` only); else ``None``.
        notifies: who the alarms notify (the spec's ``notify``): email addresses and SNS
            topics. Empty: the alarms notify no one.
        account, region: where the service lives, in a :class:`~fluoride.multi.Fleet`'s
            status (``None`` from a single client, whose account and region are its own).
    """

    name: str
    state: StackState
    stack_status: str
    desired: int
    running: int
    pending: int
    url: str | None
    outputs: Mapping[str, str]
    image: str | None
    reason: str | None = None
    release: Release | None = None
    deployment: DeploymentProgress | None = None
    #: what to say about the stack's template (``None``: it is the installed Fluoride's);
    #: ``update()`` sends the installed one
    template: str | None = None
    drift: str | None = None
    notifies: tuple[str, ...] = ()
    account: str | None = None
    region: str | None = None
    #: the environment whose gateway serves the service; ``None``: its own load balancer
    environment: str | None = None

    @property
    def alarms_notify(self) -> str:
        """Who hears of an alarm, in words (the addresses and topics, or "no one")."""
        if not self.notifies:
            return "no one (set notify in the spec to be told of alarms)"
        return ", ".join(self.notifies)

    @property
    def tasks(self) -> str:
        """``running/desired`` tasks, with ``+N pending`` when some are starting."""
        return f"{self.running}/{self.desired}" + (f" +{self.pending} pending"
                                                   if self.pending else "")

    def __repr__(self) -> str:
        # the tag alone (the digest is in the HTML), so that the URL fits
        release = ((self.release.tag or self.release.what) if self.release
                   else _short_image(self.image) if self.image else "no image")
        tasks = f"{self.tasks} tasks" if self.desired or self.running or self.pending else None
        flags = ("deploying" if self.deployment is not None else None,
                 "drift" if self.drift else None)
        # What a person reads first stays: the state and the URL; the task counts, then
        # the release, give way when the line would be too long (the HTML has them all).
        for parts in ((tasks, release), (release,), ()):
            text = fit((f"{self.name}: {self.state.value}", *parts, *flags, self.url))
            if len(text) <= MAX_REPR - len("<ServiceStatus >"):
                break
        return compact("ServiceStatus", text)

    def _repr_html_(self) -> str:
        """A small table for notebooks (Jupyter calls this to show the value)."""
        rows: list[tuple[str, object]] = [
            ("state", f"{self.state.value} ({self.stack_status})"),
            ("tasks running / desired / pending", f"{self.running} / {self.desired} / "
                                                  f"{self.pending}"),
            ("url", Html(html_link(self.url)) if self.url else ""),
            ("ingress", f"environment {self.environment}'s gateway" if self.environment
             else "own load balancer"),
            ("release", self.release.short if self.release else (self.image or "none yet")),
        ]
        rows.append(("alarms notify", self.alarms_notify))
        if self.deployment is not None:
            rows.append(("deployment", describe(self.deployment)))
        if self.drift:
            rows.append(("drift", self.drift))
        if self.reason:
            rows.append(("reason", self.reason))
        if self.template:
            rows.append(("template", self.template))
        outputs = html_table(("output", "value"), sorted(self.outputs.items()))
        rows.append(("outputs", Html(f"<details><summary>{len(self.outputs)} stack outputs"
                                     f"</summary>{outputs}</details>")))
        return html_fields(rows, caption=self.name)


def _short_image(image: str) -> str:
    """``repo@sha256:abcdef123456`` (or ``repo:tag``): the last part of the repository,
    a digest cut to 12 hex digits."""
    name = image.rsplit("/", 1)[-1]
    repo, at, digest = name.partition("@")
    return f"{repo}@{digest[:19]}" if at else name


def _where(aws: Aws) -> str:
    """Where a handle's calls go, in words, with no AWS call."""
    region = aws.session.region_name or "no region set"
    if aws.endpoint_url is None:
        return f"AWS {region}"
    return f"endpoint {aws.endpoint_url}, {region}"


def _notifies(service: str, parameters: Mapping[str, str]) -> tuple[str, ...]:
    """The spec's ``notify``, read back from the stack: the subscribed addresses and the
    topics the alarms notify other than the stack's own."""
    count = int(parameters.get("NotifyEmailCount") or 0)
    emails = [e for e in (parameters.get("NotifyEmails") or "").split(",") if e][:count]
    own = ":" + alarm_topic_name(service)
    topics = [t for t in (parameters.get("AlarmActionArns") or "").split(",")
              if t and not t.endswith(own)]
    return (*emails, *topics)


@attrs.frozen
class DeleteResult:
    """What :meth:`Service.delete` removed and what it kept (name -> physical name)."""

    kept: Mapping[str, str]
    removed: Mapping[str, str]

    def __repr__(self) -> str:
        def said(verb: str, stores: Mapping[str, str]) -> str:
            return f"{verb} {', '.join(stores) if stores else 'nothing'}"

        return compact("DeleteResult", fit((said("removed", self.removed),
                                            said("kept", self.kept)), sep="; "))

    def _repr_html_(self) -> str:
        """A table for notebooks: each store, its name, and whether it was kept."""
        rows = [(store, name, "removed") for store, name in self.removed.items()]
        rows += [(store, name, "kept (delete(purge_data=True) removes it)")
                 for store, name in self.kept.items()]
        return html_table(("store", "name", ""), rows,
                          caption="Deleted" + ("" if rows else ": no stores kept or removed"))


_T = TypeVar("_T")


def failure_summary(exc: BaseException) -> str:
    """The summary line of an operation that raised ``exc``: its first line. Pure."""
    if isinstance(exc, FluorideError):
        text = exc.message.splitlines()[0] if exc.message else type(exc).__name__
        return f"{type(exc).__name__}: {text}"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _status_summary(status: ServiceStatus) -> str:
    text = f"{status.name} is {status.state.value}"
    if status.release is not None:
        text += f", serving {status.release.short}"
    return text + (f" at {status.url}" if status.url else "")


def _release_summary(release: Release) -> str:
    return f"{release.outcome.value}: {release.short}"


def _delete_summary(result: DeleteResult) -> str:
    if result.removed:
        return "deleted with its data: " + ", ".join(result.removed)
    if result.kept:
        return "deleted; kept its data: " + ", ".join(result.kept)
    return "deleted"


@attrs.define
class Service:
    """One microservice: a handle made by :meth:`Fluoride.service`; no AWS call until used.

    Example::

        svc = fl.service("hello")
        svc.create(ServiceSpec(port=8080, health_path="/health"))
        print(svc.url)
    """

    name: str
    aws: Aws = attrs.field(repr=False)
    reporter: Reporter = attrs.field(repr=False)
    clock: Clock = attrs.field(repr=False)
    #: seconds between looks while waiting for a deployment; ``None``: 3 s on AWS, 0.1 s on
    #: a loopback endpoint (the emulator)
    poll_interval: float | None = attrs.field(default=None, repr=False)

    _stack: Stack | None = attrs.field(default=None, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        validate_service_name(self.name)

    # A handle shows what it names without an AWS call; svc.status() reads the service.

    def __repr__(self) -> str:
        return compact("Service", f"{self.name} ({_where(self.aws)})")

    def _repr_html_(self) -> str:
        """The handle for notebooks: name, stack, where; ``svc.status()`` reads the rest."""
        region = self.aws.session.region_name or ""
        link = console_url("stack", region=region, name=stack_name(self.name),
                           on_aws=self.aws.endpoint_url is None)
        return html_fields((
            ("stack", stack_name(self.name)),
            ("where", _where(self.aws)),
            ("console", Html(html_link(link, "CloudFormation stack")) if link else None),
            ("state", "not read: svc.status() reads it"),
        ), caption=f"Service {self.name}")

    @property
    def stack(self) -> Stack:
        """The service's stack (one object per handle; it keeps no state between calls)."""
        if self._stack is None:
            self._stack = Stack(self.aws, stack_name(self.name), clock=self.clock)
        return self._stack

    def _operation(self, operation: str, work: Callable[[], _T], summary: Callable[[_T], str],
                   *, detail: str = "") -> _T:
        """Run ``work`` between :class:`OperationStarted` and :class:`OperationFinished`
        (sent whether it succeeds or raises), so a reporter can give each operation a
        block of its own and leave its summary line when it ends."""
        started = self.clock.monotonic()
        self.reporter(OperationStarted(self.name, operation, detail))
        try:
            value = work()
        except BaseException as exc:
            self.reporter(OperationFinished(self.name, operation, ok=False,
                                            summary=failure_summary(exc),
                                            seconds=self.clock.monotonic() - started))
            raise
        self.reporter(OperationFinished(self.name, operation, ok=True, summary=summary(value),
                                        seconds=self.clock.monotonic() - started))
        return value

    # -- create --------------------------------------------------------------------------

    def parameters(
        self, spec: ServiceSpec, *, image: str | None = None, kept: RetainedStores | None = None
    ) -> dict[str, str]:
        """The template parameters ``spec`` maps to; no change is made.

        Resolves the network, gives the stores their default names where the spec has
        none, and adopts what an earlier ``delete()`` kept: the image repository, and the
        stores in ``kept`` (looked up with :meth:`kept_stores` when not given) that no live
        stack uses.
        """
        spec = self._with_store_names(spec)
        spec.validate()
        if kept is None:
            kept = self.kept_stores(spec)
        adopt = kept.adoptable
        secret = adopt.get("secret")
        network = resolve_network(self.aws, spec.network.vpc_id, spec.network.subnet_ids)
        assign_public_ip = spec.network.assign_public_ip
        if spec.compliance == "strict":
            if network.is_default:
                raise ConfigError("compliance='strict' runs tasks in private subnets.", errors=[
                    FieldError("network.vpc_id", f"is unset: the default VPC {network.vpc_id} "
                               "has only public subnets, where tasks without public IPs cannot "
                               "reach ECR or CloudWatch Logs",
                               allowed="a VPC with private subnets (network.vpc_id and "
                               "network.subnet_ids) that reach ECR, CloudWatch Logs and "
                               "Secrets Manager through a NAT gateway or VPC endpoints")])
            assign_public_ip = False  # strict: no public IPs
        elif assign_public_ip is None:
            # A default VPC has no NAT: tasks need a public address to pull their image.
            assign_public_ip = network.is_default
        route_tables: tuple[str, ...] = ()
        if spec.network.endpoints:
            # Before any change set: DNS on in the VPC, and the subnets' route tables.
            info = retry_call(self.stack.describe, clock=self.clock, seconds=CALL_PATIENCE)
            has_endpoints = info is not None and info.parameters.get("VpcEndpoints") == "true"
            route_tables = endpoint_preflight(self.aws, network.vpc_id, network.subnet_ids,
                                              new=not has_endpoints,
                                              strict=spec.compliance == "strict")
            assign_public_ip = False
        # Before the callers: behind an internet-facing gateway they are refused outright.
        gateway_group = (self._gateway_security_group(
            spec.gateway, network.vpc_id, callers=spec.network.allowed_callers)
            if spec.gateway else None)
        return to_parameters(
            spec,
            service_name=self.name,
            vpc_id=network.vpc_id,
            subnet_ids=network.subnet_ids,
            image=image or "",
            assign_public_ip=assign_public_ip,
            caller_security_groups=caller_security_groups(
                self.aws, spec.network.allowed_callers, vpc_id=network.vpc_id
            ),
            # An earlier delete keeps the image repository (releases are worth keeping) and
            # the stores; a new stack of the same name takes them over instead of failing
            # on their names.
            adopt_repository=self._repository_exists(),
            adopt_table=adopt.get("table") is not None,
            adopt_bucket=adopt.get("bucket") is not None,
            adopt_secret=secret is not None,
            adopted_secret_arn=secret.arn if secret is not None else None,
            alarm_topic_arn=self._alarm_topic_arn() if spec.notify else None,
            gateway_security_group=gateway_group,
            gateway_metrics=self._gateway_metrics(
                spec.gateway if spec.alarm_rollback else None),
            endpoint_route_tables=route_tables,
        )

    def _gateway_metrics(self, gateway: str | None, info: StackInfo | None = None
                         ) -> tuple[str, str] | None:
        """The 5xx alarm's dimensions behind ``gateway``: the service's route's load
        balancer and target group, once the stack is behind that gateway and ECS has made
        the route; ``None`` before (or with no gateway)."""
        if not gateway:
            return None
        if info is None:
            info = retry_call(self.stack.describe, clock=self.clock, seconds=CALL_PATIENCE)
        if info is None or info.parameters.get("Gateway") != gateway:
            return None
        from fluoride.infra.gateway import metric_names, rule_target_group, service_route

        cluster, ecs_name = info.outputs.get("ClusterName"), info.outputs.get("EcsServiceName")
        if not (cluster and ecs_name):
            return None
        route = retry_call(lambda: service_route(self.aws, cluster, ecs_name),
                           clock=self.clock, seconds=CALL_PATIENCE)
        if route is None or not (route.listener_rule and route.load_balancer):
            return None
        rule = route.listener_rule
        group = retry_call(lambda: rule_target_group(self.aws, rule), clock=self.clock,
                           seconds=CALL_PATIENCE)
        return None if group is None else metric_names(route.load_balancer, group)

    def _arm_gateway_alarm(self, gateway: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Behind a gateway, point the 5xx alarm at the route's target group once ECS has
        made the route (a second, small stack update: the alarm and the service's alarm
        list; no task restarts). Not armed is said, not raised: the circuit breaker and the
        health-check verdict still guard deployments."""
        info = retry_call(self.stack.describe, clock=self.clock, seconds=CALL_PATIENCE)
        metrics = self._gateway_metrics(gateway, info)
        if info is None or metrics is None:
            return
        if (info.parameters.get("GatewayAlb"), info.parameters.get("GatewayTargetGroup")) \
                == metrics:
            return
        from fluoride.waiting import Deadline, poll

        params = {**info.parameters, "GatewayAlb": metrics[0], "GatewayTargetGroup": metrics[1]}
        self.reporter(Note(self.name, f"arming the 5xx alarm on the gateway route's target "
                           f"group {metrics[1]}."))
        if not self.stack.update(parameters=params, template_body=None,
                                 reporter=self.reporter):
            return

        def settled() -> StackInfo | None:
            now = self.stack.describe()
            return None if now is None or now.status.endswith("_IN_PROGRESS") else now

        done = poll(settled, deadline=Deadline.after(self.clock, timeout), interval=0.5,
                    max_interval=self.stack.max_poll_interval)
        if done is None or done.status != "UPDATE_COMPLETE":
            self.reporter(Note(self.name, f"the 5xx alarm could not be armed "
                               f"({done.status if done else 'timed out'}); deployments are "
                               "still guarded by the circuit breaker and health checks."))

    def _gateway_security_group(self, environment: str, vpc_id: str, *,
                                callers: Sequence[str] = ()) -> str:
        """The security group of environment ``environment``'s gateway load balancers, which
        the tasks will admit; the environment must exist, complete, in the service's VPC,
        and be internal when the service names ``callers`` (their rules go on that group:
        an internet-facing gateway is reached from its ``ingress_cidrs``)."""
        from fluoride.errors import EnvironmentNotFound
        from fluoride.names import ENVIRONMENT_TAG, environment_stack_name

        env_stack = Stack(self.aws, environment_stack_name(environment), clock=self.clock)
        info = retry_call(env_stack.describe, clock=self.clock, seconds=CALL_PATIENCE)
        group = info.outputs.get("GatewaySecurityGroupId") if info is not None else None
        if info is None or info.tags.get(ENVIRONMENT_TAG) != environment or not group:
            state = "does not exist" if info is None else f"is {info.status}"
            raise EnvironmentNotFound(
                f"The environment {environment!r} named by gateway {state}, so {self.name} "
                "cannot be put behind its gateway. Nothing was changed.",
                resource=environment_stack_name(environment),
                hint=f"Create it first: fl.environment({environment!r}).create(), or "
                f"`fluoride env create {environment}`; or leave gateway unset for a load "
                "balancer of the service's own.",
            )
        env_vpc = info.outputs.get("VpcId") or info.parameters.get("VpcId")
        if env_vpc and env_vpc != vpc_id:
            raise ConfigError(
                f"{self.name} would run in {vpc_id}, but environment {environment!r}'s gateway "
                f"is in {env_vpc}; a gateway reaches only tasks in its own VPC.",
                hint="Give the service that VPC (network.vpc_id and subnet_ids), or use an "
                "environment in the service's VPC.",
            )
        scheme = info.outputs.get("Scheme") or info.parameters.get("Scheme") or "unknown"
        if callers and scheme != "internal":
            raise ConfigError(
                f"{self.name} names allowed_callers, but environment {environment!r}'s gateway "
                f"is {scheme}. Nothing was changed.",
                errors=[FieldError(
                    "network.allowed_callers", f"{list(callers)!r} cannot apply behind the "
                    f"{scheme} gateway of environment {environment!r}",
                    allowed="none behind an internet-facing gateway (the environment's "
                    "ingress_cidrs say who reaches it); callers only behind an environment "
                    "with scheme='internal'")],
            )
        networks = [info.parameters.get(f"IngressCidr{i}") for i in range(1, 5)]
        if callers and any(networks):
            # Said, not refused: the callers are admitted, but so is everyone else there.
            self.reporter(Note(self.name, f"environment {environment!r} also admits "
                               f"{', '.join(n for n in networks if n)} (its ingress_cidrs), "
                               "so allowed_callers restricts nothing; create it with "
                               "ingress_cidrs=[] to admit only named callers."))
        return group

    def _alarm_topic_arn(self) -> str:
        """The ARN the stack's alarm topic gets (named, so the alarms can name it)."""
        caller = self.aws.caller_arn().split(":")
        return (f"arn:{caller[1]}:sns:{self.aws.region}:{caller[4]}:"
                f"{alarm_topic_name(self.name)}")

    def _with_store_names(self, spec: ServiceSpec) -> ServiceSpec:
        """``spec`` with the deterministic default names for stores it leaves unnamed."""
        st = spec.stores
        if st.table_name and st.bucket_name and st.secret_name:
            return spec
        table, bucket, secret = default_store_names(self.name, self._account(), self.aws.region)
        return attrs.evolve(spec, stores=attrs.evolve(
            st,
            table_name=st.table_name or table,
            bucket_name=st.bucket_name or bucket,
            secret_name=st.secret_name or secret,
        ))

    def kept_stores(self, spec: ServiceSpec) -> RetainedStores:
        """The stores of ``spec`` (by their names, default ones included) that already
        exist, and whether each was kept by an earlier delete (``create()`` adopts it) or
        is in the way (``create()`` refuses)."""
        st = self._with_store_names(spec).stores
        return find_retained(
            self.aws,
            table_name=st.table_name if st.table else None,
            bucket_name=st.bucket_name if st.bucket else None,
            secret_name=st.secret_name if st.secret else None,
        )

    def template_body(self, spec: ServiceSpec) -> str:
        """The template body sent for ``spec`` (the one template, its environment rendered,
        without comments)."""
        return render_environment(load_template(), spec.environment, secret_env=spec.secret_env,
                                  sidecars=spec.sidecars,
                                  endpoints=spec.network.endpoints,
                                  grace_period=spec.health.grace_period)

    def template(
        self,
        spec: ServiceSpec | None = None,
        *,
        resolved: bool = False,
        region: str | None = None,
        account: str | None = None,
    ) -> str:
        """The template for ``spec`` (default: a spec with nothing changed), for review and
        policy-as-code tools.

        With ``resolved=False`` it is the template with its comments and ``spec``'s
        environment rendered; no AWS call. With ``resolved=True`` it is what CloudFormation
        would evaluate for this service and ``spec``, as JSON: parameters substituted (the
        network resolved as :meth:`create` resolves it, which reads the account's VPCs),
        conditions evaluated and what they turn off removed, ``Fn::If``, ``Fn::Sub``,
        ``Fn::Join``, ``Fn::Select``, ``Fn::Split`` and ``AWS::NoValue`` reduced; ``Ref``
        and ``Fn::GetAtt`` of resources kept. ``region`` and ``account`` fill in
        ``AWS::Region`` and ``AWS::AccountId`` (left as references when not given). Feed it
        to cfn-guard, checkov or cfn-nag. Reading the template needs cfn-lint's YAML
        decoder (the ``policy`` extra, also part of ``local``).

        Example::

            text = svc.template(ServiceSpec(cpu=512), resolved=True, region="eu-west-1")
        """
        import json

        spec = self._spec_argument(spec)
        if not resolved:
            return render_environment(load_template(), spec.environment,
                                      secret_env=spec.secret_env, sidecars=spec.sidecars,
                                      endpoints=spec.network.endpoints,
                                      grace_period=spec.health.grace_period, keep_comments=True)
        from fluoride.infra.policy_report import parse_template
        from fluoride.infra.resolve import drop_other_profiles_skips, resolve_template

        parameters = self.parameters(spec, image=None, kept=RetainedStores())
        body = parse_template(self.template_body(spec))
        out = drop_other_profiles_skips(
            resolve_template(body, parameters, region=region, account=account),
            spec.compliance)
        return json.dumps(out, indent=2, sort_keys=False) + "\n"

    def _spec_argument(self, spec: ServiceSpec | None) -> ServiceSpec:
        refuse("template()", spec_argument_problems(spec, "spec"))
        return ServiceSpec() if spec is None else spec

    def _account(self) -> str:
        return self.aws.caller_arn().split(":")[4]

    @staticmethod
    def spec_fingerprint(spec: ServiceSpec) -> str:
        """A short digest of ``spec`` (with its store names filled in): equal specs, equal
        fingerprints."""
        doc = json.dumps(attrs.asdict(spec), sort_keys=True, default=str)
        return hashlib.sha256(doc.encode()).hexdigest()[:16]

    def tags(self, spec: ServiceSpec) -> dict[str, str]:
        return {SERVICE_TAG: self.name, VERSION_TAG: version(),
                SPEC_TAG: self.spec_fingerprint(spec),
                **template_tags(load_template(), version()), **spec_tags(spec),
                **user_tags(spec)}

    def create(
        self, spec: ServiceSpec | None = None, *, image: str | None = None, wait: bool = True
    ) -> ServiceStatus:
        """Create the service's stack, showing the plan and streaming progress.

        ``spec`` defaults to ``ServiceSpec()``. ``image`` (a full image reference) is
        optional: without it the service starts with no tasks, and the load balancer
        answers 503 until the first :meth:`deploy`.

        The table, bucket and secret that an earlier :meth:`delete` kept are adopted: the
        new stack uses them, with their data, instead of creating new ones (a
        :class:`~fluoride.events.Note` says which).

        Raises :class:`ConfigError` for a bad spec (before any AWS call),
        :class:`ServiceExists`, :class:`StoresRetained` when a store's name is taken by
        something that cannot be adopted (another live stack's store, a secret scheduled
        for deletion, another account's bucket, a kept table with another partition key,
        a kept bucket given a policy of its own),
        :class:`NoDefaultVpc`, or :class:`StackFailed` with the first failing resource
        (the failed stack is deleted, so nothing is left behind).
        """
        refuse("create()", spec_argument_problems(spec)
               + create_image_problems(image, region=self.aws.session.region_name))
        spec = spec or ServiceSpec()
        spec.validate()
        return self._operation("create", lambda: self._create(spec, image=image, wait=wait),
                               _status_summary, detail=image or "")

    def _create(self, spec: ServiceSpec, *, image: str | None, wait: bool) -> ServiceStatus:
        existing = retry_call(self.stack.describe, clock=self.clock, seconds=CALL_PATIENCE)
        spec = self._with_store_names(spec)  # once: it asks STS for the account
        if existing is not None:
            return self._create_again(existing, spec, wait=wait)
        kept = self.kept_stores(spec)
        if kept.blocking:
            raise kept.blocking.error(self.name)
        self._check_kept_table(spec, kept)
        self._check_kept_bucket(kept)
        params = self.parameters(spec, image=image, kept=kept)
        if kept.adoptable:
            self.reporter(Note(self.name,
                f"Adopting the data an earlier delete of {self.name} kept: "
                + ", ".join(f"{s.kind} {s.name}" for s in kept.adoptable.found)
                + " (used as they are, not created)."
            ))
        self.stack.create(
            template_body=self.template_body(spec),
            parameters=params,
            tags=self.tags(spec),
            reporter=self.reporter,
            wait=wait,
            on_failure=self._remove_retained_by_failure,
        )
        if wait and spec.gateway and spec.alarm_rollback:
            self._arm_gateway_alarm(spec.gateway)
        # The stack is made: a fault while reading its status must not say otherwise.
        return retry_call(self.status, clock=self.clock, seconds=CALL_PATIENCE)

    def _create_again(self, existing: StackInfo, spec: ServiceSpec, *, wait: bool) -> ServiceStatus:
        """``create()`` of a service whose stack exists: a re-run with the same spec returns
        its status (waiting for a creation still running); anything else is refused."""
        same = existing.tags.get(SPEC_TAG) == self.spec_fingerprint(spec)
        creating = existing.status == "CREATE_IN_PROGRESS"
        if same and (existing.state is StackState.COMPLETE or creating):
            if creating and wait:
                self.stack.wait(reporter=self.reporter, seen=self.stack.seen_events(),
                                timeout=DEFAULT_TIMEOUT)
            return retry_call(self.status, clock=self.clock, seconds=CALL_PATIENCE)
        why = ("with another spec" if existing.state is StackState.COMPLETE
               else f"and is {existing.status}")
        raise ServiceExists(
            f"The service {self.name!r} already exists ({existing.status}) {why}.",
            resource=existing.name,
            hint=f"Pick another name. To change {self.name}: deploy another image with "
            f"{how('deploy', self.name)}; for another spec, {how('update', self.name)}, or "
            f"{how('delete', self.name)} (its data is kept and taken over) and create it "
            "again.",
        )

    def _remove_retained_by_failure(self, made: Sequence[Mapping[str, str]]) -> None:
        """Remove the stores a failed create made: their Retain policy kept them, but they
        hold nothing yet, and left behind they would block the next create."""
        purges: dict[str, Callable[[str], object]] = {
            "AWS::DynamoDB::Table": lambda name: purge_table(self.aws, name),
            "AWS::S3::Bucket": lambda name: purge_bucket(self.aws, name),
            # Never used, so no recovery window: it would hold the name for weeks.
            "AWS::SecretsManager::Secret": lambda arn: purge_secret(self.aws, arn,
                                                                    recovery_days=None),
            "AWS::ECR::Repository": lambda name: purge_repository(self.aws, name),
        }
        removed = [
            f"{r['logical_id']} {r['physical_id']}"
            for r in made
            if r["type"] in purges and purges[r["type"]](r["physical_id"]) is not None
        ]
        if removed:
            self.reporter(Note(self.name, "Removed what the failed create kept: "
                               + ", ".join(removed)))

    def _check_kept_table(self, spec: ServiceSpec, kept: RetainedStores) -> None:
        table = kept.adoptable.get("table")
        wanted = spec.stores.partition_key
        if table is None or table.partition_key in (None, wanted):
            return
        raise StoresRetained(
            f"Cannot create {self.name!r}: the kept table {table.name!r} has the partition key "
            f"{table.partition_key!r}, the spec asks for {wanted!r}.",
            stores=[table.name],
            hint=f"Set stores.partition_key = {table.partition_key!r} to adopt the table, or "
            f"remove the kept data ({how('purge', self.name)}), or give the "
            "table another name (stores.table_name).",
        )

    def _check_kept_bucket(self, kept: RetainedStores) -> None:
        bucket = kept.adoptable.get("bucket")
        if bucket is None or bucket_policy(self.aws, bucket.name) is None:
            return
        raise StoresRetained(
            f"Cannot create {self.name!r}: the kept bucket {bucket.name!r} has a bucket "
            "policy, and CloudFormation cannot put the stack's TLS-only policy beside it.",
            stores=[bucket.name],
            hint="Its policy was added after the service was deleted (deleting the stack "
            f"removes its own): remove it (`aws s3api delete-bucket-policy --bucket "
            f"{bucket.name}`), or give the bucket another name (stores.bucket_name).",
        )

    # -- inspect -------------------------------------------------------------------------

    def exists(self) -> bool:
        """Whether the service's stack exists (in any state but deleted)."""
        return self.stack.describe() is not None

    def status(self) -> ServiceStatus:
        """The stack state, task counts, URL and outputs. Raises :class:`ServiceNotFound`."""
        info = self.stack.require()
        ecs = self._ecs(info)
        return self._with_release(info, self._status_from(info, ecs), ecs)

    def status_of(self, info: StackInfo) -> ServiceStatus:
        """The status from a stack description already read (by a listing), without the
        serving release: one ECS call. :meth:`Fluoride.status` shows these."""
        return self._status_from(info, self._ecs(info))

    def _ecs(self, info: StackInfo) -> EcsService | None:
        cluster, ecs_name = info.outputs.get("ClusterName"), info.outputs.get("EcsServiceName")
        if not (cluster and ecs_name):
            return None
        return describe_service(self.aws, cluster, ecs_name)

    def _status_from(self, info: StackInfo, ecs: EcsService | None) -> ServiceStatus:
        desired = running = pending = 0
        if ecs is not None:
            desired, running, pending = ecs.desired, ecs.running, ecs.pending
        return ServiceStatus(
            name=self.name,
            state=info.state,
            stack_status=info.status,
            desired=desired,
            running=running,
            pending=pending,
            url=self._url(info),
            outputs=dict(info.outputs),
            image=info.parameters.get("Image") or None,
            reason=info.reason,
            template=template_note(info.tags, template=load_template(), version=version()),
            notifies=_notifies(self.name, info.parameters),
            environment=info.parameters.get("Gateway") or None,
        )

    @property
    def url(self) -> str | None:
        """Where the service answers (``https://`` with a domain or behind a gateway, where
        it is the route's generated hostname), or ``None``."""
        return self._url(self.stack.require())

    def _url(self, info: StackInfo) -> str | None:
        if not info.parameters.get("Gateway"):
            return info.outputs.get("Url") or None
        from fluoride.infra.gateway import service_route

        cluster, ecs_name = info.outputs.get("ClusterName"), info.outputs.get("EcsServiceName")
        if not (cluster and ecs_name):
            return None
        route = retry_call(lambda: service_route(self.aws, cluster, ecs_name), clock=self.clock,
                           seconds=CALL_PATIENCE)
        return route.url if route is not None else None

    @property
    def environment(self) -> str | None:
        """The environment whose gateway serves the service, or ``None`` (its own load
        balancer). One DescribeStacks.

        .. versionadded:: 0.3.0
        """
        return self.stack.require().parameters.get("Gateway") or None

    # -- owned data ----------------------------------------------------------------------

    @property
    def table(self) -> Table:
        """The service's DynamoDB table. Raises :class:`StoreNotProvisioned` when it is off."""
        return table_from_outputs(self.aws, self.name, self.outputs())

    @property
    def bucket(self) -> Bucket:
        """The service's S3 bucket. Raises :class:`StoreNotProvisioned` when it is off."""
        return bucket_from_outputs(self.aws, self.name, self.outputs())

    @property
    def secret(self) -> Secret:
        """The service's secret. Raises :class:`StoreNotProvisioned` when it is off."""
        return secret_from_outputs(self.aws, self.name, self.outputs())

    def outputs(self) -> Mapping[str, str]:
        """Every output of the service's stack."""
        return self.stack.require().outputs

    # -- delete --------------------------------------------------------------------------

    def delete(self, *, purge_data: bool = False, wait: bool = True) -> DeleteResult:
        """Delete the service. Its table, bucket, secret and image repository are kept.

        The access-log bucket is emptied first, so deletion never sticks on it. With
        ``purge_data=True`` the kept stores are removed as well: every object version, the
        images, and the secret (restorable for the spec's recovery window). When the stack
        is already gone, ``purge_data=True`` removes the stores an earlier ``delete()`` kept
        under their default names. Returns what was kept and removed.

        Raises :class:`ServiceNotFound` when there is neither a stack nor kept data.
        """
        if purge_data and not wait:
            raise ConfigError(
                "purge_data=True needs wait=True: the stores can only go once the stack has.",
                hint="Call delete(purge_data=True) and let it wait.",
            )
        return self._operation("delete", lambda: self._delete(purge_data=purge_data, wait=wait),
                               _delete_summary, detail="purge data" if purge_data else "")

    def _delete(self, *, purge_data: bool, wait: bool) -> DeleteResult:
        info = retry_call(self.stack.describe, clock=self.clock, seconds=CALL_PATIENCE)
        if info is None:
            if purge_data:
                return self._purge_retained()
            self.stack.require()  # raises ServiceNotFound
        assert info is not None  # for type checkers: require() raised otherwise
        self._refuse_delete_while_deploying(info)
        out = info.outputs
        log_bucket = out.get("AccessLogBucketName")

        def empty_logs() -> None:
            # Only once CloudFormation accepted the delete: until then a deployment may
            # start, and the release history (in this bucket) must live as long as the stack.
            if log_bucket:
                with contextlib.suppress(StoreNotFound):  # CloudFormation removed it already
                    retry_call(lambda: empty_bucket(self.aws, log_bucket), clock=self.clock,
                               seconds=CALL_PATIENCE)

        self._lift_load_balancer_protection(info)
        try:
            self.stack.delete(reporter=self.reporter, wait=wait, on_accepted=empty_logs)
        except StackFailed as exc:
            if not (log_bucket and exc.logical_id == "AccessLogBucket"):
                raise
            # Access logs written after it was emptied: empty it again and delete again.
            self.stack.delete(reporter=self.reporter, wait=wait, on_accepted=empty_logs)
        if log_bucket and wait:
            self._remove_log_bucket(log_bucket)
        stores = {
            "table": out.get("TableName", ""),
            "bucket": out.get("BucketName", ""),
            "secret": out.get("SecretArn", ""),
            "repository": out.get("RepositoryName", ""),
        }
        stores = {k: v for k, v in stores.items() if v}
        if purge_data:
            recovery = int(info.parameters.get("SecretRecoveryDays") or 30)
            return self._purge(stores, recovery_days=recovery)
        if stores:
            self.reporter(Note(self.name,
                f"Deleted {self.name}. Kept its data: "
                + ", ".join(f"{k} {v}" for k, v in stores.items())
                + ". Reach them with boto3 by these names; creating "
                f"{self.name} again takes them over; {how('purge', self.name)} removes them."
            ))
        return DeleteResult(kept=stores, removed={})

    def _lift_load_balancer_protection(self, info: StackInfo) -> None:
        """Turn the load balancer's deletion protection (``compliance="strict"``) off, so
        that the stack's delete can remove it. The table's is turned off by its purge."""
        arn = info.outputs.get("LoadBalancerArn")
        if info.parameters.get("Compliance") != "strict" or not arn:
            return
        from fluoride.aws import translate

        elbv2 = self.aws.client("elbv2")

        def lift() -> None:
            with translate("ModifyLoadBalancerAttributes", arn):
                elbv2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
                    {"Key": "deletion_protection.enabled", "Value": "false"}])

        retry_call(lift, clock=self.clock, seconds=CALL_PATIENCE)
        self.reporter(Note(self.name, "Turned the load balancer's deletion protection off to "
                           "delete it."))

    def _remove_log_bucket(self, name: str) -> None:
        """Remove the access-log bucket if CloudFormation could not (it was not empty).

        On AWS it is gone already and this finds nothing. A deploy refused by the delete
        may write its last history entry there a moment later, so a bucket that is not
        empty again is emptied again, a few times.
        """
        for attempt in range(_LOG_BUCKET_ATTEMPTS):
            try:
                retry_call(lambda: purge_bucket(self.aws, name), clock=self.clock,
                           seconds=CALL_PATIENCE)
                return
            except AwsError as exc:
                if exc.code != "BucketNotEmpty" or attempt == _LOG_BUCKET_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))  # real time: the other writer is real

    def _refuse_delete_while_deploying(self, info: StackInfo) -> None:
        """Refuse a delete while any client's deployment runs, before anything is touched.

        The stack's own status covers Fluoride's deployments (and CloudFormation refuses
        the delete anyway); a rollout ECS runs on a settled stack was started by another
        tool. Either way :class:`DeploymentInProgress` names who and when, when known.
        """
        updating = info.status.startswith("UPDATE") and info.state is StackState.IN_PROGRESS
        ecs = None
        if not updating and info.state is not StackState.IN_PROGRESS:
            ecs = retry_call(lambda: self._ecs(info), clock=self.clock, seconds=CALL_PATIENCE)
        rolling = ecs is not None and ecs.primary is not None and (
            ecs.primary.rollout_state == "IN_PROGRESS")
        if not (updating or rolling):
            return
        releases: list[Release] = []
        if info.outputs.get("AccessLogBucketName"):
            from fluoride.releases.deployment import ServiceOutputs

            try:
                releases = self.deployments.store(ServiceOutputs.from_info(info)).load()
            except FluorideError:  # the refusal is what matters; the names are a courtesy
                releases = []
        running = next((r for r in releases if r.outcome is Outcome.IN_PROGRESS), None)
        by: str | None
        at: dt.datetime | None
        if running is not None:
            what = (f"{running.short}, started by {running.deployed_by} at "
                    f"{running.deployed_at:%Y-%m-%d %H:%M:%S} UTC")
            by, at = running.deployed_by, running.deployed_at
        else:
            by, at = None, info.updated or info.created
            what = (info.status if updating else "an ECS rollout") + " started outside Fluoride"
        raise DeploymentInProgress(
            f"Cannot delete {self.name} while a deployment runs ({what}); nothing was touched.",
            started_by=by,
            started_at=at,
            hint=f"Wait for it ({how('wait', self.name)}), or cancel it "
            f"({how('rollback', self.name)}), then delete.",
        )

    def _purge(
        self, stores: Mapping[str, str], *, recovery_days: int | Literal["tagged"]
    ) -> DeleteResult:
        removed: dict[str, str] = {}
        restorable: int | None = None
        purges: dict[str, Callable[[str], Purged | None]] = {
            "table": lambda n: purge_table(self.aws, n),
            "bucket": lambda n: purge_bucket(self.aws, n),
            "secret": lambda n: purge_secret(self.aws, n, recovery_days=recovery_days),
            "repository": lambda n: purge_repository(self.aws, n),
        }
        for kind, name in stores.items():
            # Each purge is safe to repeat (what is gone is skipped): ride out faults.
            purged = retry_call(functools.partial(purges[kind], name),
                                clock=self.clock, seconds=CALL_PATIENCE)
            if purged is not None:
                removed[kind] = name
                if kind == "secret":
                    restorable = purged.recovery_days
        self.reporter(Note(self.name,
            f"Deleted {self.name} and its data: "
            + (", ".join(f"{k} {v}" for k, v in removed.items()) or "nothing was left")
            + (f" (the secret stays restorable for {restorable} days)" if restorable else "")
        ))
        return DeleteResult(kept={}, removed=removed)

    def _purge_retained(self) -> DeleteResult:
        table, bucket, secret = default_store_names(self.name, self._account(), self.aws.region)
        retained = find_retained(self.aws, table_name=table, bucket_name=bucket,
                                 secret_name=secret)
        stores: dict[str, str] = {s.kind: s.name for s in retained.found
                                  if s.state == "retained"}
        if self._repository_exists():
            stores["repository"] = repository_name(self.name)
        if not stores:
            self.stack.require()  # neither a stack nor kept data: ServiceNotFound
        # No stack is left to read the window from: the secret's own tag carries it.
        return self._purge(stores, recovery_days="tagged")

    def _repository_exists(self) -> bool:
        from fluoride.aws import client_error_code, translate

        # translate(): an AccessDenied or a dropped connection is an AwsError, not botocore's.
        with translate("DescribeRepositories", repository_name(self.name)):
            try:
                self.aws.client("ecr").describe_repositories(
                    repositoryNames=[repository_name(self.name)])
            except botocore.exceptions.ClientError as exc:
                if client_error_code(exc) == "RepositoryNotFoundException":
                    return False
                raise
        return True

    # -- logs ----------------------------------------------------------------------------
    # Thin: the work is in logs.py.

    def logs(
        self, since: TimeSpec = "10m", *, follow: bool = False, pattern: str | None = None,
        container: str | None = None,
    ) -> LogStream:
        """What the service's app container wrote (or, with ``container``, one of its
        sidecars), every task's lines interleaved, oldest first, as
        :class:`~fluoride.logs.LogLine` values (``timestamp``, ``task_id``, ``message``).

        ``since`` is ``"30s"``, ``"10m"``, ``"2h"``, ``"1d"``, a ``timedelta`` (that long
        ago) or a ``datetime``. With ``follow=True`` the iterator keeps looking for new
        lines (every 2 s) until you stop iterating; ``pattern`` is a CloudWatch Logs filter
        pattern such as ``"ERROR"``. ``container`` is ``"app"`` (the default) or the name
        of one of the spec's ``sidecars``: each container logs to the service's log group
        under its own stream prefix (``app/app/<task>``, ``proxy/proxy/<task>``), and only
        that container's streams are read.

        Raises :class:`ConfigError` for a bad ``since`` and :class:`InvalidInput` for a
        ``container`` that is not a container name (both before any AWS call), a
        :class:`ConfigError` naming the service's containers for a name it does not have
        (read from the stack's template, one call, made only when ``container`` names a
        sidecar), and :class:`ServiceNotFound` at once; while iterating, :class:`AwsError`.

        It returns a :class:`~fluoride.logs.LogStream`: an iterator that fetches as you
        iterate; a notebook shows its first 10 lines (fetching only those), and
        ``.head(50)`` peeks at 50 as a table.

        Example::

            for line in svc.logs(since="1h", pattern="ERROR"):
                print(line.timestamp, line.task_id, line.message)

        .. versionadded:: 0.1
        .. versionchanged:: 0.3 returns a :class:`~fluoride.logs.LogStream` (still an
           iterator) that a notebook shows as a table of its first lines.
        .. versionchanged:: 0.3 ``container``: a sidecar's lines; by default only the app's.
        """
        from fluoride._check import container_problems
        from fluoride.logs import follow_logs, parse_time, read_logs

        refuse("logs()", container_problems(container))
        parse_time(since)  # a bad value fails before the stack is looked up
        name = container or APP_CONTAINER
        log_group = self.outputs().get("LogGroupName") or log_group_name(self.name)
        if name != APP_CONTAINER:
            self._require_container(name)
        # The template's awslogs-stream-prefix of every container is its own name.
        prefix = f"{name}/{name}/"
        if follow:
            return follow_logs(self.aws, log_group, since=since, clock=self.clock,
                               pattern=pattern, stream_prefix=prefix)
        return read_logs(self.aws, log_group, since=since, pattern=pattern,
                         stream_prefix=prefix)

    def _require_container(self, name: str) -> None:
        """Refuse a container the service does not have, naming those it has (read back
        from the stack's template: one GetTemplate call)."""
        from fluoride.infra.stack import stack_template
        from fluoride.spec._readback import read_sidecars

        names = [APP_CONTAINER, *(car.name for car in read_sidecars(stack_template(self.stack)))]
        if name not in names:
            raise ConfigError(
                f"logs() was refused: {self.name} has no container {name!r}.",
                errors=[FieldError("container", f"{name!r} is not one of {self.name}'s "
                                   "containers", allowed=", ".join(names))],
                hint="Sidecars are named in the spec's sidecars; svc.spec().sidecars lists "
                "them.",
            )

    # -- releases ------------------------------------------------------------------------
    # Thin: the work is in deployment.py (deploy, follow, roll back), registry.py,
    # containers.py and history.py.

    @property
    def deployments(self) -> Deployments:
        """The release machinery of this service (polls every few seconds on AWS)."""
        from fluoride.releases.deployment import Deployments, default_poll_interval

        return Deployments(aws=self.aws, stack=self.stack, service=self.name,
                           reporter=self.reporter, clock=self.clock,
                           poll_interval=self.poll_interval or default_poll_interval(self.aws))

    def deploy(
        self, image: str | None = None, *, wait: bool = True, timeout: float = DEFAULT_TIMEOUT
    ) -> Release:
        """Deploy an image and, with ``wait``, follow it until it serves.

        ``image`` is ``None`` (the newest image in the service's repository), a tag or
        ``sha256:`` digest there, or a full image reference (another registry's is used as
        given). ECR images are deployed by digest; only the stack's image parameter
        changes. Success is the new ECS deployment COMPLETED with its tasks running and
        targets healthy, never merely a stable service.

        Behind a gateway, a 5xx alarm that a ``create()`` or ``update()`` with
        ``wait=False`` left unarmed is armed once the release is stable (a small stack
        update of its own, which cannot roll this release back); an armed one costs
        nothing.

        Returns the :class:`Release` (``STABLE``; ``IN_PROGRESS`` with ``wait=False``).
        Raises :class:`RolledBack` (with ``.reasons``, ``.events`` and ``.serving``),
        :class:`DeploymentTimeout` after cancelling the update at ``timeout`` seconds,
        :class:`RollbackFailed`, :class:`DeploymentInProgress`, :class:`ImageNotFound`.

        Example::

            release = svc.deploy("v2")
            print(release.digest, release.outcome)

        .. versionadded:: 0.1
        .. versionchanged:: 0.3 arms a gateway service's 5xx alarm when still unarmed.
        """
        check_deploy(image, wait=wait, timeout=timeout, region=self.aws.session.region_name)

        def arm(info: StackInfo) -> None:
            # Behind a gateway, after the release serves: a 5xx alarm still waiting for the
            # route (create or update with wait=False) is armed now, in its own small stack
            # update, so it can never roll back this deploy. Armed already: no call at all.
            from fluoride.infra.gateway import alarm_unarmed

            gateway = alarm_unarmed(info.parameters)
            if gateway is None:
                return
            try:
                self._arm_gateway_alarm(gateway, timeout=timeout)
            except FluorideError as exc:  # the release serves: say so, do not raise
                self.reporter(Note(self.name, f"the 5xx alarm could not be armed "
                                   f"({exc.message}); the next deploy tries again."))

        return self._operation(
            "deploy", lambda: self.deployments.deploy(image, wait=wait, timeout=timeout,
                                                      on_stable=arm),
            _release_summary, detail=image or "newest image")

    def wait_stable(self, *, timeout: float = DEFAULT_TIMEOUT) -> Release:
        """Follow a deployment started with ``wait=False`` (or by someone else) to the same
        outcomes as :meth:`deploy`; with nothing running, wait until what serves is steady.

        .. versionadded:: 0.1
        """
        check_wait(timeout)
        return self._operation("wait_stable",
                               lambda: self.deployments.wait_stable(timeout=timeout),
                               _release_summary)

    def rollback(
        self,
        to: Release | str | None = None,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Release:
        """Go back to the last release that was stable before the current one, or to ``to``
        (a :class:`Release`, digest or tag). During a running deployment, cancel it (the
        previous release serves again) and, when ``to`` is given, then deploy ``to``.

        Returns the release serving afterwards. Raises :class:`ImageNotFound` when there is
        nothing earlier, and the errors of :meth:`deploy`.

        .. versionadded:: 0.1
        """
        check_rollback(to, wait=wait, timeout=timeout, region=self.aws.session.region_name)
        detail = "" if to is None else to.short if isinstance(to, Release) else to
        return self._operation(
            "rollback", lambda: self.deployments.rollback(to, wait=wait, timeout=timeout),
            _release_summary, detail=detail)

    def history(self) -> ReleaseList:
        """The service's releases, newest first (at most 100), as every user sees them:
        a :class:`~fluoride.ReleaseList` (a list that a notebook shows as a table).

        .. versionadded:: 0.1
        .. versionchanged:: 0.3 a :class:`~fluoride.ReleaseList`.
        """
        return ReleaseList(self.deployments.history())

    def push(self, local_image: str, *, tag: str | None = None) -> str:
        """Push ``local_image`` to the service's repository with docker, podman or finch
        and return its digest (``tag`` defaults to the local image's tag, else ``latest``).

        Raises :class:`NoContainerEngine`, :class:`PushFailed`.

        .. versionadded:: 0.1
        """
        from fluoride.releases.containers import push_image
        from fluoride.releases.deployment import ServiceOutputs

        check_push(local_image, tag=tag)

        def push() -> str:
            where = ServiceOutputs.from_info(self.stack.require())
            return push_image(self.deployments.registry(where), local_image, tag=tag,
                              reporter=self.reporter)

        return self._operation("push", push, lambda digest: f"pushed {digest}",
                               detail=local_image)

    def _with_release(
        self, info: StackInfo, status: ServiceStatus, ecs: EcsService | None
    ) -> ServiceStatus:
        if not info.outputs.get("AccessLogBucketName"):
            return status
        deployments = self.deployments
        found = deployments.look(info, ecs)  # what ECS serves, not only what the stack says
        return attrs.evolve(status, release=found.serving, drift=found.drift,
                            deployment=deployments.progress(info, ecs))

    # -- day two: read the spec back, plan and apply a change -----------------------------
    # Thin: the work is in _settings.py, infra/plan.py and spec/_readback.py.

    def spec(self) -> ServiceSpec:
        """The spec the service runs now, read back from its stack (parameters, tags and
        the environment rendered into its template).

        It round-trips: after ``svc.create(spec)``, ``svc.spec() == spec``. Stores left
        unnamed come back unnamed (``None``), and so does a network left to Fluoride.
        Raises :class:`ServiceNotFound`.

        Example::

            spec = svc.spec()
            svc.update(attrs.evolve(spec, memory=1024))

        .. versionadded:: 0.2
        """
        from fluoride._settings import live_spec

        return live_spec(self)

    def plan(self, spec: ServiceSpec) -> Plan:
        """What :meth:`update` with ``spec`` would change; nothing changes.

        Makes a CloudFormation change set, reads it and deletes it. The :class:`Plan`
        lists each resource change (add / modify / remove, whether it is replaced, the
        settings causing it), the changed settings, and says what it means: the tasks
        restart (rolling), the load balancer is replaced (the URL changes), a data store
        would be replaced (its data lost to the service).

        Raises :class:`ConfigError` for a bad spec, :class:`ServiceNotFound`.

        Example::

            print(svc.plan(attrs.evolve(svc.spec(), memory=1024)))

        .. versionadded:: 0.2
        """
        from fluoride._settings import plan

        return plan(self, spec)

    def update(
        self,
        spec: ServiceSpec,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        allow_replacement: bool = False,
    ) -> ServiceStatus:
        """Apply ``spec`` to the running service, with the installed Fluoride's template.
        The serving image stays; only :meth:`deploy` changes it.

        A change that makes a new task definition (cpu, memory, environment, port, ...) is
        followed like a deployment, to the same verdict, and recorded in the history as a
        ``settings`` entry with the change and who made it. A change that would replace or
        remove a data store (another partition key, another table/bucket/secret name, a
        store turned off) is refused before anything changes; with
        ``allow_replacement=True`` it goes ahead and the old store is kept, with its data,
        outside the service (a note says where).

        Raises :class:`StoreReplacementRefused` (a :class:`ConfigError`),
        :class:`DeploymentInProgress` when the stack or a rollout is busy,
        :class:`RolledBack` (the previous settings serve again) with the reasons,
        :class:`DeploymentTimeout`, :class:`DeploymentFailed` with CloudFormation's first
        failing resource of this update.

        Example::

            svc.update(attrs.evolve(svc.spec(), memory=1024, environment={"MODE": "fast"}))

        .. versionadded:: 0.2
        """
        from fluoride._settings import update

        def run() -> ServiceStatus:
            status = update(self, spec, wait=wait, timeout=timeout,
                            allow_replacement=allow_replacement)
            if wait and spec.gateway and spec.alarm_rollback:
                self._arm_gateway_alarm(spec.gateway)
                status = self.status()
            return status

        return self._operation("update", run, _status_summary)

    # -- exec ------------------------------------------------------------------------------------

    def exec(
        self,
        command: str | Sequence[str],
        *,
        container: str = "app",
        task: str | None = None,
    ) -> int:
        """Run ``command`` inside a running task through ECS Exec, attached to this terminal,
        and return the session's exit status (the plugin's).

        As ``aws ecs execute-command`` does: ``ExecuteCommand``, then AWS's
        ``session-manager-plugin`` with the session. ``command`` is a string or a list of
        arguments (quoted for the shell); ``task`` a task id or ARN (``None``: one of the
        service's running tasks); ``container`` the container's name.

        Raises :class:`FluorideError` when ``session-manager-plugin`` is not on ``PATH``
        (before any AWS call, saying how to install it), when the spec has
        ``exec_enabled = false`` (turn it on with :meth:`update`), when no task runs, or
        when the task was started before exec was on.

        Example::

            svc.exec("sh")
            svc.exec(["python", "-c", "import os; print(os.environ['FLUORIDE_TABLE'])"])

        .. versionadded:: 0.2
        """
        from fluoride._exec import exec_command

        return exec_command(self, command, container=container, task=task)

    # -- cost ----------------------------------------------------------------------------

    def estimate(
        self,
        spec: ServiceSpec | None = None,
        *,
        usage: Usage | None = None,
        prices: PriceTable | None = None,
    ) -> CostEstimate:
        """What the service would cost a month with ``spec`` (default ``ServiceSpec()``) in
        this client's region, line by line with each line's basis. No AWS call is made.

        ``usage`` states the volumes assumed (requests, logs, data; see `Usage`);
        ``prices`` defaults to the dated table shipped with Fluoride.

        Raises:
            ConfigError: ``spec`` is invalid.
            FluorideError: the region is not in the price table.

        Example::

            print(fl.service("hello").estimate(ServiceSpec(min_count=2)).total)

        .. versionadded:: 0.2.0
        """
        from fluoride.cost import estimate_cost
        from fluoride.infra.prices import PRICES

        spec = spec or ServiceSpec()
        spec.validate()
        return estimate_cost(spec, region=self.aws.region, prices=prices or PRICES, usage=usage)
