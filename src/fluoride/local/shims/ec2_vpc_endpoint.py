"""``AWS::EC2::VPCEndpoint`` is deleted with its stack, and keeps its policy as JSON.

moto 5.2.5 behaviour corrected: the resource has no CloudFormation delete, so a stack's
deletion completes and leaves its endpoints ``available`` (and a gateway endpoint's
routes in its route tables); in AWS they go with the stack, and a leftover endpoint with
private DNS would block the VPC's next one. moto also keeps a template's
``PolicyDocument`` (a mapping) as its Python ``repr``, which ``DescribeVpcEndpoints``
returns as the policy: not JSON. And an update has no model of its own.

With the shim the policy is stored as JSON, deleting the resource deletes the endpoint
(its network interfaces or routes) and drops it from ``DescribeVpcEndpoints``, and an
update replaces the endpoint.
"""

from __future__ import annotations

import json
from typing import Any

from moto.ec2.models import ec2_backends
from moto.ec2.models.vpcs import VPCEndPoint

from fluoride.local._errors import tolerated
from fluoride.local.shims._model import Creation, patch_model

__all__ = ["install"]


def _create(creation: Creation) -> Any:
    properties = creation.properties
    policy = properties.get("PolicyDocument")
    if policy is not None and not isinstance(policy, str):
        properties["PolicyDocument"] = json.dumps(policy)
    return creation.moto_create(VPCEndPoint, properties)


def _update(resource: Any, creation: Creation) -> Any:
    return creation.replace(resource, _create)


def _delete(self: Any, account_id: str, region_name: str) -> None:
    backend: Any = ec2_backends[account_id][region_name]
    # The route table (or the VPC) may have gone first.
    with tolerated(f"deleting VPC endpoint {self.id}"):
        backend.delete_vpc_endpoints([self.id])
    backend.vpc_end_points.pop(self.id, None)


def install() -> None:
    patch_model(VPCEndPoint, create=_create, update=_update, delete=_delete)
