"""What a service should be: `ServiceSpec`, its validation, its template parameters and
its ``fluoride.toml`` file.

A `ServiceSpec` is a frozen value. Its defaults are the fast ones: health checks every
5 s with 2 passes, a 10 s deregistration delay and a 10 s stop timeout, so a deployment
of a healthy image finishes in about a minute. `ServiceSpec.validate` reports every bad
field at once; `to_parameters` maps a valid spec onto the template's parameters.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import ipaddress
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs
import cattrs
import tomli_w
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn

from fluoride.errors import ConfigError, FieldError, FluorideError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    # tomli is only installed on 3.10 (see pyproject); mypy checks against 3.10 without it.
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = [
    "Access",
    "Domain",
    "Environment",
    "HealthCheck",
    "Network",
    "ServiceSpec",
    "Stores",
    "dumps_config",
    "load_config",
    "load_spec",
    "loads_config",
    "render_environment",
    "save_spec",
    "to_parameters",
    "user_tags",
    "validate",
    "validate_service_name",
]

SERVICE_NAME_MAX: Final = 24
"""Longest service name. The name is embedded, with prefixes and suffixes, in the names of
the stack, repository, log group, role and bucket names; 24 keeps each under its limit."""

ENVIRONMENT_MARKER: Final = "# fluoride:user-environment"
"""The template line that `render_environment` replaces with the user's variables."""


# --------------------------------------------------------------------------- values


def _str_tuple(value: str | Iterable[str]) -> tuple[str, ...]:
    # A lone string would otherwise become a tuple of its characters.
    if isinstance(value, str):
        return (value,)
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


