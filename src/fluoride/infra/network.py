"""EC2: find the network a service runs in (the default VPC unless the spec names one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs

from fluoride.aws import Aws, translate
from fluoride.errors import ConfigError, FieldError, NoDefaultVpc

__all__ = [
    "GATEWAY_ENDPOINTS",
    "INTERFACE_ENDPOINTS",
    "ResolvedNetwork",
    "endpoint_preflight",
    "resolve_network",
]


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


#: The interface endpoints ``network.endpoints`` creates (``kms`` under strict too), and
#: its gateway endpoints.
INTERFACE_ENDPOINTS: Final = ("ecr.api", "ecr.dkr", "logs", "secretsmanager")
GATEWAY_ENDPOINTS: Final = ("s3", "dynamodb")
_GONE: Final = frozenset({"deleting", "deleted", "rejected", "failed", "expired"})


def endpoint_preflight(aws: Aws, vpc_id: str, subnet_ids: Sequence[str], *,
                       new: bool = True, strict: bool = False) -> tuple[str, ...]:
    """Before a change set that creates VPC endpoints (``network.endpoints``): check that
    the VPC resolves private DNS names, and return the route tables of ``subnet_ids``
    (each subnet's own, or the VPC's main one), which the S3 and DynamoDB gateway
    endpoints join.

    The route tables are looked up, not asked for in the spec: the subnets decide which
    route table their traffic takes, and a separate list could disagree with them.

    ``new``: the stack has no endpoints yet, so any endpoint of the same service already
    in the VPC (interface, private DNS) or on these route tables (gateway) is someone
    else's, and AWS would refuse the second one: that is checked too.

    Raises :class:`ConfigError` naming ``network.vpc_id`` when the VPC has DNS support or
    DNS hostnames off (interface endpoints with private DNS need both),
    ``network.subnet_ids`` when a subnet has no route table at all, or
    ``network.endpoints`` when the VPC already has such endpoints.
    """
    ec2 = aws.client("ec2")
    off = []
    with translate("DescribeVpcAttribute", vpc_id):
        support = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")
        hostnames = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
    if not support.get("EnableDnsSupport", {}).get("Value", False):
        off.append("enableDnsSupport")
    if not hostnames.get("EnableDnsHostnames", {}).get("Value", False):
        off.append("enableDnsHostnames")
    if off:
        raise ConfigError(
            f"network.endpoints needs DNS in {vpc_id}, and its {' and '.join(off)} "
            f"{'is' if len(off) == 1 else 'are'} off.",
            errors=[FieldError("network.vpc_id", f"{vpc_id!r} has {', '.join(off)} off: "
                               "interface endpoints with private DNS cannot answer there",
                               allowed="a VPC with enableDnsSupport and enableDnsHostnames "
                               "on, or network.endpoints = false")],
            hint="Turn both on: `aws ec2 modify-vpc-attribute --vpc-id "
            f"{vpc_id} --enable-dns-support` and `... --enable-dns-hostnames`.",
        )
    with translate("DescribeRouteTables", vpc_id):
        tables = ec2.describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
    main: str | None = None
    by_subnet: dict[str, str] = {}
    for table in tables:
        for assoc in table.get("Associations", []):
            if assoc.get("Main"):
                main = table["RouteTableId"]
            elif assoc.get("SubnetId"):
                by_subnet[assoc["SubnetId"]] = table["RouteTableId"]
    chosen: list[str] = []
    for subnet in subnet_ids:
        table_id = by_subnet.get(subnet, main)
        if table_id is None:
            raise ConfigError(
                f"Subnet {subnet} has no route table, and {vpc_id} has no main one.",
                errors=[FieldError("network.subnet_ids", f"{subnet!r} has no route table",
                                   allowed="subnets with a route table (their own or the "
                                   "VPC's main one)")],
            )
        if table_id not in chosen:
            chosen.append(table_id)
    if new:
        _refuse_taken(aws, vpc_id, chosen, strict=strict)
    return tuple(sorted(chosen))


def _refuse_taken(aws: Aws, vpc_id: str, route_tables: Sequence[str], *, strict: bool) -> None:
    interface = (*INTERFACE_ENDPOINTS, "kms") if strict else INTERFACE_ENDPOINTS
    prefix = f"com.amazonaws.{aws.region}."
    with translate("DescribeVpcEndpoints", vpc_id):
        found = aws.client("ec2").describe_vpc_endpoints(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]
    taken = []
    for endpoint in found:
        name = endpoint.get("ServiceName", "").removeprefix(prefix)
        if str(endpoint.get("State", "")).lower() in _GONE:
            continue
        if (name in interface and endpoint.get("PrivateDnsEnabled")) or (
                name in GATEWAY_ENDPOINTS
                and set(endpoint.get("RouteTableIds", [])) & set(route_tables)):
            taken.append(f"{name} ({endpoint['VpcEndpointId']})")
    if taken:
        raise ConfigError(
            f"{vpc_id} already has VPC endpoints that network.endpoints would create again.",
            errors=[FieldError("network.endpoints", f"is true, but {vpc_id} already has "
                               f"{', '.join(sorted(taken))}: AWS allows one private-DNS "
                               "endpoint per service in a VPC, and one gateway endpoint per "
                               "service on a route table",
                               allowed="false: the VPC's own endpoints already serve the "
                               "tasks (check their policies admit this service)")],
        )
