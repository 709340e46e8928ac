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

from typing import Any

from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.ecs.models import Cluster, ecs_backends

from fluoride.local._errors import tolerated
from fluoride.local.shims._model import Creation, ecs_tags, patch_model

__all__ = ["install"]


def _create(creation: Creation) -> Any:
    p = remap_nested_keys(creation.properties, pascal_to_camelcase)
    return creation.backend(ecs_backends).create_cluster(
        cluster_name=p.get("clusterName") or creation.resource_name,
        tags=ecs_tags(p.get("tags", [])) or None,
        cluster_settings=p.get("clusterSettings"),
        configuration=p.get("configuration"),
        capacity_providers=p.get("capacityProviders"),
        default_capacity_provider_strategy=p.get("defaultCapacityProviderStrategy"),
        service_connect_defaults=p.get("serviceConnectDefaults"),
    )


def _update(cluster: Any, creation: Creation) -> Any:
    p = remap_nested_keys(creation.properties, pascal_to_camelcase)
    name = p.get("clusterName") or cluster.name
    if name != cluster.name:
        return creation.replace(cluster, _create)
    if "clusterSettings" in p:
        cluster.settings = p["clusterSettings"]
    if "configuration" in p:
        cluster.configuration = p["configuration"]
    return cluster


def _delete(self: Any, account_id: str, region_name: str) -> None:
    with tolerated(f"deleting ECS cluster {self.arn}"):  # may be deleted already
        ecs_backends[account_id][region_name].delete_cluster(self.arn)


def install() -> None:
    patch_model(Cluster, create=_create, update=_update, delete=_delete)