def _to_environment(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> Environment:
    if isinstance(value, Environment):
        return value
    return Environment(value)


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
            with ``sg-`` is always taken as a security group id.
        assign_public_ip: Give tasks a public IP. ``None``: yes in a default VPC (which has
            no NAT gateway, so tasks need one to pull images), otherwise no.

    .. versionadded:: 0.1.0
    """

    vpc_id: str | None = None
    subnet_ids: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    public: bool = True
    ingress_cidrs: tuple[str, ...] = attrs.field(default=("0.0.0.0/0",), converter=_str_tuple)
    allowed_callers: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    assign_public_ip: bool | None = None


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
    secret_recovery_days: int = 30


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
class ServiceSpec:
    """What a service should be. Every field has a default; the defaults are fast.

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
        environment: Environment variables for the container. Names starting with
            ``FLUORIDE_`` or ``AWS_``, and ``PORT``, are reserved: Fluoride sets them.
        exec_enabled: Allow ``fluoride exec`` (ECS Exec) into running tasks.
        alarm_rollback: Roll a deployment back when the 5xx alarm fires, even when its
            health checks pass.
        alarm_5xx_threshold: 5xx responses per minute that fire the alarm.
        log_retention_days: Days container logs are kept (a CloudWatch Logs period).
        access_log_retention_days: Days load balancer access logs are kept.
        keep_images: Images kept in the service's repository (1 to 1000); older ones
            are expired. Rollback can only go back to a kept image.
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
    environment: Mapping[str, str] = attrs.field(factory=Environment, converter=_to_environment)
    exec_enabled: bool = False
    alarm_rollback: bool = True
    alarm_5xx_threshold: int = 10
    log_retention_days: int = 30
    access_log_retention_days: int = 90
    keep_images: int = 20
    project: str | None = None
    team: str | None = None
    contact: str | None = None

    def problems(self) -> list[FieldError]:
        """Every bad field of this spec, in field order; empty when the spec is valid."""
        return _Checker().spec(self)

    def validate(self) -> None:
        """Check every field; raise `ConfigError` listing all the bad ones.

        Raises:
            ConfigError: with one `FieldError` per bad field in ``errors``.
        """
        problems = self.problems()
        if problems:
            raise ConfigError("The service spec is invalid.", errors=problems)


def validate(spec: ServiceSpec) -> None:
    """Same as ``spec.validate()``."""
    spec.validate()


# --------------------------------------------------------------------------- rules

FARGATE_MEMORY: Final[Mapping[int, range | tuple[int, ...]]] = {
    256: (512, 1024, 2048),
    512: range(1024, 4096 + 1, 1024),
    1024: range(2048, 8192 + 1, 1024),
    2048: range(4096, 16384 + 1, 1024),
    4096: range(8192, 30720 + 1, 1024),
    8192: range(16384, 61440 + 1, 4096),
    16384: range(32768, 122880 + 1, 8192),
}
"""Valid Fargate memory sizes (MiB) for each CPU size (units)."""

LOG_RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
"""The retention periods CloudWatch Logs accepts."""

MAX_ENVIRONMENT_VARIABLES: Final = 50
MAX_ENVIRONMENT_VALUE: Final = 4096
MAX_ENVIRONMENT_RENDERED: Final = 12288
"""Bytes the variables may take in the template, as rendered by `render_environment`
(escapes and indentation included). CloudFormation limits a template body to 51,200
bytes and the template itself, without its comment lines, takes about 38,000; the rest is
kept for its growth."""

RESERVED_ENVIRONMENT_PREFIXES: Final = ("FLUORIDE_", "AWS_")
RESERVED_ENVIRONMENT_NAMES: Final = frozenset({"PORT"})

_SERVICE_NAME = re.compile(r"[a-z][a-z0-9-]*")
_SECURITY_GROUP = re.compile(r"sg-[0-9a-f]{8,17}")
_SUBNET = re.compile(r"subnet-[0-9a-f]{8,17}")
_VPC = re.compile(r"vpc-[0-9a-f]{8,17}")
_CERTIFICATE_ARN = re.compile(
    r"arn:aws[-a-z]*:acm:[a-z]{2}(-[a-z]+)+-\d:\d{12}:certificate/[-0-9a-f]+"
)
_POLICY_ARN = re.compile(r"arn:aws[-a-z]*:iam::(\d{12}|aws):policy/([\w+=,.@-]+/)*[\w+=.@-]+")
_HOSTED_ZONE_ID = re.compile(r"Z[A-Z0-9]{1,31}")
_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)
_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_SECRET_NAME = re.compile(r"[a-zA-Z0-9/_+=.@-]{1,512}")
# A secret's full ARN: its name, "-" and the 6 characters Secrets Manager appends.
_SECRET_ARN = re.compile(
    r"arn:aws[-a-z]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:(.+)-[A-Za-z0-9]{6}"
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TAG_VALUE = re.compile(r"[\w\s.:/=+@-]*")
_HEALTH_PATH = re.compile(r"/\S*")

_BUCKET_PREFIXES: Final = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES: Final = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def _format_choices(values: Sequence[int], unit: str = "") -> str:
    suffix = f" {unit}" if unit else ""
    if isinstance(values, range) and len(values) > 8:
        return f"{values[0]} to {values[-1]}{suffix} in steps of {values.step}"
    return ", ".join(str(v) for v in values) + suffix


def _service_name_problems(name: object, field: str) -> list[FieldError]:
    allowed = (
        f"1 to {SERVICE_NAME_MAX} characters: lowercase letters, digits and single hyphens, "
        "starting with a letter and not ending with a hyphen"
    )
    why = (
        "the name becomes part of the stack name fluoride-<name>, the image repository "
        "fluoride/<name>, the log group and the bucket names, which accept only lowercase"
    )
    if not isinstance(name, str):
        return [FieldError(field, f"must be a string, got {type(name).__name__}", allowed=allowed)]
    if not name:
        return [FieldError(field, "must not be empty", allowed=allowed)]
    if len(name) > SERVICE_NAME_MAX:
        return [FieldError(field, f"{name!r} is {len(name)} characters long; {why}",
                           allowed=allowed)]
    if not _SERVICE_NAME.fullmatch(name) or "--" in name or name.endswith("-"):
        return [FieldError(field, f"{name!r} is not a valid service name; {why}", allowed=allowed)]
    return []


def validate_service_name(name: str) -> str:
    """Return ``name`` if it can name a service, else raise `ConfigError` saying why.

    A service name is 1 to 24 characters of lowercase letters, digits and single hyphens,
    starts with a letter and does not end with a hyphen: it becomes part of the stack,
    repository, log group and bucket names.

    >>> validate_service_name("hello")
    'hello'

    .. versionadded:: 0.1.0
    """
    problems = _service_name_problems(name, "name")
    if problems:
        raise ConfigError(f"{name!r} cannot name a service.", errors=problems)
    return name


class _Checker:
    """Collects every `FieldError` of a spec."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, field: str, problem: str, allowed: str | None = None) -> None:
        self.errors.append(FieldError(field, problem, allowed=allowed))

    # -- typed primitives: each returns whether the value had the right type

    def integer(self, field: str, value: object, low: int, high: int | None = None,
                why: str = "") -> bool:
        allowed = f"{low} to {high}" if high is not None else f"{low} or more"
        if why:
            allowed += f"; {why}"
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(field, f"must be a whole number, got {value!r}", allowed)
            return False
        if value < low or (high is not None and value > high):
            self.fail(field, f"{value} is out of range", allowed)
            return False
        return True

    def boolean(self, field: str, value: object) -> None:
        if not isinstance(value, bool):
            self.fail(field, f"must be true or false, got {value!r}")

    def string(self, field: str, value: object, optional: bool = False) -> bool:
        """True when ``value`` is a string to check further."""
        if value is None and optional:
            return False
        if not isinstance(value, str):
            self.fail(field, f"must be a string, got {value!r}")
            return False
        return True

    def strings(self, field: str, value: object, low: int, high: int, what: str) -> list[str]:
        """The string items of a tuple field, checked for count, type and duplicates."""
        if not isinstance(value, tuple):
            self.fail(field, f"must be a list, got {value!r}")
            return []
        if not low <= len(value) <= high:
            self.fail(field, f"has {len(value)} entries", f"{low} to {high} {what}")
        items: list[str] = []
        for i, item in enumerate(value):
            if self.string(f"{field}[{i}]", item):
                if item in items:
                    self.fail(f"{field}[{i}]", f"{item!r} is listed twice")
                items.append(item)
        return items

    def pattern(self, field: str, value: object, regex: re.Pattern[str], allowed: str,
                optional: bool = False) -> bool:
        if not self.string(field, value, optional):
            return False
        assert isinstance(value, str)  # narrowed by self.string
        if not regex.fullmatch(value):
            self.fail(field, f"{value!r} is not valid", allowed)
            return False
        return True

    # -- the spec

    def spec(self, spec: ServiceSpec) -> list[FieldError]:
        self.integer("port", spec.port, 1, 65535)
        if self.string("health_path", spec.health_path) and (
            not _HEALTH_PATH.fullmatch(spec.health_path) or len(spec.health_path) > 1024
        ):
            self.fail("health_path", f"{spec.health_path!r} is not a valid path",
                      "a path starting with '/', without spaces, at most 1024 characters")
        self.cpu_memory(spec.cpu, spec.memory)
        min_ok = self.integer("min_count", spec.min_count, 1, 100)
        max_ok = self.integer("max_count", spec.max_count, 1, 100)
        if min_ok and max_ok and spec.max_count < spec.min_count:
            self.fail("max_count", f"{spec.max_count} is less than min_count ({spec.min_count})",
                      f"{spec.min_count} to 100")
        self.integer("cpu_target", spec.cpu_target, 10, 90, "percent")
        self.integer("requests_per_target", spec.requests_per_target, 0,
                     why="0 turns request-based scaling off")
        self.health(spec.health)
        self.integer("deregistration_delay", spec.deregistration_delay, 0, 3600, "seconds")
        self.integer("stop_timeout", spec.stop_timeout, 2, 120, "seconds, Fargate's limit")
        self.integer("idle_timeout", spec.idle_timeout, 1, 4000, "seconds")
        self.network(spec.network)
        self.domain(spec.domain)
        self.stores(spec.stores)
        self.access(spec.access)
        self.environment(spec.environment)
        self.boolean("exec_enabled", spec.exec_enabled)
        self.boolean("alarm_rollback", spec.alarm_rollback)
        self.integer("alarm_5xx_threshold", spec.alarm_5xx_threshold, 1,
                     why="5xx responses per minute")
        if not isinstance(spec.log_retention_days, int) or isinstance(
            spec.log_retention_days, bool
        ) or spec.log_retention_days not in LOG_RETENTION_DAYS:
            self.fail("log_retention_days",
                      f"{spec.log_retention_days!r} is not a CloudWatch Logs retention period",
                      _format_choices(LOG_RETENTION_DAYS))
        self.integer("access_log_retention_days", spec.access_log_retention_days, 1,
                     why="days")
        self.integer("keep_images", spec.keep_images, 1, 1000)
        for tag in ("project", "team", "contact"):
            self.tag(tag, getattr(spec, tag))
        return self.errors

    def cpu_memory(self, cpu: object, memory: object) -> None:
        cpus = _format_choices(tuple(FARGATE_MEMORY))
        if isinstance(cpu, bool) or not isinstance(cpu, int) or cpu not in FARGATE_MEMORY:
            self.fail("cpu", f"{cpu!r} is not a Fargate CPU size", f"{cpus} CPU units")
            if isinstance(memory, bool) or not isinstance(memory, int):
                self.fail("memory", f"must be a whole number, got {memory!r}")
            return
        sizes = FARGATE_MEMORY[cpu]
        if isinstance(memory, bool) or not isinstance(memory, int) or memory not in sizes:
            self.fail("memory", f"{memory!r} MiB does not go with cpu={cpu}",
                      f"for cpu={cpu}: {_format_choices(sizes, 'MiB')}")

    def health(self, health: HealthCheck) -> None:
        interval_ok = self.integer("health.interval", health.interval, 5, 300, "seconds")
        timeout_ok = self.integer("health.timeout", health.timeout, 2, 120, "seconds")
        if interval_ok and timeout_ok and health.timeout >= health.interval:
            self.fail("health.timeout",
                      f"{health.timeout} s is not less than health.interval ({health.interval} s)",
                      f"2 to {health.interval - 1} seconds")
        self.integer("health.healthy_threshold", health.healthy_threshold, 2, 10)
        self.integer("health.unhealthy_threshold", health.unhealthy_threshold, 2, 10)
        self.integer("health.grace_period", health.grace_period, 0, 7200, "seconds")

    def network(self, net: Network) -> None:
        vpc_given = self.pattern("network.vpc_id", net.vpc_id, _VPC,
                                 "a VPC id like vpc-0123456789abcdef0", optional=True)
        subnets = self.strings("network.subnet_ids", net.subnet_ids, 0, 16, "subnets")
        if len(subnets) == 1:
            self.fail("network.subnet_ids", "has only one subnet",
                      "none (the default VPC), or two or more in different availability zones")
        for i, subnet in enumerate(subnets):
            if not _SUBNET.fullmatch(subnet):
                self.fail(f"network.subnet_ids[{i}]", f"{subnet!r} is not a subnet id",
                          "a subnet id like subnet-0123456789abcdef0")
        if subnets and net.vpc_id is None:
            self.fail("network.vpc_id", "is missing: subnet_ids were given",
                      "the id of the VPC that holds subnet_ids")
        elif vpc_given and not net.subnet_ids:
            self.fail("network.subnet_ids", "are missing: vpc_id was given",
                      "two or more subnets of that VPC in different availability zones")
        self.boolean("network.public", net.public)
        cidrs = self.strings("network.ingress_cidrs", net.ingress_cidrs, 0, 4, "IPv4 networks")
        for i, cidr in enumerate(cidrs):
            try:
                ipaddress.IPv4Network(cidr, strict=True)
            except ValueError as exc:
                self.fail(f"network.ingress_cidrs[{i}]", f"{cidr!r} is not an IPv4 network "
                          f"({exc})", "a network like 10.0.0.0/16 or 0.0.0.0/0, host bits zero")
        callers = self.strings("network.allowed_callers", net.allowed_callers, 0, 4,
                               "security groups or services")
        for i, caller in enumerate(callers):
            # Anything starting with sg- is meant as a security group id.
            if caller.startswith("sg-"):
                valid = bool(_SECURITY_GROUP.fullmatch(caller))
            else:
                valid = not _service_name_problems(caller, "")
            if not valid:
                self.fail(f"network.allowed_callers[{i}]",
                          f"{caller!r} is neither a security group id nor a service name",
                          "sg-0123456789abcdef0 or the name of another Fluoride service")
        if isinstance(net.ingress_cidrs, tuple) and isinstance(net.allowed_callers, tuple) \
                and not net.ingress_cidrs and not net.allowed_callers:
            self.fail("network.ingress_cidrs", "is empty and so is allowed_callers: nothing "
                      "could reach the service", "1 to 4 IPv4 networks, or some allowed_callers")
        if net.assign_public_ip is not None:
            self.boolean("network.assign_public_ip", net.assign_public_ip)

    def domain(self, dom: Domain) -> None:
        zone_id = self.pattern("domain.hosted_zone_id", dom.hosted_zone_id, _HOSTED_ZONE_ID,
                               "a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ",
                               optional=True)
        zone_name = False
        if self.string("domain.hosted_zone_name", dom.hosted_zone_name, optional=True):
            assert dom.hosted_zone_name is not None  # narrowed by self.string
            zone_name = self.dns_name("domain.hosted_zone_name", dom.hosted_zone_name)
        subdomain = self.pattern("domain.subdomain", dom.subdomain, _DNS_LABEL,
                                 "one DNS label: letters, digits and hyphens, at most 63, "
                                 "not starting or ending with a hyphen", optional=True)
        given = {"hosted_zone_id": dom.hosted_zone_id, "hosted_zone_name": dom.hosted_zone_name,
                 "subdomain": dom.subdomain}
        missing = [k for k, v in given.items() if v is None]
        if missing and len(missing) < len(given):
            for name in missing:
                self.fail(f"domain.{name}", "is missing: the domain fields go together",
                          "hosted_zone_id, hosted_zone_name and subdomain all, or none")
        self.pattern("domain.certificate_arn", dom.certificate_arn, _CERTIFICATE_ARN,
                     "an ACM certificate ARN like "
                     "arn:aws:acm:eu-west-1:123456789012:certificate/<id>", optional=True)
        self.boolean("domain.request_certificate", dom.request_certificate)
        self.boolean("domain.https_redirect", dom.https_redirect)
        if dom.request_certificate is True:
            if missing:
                self.fail("domain.request_certificate",
                          "needs a domain to request the certificate for",
                          "true only with hosted_zone_id, hosted_zone_name and subdomain")
            elif zone_id and zone_name and subdomain:
                fqdn = f"{dom.subdomain}.{dom.hosted_zone_name}"
                if len(fqdn) > 64:
                    self.fail("domain.subdomain", f"{fqdn!r} is {len(fqdn)} characters",
                              "at most 64 characters with the zone name: ACM's limit for "
                              "a certificate's first domain name")
            if dom.certificate_arn is not None:
                self.fail("domain.request_certificate", "is true but certificate_arn is given",
                          "either certificate_arn or request_certificate, not both")

    def dns_name(self, field: str, name: str) -> bool:
        allowed = ("a domain name like example.com: labels of letters, digits and hyphens, "
                   "no trailing dot, at most 253 characters")
        if name.endswith("."):
            self.fail(field, f"{name!r} ends with a dot", allowed)
            return False
        if len(name) > 253 or not all(_DNS_LABEL.fullmatch(p) for p in name.split(".")):
            self.fail(field, f"{name!r} is not a domain name", allowed)
            return False
        return True

    def stores(self, st: Stores) -> None:
        self.boolean("stores.table", st.table)
        self.pattern("stores.table_name", st.table_name, _TABLE_NAME,
                     "3 to 255 characters: letters, digits, '_', '.' and '-'", optional=True)
        keys: list[str] = []
        for key in ("partition_key", "ttl_attribute"):
            value = getattr(st, key)
            if self.string(f"stores.{key}", value):
                if not 1 <= len(value.encode()) <= 255:
                    self.fail(f"stores.{key}", f"{value!r} has {len(value.encode())} bytes",
                              "1 to 255 bytes")
                keys.append(value)
        if len(keys) == 2 and keys[0] == keys[1]:
            self.fail("stores.ttl_attribute", f"{keys[1]!r} is also the partition key",
                      "an attribute other than partition_key")
        self.boolean("stores.bucket", st.bucket)
        if self.string("stores.bucket_name", st.bucket_name, optional=True):
            assert st.bucket_name is not None  # narrowed by self.string
            self.bucket_name("stores.bucket_name", st.bucket_name)
        self.boolean("stores.secret", st.secret)
        self.pattern("stores.secret_name", st.secret_name, _SECRET_NAME,
                     "1 to 512 characters: letters, digits and / _ + = . @ -", optional=True)
        self.integer("stores.secret_recovery_days", st.secret_recovery_days, 7, 30,
                     "Secrets Manager's recovery window")

    def bucket_name(self, field: str, name: str) -> None:
        allowed = ("3 to 63 characters: lowercase letters, digits, '.' and '-', starting and "
                   "ending with a letter or digit")
        problem = None
        if not _BUCKET_NAME.fullmatch(name):
            problem = f"{name!r} breaks S3's bucket naming rules"
        elif ".." in name or ".-" in name or "-." in name:
            problem = f"{name!r} has a dot next to a dot or hyphen"
        elif re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
            problem = f"{name!r} looks like an IP address"
        elif name.startswith(_BUCKET_PREFIXES):
            problem = f"{name!r} starts with a prefix S3 reserves ({', '.join(_BUCKET_PREFIXES)})"
        elif name.endswith(_BUCKET_SUFFIXES):
            problem = f"{name!r} ends with a suffix S3 reserves ({', '.join(_BUCKET_SUFFIXES)})"
        if problem:
            self.fail(field, problem, allowed)

    def access(self, acc: Access) -> None:
        allowed = "an IAM policy ARN like arn:aws:iam::aws:policy/ReadOnlyAccess"
        arns = self.strings("access.extra_policy_arns", acc.extra_policy_arns, 0, 10,
                            "policies (IAM's default limit of managed policies per role)")
        for i, arn in enumerate(arns):
            if not _POLICY_ARN.fullmatch(arn):
                self.fail(f"access.extra_policy_arns[{i}]", f"{arn!r} is not a policy ARN",
                          allowed)
            elif "," in arn:
                # The template takes the list as one comma-delimited parameter.
                self.fail(f"access.extra_policy_arns[{i}]", f"{arn!r} contains a comma",
                          "a policy ARN without commas")
        self.pattern("access.permissions_boundary_arn", acc.permissions_boundary_arn,
                     _POLICY_ARN, allowed, optional=True)

    def environment(self, env: object) -> None:
        if not isinstance(env, Mapping):
            self.fail("environment", f"must be a mapping of names to values, got {env!r}")
            return
        if len(env) > MAX_ENVIRONMENT_VARIABLES:
            self.fail("environment", f"has {len(env)} variables",
                      f"at most {MAX_ENVIRONMENT_VARIABLES}; put bulk settings in the bucket "
                      "or the secret")
        total = 0
        for name, value in env.items():
            field = f"environment.{name}"
            if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
                self.fail(field, f"{name!r} is not a valid variable name",
                          "letters, digits and '_', not starting with a digit")
                continue
            if name.startswith(RESERVED_ENVIRONMENT_PREFIXES) or \
                    name in RESERVED_ENVIRONMENT_NAMES:
                self.fail(field, f"{name} is reserved: Fluoride sets it in every container",
                          "a name not starting with FLUORIDE_ or AWS_, other than PORT")
                continue
            if not isinstance(value, str):
                self.fail(field, f"must be a string, got {value!r}", "quote it, e.g. \"1\"")
                continue
            if any(0xD800 <= ord(char) <= 0xDFFF for char in value):
                self.fail(field, "is not valid text (it has a lone surrogate)")
                continue
            if len(value) > MAX_ENVIRONMENT_VALUE:
                self.fail(field, f"is {len(value)} characters long",
                          f"at most {MAX_ENVIRONMENT_VALUE}; put large values in the "
                          "bucket or the secret")
            total += len(_environment_item(name, value)) + _RENDERED_INDENT
        if total > MAX_ENVIRONMENT_RENDERED:
            self.fail("environment", f"the variables take {total} bytes in the template",
                      f"at most {MAX_ENVIRONMENT_RENDERED} (CloudFormation limits the template's "
                      "size); put large values in the bucket or the secret")

    def tag(self, field: str, value: object) -> None:
        if not self.string(field, value, optional=True):
            return
        assert isinstance(value, str)  # narrowed by self.string
        allowed = "1 to 256 characters: letters, digits, spaces and _ . : / = + - @"
        if not value or len(value) > 256 or not _TAG_VALUE.fullmatch(value):
            self.fail(field, f"{value!r} is not a valid tag value", allowed)


# --------------------------------------------------------------------------- template


def to_parameters(
    spec: ServiceSpec,
    *,
    service_name: str,
    vpc_id: str,
    subnet_ids: Sequence[str],
    image: str | None,
    assign_public_ip: bool,
    caller_security_groups: Sequence[str] = (),
    adopt_repository: bool = False,
    adopt_table: bool = False,
    adopt_bucket: bool = False,
    adopt_secret: bool = False,
    adopted_secret_arn: str | None = None,
) -> dict[str, str]:
    """The template's parameters for ``spec``, as CloudFormation wants them: strings,
    booleans as ``"true"``/``"false"``, ``""`` for "not given".

    The network is resolved by the caller: ``vpc_id`` and ``subnet_ids`` are the spec's
    or the default VPC's, ``assign_public_ip`` the spec's or the default for that VPC, and
    ``caller_security_groups`` the security groups of ``spec.network.allowed_callers``
    (service names looked up to their groups). ``image`` is ``repo@sha256:...`` or
    ``None`` before the first deployment.

    ``adopt_*`` say which stores an earlier delete kept, for the stack to use instead of
    creating them: the repository ``fluoride/<service>``, the table and bucket by the
    spec's ``table_name`` and ``bucket_name`` (which adopting needs), and the secret by its
    full ARN ``adopted_secret_arn``, whose name must be the spec's ``secret_name`` (or
    ``fluoride/<service>``).

    Raises:
        ConfigError: the spec, the name or the resolved network is invalid.

    .. versionadded:: 0.1.0
    """
    checker = _Checker()
    problems = _service_name_problems(service_name, "name") + checker.spec(spec)
    checker.errors = problems
    checker.pattern("vpc_id", vpc_id, _VPC, "a VPC id like vpc-0123456789abcdef0")
    subnets = checker.strings("subnet_ids", tuple(subnet_ids), 2, 16,
                              "subnets in different availability zones")
    for i, subnet in enumerate(subnets):
        checker.pattern(f"subnet_ids[{i}]", subnet, _SUBNET, "a subnet id like subnet-0123abcd")
    groups = checker.strings("caller_security_groups", tuple(caller_security_groups), 0, 4,
                             "security groups")
    for i, group in enumerate(groups):
        checker.pattern(f"caller_security_groups[{i}]", group, _SECURITY_GROUP,
                        "a security group id like sg-0123abcd")
    _check_adoption(checker, spec.stores, service_name, adopt_table=adopt_table,
                    adopt_bucket=adopt_bucket, adopt_secret=adopt_secret,
                    adopted_secret_arn=adopted_secret_arn)
    if checker.errors:
        raise ConfigError(f"Cannot build the template parameters of {service_name!r}.",
                          errors=checker.errors)

    def flag(value: bool) -> str:
        return "true" if value else "false"

    def text(value: str | None) -> str:
        return "" if value is None else value

    net, dom, st = spec.network, spec.domain, spec.stores
    cidrs = [*net.ingress_cidrs, "", "", "", ""][:4]
    return {
        "ServiceName": service_name,
        "Image": text(image),
        "ContainerPort": str(spec.port),
        "Cpu": str(spec.cpu),
        "Memory": str(spec.memory),
        "MinCount": str(spec.min_count),
        "MaxCount": str(spec.max_count),
        "CpuTarget": str(spec.cpu_target),
        "RequestsPerTarget": str(spec.requests_per_target),
        "HealthCheckPath": spec.health_path,
        "HealthCheckInterval": str(spec.health.interval),
        "HealthCheckTimeout": str(spec.health.timeout),
        "HealthyThreshold": str(spec.health.healthy_threshold),
        "UnhealthyThreshold": str(spec.health.unhealthy_threshold),
        "HealthCheckGracePeriod": str(spec.health.grace_period),
        "DeregistrationDelay": str(spec.deregistration_delay),
        "StopTimeout": str(spec.stop_timeout),
        "Public": flag(net.public),
        **{f"IngressCidr{i + 1}": cidr for i, cidr in enumerate(cidrs)},
        "AllowedCallerSecurityGroups": ",".join(groups),
        "IdleTimeout": str(spec.idle_timeout),
        "VpcId": vpc_id,
        "SubnetIds": ",".join(subnets),
        "AssignPublicIp": "ENABLED" if assign_public_ip else "DISABLED",
        "CertificateArn": text(dom.certificate_arn),
        "HostedZoneId": text(dom.hosted_zone_id),
        "HostedZoneName": text(dom.hosted_zone_name),
        "Subdomain": text(dom.subdomain),
        "RequestCertificate": flag(dom.request_certificate),
        "HttpsRedirect": flag(dom.https_redirect),
        "EnableExec": flag(spec.exec_enabled),
        "AlarmRollback": flag(spec.alarm_rollback),
        "Alarm5xxThreshold": str(spec.alarm_5xx_threshold),
        "LogRetentionDays": str(spec.log_retention_days),
        "AccessLogRetentionDays": str(spec.access_log_retention_days),
        "EnableTable": flag(st.table),
        "TableName": text(st.table_name),
        "TablePartitionKey": st.partition_key,
        "TableTtlAttribute": st.ttl_attribute,
        "EnableBucket": flag(st.bucket),
        "BucketName": text(st.bucket_name),
        "EnableSecret": flag(st.secret),
        "SecretName": text(st.secret_name),
        "SecretRecoveryDays": str(st.secret_recovery_days),
        "KeepImages": str(spec.keep_images),
        "AdoptRepository": flag(adopt_repository),
        "AdoptTable": flag(adopt_table),
        "AdoptBucket": flag(adopt_bucket),
        "AdoptSecret": flag(adopt_secret),
        "AdoptedSecretArn": text(adopted_secret_arn),
        "ExtraPolicyArns": ",".join(spec.access.extra_policy_arns),
        "PermissionsBoundaryArn": text(spec.access.permissions_boundary_arn),
    }


def _check_adoption(
    checker: _Checker,
    stores: Stores,
    service_name: str,
    *,
    adopt_table: bool,
    adopt_bucket: bool,
    adopt_secret: bool,
    adopted_secret_arn: str | None,
) -> None:
    """Adopting a store needs the store on and its name (the secret: its full ARN)."""
    if adopt_table and not (stores.table and stores.table_name):
        checker.fail("adopt_table", "needs stores.table on and stores.table_name",
                     "the name of the table an earlier delete kept")
    if adopt_bucket and not (stores.bucket and stores.bucket_name):
        checker.fail("adopt_bucket", "needs stores.bucket on and stores.bucket_name",
                     "the name of the bucket an earlier delete kept")
    if adopt_secret and not stores.secret:
        checker.fail("adopt_secret", "needs stores.secret on")
    if adopt_secret and not adopted_secret_arn:
        checker.fail("adopted_secret_arn", "is needed to adopt the secret",
                     "the kept secret's full ARN")
    if adopted_secret_arn is None:
        return
    if not adopt_secret:
        checker.fail("adopted_secret_arn", "is given without adopt_secret")
        return
    match = _SECRET_ARN.fullmatch(adopted_secret_arn)
    if match is None:
        checker.fail("adopted_secret_arn", f"{adopted_secret_arn!r} is not valid",
                     "arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>")
        return
    name = stores.secret_name or f"fluoride/{service_name}"
    if match.group(1) != name:
        checker.fail("adopted_secret_arn", f"names the secret {match.group(1)!r}",
                     f"the ARN of the service's secret {name!r}")


def user_tags(spec: ServiceSpec) -> dict[str, str]:
    """The ``project``, ``team`` and ``contact`` tags that ``spec`` gives, for the stack."""
    tags = {"project": spec.project, "team": spec.team, "contact": spec.contact}
    return {key: value for key, value in tags.items() if value is not None}


_MARKER_LINE = re.compile(r"^([ \t]*)" + re.escape(ENVIRONMENT_MARKER) + r"[ \t]*$", re.MULTILINE)
_COMMENT_LINE = re.compile(r"^[ \t]*#.*(\n|\Z)", re.MULTILINE)


def _without_comment_lines(template_body: str) -> str:
    """The template without its full-line comments, the environment marker kept.

    The comments are for readers of the file; CloudFormation counts every byte of a
    template body. (The template has no block scalar with a line starting with ``#``:
    tests/test_template_lint.py checks that the document is unchanged.)
    """
    return _COMMENT_LINE.sub(
        lambda m: m.group(0) if m.group(0).strip() == ENVIRONMENT_MARKER else "", template_body
    )


def _yaml_quote(value: str) -> str:
    """A YAML double-quoted scalar holding exactly ``value``, in printable ASCII.

    Not ``json.dumps``: it writes characters beyond U+FFFF as surrogate pairs, which YAML
    reads as two lone surrogates. YAML's ``\\U`` escape takes them whole.
    """
    out = ['"']
    for char in value:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_RENDERED_INDENT: Final = 17
"""Bytes `MAX_ENVIRONMENT_RENDERED` counts for each item's indentation and line break."""


