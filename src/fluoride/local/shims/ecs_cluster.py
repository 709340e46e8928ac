"""CloudFormation keeps an ECS cluster's settings and deletes the cluster with the stack.

moto 5.2.5 behaviour corrected: ``AWS::ECS::Cluster`` created by CloudFormation keeps only
its name (``ClusterSettings`` such as Container Insights, configuration, capacity
providers and tags are dropped), and the model has no delete, so deleting the stack
leaves the cluster ACTIVE.

With the shim the cluster is created with its settings, configuration, capacity
providers and tags; deleting the resource deletes the cluster (INACTIVE, as AWS reports
a deleted cluster).
"""

from __future__ import annotations

import contextlib
from typing import Any

from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.ecs.models import Cluster, ecs_backends

from fluoride.local.shims._patch import patch

__all__ = ["install"]


def _create(
    cls: type[Any],
    /,
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Any:
    p = remap_nested_keys(cloudformation_json.get("Properties") or {}, pascal_to_camelcase)
    tags = [{"key": t["key"], "value": str(t["value"])} for t in p.get("tags", [])]
    return ecs_backends[account_id][region_name].create_cluster(
        cluster_name=p.get("clusterName") or resource_name,
        tags=tags or None,
        cluster_settings=p.get("clusterSettings"),
        configuration=p.get("configuration"),
        capacity_providers=p.get("capacityProviders"),
        default_capacity_provider_strategy=p.get("defaultCapacityProviderStrategy"),
        service_connect_defaults=p.get("serviceConnectDefaults"),
    )


def _update(
    cls: type[Any],
    /,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Any:
    p = remap_nested_keys(cloudformation_json.get("Properties") or {}, pascal_to_camelcase)
    name = p.get("clusterName") or original_resource.name
    if name != original_resource.name:
        original_resource.delete(account_id, region_name)
        return _create(cls, new_resource_name, cloudformation_json, account_id, region_name)
    if "clusterSettings" in p:
        original_resource.settings = p["clusterSettings"]
    if "configuration" in p:
        original_resource.configuration = p["configuration"]
    return original_resource


def _delete(self: Any, account_id: str, region_name: str) -> None:
    with contextlib.suppress(Exception):  # already deleted
        ecs_backends[account_id][region_name].delete_cluster(self.arn)


def install() -> None:
    patch(Cluster, "create_from_cloudformation_json", classmethod(_create))
    patch(Cluster, "update_from_cloudformation_json", classmethod(_update))
    patch(Cluster, "delete", _delete)
