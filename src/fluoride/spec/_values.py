"""The values of a service spec: `ServiceSpec` and its parts, as frozen attrs classes.

The rules that check them live in `fluoride.spec._rules`; the template mapping in
`fluoride.spec._parameters`; the ``fluoride.toml`` file in `fluoride.spec._toml`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import attrs
from attrs import AttrsInstance

from fluoride._display import MAX_REPR, Html, escape, html_table
from fluoride.errors import ConfigError, FieldError
from fluoride.names import DEFAULT_RECOVERY_DAYS
from fluoride.spec._rules import _Checker


def _str_tuple(value: str | Iterable[str]) -> tuple[str, ...]:
    # A lone string would otherwise become a tuple of its characters.
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Iterable) or isinstance(value, Mapping | bytes):
        # Kept as given: validate() names the field and the value (a converter that
        # raised would give a bare TypeError, and only for the first bad field).
        return value  # type: ignore[return-value]  # reported by _Checker.strings
    return tuple(value)


class Environment(Mapping[str, str]):
    """A read-only, hashable mapping of environment variable names to values.

    `ServiceSpec.environment` converts any mapping to this, so specs stay frozen and
    hashable. It compares equal to any mapping with the same items.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._items: dict[str, str] = dict(items)

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._items == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._items)


def _default(field: attrs.Attribute[object], value: AttrsInstance) -> object:
    """``field``'s default for ``value`` (a default that depends on other fields, such as
    strict's user and log retention, is worked out from ``value``)."""
    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]  # attrs types Factory as a function
        if default.takes_self:  # type: ignore[attr-defined]
            return default.factory(value)  # type: ignore[attr-defined]
        return default.factory()  # type: ignore[attr-defined]
    return default


def _changed(value: AttrsInstance) -> list[str]:
    """``name=value`` for each field of an attrs value that is not its default (nested
    parts the same way: ``network=Network(public=False)``)."""
    out: list[str] = []
    for field in attrs.fields(type(value)):
        current, default = getattr(value, field.name), _default(field, value)
        if current == default:
            continue
        if attrs.has(type(current)):
            out.append(f"{field.name}={type(current).__name__}({', '.join(_changed(current))})")
        elif isinstance(current, Environment):
            out.append(f"{field.name}={dict(current)!r}")
        else:
            out.append(f"{field.name}={current!r}")
    return out


def _flat(value: AttrsInstance, default: AttrsInstance, prefix: str = "",
          ) -> list[tuple[str, str, str]]:
    """``(dotted name, value, default)`` of every leaf field, as text."""
    rows: list[tuple[str, str, str]] = []
    for field in attrs.fields(type(value)):
        current, was = getattr(value, field.name), getattr(default, field.name)
        if attrs.has(type(current)):
            rows += _flat(current, was, f"{prefix}{field.name}.")
            continue
        def text(v: object) -> str:
            return str(dict(v)) if isinstance(v, Environment) else str(v)
        rows.append((f"{prefix}{field.name}", text(current), text(was)))
    return rows