def _environment_item(name: str, value: str) -> str:
    return f"- {{Name: {_yaml_quote(name)}, Value: {_yaml_quote(value)}}}"


def render_environment(template_body: str, environment: Mapping[str, str]) -> str:
    """The template with its ``# fluoride:user-environment`` line replaced by one
    ``- {Name: ..., Value: ...}`` item per variable, at that line's indentation.

    With no variables the marker line is simply removed. The template's other full-line
    comments are dropped too: this is the body sent to CloudFormation, which limits it to
    51,200 bytes.

    Raises:
        FluorideError: the template has no marker line, or more than one (a bug in
            Fluoride's template, not in the user's spec).

    .. versionadded:: 0.1.0
    """
    template_body = _without_comment_lines(template_body)
    matches = list(_MARKER_LINE.finditer(template_body))
    if len(matches) != 1:
        raise FluorideError(
            f"The template has {len(matches)} '{ENVIRONMENT_MARKER}' lines instead of one, "
            "so the environment variables cannot be placed.",
            hint="This is a bug in Fluoride's template; please report it.",
        )
    match = matches[0]
    indent = match.group(1)
    lines = [indent + _environment_item(name, value) for name, value in environment.items()]
    start, end = match.span()
    if not lines:
        # Remove the marker line with its line break.
        if template_body[end:end + 1] == "\n":
            end += 1
        return template_body[:start] + template_body[end:]
    return template_body[:start] + "\n".join(lines) + template_body[end:]


