"""The rules a `ServiceSpec` must follow: its bounds, patterns and the `_Checker` that
reports every bad field at once.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

from fluoride.errors import ConfigError, FieldError
from fluoride.spec._environment import (
    _RENDERED_INDENT,
    _SECRETS_KEY_LINE,
    _environment_item,
    _secret_item,
)

if TYPE_CHECKING:
    # Only for annotations: fluoride.spec imports this module to validate its classes.
    from fluoride.spec._values import Access, Domain, HealthCheck, Network, ServiceSpec, Stores

SERVICE_NAME_MAX: Final = 24
"""Longest service name. The name is embedded, with prefixes and suffixes, in the names of
the stack, repository, log group, role and bucket names; 24 keeps each under its limit."""


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
MAX_ENVIRONMENT_RENDERED: Final = 9216
"""Bytes the variables and secret variables may take together in the template, as
rendered by `render_environment` (escapes and indentation included). CloudFormation limits
a template body to 51,200 bytes and the template itself, without its comment lines, takes
about 43,600 (with the gateway's resources, issue 14), so environments up to about 7,500
bytes go inline and larger ones through the staging bucket (`fluoride.infra.staging`).
(12,288 until the alarm notifications and ``secret_env`` took 3,000 bytes.) The budget also
keeps the task definition well under ECS's 64 KiB."""
MAX_SECRET_VARIABLES: Final = 25
"""Most ``secret_env`` entries."""

MAX_NOTIFY: Final = 4
"""Most email addresses and SNS topics a service's alarms notify."""

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
# A JSON key of the secret, as ECS's valueFrom takes it (a ':' would end the key).
_SECRET_KEY = re.compile(r"[A-Za-z0-9_.+=@/-]{1,128}")
_TAG_VALUE = re.compile(r"[\w\s.:/=+@-]*")
_HEALTH_PATH = re.compile(r"/\S*")
# An address SNS accepts for the email protocol; no commas (the template takes a list).
_EMAIL = re.compile(r"[^@\s,\"]{1,64}@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_TOPIC_ARN = re.compile(r"arn:aws[-a-z]*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}")

_BUCKET_PREFIXES: Final = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES: Final = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


MAX_SIDECARS: Final = 4
"""Most sidecars a service may have."""
MAX_SIDECAR_RENDERED: Final = 4096
"""Bytes one sidecar may take in the template (its container definition line)."""
MAX_HEALTH_COMMAND: Final = 1024
"""Characters in a sidecar's ``health_command``. It is written twice (the health check and
the label `read_sidecars` reads back), so at this length a sidecar of the longest name and
image still fits `MAX_SIDECAR_RENDERED`; quotes, backslashes and non-ASCII characters take
more room each, which the rule on the whole sidecar measures."""
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_CONTAINER_NAME: Final = re.compile(r"[a-zA-Z0-9_-]{1,255}")
_IMAGE: Final = re.compile(
    r"([a-z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?")
COMPLIANCE_PROFILES: Final = ("standard", "strict")
"""The values of ``ServiceSpec.compliance``."""
STRICT_LOG_RETENTION: Final = 365
"""The fewest days ``compliance="strict"`` keeps container logs."""
_USER: Final = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,31}(:[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,31})?")
_ROOT_USERS: Final = frozenset({"0", "root"})