def _to_environment(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> Environment:
    if isinstance(value, Environment):
        return value
    if isinstance(value, str | bytes):
        # e.g. "FOO=1": kept as given for validate() to name, not split into characters.
        return value  # (mypy sees no str here; users may pass one)
    try:
        return Environment(value)
    except (TypeError, ValueError):
        # Not a mapping, nor pairs: validate() names the field and the value.
        return value  # type: ignore[return-value]  # reported by _Checker.environment


@attrs.frozen(kw_only=True)
class HealthCheck:
    """How the load balancer and ECS judge a task's health.

    The defaults make a new task healthy about 10 s after it answers, which is what keeps
    deployments fast.

    Attributes:
        interval: Seconds between load balancer health checks (5 to 300).
        timeout: Seconds to wait for an answer (2 to 120, less than ``interval``).
        healthy_threshold: Consecutive passes before a target is healthy (2 to 10).
        unhealthy_threshold: Consecutive failures before it is unhealthy (2 to 10).
        grace_period: Seconds ECS ignores failing health checks after a task starts
            (0 to 7200); raise it for services that take long to boot.

    .. versionadded:: 0.1.0
    """

    interval: int = 5
    timeout: int = 4
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2
    grace_period: int = 10


@attrs.frozen(kw_only=True)
class Network:
    """Where the service runs and who may reach it.

    Attributes:
        vpc_id: The VPC (``vpc-...``). ``None``: the account's default VPC.
        subnet_ids: At least two subnets (``subnet-...``) in different availability zones,
            used by the load balancer and the tasks. Give them together with ``vpc_id``;
            empty: the default VPC's default subnets.
        public: ``True``: an internet-facing load balancer; ``False``: an internal one.
        ingress_cidrs: Up to 4 IPv4 networks allowed to reach the load balancer.
        allowed_callers: Up to 4 security group ids (``sg-...``) or names of other
            Fluoride services whose tasks may reach the load balancer. An entry starting
            with ``sg-`` is always taken as a security group id. Behind a gateway only an
            internal one: the callers are admitted to its shared load balancers (to every
            service behind them, see the environments page).
        assign_public_ip: Give tasks a public IP. ``None``: yes in a default VPC (which has
            no NAT gateway, so tasks need one to pull images), otherwise no.
        endpoints: Create the VPC endpoints that tasks in private subnets need without a
            NAT gateway: interface endpoints (private DNS) for ECR (``ecr.api``,
            ``ecr.dkr``), CloudWatch Logs and Secrets Manager (and KMS under
            ``compliance="strict"``), and gateway endpoints for S3 and DynamoDB on the
            subnets' route tables. Needs ``vpc_id`` and ``subnet_ids`` (not the default
            VPC), no public IP, and a VPC with DNS support and DNS hostnames on. The
            interface endpoints cost about $7.30 a month each per zone; see
            docs/operations.md.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.3.0 ``endpoints``.
    """

    vpc_id: str | None = None
    subnet_ids: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    public: bool = True
    ingress_cidrs: tuple[str, ...] = attrs.field(default=("0.0.0.0/0",), converter=_str_tuple)
    allowed_callers: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    assign_public_ip: bool | None = None
    endpoints: bool = False


@attrs.frozen(kw_only=True)
class Domain:
    """A DNS name and HTTPS for the service. Without one, the service is reached over
    HTTP at its load balancer's DNS name.

    Attributes:
        hosted_zone_id: The Route 53 hosted zone (``Z...``).
        hosted_zone_name: That zone's name, e.g. ``example.com`` (no trailing dot).
        subdomain: One DNS label; the service answers at ``<subdomain>.<zone name>``.
            The three fields above go together: give all or none.
        certificate_arn: An ACM certificate (in the service's region) for HTTPS.
        request_certificate: Let the stack request a DNS-validated ACM certificate for
            the domain instead; needs the three domain fields, excludes ``certificate_arn``.
        https_redirect: With HTTPS, the HTTP listener redirects to HTTPS.

    .. versionadded:: 0.1.0
    """

    hosted_zone_id: str | None = None
    hosted_zone_name: str | None = None
    subdomain: str | None = None
    certificate_arn: str | None = None
    request_certificate: bool = False
    https_redirect: bool = True


@attrs.frozen(kw_only=True)
class Stores:
    """The data stores the service owns. Each is on by default and can be turned off.

    Attributes:
        table: Create a DynamoDB table (on-demand capacity, string partition key).
        table_name: Its name; ``None``: generated from the service name.
        partition_key: The table's partition key attribute.
        ttl_attribute: The attribute holding an item's expiry (epoch seconds).
        bucket: Create an S3 bucket (private, encrypted).
        bucket_name: Its name; ``None``: generated (bucket names are global).
        secret: Create a Secrets Manager secret.
        secret_name: Its name; ``None``: ``fluoride/<service>``.
        secret_recovery_days: Days a purged secret can still be restored (7 to 30).

    .. versionadded:: 0.1.0
    """

    table: bool = True
    table_name: str | None = None
    partition_key: str = "pk"
    ttl_attribute: str = "expires_at"
    bucket: bool = True
    bucket_name: str | None = None
    secret: bool = True
    secret_name: str | None = None
    secret_recovery_days: int = DEFAULT_RECOVERY_DAYS


@attrs.frozen(kw_only=True)
class Access:
    """Extra permissions for the service's tasks.

    Attributes:
        extra_policy_arns: Managed policies attached to the task role, beyond the
            access to its own stores that it always has.
        permissions_boundary_arn: A permissions boundary applied to every role the stack
            creates; lets an operations team pre-approve self-service stacks.

    .. versionadded:: 0.1.0
    """

    extra_policy_arns: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    permissions_boundary_arn: str | None = None


@attrs.frozen(kw_only=True)
class Sidecar:
    """A container that runs beside the app in every task: a log router, an auth proxy,
    an OpenTelemetry collector. It shares the task's network, role and log group (under
    its own stream prefix, its ``name``). ``deploy()`` changes only the app's image; a
    sidecar's image changes through ``update(spec)``.

    Attributes:
        name: The container's name (letters, digits, ``_`` and ``-``; not ``app``).
        image: Its image reference, e.g. ``public.ecr.aws/envoyproxy/envoy:v1.31``.
        port: A port it listens on inside the task (not the app's), or ``None``.
        cpu: CPU units reserved for it (0: shares the task's).
        memory: Its hard memory limit in MiB, or ``None``.
        essential: When it stops, the task stops (and a deployment rolls back).
        environment: Its environment variables.
        command: Its command, replacing the image's.
        health_command: A shell command ECS runs inside the container to judge its health
            (exit 0: healthy), rendered as the container's ``HealthCheck`` with
            ``["CMD-SHELL", health_command]``; ``None``: no health check. ECS runs it every
            10 s, waits 5 s for it, and calls the container ``UNHEALTHY`` after 3 failures
            in a row; failures in the first ``health.grace_period`` seconds (at most 300,
            ECS's largest ``startPeriod``) do not count, so a slow start is not a failure.
            An essential sidecar that turns ``UNHEALTHY`` stops its task ("Task failed
            container health checks"), so a change that starts such tasks rolls back; a new
            task counts as healthy only once its essential sidecars' checks pass. A
            non-essential one only shows ``UNHEALTHY`` (``DescribeTasks``) and the task
            keeps serving. The app does not wait for a sidecar to be healthy before it
            starts (no ``dependsOn``): the load balancer sends it requests only once its
            own health check passes.

    .. versionadded:: 0.3.0
    """

    name: str
    image: str
    port: int | None = None
    cpu: int = 0
    memory: int | None = None
    essential: bool = False
    environment: Mapping[str, str] = attrs.field(factory=Environment, converter=_to_environment)
    command: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    health_command: str | None = None


def _sidecars(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


@attrs.frozen(kw_only=True)
class ServiceSpec:
    """What a service should be. Every field has a default; the defaults are fast.

    >>> import attrs
    >>> from fluoride import ServiceSpec
    >>> spec = ServiceSpec(port=8080, health_path="/health")
    >>> attrs.evolve(spec, cpu=512, memory=1024).validate()

    Attributes:
        port: The port the container listens on (1 to 65535).
        health_path: The path the load balancer checks; starts with ``/``.
        cpu: Fargate CPU units per task (256, 512, 1024, 2048, 4096, 8192, 16384).
        memory: MiB per task; the valid sizes depend on ``cpu``.
        min_count: Fewest tasks (1 to 100); a new service starts with this many.
        max_count: Most tasks autoscaling may run (``min_count`` to 100).
        cpu_target: Average CPU percent autoscaling aims for (10 to 90).
        requests_per_target: Load balancer requests per task autoscaling aims for;
            0 turns request-based scaling off.
        health: Health check timing, see `HealthCheck`.
        deregistration_delay: Seconds the load balancer lets a stopping task finish its
            requests (0 to 3600).
        stop_timeout: Seconds between SIGTERM and SIGKILL for a stopping container
            (2 to 120).
        idle_timeout: Seconds the load balancer keeps an idle connection (1 to 4000).
        network: Where the service runs and who may call it, see `Network`.
        domain: DNS name and HTTPS, see `Domain`.
        stores: The table, bucket and secret, see `Stores`.
        access: Extra permissions, see `Access`.
        compliance: ``"standard"`` or ``"strict"``: strict adds what a regulated
            organisation asks for (docs/compliance.md): a customer-managed KMS key with
            rotation for the table, bucket, secret, logs, images and alarm topic; immutable
            image tags; a non-root, read-only container with a writable ``/tmp`` and a memory
            limit; deletion protection on the load balancer and table; a versioned
            access-log bucket and server access logs of the bucket; EventBridge
            notifications; logs kept at least 365 days; tasks without public IPs; HTTPS
            with HTTP redirecting. Strict needs HTTPS (a certificate or a domain to request
            one for).
        environment: Environment variables for the container. Names starting with
            ``FLUORIDE_`` or ``AWS_``, and ``PORT``, are reserved: Fluoride sets them.
        secret_env: Environment variables read from keys of the service's own secret
            (which needs ``stores.secret`` on): ``{"DB_PASSWORD": "password"}`` gives the
            container ``DB_PASSWORD`` with the value of the secret's JSON key
            ``password``. ECS reads them when a task starts (the task's execution role may
            read that secret, and only when this is set); a key absent from the secret
            fails the task's start, and so the deployment. Names follow the rules of
            ``environment`` and may not also be set there.
        sidecars: Up to 4 containers beside the app in each task, see :class:`~fluoride.Sidecar`.
        user: The container's user (``"1000"``, ``"app"``, ``"1000:1000"``); ``None``: the
            image's. Under ``compliance="strict"`` it defaults to ``"1000"`` and may not be
            root.
        exec_enabled: Allow ``fluoride exec`` (ECS Exec) into running tasks.
        alarm_rollback: Roll a deployment back when the 5xx alarm fires, even when its
            health checks pass.
        alarm_5xx_threshold: 5xx responses per minute that fire the alarm.
        notify: Who hears of every alarm (5xx responses, a failed deployment): up to 4
            email addresses, subscribed to an SNS topic the stack makes (each confirms
            the subscription by email), or ARNs of SNS topics of your own in the same
            region. Empty: the alarms notify no one.
        log_retention_days: Days container logs are kept (a CloudWatch Logs period); 30,
            or 365 (the least strict allows) under ``compliance="strict"``.
        access_log_retention_days: Days load balancer access logs are kept.
        keep_images: Images kept in the service's repository (1 to 1000); older ones
            are expired. Rollback can only go back to a kept image.
        gateway: The name of an environment (see `fluoride.Environment`) whose shared
            ECS gateway serves this service over HTTPS at a generated hostname, instead
            of a load balancer of its own. ``None`` (the default): the service's own ALB.
            Excludes ``domain`` and ``requests_per_target`` (the gateway owns the
            hostname, the certificate and the target group), and ``network``'s
            ``public=False`` and non-default ``ingress_cidrs`` (the environment says who
            may reach its gateway); ``allowed_callers`` only behind an internal gateway.
        project: ``project`` tag on the stack and its resources.
        team: ``team`` tag.
        contact: ``contact`` tag, e.g. an email address.

    .. versionadded:: 0.1.0
    """

    port: int = 8080
    health_path: str = "/health"
    cpu: int = 256
    memory: int = 512
    min_count: int = 1
    max_count: int = 4
    cpu_target: int = 60
    requests_per_target: int = 0
    health: HealthCheck = attrs.field(factory=HealthCheck)
    deregistration_delay: int = 10
    stop_timeout: int = 10
    idle_timeout: int = 60
    network: Network = attrs.field(factory=Network)
    domain: Domain = attrs.field(factory=Domain)
    stores: Stores = attrs.field(factory=Stores)
    access: Access = attrs.field(factory=Access)
    compliance: str = "standard"
    environment: Mapping[str, str] = attrs.field(factory=Environment, converter=_to_environment)
    secret_env: Mapping[str, str] = attrs.field(factory=Environment, converter=_to_environment)
    sidecars: tuple[Sidecar, ...] = attrs.field(default=(), converter=_sidecars)
    user: str | None = attrs.field(default=attrs.Factory(
        lambda self: "1000" if self.compliance == "strict" else None, takes_self=True))
    exec_enabled: bool = False
    alarm_rollback: bool = True
    alarm_5xx_threshold: int = 10
    notify: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    log_retention_days: int = attrs.field(default=attrs.Factory(
        lambda self: 365 if self.compliance == "strict" else 30, takes_self=True))
    access_log_retention_days: int = 90
    keep_images: int = 20
    gateway: str | None = None
    project: str | None = None
    team: str | None = None
    contact: str | None = None

    def problems(self) -> list[FieldError]:
        """Every bad field of this spec, in field order; empty when the spec is valid."""
        return _Checker().spec(self)

    def __repr__(self) -> str:
        """The settings that differ from the defaults, as the call that makes this spec
        (``ServiceSpec(memory=1024, team='lab')``); cut at a setting, with ``…``, past
        120 characters. ``_repr_html_`` (a notebook) shows every setting."""
        parts = _changed(self)
        shown: list[str] = []
        for part in parts:
            if len("ServiceSpec(" + ", ".join([*shown, part, "…"]) + ")") > MAX_REPR:
                shown.append("…")
                break
            shown.append(part)
        return f"ServiceSpec({', '.join(shown)})"

    def _repr_html_(self) -> str:
        """Every setting for notebooks, the changed ones in bold."""
        default = ServiceSpec()
        rows: list[tuple[object, ...]] = []
        for name, value, was in _flat(self, default):
            changed = value != was
            rows.append((Html(f"<b>{escape(name)}</b>") if changed else name, value,
                         "" if not changed else f"default {was}"))
        return html_table(("setting", "value", ""), rows, caption="ServiceSpec")

    def validate(self) -> None:
        """Check every field; raise `ConfigError` listing all the bad ones.

        Raises:
            ConfigError: with one `FieldError` per bad field in ``errors``.
        """
        problems = self.problems()
        if problems:
            raise ConfigError("The service spec is invalid.", errors=problems)