# --------------------------------------------------------------------------- fluoride.toml


class _WrongType(ValueError):
    """TOML values of the wrong type: ``entries`` pairs a path suffix ("" for the value
    itself, ``[2]`` or ``.NAME`` for an item) with the problem, shown as is."""

    def __init__(self, entries: list[tuple[str, str]]) -> None:
        self.entries = entries
        super().__init__("; ".join(problem for _, problem in entries))


def _describe(value: object) -> str:
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string",
             list: "a list", dict: "a table"}
    return f"{kinds.get(type(value), type(value).__name__)} ({value!r})"


def _wrong(problem: str) -> _WrongType:
    return _WrongType([("", problem)])


def _structure_int(value: object, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(f"must be a whole number, got {_describe(value)}")
    return value


def _structure_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        raise _wrong(f"must be a string, got {_describe(value)}")
    return value


def _structure_bool(value: object, _: type) -> bool:
    if not isinstance(value, bool):
        raise _wrong(f"must be true or false, got {_describe(value)}")
    return value


def _structure_optional_str(value: object, _: type) -> str | None:
    return None if value is None else _structure_str(value, str)


def _structure_optional_bool(value: object, _: type) -> bool | None:
    return None if value is None else _structure_bool(value, bool)


def _structure_str_tuple(value: object, _: type) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise _wrong(f"must be a list of strings, got {_describe(value)}")
    bad = [(f"[{i}]", f"must be a string, got {_describe(item)}")
           for i, item in enumerate(value) if not isinstance(item, str)]
    if bad:
        raise _WrongType(bad)
    return tuple(value)


def _structure_environment(value: object, _: type) -> Environment:
    if not isinstance(value, Mapping):
        raise _wrong(f"must be a table of names to strings, got {_describe(value)}")
    bad = [(f".{name}", f"must be a string, got {_describe(item)}; quote it")
           for name, item in value.items() if not isinstance(item, str)]
    if bad:
        raise _WrongType(bad)
    return Environment(value)


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(omit_if_default=True, forbid_extra_keys=True)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(str | None, _structure_optional_str)
    converter.register_structure_hook(bool | None, _structure_optional_bool)
    # Generic aliases are not classes, so they are matched by equality.
    converter.register_structure_hook_func(
        lambda t: t == tuple[str, ...], _structure_str_tuple)
    converter.register_structure_hook_func(
        lambda t: t == Mapping[str, str], _structure_environment)
    converter.register_unstructure_hook_func(lambda t: t == tuple[str, ...], list)
    converter.register_unstructure_hook_func(lambda t: t == Mapping[str, str], dict)

    def table_hook(cls: type[Any]) -> Callable[[object, type], Any]:
        inner = make_dict_structure_fn(cls, converter)

        def structure(value: object, _: type) -> Any:
            # Without this, a scalar where a table belongs fails deep in cattrs' code.
            if not isinstance(value, Mapping):
                raise _wrong(f"must be a table, got {_describe(value)}")
            return inner(value, cls)

        return structure

    converter.register_structure_hook_factory(attrs.has, table_hook)
    return converter


_CONVERTER: Final = _make_converter()

_HEADER: Final = (
    "# Fluoride service spec. Fields left out take their defaults;\n"
    "# see the ServiceSpec reference for every field.\n"
)


def _field_errors(exc: BaseException, path: str) -> list[FieldError]:
    """Flatten a cattrs structuring error into one `FieldError` per bad field."""
    here = path or "(top level)"
    if isinstance(exc, ClassValidationError):
        errors: list[FieldError] = []
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            errors += _field_errors(sub, f"{path}.{note.name}" if path else note.name)
        for sub in without:
            errors += _field_errors(sub, path)
        return errors
    if isinstance(exc, IterableValidationError):
        errors = []
        with_inotes, iwithout = exc.group_exceptions()
        for sub, inote in with_inotes:
            errors += _field_errors(sub, f"{path}[{inote.index}]")
        for sub in iwithout:
            errors += _field_errors(sub, path)
        return errors
    if isinstance(exc, ForbiddenExtraKeysError):
        known = ", ".join(a.name for a in attrs.fields(exc.cl))
        return [
            FieldError(f"{path}.{key}" if path else key, "is not a known field",
                       allowed=known + (", name" if not path else ""))
            for key in sorted(exc.extra_fields)
        ]
    if isinstance(exc, _WrongType):
        return [FieldError(f"{path}{suffix}" or here, problem) for suffix, problem in exc.entries]
    if isinstance(exc, KeyError):
        return [FieldError(here, f"is missing ({exc})")]
    if isinstance(exc, AttributeError | TypeError | ValueError):
        # e.g. a scalar where a table belongs: cattrs fails inside the generated code.
        return [FieldError(here, f"has the wrong shape ({exc})")]
    raise exc


def loads_config(text: str, *, source: str = "fluoride.toml") -> tuple[str | None, ServiceSpec]:
    """Parse the text of a ``fluoride.toml``: its optional ``name`` and its spec.

    Top-level keys are `ServiceSpec` fields, nested groups are tables (``[health]``,
    ``[network]``, ``[environment]``...). The spec is validated.

    Raises:
        ConfigError: bad TOML, unknown keys, wrong types or invalid values; ``errors``
            lists every bad field. ``source`` names the file in the message.

    .. versionadded:: 0.1.0
    """
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}") from exc
    name = data.pop("name", None)
    errors = [] if name is None else _service_name_problems(name, "name")
    try:
        spec = _CONVERTER.structure(data, ServiceSpec)
    except _STRUCTURE_ERRORS as exc:
        shape_errors = _field_errors(exc, "")
        errors += shape_errors + _problems_of_the_rest(data, shape_errors)
        raise ConfigError(f"{source} is invalid.", errors=_in_field_order(errors)) from exc
    errors += spec.problems()
    if errors:
        raise ConfigError(f"{source} is invalid.", errors=errors)
    return name, spec


