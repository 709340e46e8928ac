"""Amazon ECS Gateway: the gateway API, its CloudFormation types and services' connectors.

moto 5.2.5 behaviour corrected: ECS Gateway does not exist in moto. ``CreateGateway`` and
every other gateway operation fail (``The create_gateway action has not been implemented``),
CloudFormation skips ``AWS::ECS::Gateway`` and ``AWS::ECS::GatewayClusterAssociations``
with a warning (the stack completes with no gateway, and an output that refers to the
gateway is silently dropped), and ``gatewayConnectors`` on ``CreateService`` / ``UpdateService`` (or
``GatewayConnectors`` on ``AWS::ECS::Service``) is dropped without a word: the service gets
no route, no URL and nothing checks its health.

With the shim (state and rules in :mod:`fluoride.local._gateway`), on botocore 1.44.8's
shapes: ``CreateGateway``, ``DescribeGateway``, ``UpdateGateway``, ``DeleteGateway``,
``ListGateways``, ``AssociateGatewayWithCluster``, ``DisassociateGatewayFromCluster``,
``ListGatewayClusterAssociations``, ``ListGatewayRoutes``, ``DescribeGatewayRoute`` and
``DescribeGatewayResources`` answer as the API reference says (and the tagging operations
take a gateway's ARN); a service with a gateway
connector gets a route per compatible gateway (a shared ALB, HTTPS listener, certificate,
host-name rule and target group in moto's ELBv2), its tasks register in the route's target
group, and its rollouts are judged on that target health as behind its own ALB.
CloudFormation creates, updates and deletes ``AWS::ECS::Gateway`` (``Ref``: the ARN;
``GetAtt``: ``Arn``, ``Status``, ``AccessType``, ``CreatedAt``, ``UpdatedAt``,
``Configuration.HostSharedAlb.CurrentAlbCount``) and ``AWS::ECS::GatewayClusterAssociations``
(``Ref``: ``<gateway ARN>|<cluster ARN>``; ``GetAtt``: ``GatewayArn``, ``ClusterArn``,
``Status``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from moto.core.responses import ActionResult
from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.models import EC2ContainerServiceBackend, ecs_backends
from moto.ecs.responses import EC2ContainerServiceResponse

from fluoride.local import _gateway
from fluoride.local._errors import tolerated
from fluoride.local.shims._model import Creation, ShimResource, as_bool
from fluoride.local.shims._patch import original, patch, register_model

__all__ = ["GatewayAssociationResource", "GatewayResource", "install"]


def _page(items: list[Any], max_results: Any, next_token: Any, *, default: int,
          maximum: int | None = None) -> tuple[list[Any], str | None]:
    """One page of ``items`` and the token of the next (an index, as the emulator's own)."""
    size = default if max_results is None else int(max_results)
    if size < 1 or (maximum is not None and size > maximum):
        limit = f"1-{maximum}" if maximum is not None else "at least 1"
        raise InvalidParameterException(f"maxResults {size} is not in {limit}.")
    try:
        start = int(next_token) if next_token else 0
    except ValueError:
        raise InvalidParameterException(
            f"nextToken '{next_token}' is not valid.") from None
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


def _where(self: Any) -> tuple[str, str]:
    return self.ecs_backend.account_id, self.ecs_backend.region_name


# ------------------------------------------------------------------ the API


def _create_gateway(self: Any) -> ActionResult:
    gateway = _gateway.create_gateway(*_where(self), self._get_params())
    return ActionResult({"gatewayArn": gateway.arn, "name": gateway.name,
                         "status": gateway.status})


def _describe_gateway(self: Any) -> ActionResult:
    gateway = _gateway.find_gateway(*_where(self), str(self._get_param("gateway")))
    return ActionResult({"gateway": _gateway.gateway_view(gateway)})


def _update_gateway(self: Any) -> ActionResult:
    gateway = _gateway.update_gateway(*_where(self), self._get_params())
    return ActionResult({"gatewayArn": gateway.arn, "name": gateway.name,
                         "status": gateway.status})


def _delete_gateway(self: Any) -> ActionResult:
    gateway = _gateway.delete_gateway(*_where(self), str(self._get_param("gateway")))
    return ActionResult({"gatewayArn": gateway.arn, "name": gateway.name,
                         "status": gateway.status})


def _list_gateways(self: Any) -> ActionResult:
    gateways = _gateway.list_gateways(*_where(self), self._get_param("names"),
                                      self._get_param("status"))
    page, token = _page(gateways, self._get_param("maxResults"), self._get_param("nextToken"),
                        default=100)
    return ActionResult({"gateways": [{"gatewayArn": g.arn, "name": g.name, "status": g.status,
                                       "createdAt": g.created_at} for g in page],
                         "nextToken": token})


def _associate(self: Any) -> ActionResult:
    gateway, cluster = _gateway.associate(self.ecs_backend, str(self._get_param("gateway")),
                                          str(self._get_param("cluster")))
    return ActionResult({"gatewayArn": gateway.arn, "clusterArn": cluster.arn,
                         "status": "ACTIVE"})


def _disassociate(self: Any) -> ActionResult:
    gateway, cluster = _gateway.disassociate(self.ecs_backend, str(self._get_param("gateway")),
                                             str(self._get_param("cluster")))
    return ActionResult({"gatewayArn": gateway.arn, "clusterArn": cluster.arn,
                         "status": "DISASSOCIATING"})


def _list_associations(self: Any) -> ActionResult:
    found = _gateway.list_associations(*_where(self), self._get_param("gateway"),
                                       self._get_param("cluster"), self._get_param("status"))
    page, token = _page(found, self._get_param("maxResults"), self._get_param("nextToken"),
                        default=100)
    return ActionResult({"gatewayClusterAssociations": page, "nextToken": token})


def _list_routes(self: Any) -> ActionResult:
    routes = _gateway.list_routes(self.ecs_backend, self._get_params())
    page, token = _page(routes, self._get_param("maxResults"), self._get_param("nextToken"),
                        default=100)
    return ActionResult({"gatewayRoutes": [_gateway.route_summary(r) for r in page],
                         "nextToken": token})


def _describe_route(self: Any) -> ActionResult:
    route = _gateway.find_route(*_where(self), str(self._get_param("gatewayRouteArn")))
    return ActionResult({"gatewayRoute": _gateway.route_view(route)})


def _describe_resources(self: Any) -> ActionResult:
    gateway = _gateway.find_gateway(*_where(self), str(self._get_param("gateway")))
    resources = _gateway.describe_resources(*_where(self), gateway.arn)
    page, token = _page(resources, self._get_param("maxResults"), self._get_param("nextToken"),
                        default=10, maximum=20)
    return ActionResult({"gatewayResources": {"gatewayArn": gateway.arn,
                                              "resources": {"hostSharedAlb": page}},
                         "nextToken": token})


#: Response method (moto's snake_case of the operation) -> handler.
OPERATIONS: dict[str, Callable[[Any], ActionResult]] = {
    "create_gateway": _create_gateway,
    "describe_gateway": _describe_gateway,
    "update_gateway": _update_gateway,
    "delete_gateway": _delete_gateway,
    "list_gateways": _list_gateways,
    "associate_gateway_with_cluster": _associate,
    "disassociate_gateway_from_cluster": _disassociate,
    "list_gateway_cluster_associations": _list_associations,
    "list_gateway_routes": _list_routes,
    "describe_gateway_route": _describe_route,
    "describe_gateway_resources": _describe_resources,
}


# ------------------------------------------------------------------ CloudFormation


def _camel(properties: dict[str, Any]) -> dict[str, Any]:
    camel: dict[str, Any] = remap_nested_keys(properties, pascal_to_camelcase)
    return camel


def _int(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value


def _without_none(value: Any) -> Any:
    """What ``AWS::NoValue`` leaves (``None``) dropped, as CloudFormation drops it."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value if v is not None]
    return value


def _gateway_request(properties: dict[str, Any]) -> dict[str, Any]:
    """``AWS::ECS::Gateway`` properties as a CreateGateway request."""
    p = _without_none(_camel(properties))
    variant = dict((p.get("configuration") or {}).get("hostSharedAlb") or {})
    variant.pop("currentAlbCount", None)  # read-only
    for key in ("maxAlbCount", "port"):
        if key in variant:
            variant[key] = _int(variant[key])
    network = variant.get("networkConfiguration") or {}
    if isinstance(network.get("subnets"), str):  # a list parameter, as moto may pass it
        network["subnets"] = [s.strip() for s in network["subnets"].split(",") if s.strip()]
    request: dict[str, Any] = {
        "name": p.get("gatewayName"),
        "infrastructureRoleArn": p.get("infrastructureRoleArn"),
        "configuration": {"hostSharedAlb": variant},
        "deletionProtection": as_bool(p.get("deletionProtection"), default=True),
        "tags": [{"key": str(t["key"]), "value": str(t.get("value", ""))}
                 for t in p.get("tags") or []],
    }
    if p.get("propagateTags") is not None:
        request["propagateTags"] = p["propagateTags"]
    return request


#: Create-only properties of AWS::ECS::Gateway (cfn-lint's schema): a change replaces it.
_CREATE_ONLY = ("scheme", "port", "protocol")


class GatewayResource(ShimResource):
    TYPE: ClassVar[str] = "AWS::ECS::Gateway"
    NAME_PROPERTY: ClassVar[str] = "GatewayName"
    ATTRIBUTES: ClassVar[frozenset[str]] = frozenset({
        "Arn", "Status", "AccessType", "CreatedAt", "UpdatedAt",
        "Configuration.HostSharedAlb.CurrentAlbCount"})

    def __init__(self, physical_id: str, account_id: str, region: str) -> None:
        super().__init__(physical_id)
        self.account_id = account_id
        self.region = region

    @classmethod
    def create(cls, creation: Creation) -> GatewayResource:
        gateway = _gateway.create_gateway(creation.account_id, creation.region_name,
                                          _gateway_request(creation.properties))
        return cls(gateway.arn, creation.account_id, creation.region_name)

    @classmethod
    def update(cls, resource: Any, creation: Creation) -> Any:
        request = _gateway_request(creation.properties)
        gateway = _gateway.find_gateway(resource.account_id, resource.region,
                                        resource.physical_id)
        new = request["configuration"]["hostSharedAlb"]
        old = gateway.configuration
        network = new.get("networkConfiguration") or {}
        old_network = old.get("networkConfiguration") or {}
        replace = request["name"] != gateway.name or any(
            new.get(key) is not None and new.get(key) != old.get(key) for key in _CREATE_ONLY
        ) or any(network.get(key) is not None and network.get(key) != old_network.get(key)
                 for key in ("subnets", "ipAddressType"))
        if replace:
            return creation.replace(resource, cls.create)
        mutable = {key: value for key, value in new.items() if key in (
            "maxAlbCount", "webACLArn", "accessLogs", "httpDesync", "testTrafficRules")}
        if "inboundSecurityGroup" in network:
            mutable["networkConfiguration"] = {
                "inboundSecurityGroup": network["inboundSecurityGroup"]}
        update: dict[str, Any] = {
            "gateway": gateway.arn,
            "infrastructureRoleArn": request["infrastructureRoleArn"],
            "deletionProtection": request["deletionProtection"],
            "configuration": {"hostSharedAlb": mutable},
        }
        if request.get("propagateTags") is not None:
            update["propagateTags"] = request["propagateTags"]
        _gateway.update_gateway(resource.account_id, resource.region, update)
        gateway.tags = request["tags"]
        return resource

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self.ATTRIBUTES:
            view = _gateway.gateway_view(
                _gateway.find_gateway(self.account_id, self.region, self.physical_id))
            values = {
                "Arn": view["gatewayArn"],
                "Status": view["status"],
                "AccessType": view["accessType"],
                "CreatedAt": view["createdAt"].isoformat(),
                "UpdatedAt": view["updatedAt"].isoformat(),
                "Configuration.HostSharedAlb.CurrentAlbCount":
                    view["configuration"]["hostSharedAlb"]["currentAlbCount"],
            }
            return values[attribute_name]
        return super().get_cfn_attribute(attribute_name)

    def delete(self, account_id: str, region_name: str) -> None:
        # DeletionProtection (default true) and associated clusters refuse the delete, with
        # ECS's error: the stack ends DELETE_FAILED, as on AWS.
        try:
            _gateway.find_gateway(account_id, region_name, self.physical_id)
        except _gateway.GatewayNotFoundException:
            return  # deleted outside the stack
        _gateway.delete_gateway(account_id, region_name, self.physical_id)


class GatewayAssociationResource(ShimResource):
    TYPE: ClassVar[str] = "AWS::ECS::GatewayClusterAssociations"
    ATTRIBUTES: ClassVar[frozenset[str]] = frozenset({"GatewayArn", "ClusterArn", "Status"})

    @classmethod
    def create(cls, creation: Creation) -> GatewayAssociationResource:
        p = creation.properties
        backend = creation.backend(ecs_backends)
        gateway, cluster = _gateway.associate(backend, str(p["Gateway"]), str(p["Cluster"]))
        return cls(f"{gateway.arn}|{cluster.arn}", GatewayArn=gateway.arn,
                   ClusterArn=str(cluster.arn))

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Status":
            account_id, region = self.physical_id.split(":")[4], self.physical_id.split(":")[3]
            found = _gateway.list_associations(account_id, region, None,
                                               str(self.attributes["ClusterArn"]), None)
            for association in found:
                if association["gatewayArn"] == self.attributes["GatewayArn"]:
                    return association["status"]
            return "DISASSOCIATING"
        return super().get_cfn_attribute(attribute_name)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = ecs_backends[account_id][region_name]
        # The gateway or the cluster may be gone already (deleted outside the stack).
        with tolerated(f"disassociating {self.physical_id}"):
            _gateway.disassociate(backend, str(self.attributes["GatewayArn"]),
                                  str(self.attributes["ClusterArn"]))


def _get_resource(self: Any, resource_arn: str, parsed_arn: dict[str, str]) -> Any:
    """``TagResource``, ``UntagResource`` and ``ListTagsForResource`` take a gateway's ARN."""
    if parsed_arn.get("service") == "gateway":
        return _gateway.find_gateway(self.account_id, self.region_name, resource_arn)
    return original(EC2ContainerServiceBackend, "_get_resource")(self, resource_arn, parsed_arn)


def install() -> None:
    for name, handler in OPERATIONS.items():
        patch(EC2ContainerServiceResponse, name, handler)
    patch(EC2ContainerServiceBackend, "_get_resource", _get_resource)
    register_model(GatewayResource)
    register_model(GatewayAssociationResource)