def strict_problems(spec: ServiceSpec) -> list[FieldError]:
    """What ``compliance="strict"`` refuses in ``spec`` (a pure rule, whatever its
    ``compliance``): plain HTTP, tasks with public IPs, a root or unset user, logs kept
    less than a year. Fields of the wrong type are left to the other rules.

    .. versionadded:: 0.3.0
    """
    why = "compliance='strict' "
    found: list[FieldError] = []
    dom, net = spec.domain, spec.network
    has_domain = None not in (dom.hosted_zone_id, dom.hosted_zone_name, dom.subdomain)
    if dom.certificate_arn is None and not (dom.request_certificate is True and has_domain):
        found.append(FieldError(
            "domain", why + "needs HTTPS, and this spec has no certificate",
            allowed="domain.certificate_arn, or a domain (hosted_zone_id, hosted_zone_name, "
            "subdomain) with request_certificate = true"))
    if dom.https_redirect is False:
        found.append(FieldError("domain.https_redirect", why + "needs HTTP to redirect",
                                allowed="true (the default)"))
    if net.assign_public_ip is True:
        found.append(FieldError(
            "network.assign_public_ip", why + "runs tasks without public IPs",
            allowed="false or unset, with private subnets that reach ECR, CloudWatch Logs "
            "and Secrets Manager (a NAT gateway or VPC endpoints)"))
    user = spec.user
    if user is None or (isinstance(user, str) and user.split(":")[0] in _ROOT_USERS):
        found.append(FieldError("user", why + f"runs containers as a non-root user, got "
                                f"{user!r}", allowed="a user or uid other than root/0, e.g. "
                                "'1000' (the default under strict)"))
    sidecars = spec.sidecars if isinstance(spec.sidecars, tuple) else ()
    for i, car in enumerate(sidecars):
        if getattr(car, "memory", 0) is None:
            found.append(FieldError(f"sidecars[{i}].memory", why + "limits every container's "
                                    "memory, and this sidecar has no limit",
                                    allowed="MiB, e.g. 128"))
    days = spec.log_retention_days
    if isinstance(days, int) and days < STRICT_LOG_RETENTION:
        found.append(FieldError(
            "log_retention_days", why + f"keeps logs at least {STRICT_LOG_RETENTION} days, "
            f"got {days}", allowed=_format_choices(
                tuple(d for d in LOG_RETENTION_DAYS if d >= STRICT_LOG_RETENTION))))
    return found


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

    >>> from fluoride.spec import validate_service_name
    >>> validate_service_name("hello")
    'hello'

    .. versionadded:: 0.1.0
    """
    problems = _service_name_problems(name, "name")
    if problems:
        raise ConfigError(f"{name!r} cannot name a service.", errors=problems)
    return name


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def spec_argument_problems(spec: object, field: str = "spec") -> list[FieldError]:
    """Problems of a ``spec`` argument: ``None`` or a `ServiceSpec` (checked on its own).

    >>> from fluoride.spec._rules import spec_argument_problems
    >>> spec_argument_problems("8080")[0].field
    'spec'
    """
    from fluoride.spec._values import ServiceSpec

    if spec is None or isinstance(spec, ServiceSpec):
        return []
    return [FieldError(field, f"must be a ServiceSpec, got {_shown(spec)}",
                       allowed="None (the defaults), ServiceSpec(port=8080, ...), or "
                       "load_spec('fluoride.toml')")]


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
            self.fail(field, f"must be a list, got {_shown(value)}", f"{low} to {high} {what}")
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

    def vpc_and_subnets(self, prefix: str, vpc_id: object, subnet_ids: object) -> None:
        """A VPC id and its subnets, given together (two or more) or not at all; the
        fields are named ``<prefix>vpc_id`` and ``<prefix>subnet_ids``."""
        vpc_field, subnets_field = f"{prefix}vpc_id", f"{prefix}subnet_ids"
        vpc_given = self.pattern(vpc_field, vpc_id, _VPC,
                                 "a VPC id like vpc-0123456789abcdef0", optional=True)
        subnets = self.strings(subnets_field, subnet_ids, 0, 16, "subnets")
        if len(subnets) == 1:
            self.fail(subnets_field, "has only one subnet",
                      "none (the default VPC), or two or more in different availability zones")
        for i, subnet in enumerate(subnets):
            if not _SUBNET.fullmatch(subnet):
                self.fail(f"{subnets_field}[{i}]", f"{subnet!r} is not a subnet id",
                          "a subnet id like subnet-0123456789abcdef0")
        if subnets and vpc_id is None:
            self.fail(vpc_field, "is missing: subnet_ids were given",
                      "the id of the VPC that holds subnet_ids")
        elif vpc_given and not subnet_ids:
            self.fail(subnets_field, "are missing: vpc_id was given",
                      "two or more subnets of that VPC in different availability zones")

    # -- the spec

    def parts(self, spec: ServiceSpec) -> bool:
        """Whether each nested part has its class (a dict or a number there would make
        the checks below fail with AttributeError); each that has not is reported."""
        from fluoride.spec import _values

        ok = True
        for field, cls in (("health", _values.HealthCheck), ("network", _values.Network),
                           ("domain", _values.Domain), ("stores", _values.Stores),
                           ("access", _values.Access)):
            value = getattr(spec, field)
            if not isinstance(value, cls):
                self.fail(field, f"must be a {cls.__name__}, got {_shown(value)}",
                          f"{cls.__name__}(...), e.g. ServiceSpec({field}={cls.__name__}())")
                ok = False
        return ok

    def spec(self, spec: ServiceSpec) -> list[FieldError]:
        if not self.parts(spec):
            return self.errors
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
        self.compliance(spec)
        self.sidecars(spec)
        env_bytes = self.environment(spec.environment)
        self.secret_env(spec.secret_env, spec.environment, spec.stores, env_bytes)
        self.boolean("exec_enabled", spec.exec_enabled)
        self.boolean("alarm_rollback", spec.alarm_rollback)
        self.integer("alarm_5xx_threshold", spec.alarm_5xx_threshold, 1,
                     why="5xx responses per minute")
        self.notify(spec.notify)
        if not isinstance(spec.log_retention_days, int) or isinstance(
            spec.log_retention_days, bool
        ) or spec.log_retention_days not in LOG_RETENTION_DAYS:
            self.fail("log_retention_days",
                      f"{spec.log_retention_days!r} is not a CloudWatch Logs retention period",
                      _format_choices(LOG_RETENTION_DAYS))
        self.integer("access_log_retention_days", spec.access_log_retention_days, 1,
                     why="days")
        self.integer("keep_images", spec.keep_images, 1, 1000)
        self.gateway(spec)
        for tag in ("project", "team", "contact"):
            self.tag(tag, getattr(spec, tag))
        return self.errors

    def compliance(self, spec: ServiceSpec) -> None:
        """``compliance`` and ``user``, and what strict demands of the other fields."""
        if self.string("user", spec.user, optional=True):
            assert spec.user is None or isinstance(spec.user, str)
            if spec.user is not None and not _USER.fullmatch(spec.user):
                self.fail("user", f"{spec.user!r} is not a user ECS accepts",
                          "a user or uid, optionally with :group or :gid, e.g. 1000 or "
                          "app:app (letters, digits, _ . -; at most 32 each)")
        if spec.compliance not in COMPLIANCE_PROFILES:
            self.fail("compliance", f"{spec.compliance!r} is not a compliance profile",
                      " or ".join(repr(p) for p in COMPLIANCE_PROFILES))
            return
        if spec.compliance != "strict":
            return
        for problem in strict_problems(spec):
            self.errors.append(problem)

    def sidecars(self, spec: ServiceSpec) -> None:
        """At most 4; names unique and not the app's; ports distinct and not the app's;
        image references; memory that leaves the app at least 128 MiB."""
        sidecars = spec.sidecars
        if not isinstance(sidecars, tuple):
            self.fail("sidecars", f"must be a list of Sidecar, got {sidecars!r}")
            return
        if len(sidecars) > MAX_SIDECARS:
            self.fail("sidecars", f"has {len(sidecars)} containers", f"at most {MAX_SIDECARS}")
        names: set[str] = set()
        ports: dict[int, str] = {spec.port: "the app"} if isinstance(spec.port, int) else {}
        memory = 0
        from fluoride.spec._environment import sidecar_item

        for i, car in enumerate(sidecars):
            at = f"sidecars[{i}]"
            if type(car).__name__ != "Sidecar":
                self.fail(at, f"must be a Sidecar, got {car!r}")
                continue
            if self.pattern(f"{at}.name", car.name, _CONTAINER_NAME,
                            "letters, digits, _ and -, at most 255"):
                if car.name == "app" or car.name in names:
                    self.fail(f"{at}.name", f"{car.name!r} is taken",
                              "a name other than 'app' and the other sidecars'")
                names.add(car.name)
            if self.string(f"{at}.image", car.image) and (
                    len(car.image) > 255 or not _IMAGE.fullmatch(car.image)):
                self.fail(f"{at}.image", f"{car.image!r} is not an image reference",
                          "[registry/]repository[:tag][@sha256:digest], e.g. "
                          "public.ecr.aws/envoyproxy/envoy:v1.31")
            if car.port is not None and self.integer(f"{at}.port", car.port, 1, 65535):
                if car.port in ports:
                    self.fail(f"{at}.port", f"{car.port} is taken by {ports[car.port]}",
                              "a port no other container of the task uses")
                ports[car.port] = f"sidecar {car.name!r}"
            self.integer(f"{at}.cpu", car.cpu, 0, 16384, "CPU units")
            if car.memory is not None and self.integer(f"{at}.memory", car.memory, 6, 122880,
                                                       "MiB"):
                memory += car.memory
            self.boolean(f"{at}.essential", car.essential)
            self.strings(f"{at}.command", car.command, 0, 50, "arguments")
            self.health_command(f"{at}.health_command", car.health_command)
            if isinstance(car.environment, Mapping):
                for name, value in car.environment.items():
                    if self.variable_name(f"{at}.environment.{name}", name) and not isinstance(
                            value, str):
                        self.fail(f"{at}.environment.{name}", f"must be a string, got {value!r}")
            if not self.errors and len(sidecar_item(car)) > MAX_SIDECAR_RENDERED:
                self.fail(at, f"takes {len(sidecar_item(car))} bytes in the template",
                          f"at most {MAX_SIDECAR_RENDERED}: put large values in the secret"
                          + (", shorten health_command" if car.health_command else ""))
        if isinstance(spec.memory, int) and memory > spec.memory - 128:
            self.fail("sidecars", f"their memory limits ({memory} MiB) leave the app "
                      f"{spec.memory - memory} of the task's {spec.memory} MiB",
                      "at least 128 MiB left for the app")

    def health_command(self, field: str, value: object) -> None:
        """A sidecar's health check: ``None``, or one line of shell that ECS runs with
        ``CMD-SHELL``."""
        allowed = (f"one line of shell, 1 to {MAX_HEALTH_COMMAND} characters, e.g. "
                   "'curl -fs http://localhost:9901/ready || exit 1'; or None for no check")
        if not self.string(field, value, optional=True):
            return
        assert isinstance(value, str)  # narrowed by self.string
        if not value.strip():
            self.fail(field, f"{value!r} is empty", allowed)
        elif _CONTROL.search(value):
            self.fail(field, f"{_shown(value)} has a line break or control character", allowed)
        elif len(value) > MAX_HEALTH_COMMAND:
            self.fail(field, f"{_shown(value)} has {len(value)} characters", allowed)

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
        self.vpc_and_subnets("network.", net.vpc_id, net.subnet_ids)
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
        self.boolean("network.endpoints", net.endpoints)
        if net.endpoints is True:
            if net.vpc_id is None:
                self.fail("network.endpoints", "is true, but network.vpc_id is unset: the "
                          "default VPC's subnets are public, and endpoints with private DNS "
                          "would change how every workload in it reaches AWS",
                          "network.vpc_id and network.subnet_ids of a VPC with private "
                          "subnets, or endpoints = false")
            if net.assign_public_ip is True:
                self.fail("network.assign_public_ip", "is true, but network.endpoints runs "
                          "tasks in private subnets without public IPs",
                          "false or unset with endpoints = true")

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

    def variable_name(self, field: str, name: object) -> bool:
        """Whether ``name`` may name an environment variable (reporting why not)."""
        if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
            self.fail(field, f"{name!r} is not a valid variable name",
                      "letters, digits and '_', not starting with a digit")
            return False
        if name.startswith(RESERVED_ENVIRONMENT_PREFIXES) or name in RESERVED_ENVIRONMENT_NAMES:
            self.fail(field, f"{name} is reserved: Fluoride sets it in every container",
                      "a name not starting with FLUORIDE_ or AWS_, other than PORT")
            return False
        return True

    def environment(self, env: object) -> int:
        """Check the environment; return the bytes it takes in the template."""
        if not isinstance(env, Mapping):
            self.fail("environment", f"must be a mapping of names to values, got {_shown(env)}",
                      "a mapping of names to strings, e.g. {'FOO': '1'}")
            return 0
        if len(env) > MAX_ENVIRONMENT_VARIABLES:
            self.fail("environment", f"has {len(env)} variables",
                      f"at most {MAX_ENVIRONMENT_VARIABLES}; put bulk settings in the bucket "
                      "or the secret")
        total = 0
        for name, value in env.items():
            field = f"environment.{name}"
            if not self.variable_name(field, name):
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
        return total

    def secret_env(self, secret_env: object, env: object, stores: Stores,
                   env_bytes: int) -> None:
        if not isinstance(secret_env, Mapping):
            self.fail("secret_env", f"must be a mapping of names to secret keys, got "
                      f"{secret_env!r}")
            return
        if not secret_env:
            return
        if stores.secret is False:
            self.fail("secret_env", "names keys of the service's secret, but stores.secret "
                      "is off", "turn stores.secret on, or leave secret_env empty")
        if len(secret_env) > MAX_SECRET_VARIABLES:
            self.fail("secret_env", f"has {len(secret_env)} variables",
                      f"at most {MAX_SECRET_VARIABLES}")
        total = _SECRETS_KEY_LINE
        for name, key in secret_env.items():
            field = f"secret_env.{name}"
            if not self.variable_name(field, name):
                continue
            if isinstance(env, Mapping) and name in env:
                self.fail(field, f"{name} is also set in environment",
                          "a name set in environment or in secret_env, not both")
                continue
            if not isinstance(key, str):
                self.fail(field, f"must be a key of the secret (a string), got {key!r}",
                          "quote it, e.g. \"password\"")
                continue
            if not _SECRET_KEY.fullmatch(key):
                self.fail(field, f"{key!r} is not a key ECS can read from the secret",
                          "1 to 128 characters: letters, digits and _ . + = @ / - (no ':')")
                continue
            total += len(_secret_item(name, key)) + _RENDERED_INDENT
        if env_bytes <= MAX_ENVIRONMENT_RENDERED < env_bytes + total:
            self.fail("secret_env", f"the variables and secret variables take "
                      f"{env_bytes + total} bytes in the template",
                      f"at most {MAX_ENVIRONMENT_RENDERED} together (CloudFormation limits the "
                      "template's size); put large values in the bucket or the secret")

    def notify(self, notify: object) -> None:
        entries = self.strings("notify", notify, 0, MAX_NOTIFY, "email addresses or SNS topics")
        for i, entry in enumerate(entries):
            if entry.startswith("arn:"):
                if not _TOPIC_ARN.fullmatch(entry):
                    self.fail(f"notify[{i}]", f"{entry!r} is not an SNS topic ARN",
                              "arn:aws:sns:<region>:<account>:<topic name>")
            elif len(entry) > 254 or not _EMAIL.fullmatch(entry):
                self.fail(f"notify[{i}]", f"{entry!r} is neither an email address nor an "
                          "SNS topic ARN", "an address like ops@example.org, or "
                          "arn:aws:sns:<region>:<account>:<topic name>")

    def gateway(self, spec: ServiceSpec) -> None:
        """``gateway``: an environment's name; the gateway then owns the hostname, the
        certificate and the target group, so the fields that configure those are refused."""
        if spec.gateway is None:
            return
        from fluoride.spec._envspec import environment_name_problems

        found = environment_name_problems(spec.gateway, "gateway")
        if found:
            self.errors += found
            return
        dom = spec.domain  # a Domain: parts() checked it
        if dom.hosted_zone_id or dom.certificate_arn or dom.request_certificate:
            self.fail("gateway", f"{spec.gateway!r} is set together with domain",
                      "a gateway (its generated https:// hostname and certificate) or a "
                      "domain on the service's own load balancer, not both")
        net = spec.network  # a Network: parts() checked it
        env_side = "set it on the environment (EnvironmentSpec), which decides for its gateway"
        # network.allowed_callers: admitted to an internal gateway's load balancers; whether
        # the gateway is internal is known only from the environment's stack, so the
        # service checks it before its change set (Service._gateway_security_group).
        if net.public is False:
            self.fail("network.public", "is false, but behind a gateway the environment's "
                      "scheme (internet-facing or internal) decides", f"true; {env_side}")
        if net.ingress_cidrs != ("0.0.0.0/0",):
            self.fail("network.ingress_cidrs", "cannot apply behind a gateway",
                      f"the default; {env_side}")
        if isinstance(spec.requests_per_target, int) and spec.requests_per_target > 0:
            self.fail("requests_per_target", f"{spec.requests_per_target} needs the service's "
                      "own target group, and behind a gateway ECS owns it",
                      "0 behind a gateway (CPU scaling still applies)")

    def tag(self, field: str, value: object) -> None:
        if not self.string(field, value, optional=True):
            return
        assert isinstance(value, str)  # narrowed by self.string
        allowed = "1 to 256 characters: letters, digits, spaces and _ . : / = + - @"
        if not value or len(value) > 256 or not _TAG_VALUE.fullmatch(value):
            self.fail(field, f"{value!r} is not a valid tag value", allowed)