_STRUCTURE_ERRORS: Final = (ClassValidationError, IterableValidationError, ForbiddenExtraKeysError)

_CHECKED_WITH: Final = {"memory": "cpu", "max_count": "min_count"}
"""Top-level fields whose rules read another top-level field."""


def _in_field_order(errors: list[FieldError]) -> list[FieldError]:
    """``name`` first, then the spec's fields in their order, unknown keys last."""
    order = {name: i for i, name in enumerate(attrs.fields_dict(ServiceSpec))}
    order["name"] = -1
    return sorted(errors, key=lambda e: order.get(_top(e.field), len(order)))


def _top(field: str) -> str:
    return re.split(r"[.\[]", field, maxsplit=1)[0]


def _problems_of_the_rest(data: Mapping[str, Any], shape_errors: list[FieldError]) -> list[
    FieldError
]:
    """The rule problems of the fields that did have the right shape, so that one pass
    reports everything: the top-level fields with shape errors are left at their defaults,
    and no rule is reported that reads a field left out."""
    dropped = {_top(e.field) for e in shape_errors}
    try:
        rest = _CONVERTER.structure(
            {k: v for k, v in data.items() if k not in dropped}, ServiceSpec
        )
    except _STRUCTURE_ERRORS:  # pragma: no cover - the bad fields were all dropped
        return []
    return [
        e for e in rest.problems()
        if _top(e.field) not in dropped and _CHECKED_WITH.get(_top(e.field)) not in dropped
    ]


