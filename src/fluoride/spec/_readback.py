"""The way back from a stack to its spec: `from_parameters` (the reverse of
`fluoride.spec._parameters.to_parameters`), `read_environment` (the reverse of
`render_environment`), `read_secret_environment` (its ``secret_env``) and `spec_tags`, the
stack tags that keep what the parameters lose.

The template parameters hold resolved values: the default VPC's id and subnets, the
security groups of the services named in ``allowed_callers``, the default store names.
A spec that left those to Fluoride would not come back equal from the parameters alone,
so `spec_tags` records the spec's own words for them, and `from_parameters` prefers those.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final, TypeVar

from fluoride.errors import FluorideError
from fluoride.spec._environment import SECRET_ARN_EXPRESSION
from fluoride.spec._values import (
    Access,
    Domain,
    HealthCheck,
    Network,
    ServiceSpec,
    Sidecar,
    Stores,
)

__all__ = [
    "CALLERS_TAG",
    "NETWORK_TAG",
    "from_parameters",
    "read_environment",
    "read_secret_environment",
    "read_sidecars",
    "spec_tags",
]

#: Stack tag: ``vpc=default|given ip=auto|given``: whether the spec chose the network and
#: the tasks' public IP, or left them to Fluoride (which resolved them into parameters).
NETWORK_TAG: Final = "fluoride:network"
#: Stack tag: the spec's ``allowed_callers`` as written (service names and ``sg-`` ids,
#: space-separated); the parameters hold only the security groups they resolved to.
CALLERS_TAG: Final = "fluoride:callers"

_T = TypeVar("_T")


def spec_tags(spec: ServiceSpec) -> dict[str, str]:
    """The stack tags that let `from_parameters` give ``spec`` back exactly.

    Tag values allow letters, digits, spaces and ``_.:/=+-@``; service names and security
    group ids fit, separated by spaces.
    """
    net = spec.network
    tags = {
        NETWORK_TAG: f"vpc={'default' if net.vpc_id is None else 'given'} "
                     f"ip={'auto' if net.assign_public_ip is None else 'given'}",
    }
    if net.allowed_callers:
        tags[CALLERS_TAG] = " ".join(net.allowed_callers)
    return tags


# -- the environment ------------------------------------------------------------------------

_QUOTED = r'"((?:[^"\\]|\\.)*)"'
#: One line `render_environment` writes: ``- {Name: "...", Value: "..."}`` (Fluoride's own
#: variables are written with bare names, so they never match).
_ITEM_LINE = re.compile(r"^[ \t]*- \{Name: " + _QUOTED + r", Value: " + _QUOTED + r"\}[ \t]*$",
                        re.MULTILINE)
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))")


def _yaml_unquote(text: str) -> str:
    """The value of the inside of a YAML double-quoted scalar written by ``_yaml_quote``."""

    def one(match: re.Match[str]) -> str:
        short, long, char = match.groups()
        if short or long:
            return chr(int(short or long, 16))
        if char in '"\\':
            return char
        raise FluorideError(
            f"The stack's template has an environment value with the escape \\{char}, which "
            "Fluoride never writes.",
            hint="Was the template edited outside Fluoride? Set the environment again with "
            "`svc.update(spec)`.",
        )

    return _ESCAPE.sub(one, text)


def read_environment(template_body: str) -> dict[str, str]:
    """The user's environment variables in a template body that `render_environment`
    wrote, in their order.

    >>> read_environment('          - {Name: "GREETING", Value: "hi \\\\"you\\\\""}\\n')
    {'GREETING': 'hi "you"'}
    """
    return {_yaml_unquote(m.group(1)): _yaml_unquote(m.group(2))
            for m in _ITEM_LINE.finditer(template_body)}


#: One ``Secrets`` item `render_environment` writes:
#: ``- {Name: "...", ValueFrom: !Sub ["${S}:<key>::", {S: <the secret's ARN>}]}``.
_SECRET_LINE = re.compile(
    r"^[ \t]*- \{Name: " + _QUOTED + r", ValueFrom: !Sub \[" + _QUOTED + r", \{S: "
    + re.escape(SECRET_ARN_EXPRESSION) + r"\}\]\}[ \t]*$", re.MULTILINE)


def read_secret_environment(template_body: str) -> dict[str, str]:
    """The ``secret_env`` (variable name to the secret's key) in a template body that
    `render_environment` wrote, in its order.

    .. versionadded:: 0.2.0
    """
    found: dict[str, str] = {}
    for m in _SECRET_LINE.finditer(template_body):
        value_from = _yaml_unquote(m.group(2))
        if not (value_from.startswith("${S}:") and value_from.endswith("::")):
            raise FluorideError(
                f"The stack's template reads the secret variable {_yaml_unquote(m.group(1))} "
                f"with {value_from!r}, which Fluoride never writes.",
                hint="Was the template edited outside Fluoride? Set secret_env again with "
                "`svc.update(spec)`.",
            )
        found[_yaml_unquote(m.group(1))] = value_from[len("${S}:"):-2]
    return found


_SIDECAR_LABEL = re.compile(r"DockerLabels: \{fluoride\.sidecar: " + _QUOTED + r"\}\}[ \t]*$",
                            re.MULTILINE)


def read_sidecars(template_body: str) -> tuple[Sidecar, ...]:
    """The ``sidecars`` in a template body that `render_environment` wrote, in order (each
    kept whole, as JSON, in its ``fluoride.sidecar`` docker label).

    .. versionadded:: 0.3.0
    """
    import json

    found = []
    for m in _SIDECAR_LABEL.finditer(template_body):
        try:
            data = json.loads(_yaml_unquote(m.group(1)))
            found.append(Sidecar(**data))
        except (ValueError, TypeError):
            raise FluorideError(
                "The stack's template has a sidecar label Fluoride cannot read back.",
                hint="Was the template edited outside Fluoride? Set the sidecars again with "
                "`svc.update(spec)`.",
            ) from None
    return tuple(found)


# -- the parameters -------------------------------------------------------------------------


def _reader(parameters: Mapping[str, str]) -> Callable[[str, Callable[[str], _T], _T], _T]:
    def read(key: str, convert: Callable[[str], _T], default: _T) -> _T:
        # A stack made by an older template lacks newer parameters: they take the default
        # (which is also what the newer template gives them on the next update).
        if key not in parameters:
            return default
        raw = parameters[key]
        try:
            return convert(raw)
        except ValueError:
            raise FluorideError(
                f"The stack parameter {key} is {raw!r}, which Fluoride cannot read back.",
                hint="Was the stack changed outside Fluoride? Set it again with "
                "`svc.update(spec)`.",
            ) from None

    return read


def _flag(raw: str) -> bool:
    if raw not in ("true", "false"):
        raise ValueError(raw)
    return raw == "true"


def _text(raw: str) -> str | None:
    return raw or None


def _items(raw: str) -> tuple[str, ...]:
    return tuple(item for item in raw.split(",") if item)


def _public_ip(raw: str) -> bool:
    if raw not in ("ENABLED", "DISABLED"):
        raise ValueError(raw)
    return raw == "ENABLED"


def _words(tag: str | None) -> dict[str, str]:
    return dict(word.partition("=")[::2] for word in (tag or "").split())


def from_parameters(
    parameters: Mapping[str, str],
    *,
    environment: Mapping[str, str] = {},
    secret_env: Mapping[str, str] = {},
    sidecars: tuple[Sidecar, ...] = (),
    tags: Mapping[str, str] = {},
    default_store_names: tuple[str, str, str] | None = None,
) -> ServiceSpec:
    """The spec whose `to_parameters` (with `spec_tags` on the stack) gave ``parameters``.

    ``environment`` is what `read_environment` found in the stack's template,
    ``secret_env`` what `read_secret_environment` found there, ``tags`` the
    stack's tags, and ``default_store_names`` the (table, bucket, secret) names that
    ``create()`` gives unnamed stores: a store with its default name reads back as
    unnamed (``None``), as it was most likely written.

    Parameters a newer template added are missing from an older stack: they read back as
    their defaults. The network and callers come from the tags when present; without them
    (a stack made before the tags existed) the resolved VPC, subnets and security groups
    are returned as if the spec had named them.

    Raises:
        FluorideError: a parameter holds a value Fluoride never writes (naming it).

    .. versionadded:: 0.2.0
    """
    read = _reader(parameters)
    base = ServiceSpec()
    h, n, d, s, a = base.health, base.network, base.domain, base.stores, base.access
    net_words = _words(tags.get(NETWORK_TAG))
    vpc_default = net_words.get("vpc") == "default"
    ip_auto = net_words.get("ip") == "auto"
    callers = tuple(tags[CALLERS_TAG].split()) if CALLERS_TAG in tags else read(
        "AllowedCallerSecurityGroups", _items, n.allowed_callers)
    cidr_keys = [f"IngressCidr{i}" for i in range(1, 5)]
    cidrs = (tuple(parameters[k] for k in cidr_keys if parameters.get(k))
             if any(k in parameters for k in cidr_keys) else n.ingress_cidrs)
    table, bucket, secret = default_store_names or (None, None, None)
    # notify: the addresses, then the topic ARNs; with addresses, the stack's own topic
    # was appended to the actions last (see _notify_parameters)
    none: tuple[str, ...] = ()
    emails = read("NotifyEmails", _items, none)
    actions = read("AlarmActionArns", _items, none)
    notify = (*emails, *(actions[:-1] if emails else actions))

    def store_name(key: str, default_name: str | None) -> str | None:
        name = read(key, _text, None)
        return None if name == default_name else name

    return ServiceSpec(
        port=read("ContainerPort", int, base.port),
        health_path=read("HealthCheckPath", str, base.health_path),
        cpu=read("Cpu", int, base.cpu),
        memory=read("Memory", int, base.memory),
        min_count=read("MinCount", int, base.min_count),
        max_count=read("MaxCount", int, base.max_count),
        cpu_target=read("CpuTarget", int, base.cpu_target),
        requests_per_target=read("RequestsPerTarget", int, base.requests_per_target),
        health=HealthCheck(
            interval=read("HealthCheckInterval", int, h.interval),
            timeout=read("HealthCheckTimeout", int, h.timeout),
            healthy_threshold=read("HealthyThreshold", int, h.healthy_threshold),
            unhealthy_threshold=read("UnhealthyThreshold", int, h.unhealthy_threshold),
            grace_period=read("HealthCheckGracePeriod", int, h.grace_period),
        ),
        deregistration_delay=read("DeregistrationDelay", int, base.deregistration_delay),
        stop_timeout=read("StopTimeout", int, base.stop_timeout),
        idle_timeout=read("IdleTimeout", int, base.idle_timeout),
        network=Network(
            vpc_id=None if vpc_default else read("VpcId", _text, n.vpc_id),
            subnet_ids=() if vpc_default else read("SubnetIds", _items, n.subnet_ids),
            public=read("Public", _flag, n.public),
            ingress_cidrs=cidrs,
            allowed_callers=callers,
            assign_public_ip=None if ip_auto else read("AssignPublicIp", _public_ip,
                                                       n.assign_public_ip),
            endpoints=read("VpcEndpoints", _flag, n.endpoints),
        ),
        domain=Domain(
            hosted_zone_id=read("HostedZoneId", _text, d.hosted_zone_id),
            hosted_zone_name=read("HostedZoneName", _text, d.hosted_zone_name),
            subdomain=read("Subdomain", _text, d.subdomain),
            certificate_arn=read("CertificateArn", _text, d.certificate_arn),
            request_certificate=read("RequestCertificate", _flag, d.request_certificate),
            https_redirect=read("HttpsRedirect", _flag, d.https_redirect),
        ),
        stores=Stores(
            table=read("EnableTable", _flag, s.table),
            table_name=store_name("TableName", table),
            partition_key=read("TablePartitionKey", str, s.partition_key),
            ttl_attribute=read("TableTtlAttribute", str, s.ttl_attribute),
            bucket=read("EnableBucket", _flag, s.bucket),
            bucket_name=store_name("BucketName", bucket),
            secret=read("EnableSecret", _flag, s.secret),
            secret_name=store_name("SecretName", secret),
            secret_recovery_days=read("SecretRecoveryDays", int, s.secret_recovery_days),
        ),
        access=Access(
            extra_policy_arns=read("ExtraPolicyArns", _items, a.extra_policy_arns),
            permissions_boundary_arn=read("PermissionsBoundaryArn", _text,
                                          a.permissions_boundary_arn),
        ),
        compliance=read("Compliance", str, base.compliance),
        environment=environment,
        secret_env=secret_env,
        sidecars=sidecars,
        user=read("ContainerUser", _text, base.user),
        notify=notify,
        exec_enabled=read("EnableExec", _flag, base.exec_enabled),
        alarm_rollback=read("AlarmRollback", _flag, base.alarm_rollback),
        alarm_5xx_threshold=read("Alarm5xxThreshold", int, base.alarm_5xx_threshold),
        log_retention_days=read("LogRetentionDays", int, 30),
        access_log_retention_days=read("AccessLogRetentionDays", int,
                                       base.access_log_retention_days),
        keep_images=read("KeepImages", int, base.keep_images),
        gateway=read("Gateway", _text, base.gateway),
        project=tags.get("project") or None,
        team=tags.get("team") or None,
        contact=tags.get("contact") or None,
    )
