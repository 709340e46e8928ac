"""What an environment should be: `EnvironmentSpec`, its rules and its template parameters.

An environment is one stack, ``fluoride-env-<name>``, holding an ECS gateway (a small
pool of shared HTTPS load balancers, ``AWS::ECS::Gateway`` of type ``HostSharedAlb``),
its infrastructure role and its access-log bucket. Services put behind it with
``ServiceSpec(gateway=<name>)`` own no load balancer.

The rules follow `ServiceSpec`'s: every bad field at once, each named with its value and
what is accepted, before any AWS call.

.. versionadded:: 0.3.0
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

import attrs

from fluoride.errors import ConfigError, FieldError
from fluoride.spec._rules import _Checker, _shown
from fluoride.spec._values import _str_tuple

ENVIRONMENT_NAME_MAX: Final = 24
"""Longest environment name (the stack is ``fluoride-env-<name>``, the gateway too)."""

SCHEMES: Final = ("internet-facing", "internal")
"""The gateway's load balancer schemes (``GatewayElbScheme`` in ECS's API)."""

MAX_ALBS: Final = 10
"""Most shared load balancers one gateway may run: AWS's default ``maxAlbCount``. A
higher limit is not documented in the published API model, so Fluoride does not offer
one."""

_ENV_NAME: Final = re.compile(r"[a-z][a-z0-9-]*")
_WAF_ACL_ARN: Final = re.compile(
    r"arn:aws[-a-z]*:wafv2:[a-z]{2}(-[a-z]+)+-\d:\d{12}:regional/webacl/[\w-]{1,128}/[-0-9a-f]{36}"
)


def environment_name_problems(name: object, field: str = "name") -> list[FieldError]:
    """Problems of an environment's name: 1 to 24 lowercase letters, digits and single
    hyphens, starting with a letter, not ending with a hyphen.

    >>> environment_name_problems("lab")
    []
    >>> environment_name_problems("Lab")[0].problem
    "'Lab' is not a valid environment name; it becomes part of the stack name fluoride-env-<name> and the gateway's name"
    """  # noqa: E501 - a doctest's expected output is one line
    allowed = (f"1 to {ENVIRONMENT_NAME_MAX} characters: lowercase letters, digits and single "
               "hyphens, starting with a letter and not ending with a hyphen")
    why = "it becomes part of the stack name fluoride-env-<name> and the gateway's name"
    if not isinstance(name, str):
        return [FieldError(field, f"must be a string, got {_shown(name)}", allowed=allowed)]
    if not name:
        return [FieldError(field, "must not be empty", allowed=allowed)]
    if len(name) > ENVIRONMENT_NAME_MAX:
        return [FieldError(field, f"{name!r} is {len(name)} characters long; {why}",
                           allowed=allowed)]
    if not _ENV_NAME.fullmatch(name) or "--" in name or name.endswith("-"):
        return [FieldError(field, f"{name!r} is not a valid environment name; {why}",
                           allowed=allowed)]
    return []


@attrs.frozen(kw_only=True)
class EnvironmentSpec:
    """What an environment should be: one ECS gateway shared by many services.

    >>> from fluoride import EnvironmentSpec
    >>> EnvironmentSpec(scheme="internal", ingress_cidrs=["10.0.0.0/8"]).validate()

    Attributes:
        scheme: ``"internet-facing"`` (the default) or ``"internal"``: where the gateway's
            shared load balancers answer. Both listen on HTTPS 443 only.
        max_albs: Most shared load balancers the gateway may run (1 to 10, AWS's
            default 10). Each costs ALB hours, whether or not it is busy.
        ingress_cidrs: 1 to 4 IPv4 networks allowed to reach the gateway on 443. With
            ``scheme="internal"`` it may be empty: then only the callers that the services
            behind the gateway name in ``network.allowed_callers`` reach it.
        waf_acl_arn: A regional AWS WAF web ACL (``arn:aws:wafv2:...:regional/webacl/...``)
            to associate with the gateway's load balancers; ``None``: no WAF.
        access_log_retention_days: Days the gateway's access logs are kept.
        vpc_id: The VPC; ``None``: the account's default VPC. Services behind the
            gateway run in the same VPC.
        subnet_ids: At least two subnets in different availability zones for the load
            balancers (give them with ``vpc_id``); empty: the default VPC's.
        project: ``project`` tag on the stack and its resources.
        team: ``team`` tag.
        contact: ``contact`` tag.

    .. versionadded:: 0.3.0
    """

    scheme: str = "internet-facing"
    max_albs: int = MAX_ALBS
    ingress_cidrs: tuple[str, ...] = attrs.field(default=("0.0.0.0/0",), converter=_str_tuple)
    waf_acl_arn: str | None = None
    access_log_retention_days: int = 90
    vpc_id: str | None = None
    subnet_ids: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    project: str | None = None
    team: str | None = None
    contact: str | None = None

    @property
    def public(self) -> bool:
        """Whether the gateway is internet-facing."""
        return self.scheme == "internet-facing"

    def problems(self) -> list[FieldError]:
        """Every bad field of this spec, in field order; empty when the spec is valid."""
        return _EnvironmentChecker().environment_spec(self)

    def validate(self) -> None:
        """Check every field; raise `ConfigError` listing all the bad ones."""
        problems = self.problems()
        if problems:
            raise ConfigError("The environment spec is invalid.", errors=problems)


class _EnvironmentChecker(_Checker):
    def environment_spec(self, spec: EnvironmentSpec) -> list[FieldError]:
        if not isinstance(spec.scheme, str) or spec.scheme not in SCHEMES:
            self.fail("scheme", f"{_shown(spec.scheme)} is not a load balancer scheme",
                      " or ".join(SCHEMES))
        self.integer("max_albs", spec.max_albs, 1, MAX_ALBS,
                     "shared load balancers; AWS's default limit is 10")
        cidrs = self.strings("ingress_cidrs", spec.ingress_cidrs, 0, 4, "IPv4 networks")
        if isinstance(spec.ingress_cidrs, tuple) and not spec.ingress_cidrs and (
                spec.scheme != "internal"):
            self.fail("ingress_cidrs", "is empty, so nothing could reach the gateway",
                      "1 to 4 IPv4 networks; empty only with scheme='internal', where the "
                      "services' network.allowed_callers then admit their callers")
        for i, cidr in enumerate(cidrs):
            try:
                ipaddress.IPv4Network(cidr, strict=True)
            except ValueError as exc:
                self.fail(f"ingress_cidrs[{i}]", f"{cidr!r} is not an IPv4 network ({exc})",
                          "a network like 10.0.0.0/16 or 0.0.0.0/0, host bits zero")
        waf = ("None, or a regional WAF web ACL ARN like arn:aws:wafv2:eu-west-1:"
               "123456789012:regional/webacl/<name>/<id>")
        if spec.waf_acl_arn is not None and (
            not isinstance(spec.waf_acl_arn, str) or not _WAF_ACL_ARN.fullmatch(spec.waf_acl_arn)
        ):
            self.fail("waf_acl_arn", f"{_shown(spec.waf_acl_arn)} is not a regional WAF web "
                      "ACL ARN", waf)
        self.integer("access_log_retention_days", spec.access_log_retention_days, 1,
                     why="days")
        self.vpc_and_subnets("", spec.vpc_id, spec.subnet_ids)
        for tag in ("project", "team", "contact"):
            self.tag(tag, getattr(spec, tag))
        return self.errors


def environment_spec_problems(spec: object, field: str = "spec") -> list[FieldError]:
    """Problems of a ``spec`` argument that must be an `EnvironmentSpec` (or ``None``, the
    defaults), its own problems included."""
    if spec is None:
        return []
    if not isinstance(spec, EnvironmentSpec):
        return [FieldError(field, f"must be an EnvironmentSpec, got {_shown(spec)}",
                           allowed="None (the defaults) or EnvironmentSpec(scheme=..., ...)")]
    return spec.problems()


def environment_parameters(name: str, spec: EnvironmentSpec, *, vpc_id: str,
                           subnet_ids: tuple[str, ...], vpc_cidr: str) -> dict[str, str]:
    """The parameters of ``templates/environment.yaml`` for a valid ``spec``, with the
    network already resolved (the default VPC's, when the spec names none)."""
    cidrs = list(spec.ingress_cidrs) + [""] * (4 - len(spec.ingress_cidrs))
    return {
        "EnvironmentName": name,
        "Scheme": spec.scheme,
        "MaxAlbs": str(spec.max_albs),
        "VpcId": vpc_id,
        "VpcCidr": vpc_cidr,
        "SubnetIds": ",".join(subnet_ids),
        **{f"IngressCidr{i + 1}": cidr for i, cidr in enumerate(cidrs)},
        "WafAclArn": spec.waf_acl_arn or "",
        "AccessLogRetentionDays": str(spec.access_log_retention_days),
    }


def environment_from_parameters(parameters: dict[str, str]) -> EnvironmentSpec:
    """The `EnvironmentSpec` a stack's parameters describe (the inverse of
    `environment_parameters`, network kept as given)."""
    cidrs = tuple(parameters.get(f"IngressCidr{i}", "") for i in range(1, 5))
    return EnvironmentSpec(
        scheme=parameters.get("Scheme", "internet-facing"),
        max_albs=int(parameters.get("MaxAlbs", MAX_ALBS)),
        ingress_cidrs=tuple(c for c in cidrs if c),
        waf_acl_arn=parameters.get("WafAclArn") or None,
        access_log_retention_days=int(parameters.get("AccessLogRetentionDays", 90)),
        vpc_id=parameters.get("VpcId") or None,
        subnet_ids=tuple(s for s in parameters.get("SubnetIds", "").split(",") if s),
    )