def load_config(path: str | Path) -> tuple[str | None, ServiceSpec]:
    """Read a ``fluoride.toml``: its optional service ``name`` and its validated spec.

    Raises:
        ConfigError: the file is missing, unreadable or invalid (see `loads_config`).

    .. versionadded:: 0.1.0
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror or exc}.",
                          hint="Write one with `fluoride create`, or pass the right path.") \
            from exc
    return loads_config(text, source=str(path))


def load_spec(path: str | Path) -> ServiceSpec:
    """Read the spec of a ``fluoride.toml`` (its ``name``, if any, is checked, then ignored).

    .. versionadded:: 0.1.0
    """
    return load_config(path)[1]


def dumps_config(spec: ServiceSpec, *, name: str | None = None) -> str:
    """The ``fluoride.toml`` text for ``spec``, listing only fields that differ from
    their defaults. ``name``, when given, is written first.

    Raises:
        ConfigError: the spec or the name is invalid.

    .. versionadded:: 0.1.0
    """
    errors = ([] if name is None else _service_name_problems(name, "name")) + spec.problems()
    if errors:
        raise ConfigError("Cannot save an invalid service spec.", errors=errors)
    data: dict[str, Any] = {} if name is None else {"name": name}
    data.update(_CONVERTER.unstructure(spec, ServiceSpec))
    return _HEADER + tomli_w.dumps(data)


def save_spec(spec: ServiceSpec, path: str | Path, *, name: str | None = None) -> None:
    """Write ``spec`` (and ``name``, if given) to a ``fluoride.toml`` at ``path``.

    Raises:
        ConfigError: the spec or the name is invalid; nothing is written.

    .. versionadded:: 0.1.0
    """
    Path(path).write_text(dumps_config(spec, name=name), encoding="utf-8")
