"""CloudFormation applies a security group's ``SecurityGroupEgress`` rules.

moto 5.2.5 behaviour corrected: ``AWS::EC2::SecurityGroup`` created by CloudFormation
ignores ``SecurityGroupEgress``: the group keeps the allow-all egress rule every new VPC
group starts with, and none of the template's egress rules. On AWS, egress rules given
in the template *replace* the default rule, so a group that may only reach its tasks'
port, or only HTTPS, says so in ``DescribeSecurityGroups``.

With the shim, when the template gives egress rules, the default allow-all rule is
revoked and each rule is authorised (``CidrIp``, ``CidrIpv6``,
``DestinationSecurityGroupId``, ``DestinationPrefixListId``, with its description). A
group without ``SecurityGroupEgress`` keeps the default rule, as on AWS. moto's update
(delete the group and create it again) goes through the same create.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models import ec2_backends
from moto.ec2.models.security_groups import SecurityGroup

from fluoride.local.shims._model import Creation, patch_model

__all__ = ["egress_permission", "install"]


def egress_permission(rule: dict[str, Any]) -> dict[str, Any]:
    """One CloudFormation egress rule as moto's ``authorize_security_group_egress`` takes it."""
    description = rule.get("Description")
    ip_ranges: list[dict[str, Any]] = []
    if rule.get("CidrIp"):
        ip_ranges.append({"CidrIp": str(rule["CidrIp"]), "Description": description})
    if rule.get("CidrIpv6"):
        ip_ranges.append({"CidrIpv6": str(rule["CidrIpv6"]), "Description": description})
    groups = []
    if rule.get("DestinationSecurityGroupId"):
        groups.append({"GroupId": str(rule["DestinationSecurityGroupId"]),
                       "Description": description})
    prefix_lists = []
    if rule.get("DestinationPrefixListId"):
        prefix_lists.append({"PrefixListId": str(rule["DestinationPrefixListId"]),
                             "Description": description})
    protocol = str(rule["IpProtocol"])
    all_ports = protocol == "-1"
    return {
        "ip_protocol": protocol,
        "from_port": None if all_ports else rule.get("FromPort"),
        "to_port": None if all_ports else rule.get("ToPort"),
        "ip_ranges": ip_ranges,
        "source_groups": groups,
        "prefix_list_ids": prefix_lists,
    }


def _is_default_egress(rule: Any) -> bool:
    return bool(rule.ip_protocol == "-1" and not rule.source_group and not rule.prefix_list_id
                and rule.ip_range in ({"CidrIp": "0.0.0.0/0"}, {"CidrIpv6": "::/0"}))


def _create(creation: Creation) -> Any:
    group = creation.moto_create(SecurityGroup)
    rules = creation.properties.get("SecurityGroupEgress") or []
    if not rules:
        return group
    group.egress_rules = [r for r in group.egress_rules if not _is_default_egress(r)]
    backend: Any = creation.backend(ec2_backends)
    for rule in rules:
        backend.authorize_security_group_egress(
            group.id, vpc_id=group.vpc_id, **egress_permission(rule))
    return group


def install() -> None:
    patch_model(SecurityGroup, create=_create)
