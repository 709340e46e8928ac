"""A task's network interface takes a free address inside its subnet.

moto 5.2.5 behaviour corrected: an ``awsvpc`` task's ENI gets a random ``10.x.y.z``
address whatever its subnet, so in the default VPC (``172.31.0.0/16``) the address that
``DescribeTasks`` and ``DescribeNetworkInterfaces`` report lies outside the subnet the
task runs in (and two tasks can draw the same address).

With the shim the address is the lowest one of the subnet that no other network
interface or instance of the subnet holds, skipping the four addresses AWS reserves at
the start of every subnet and the last one, as the VPC's DHCP does. The ENI's private
addresses, its private DNS name and the task's attachment details agree with it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from moto.ec2.models import ec2_backends
from moto.ec2.utils import generate_dns_from_ip
from moto.ecs.models import Task

from fluoride.local.shims._patch import original, patch

__all__ = ["free_address", "install"]

#: Addresses AWS reserves at the start of each subnet (network, router, DNS, future use).
RESERVED_AT_START = 4


def _candidates(cidr: str) -> Iterator[str]:
    network = ipaddress.IPv4Network(cidr)
    first = int(network.network_address) + RESERVED_AT_START
    last = int(network.broadcast_address) - 1
    for value in range(first, last + 1):
        yield str(ipaddress.IPv4Address(value))


def free_address(cidr: str, taken: set[str]) -> str | None:
    """The lowest usable address of ``cidr`` that is not in ``taken`` (``None``: full)."""
    return next((ip for ip in _candidates(cidr) if ip not in taken), None)


def _taken(ec2: Any, subnet: Any, eni: Any) -> set[str]:
    taken = {str(ip) for ip in getattr(subnet, "_subnet_ips", {})}
    for other in ec2.enis.values():
        if other is not eni and getattr(other.subnet, "id", None) == subnet.id:
            taken.update(a.get("PrivateIpAddress", "") for a in other.private_ip_addresses)
            taken.add(str(other.private_ip_address))
    return taken


def _readdress(task: Any) -> None:
    details = {d["name"]: d for a in task.attachments for d in a.get("details", [])}
    if "networkInterfaceId" not in details:
        return
    ec2 = ec2_backends[task._account_id][task.region_name]
    eni = ec2.enis.get(details["networkInterfaceId"]["value"])
    if eni is None or eni.subnet is None:
        return
    address = free_address(eni.subnet.cidr_block, _taken(ec2, eni.subnet, eni))
    if address is None:
        return  # a full subnet: AWS would refuse the task; keep moto's address
    eni.private_ip_address = address
    eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": address}]
    if getattr(eni, "private_dns_name", None):
        eni.private_dns_name = generate_dns_from_ip(address)
        eni.private_ip_addresses[0]["PrivateDnsName"] = eni.private_dns_name
    details["privateIPv4Address"]["value"] = address
    if "privateDnsName" in details:
        details["privateDnsName"]["value"] = getattr(eni, "private_dns_name", None)


def _task_init(self: Any, *args: Any, **kwargs: Any) -> None:
    original(Task, "__init__")(self, *args, **kwargs)
    _readdress(self)


def install() -> None:
    patch(Task, "__init__", _task_init)
