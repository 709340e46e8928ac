"""Every network interface has a private DNS name, DNS hostnames on or off.

moto 5.2.5 behaviour corrected: a network interface made in a VPC whose
``enableDnsHostnames`` is off gets no ``private_dns_name`` attribute at all, so an
``awsvpc`` ECS task placed there crashes inside moto's ``Task`` (``AttributeError``) and
never starts: a plain service in such a VPC could not deploy on the emulator. In AWS every
interface gets its private name (``ip-10-0-1-5.ec2.internal``); ``enableDnsHostnames``
governs public DNS names (and, with ``enableDnsSupport``, whether private names and
endpoint private DNS resolve).

With the shim an interface without a private DNS name gets one from its address, as moto
does when DNS hostnames are on.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models.elastic_network_interfaces import NetworkInterface
from moto.ec2.utils import generate_dns_from_ip

from fluoride.local.shims._patch import original, patch

__all__ = ["install"]


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    original(NetworkInterface, "__init__")(self, *args, **kwargs)
    if getattr(self, "private_dns_name", None) is None and self.private_ip_address:
        self.private_dns_name = generate_dns_from_ip(self.private_ip_address)
        for address in self.private_ip_addresses:
            if address.get("Primary"):
                address["PrivateDnsName"] = self.private_dns_name


def install() -> None:
    patch(NetworkInterface, "__init__", _init)
