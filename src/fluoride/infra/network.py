"""EC2: find the network a service runs in (the default VPC unless the spec names one)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from fluoride.aws import Aws, translate
from fluoride.errors import ConfigError, NoDefaultVpc

__all__ = ["ResolvedNetwork", "resolve_network"]


@attrs.frozen
class ResolvedNetwork:
    """The VPC and subnets a service uses.

    Attributes:
        vpc_id: the VPC.
        subnet_ids: subnets in at least two availability zones.
        is_default: ``True`` when Fluoride chose the account's default VPC.
    """

    vpc_id: str
    subnet_ids: tuple[str, ...]
    is_default: bool


def resolve_network(aws: Aws, vpc_id: str | None, subnet_ids: Sequence[str]) -> ResolvedNetwork:
    """The spec's network, or the default VPC with one default subnet per zone.

    Raises :class:`NoDefaultVpc` when nothing was given and the account has no default VPC
    (or it spans fewer than two zones); :class:`ConfigError` when given subnets are not in
    the VPC or span fewer than two zones.
    """
    ec2 = aws.client("ec2")
    if vpc_id is None:
        with translate("DescribeVpcs"):
            vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        if not vpcs:
            raise NoDefaultVpc(
                f"No network was given and the account has no default VPC in {aws.region}.",
                hint="Set network.vpc_id and network.subnet_ids (two zones or more) in the "
                "spec, or create a default VPC: `aws ec2 create-default-vpc`.",
            )
        vpc_id = vpcs[0]["VpcId"]
        with translate("DescribeSubnets", vpc_id):
            subnets = ec2.describe_subnets(
                Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
            )["Subnets"]
        by_zone: dict[str, str] = {}
        for subnet in sorted(subnets, key=lambda s: (not s.get("DefaultForAz"), s["SubnetId"])):
            by_zone.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
        if len(by_zone) < 2:
            raise NoDefaultVpc(
                f"The default VPC {vpc_id} has subnets in {len(by_zone)} availability zone(s); "
                "a load balancer needs two.",
                resource=vpc_id,
                hint="Add a default subnet (`aws ec2 create-default-subnet`) or name a network "
                "in the spec.",
            )
        chosen = tuple(by_zone[z] for z in sorted(by_zone))
        return ResolvedNetwork(vpc_id=vpc_id, subnet_ids=chosen, is_default=True)

    with translate("DescribeSubnets", vpc_id):
        subnets = ec2.describe_subnets(SubnetIds=list(subnet_ids))["Subnets"]
    wrong = sorted(s["SubnetId"] for s in subnets if s["VpcId"] != vpc_id)
    if wrong:
        raise ConfigError(
            f"Subnets {', '.join(wrong)} are not in {vpc_id}.",
            hint="network.subnet_ids must all belong to network.vpc_id.",
        )
    zones = {s["AvailabilityZone"] for s in subnets}
    if len(zones) < 2:
        raise ConfigError(
            "network.subnet_ids span one availability zone; a load balancer needs two.",
            hint="Add a subnet in another zone.",
        )
    return ResolvedNetwork(vpc_id=vpc_id, subnet_ids=tuple(subnet_ids), is_default=False)
