"""Who may call a service: its spec's ``allowed_callers`` resolved to security group ids.

An entry starting with ``sg-`` is a security group id and is used as it is. Any other
entry names another Fluoride service in the same account and region: its tasks'
security group (the stack output ``TaskSecurityGroupId``) is allowed to reach this
service's load balancer, so that service's containers can call this one, and nothing
else of it can.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Sequence

from fluoride.aws import Aws
from fluoride.errors import ConfigError, FieldError
from fluoride.infra.stack import Stack
from fluoride.names import stack_name

__all__ = ["caller_security_groups"]


def caller_security_groups(aws: Aws, callers: Sequence[str], *, vpc_id: str) -> list[str]:
    """The security group ids for ``callers``, in order.

    Raises :class:`ConfigError` listing every entry that names no Fluoride service, a
    service from an older Fluoride without the ``TaskSecurityGroupId`` output, or a
    service in another VPC than ``vpc_id`` (a security group rule cannot name a group of
    another VPC).
    """
    groups: list[str] = []
    errors: list[FieldError] = []
    for i, caller in enumerate(callers):
        field = f"network.allowed_callers[{i}]"
        if caller.startswith("sg-"):
            groups.append(caller)
            continue
        info = Stack(aws, stack_name(caller)).describe()
        if info is None:
            errors.append(
                FieldError(
                    field,
                    f"there is no Fluoride service {caller!r} in {aws.region}",
                    allowed="a service of this account and region, or sg-...",
                )
            )
            continue
        group = info.outputs.get("TaskSecurityGroupId", "")
        if not group:
            errors.append(
                FieldError(
                    field,
                    f"the service {caller!r} does not publish its "
                    "tasks' security group (created by an older "
                    "Fluoride)",
                    allowed="update that service first, or give its sg-...",
                )
            )
            continue
        other_vpc = info.parameters.get("VpcId", vpc_id)
        if other_vpc != vpc_id:
            errors.append(
                FieldError(
                    field,
                    f"the service {caller!r} runs in {other_vpc}, not in {vpc_id}",
                    allowed="a service in the same VPC",
                )
            )
            continue
        groups.append(group)
    if errors:
        raise ConfigError("Some allowed_callers cannot be resolved.", errors=errors)
    return groups
