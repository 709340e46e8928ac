"""``AWS::EC2::SecurityGroupIngress`` gets a physical id, keeps its description and is
deleted with the stack.

moto 5.2.5 behaviour corrected: the resource authorises the rule but has no physical id
(``ListStackResources`` shows an empty ``PhysicalResourceId``; AWS shows the rule's
``sgr-`` id) and no delete, so the rule outlives the stack (until its group goes); and a
rule from a source security group loses its ``Description`` (moto keeps it only for a
``CidrIp``).

With the shim the physical id is the security group rule id, a source group's rule keeps
its description (``UserIdGroupPairs[].Description``), and deleting the resource revokes
the rule.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models import ec2_backends
from moto.ec2.models.security_groups import SecurityGroupIngress

from fluoride.local._errors import tolerated
from fluoride.local.shims._model import Creation, patch_model
from fluoride.local.shims._patch import patch

__all__ = ["install"]


def _create(creation: Creation) -> Any:
    properties = creation.properties
    backend: Any = creation.backend(ec2_backends)
    group_id = properties.get("GroupId")
    group = (
        backend.describe_security_groups(group_ids=[group_id])[0] if group_id
        else backend.describe_security_groups(groupnames=[properties.get("GroupName")])[0]
    )
    before = {rule.id for rule in group.ingress_rules}
    ingress = creation.moto_create(SecurityGroupIngress)
    ingress.rule_ids = [rule.id for rule in group.ingress_rules if rule.id not in before]
    description = properties.get("Description")
    for rule in group.ingress_rules:
        if rule.id in ingress.rule_ids and rule.source_group and description:
            rule.source_group["Description"] = description
    return ingress


def _physical_id(self: Any) -> str:
    ids = getattr(self, "rule_ids", None) or []
    return str(ids[0]) if ids else ""


def _delete(self: Any, account_id: str, region_name: str) -> None:
    group = self.security_group
    ids = set(getattr(self, "rule_ids", None) or [])
    # The group (and its rules) may have gone first.
    with tolerated(f"revoking ingress rules {sorted(ids)}"):
        group.ingress_rules = [rule for rule in group.ingress_rules if rule.id not in ids]


def install() -> None:
    patch_model(SecurityGroupIngress, create=_create, delete=_delete)
    patch(SecurityGroupIngress, "physical_resource_id", property(_physical_id))
