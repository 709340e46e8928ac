"""Amazon ECS Gateway in the emulator: gateways, cluster associations and gateway routes.

moto 5.2.5 has no ECS Gateway at all. This module keeps the emulated state (per emulator,
in :data:`~fluoride.local._world.WORLD`) and the rules, as botocore 1.44.8's ECS model
(``service-2.json``, API version 2014-11-13) and cfn-lint 1.58's resource schemas define
them; :mod:`fluoride.local.shims.ecs_gateway` puts them behind the API and CloudFormation.

The operations, by their botocore names: ``CreateGateway``, ``DescribeGateway``,
``UpdateGateway``, ``DeleteGateway``, ``ListGateways``, ``AssociateGatewayWithCluster``,
``DisassociateGatewayFromCluster``, ``ListGatewayClusterAssociations``,
``ListGatewayRoutes``, ``DescribeGatewayRoute``, ``DescribeGatewayResources``; and the
``gatewayConnectors`` member (a list of at most one ``GatewayConnector``: ``portName``,
``healthCheck``, ``filters.accessTypes``, ``deregistrationDelay``) of ``CreateService`` and
``UpdateService``. (``DescribeServices``' ``Service`` shape has no gateway member; only
``ServiceRevision`` has ``gatewayConnectors``.)

What a gateway route is made of here, as on AWS (``GatewayRouteAlbResources``): a shared
Application Load Balancer of the gateway (created when the first route needs one, at most
``maxAlbCount``, :data:`ROUTES_PER_ALB` routes each), its HTTPS:443 listener, an ACM
certificate (one per load balancer, for ``*.ecs.<region>.on.aws``; AWS issues one per route)
and a listener rule for the route's host name, and a target group (IP targets,
the connector's health check) that the rule forwards to. These are real moto ELBv2, ACM and
EC2 resources: the emulated ECS service registers its tasks in the route's target group
(see :func:`route_targets`), so target health is read as AWS has it read -- the
``GatewayRoute`` shape has no health member: ``DescribeGatewayRoute`` ->
``resources.hostSharedAlb[].listenerRuleArn`` -> ``elbv2.DescribeRules`` (the forward
action's target group) -> ``elbv2.DescribeTargetHealth``.

Not in the published API, so chosen here (and documented in docs/emulator.md): the ARN of
a gateway is ``arn:aws:ecs:<region>:<account>:gateway/<name>`` (the form cfn-lint's
``GatewayArn`` pattern ``gateway/.+`` accepts); a route's is
``arn:aws:ecs:<region>:<account>:gateway-route/<gateway>/<id>``; a route's URL is
``https://<service>-<8 hex>.ecs.<region>.on.aws`` (the form ECS Express Mode's generated
URLs take), :func:`route_url`.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
from collections.abc import Callable
from typing import Any

import attrs
from moto.acm.models import acm_backends
from moto.core.exceptions import ServiceException
from moto.ec2.models import ec2_backends
from moto.ecs.exceptions import ClusterNotFoundException, InvalidParameterException
from moto.elbv2.models import elbv2_backends
from moto.moto_api._internal import mock_random

from fluoride.local._errors import tolerated
from fluoride.local._world import WORLD

__all__ = [
    "ClientException",
    "Gateway",
    "GatewayNotFoundException",
    "ResourceNotFoundException",
    "Route",
    "associate",
    "connect_service",
    "create_gateway",
    "delete_gateway",
    "describe_resources",
    "disassociate",
    "find_gateway",
    "find_route",
    "gateway_view",
    "list_associations",
    "list_gateways",
    "list_routes",
    "route_targets",
    "route_url",
    "route_view",
    "service_connectors",
    "update_gateway",
    "validate_connectors",
]

#: Routes one shared load balancer serves (an ALB takes 25 certificates besides its default;
#: Express Mode shares one ALB among up to 25 services).
ROUTES_PER_ALB = 25
#: How many gateways one cluster can be associated with (AssociateGatewayWithCluster).
MAX_GATEWAYS_PER_CLUSTER = 5

SCHEMES = ("internet-facing", "internal")
DESYNC_MODES = ("monitor", "defensive", "strictest")
IP_ADDRESS_TYPES = ("ipv4", "dualstack", "dualstack-without-public-ipv4")
PROPAGATE = ("NONE", "GATEWAY")
ACCESS_TYPES = ("PUBLIC", "PRIVATE")
GATEWAY_STATUSES = ("ACTIVE", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", "UPDATE_FAILED",
                    "DELETED")
ASSOCIATION_STATUSES = ("ACTIVE", "DISASSOCIATING", "INACTIVE")
ROUTE_STATUSES = ("ACTIVE", "CREATE_IN_PROGRESS", "CREATE_FAILED", "UPDATE_IN_PROGRESS",
                  "UPDATE_FAILED", "DELETE_IN_PROGRESS", "DELETE_FAILED")
_NAME = re.compile(r"^[a-zA-Z0-9-]{1,255}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:iam::\d{12}:role/.+$")


class GatewayNotFoundException(ServiceException):
    code = "GatewayNotFoundException"

    def __init__(self, gateway: str) -> None:
        super().__init__(f"The gateway '{gateway}' was not found.")


class ResourceNotFoundException(ServiceException):
    code = "ResourceNotFoundException"


class ClientException(ServiceException):
    code = "ClientException"


def _invalid(message: str) -> InvalidParameterException:
    return InvalidParameterException(message)


# ------------------------------------------------------------------ state


@attrs.define(eq=False)
class Alb:
    """One shared load balancer of a gateway, with its HTTPS listener."""

    load_balancer_arn: str
    listener_arn: str
    security_group_id: str
    certificate_arn: str
    routes: list[str] = attrs.field(factory=list)


@attrs.define(eq=False)
class Gateway:
    arn: str
    name: str
    account_id: str
    region: str
    infrastructure_role_arn: str
    deletion_protection: bool
    configuration: dict[str, Any]  # the hostSharedAlb variant, with the defaults filled in
    vpc_id: str
    tags: list[dict[str, str]]
    propagate_tags: str
    created_at: dt.datetime
    updated_at: dt.datetime
    client_token: str | None = None
    status: str = "ACTIVE"
    status_reason: str | None = None
    albs: list[Alb] = attrs.field(factory=list)

    @property
    def access_type(self) -> str:
        return "PRIVATE" if self.configuration.get("scheme") == "internal" else "PUBLIC"


@attrs.define(eq=False)
class Route:
    arn: str
    gateway_arn: str
    cluster_arn: str
    service_arn: str
    service_name: str
    port_name: str
    container_port: int
    url: str
    certificate_arn: str
    load_balancer_arn: str
    listener_arn: str
    listener_rule_arn: str
    target_group_arn: str
    load_balancer_security_group: str
    service_security_group: str | None
    status: str = "ACTIVE"


@attrs.define(eq=False)
class _State:
    gateways: dict[str, Gateway] = attrs.field(factory=dict)  # by ARN
    #: (gateway ARN, cluster ARN) -> ACTIVE | DISASSOCIATING
    associations: dict[tuple[str, str], str] = attrs.field(factory=dict)
    routes: dict[str, Route] = attrs.field(factory=dict)  # by ARN
    #: service ARN -> its gatewayConnectors as the API took them
    connectors: dict[str, list[dict[str, Any]]] = attrs.field(factory=dict)


def _state(account_id: str, region: str) -> _State:
    states: dict[tuple[str, str], _State] = WORLD.state.setdefault("ecs_gateways", {})
    return states.setdefault((account_id, region), _State())


def _now() -> dt.datetime:
    return WORLD.clock.wall(WORLD.event_time())


def _ec2(account_id: str, region: str) -> Any:
    return ec2_backends[account_id][region]


def _elbv2(account_id: str, region: str) -> Any:
    return elbv2_backends[account_id][region]


def gateway_arn(account_id: str, region: str, name: str) -> str:
    return f"arn:aws:ecs:{region}:{account_id}:gateway/{name}"


def find_gateway(account_id: str, region: str, name_or_arn: str) -> Gateway:
    """The gateway named ``name_or_arn`` (a name or an ARN); GatewayNotFoundException."""
    state = _state(account_id, region)
    gateway = state.gateways.get(name_or_arn) or state.gateways.get(
        gateway_arn(account_id, region, name_or_arn))
    if gateway is None:
        raise GatewayNotFoundException(name_or_arn)
    return gateway


def _cluster(ecs_backend: Any, name_or_arn: str) -> Any:
    cluster = ecs_backend.clusters.get(str(name_or_arn).split("/")[-1])
    if cluster is None or getattr(cluster, "status", "ACTIVE") != "ACTIVE":
        raise ClusterNotFoundException()
    return cluster


# ------------------------------------------------------------------ gateways


def _enum(field: str, value: Any, accepted: tuple[str, ...]) -> None:
    if value is not None and value not in accepted:
        raise _invalid(f"{field} '{value}' is not valid. Valid values: {', '.join(accepted)}.")


def _positive(field: str, value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _invalid(f"{field} must be a positive integer, got {value!r}.")
    return value


def _variant(configuration: Any, operation: str) -> dict[str, Any]:
    """The ``hostSharedAlb`` member of a GatewayConfiguration union: exactly one variant."""
    if not isinstance(configuration, dict) or set(configuration) != {"hostSharedAlb"}:
        raise _invalid(f"{operation}: configuration must set exactly one variant; the only "
                       "gateway type is hostSharedAlb.")
    variant = configuration["hostSharedAlb"]
    if not isinstance(variant, dict):
        raise _invalid(f"{operation}: configuration.hostSharedAlb must be a structure.")
    return dict(variant)


def _check_access_logs(account_id: str, access_logs: Any) -> None:
    if access_logs is None:
        return
    s3 = ((access_logs or {}).get("destination") or {}).get("s3")
    if not s3 or not s3.get("bucket"):
        raise _invalid("accessLogs.destination.s3.bucket is required for access logs.")
    from moto.s3.models import s3_backends

    if s3["bucket"] not in s3_backends[account_id]["aws"].buckets:
        raise _invalid(f"Access Denied for bucket: {s3['bucket']}. The bucket does not exist "
                       "or does not grant Elastic Load Balancing permission to write logs.")


def _check_security_group(account_id: str, region: str, group_id: Any) -> None:
    if group_id is None:
        return
    if _ec2(account_id, region).get_security_group_from_id(str(group_id)) is None:
        raise _invalid(f"The security group '{group_id}' does not exist.")


def _check_mutable(account_id: str, region: str, variant: dict[str, Any]) -> None:
    _enum("httpDesync", variant.get("httpDesync"), DESYNC_MODES)
    _positive("maxAlbCount", variant.get("maxAlbCount"))
    web_acl = variant.get("webACLArn")
    if web_acl is not None and not str(web_acl).startswith("arn:aws:wafv2:"):
        raise _invalid(f"webACLArn '{web_acl}' is not a WAF (wafv2) web ACL ARN.")
    _check_access_logs(account_id, variant.get("accessLogs"))
    rules = variant.get("testTrafficRules")
    if rules is not None:
        header = (rules or {}).get("header") or {}
        if not header.get("name") or not header.get("values"):
            raise _invalid("testTrafficRules.header needs a name and at least one value.")
    _check_security_group(account_id, region,
                          (variant.get("networkConfiguration") or {}).get("inboundSecurityGroup"))


def _network(account_id: str, region: str, network: dict[str, Any]) -> tuple[str, list[str]]:
    """The VPC and subnets of a gateway's load balancers: the given subnets (at least two,
    one VPC) or the default VPC's."""
    ec2 = _ec2(account_id, region)
    subnet_ids = [str(s) for s in network.get("subnets") or []]
    if not subnet_ids:
        vpc = ec2.get_default_vpc()
        if vpc is None:
            raise _invalid("No default VPC in this Region: specify networkConfiguration.subnets.")
        subnets = [s for s in ec2.get_default_subnets().values() if s.vpc_id == vpc.id]
        return str(vpc.id), sorted(str(s.id) for s in subnets)
    if len(subnet_ids) < 2:
        raise _invalid("networkConfiguration.subnets needs at least two subnets, in "
                       "different Availability Zones.")
    vpcs = set()
    for subnet_id in subnet_ids:
        try:
            vpcs.add(str(ec2.get_subnet(subnet_id).vpc_id))
        except Exception as exc:  # moto's InvalidSubnetIdNotFound
            raise _invalid(f"The subnet ID '{subnet_id}' does not exist.") from exc
    if len(vpcs) != 1:
        raise _invalid("networkConfiguration.subnets must all be in one VPC.")
    return vpcs.pop(), subnet_ids


def create_gateway(account_id: str, region: str, request: dict[str, Any]) -> Gateway:
    """``CreateGateway``: checked as ECS checks it; ACTIVE at once, no load balancer yet."""
    state = _state(account_id, region)
    name = request.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _invalid(f"name '{name}' is not valid: up to 255 letters, digits and hyphens.")
    token = request.get("clientToken")
    arn = gateway_arn(account_id, region, name)
    existing = state.gateways.get(arn)
    if existing is not None:
        if token and existing.client_token == token:
            return existing
        raise _invalid(f"A gateway named '{name}' already exists.")
    role = request.get("infrastructureRoleArn")
    if not isinstance(role, str) or not _ROLE_ARN.match(role):
        raise _invalid(f"infrastructureRoleArn '{role}' is not an IAM role ARN.")
    variant = _variant(request.get("configuration"), "CreateGateway")
    _enum("scheme", variant.get("scheme"), SCHEMES)
    if variant.get("port") not in (None, 443):
        raise _invalid(f"port {variant['port']} is not supported: the gateway listens on 443.")
    if variant.get("protocol") not in (None, "HTTPS"):
        raise _invalid(f"protocol {variant['protocol']} is not supported: only HTTPS.")
    network = dict(variant.get("networkConfiguration") or {})
    _enum("networkConfiguration.ipAddressType", network.get("ipAddressType"), IP_ADDRESS_TYPES)
    _check_mutable(account_id, region, variant)
    _enum("propagateTags", request.get("propagateTags"), PROPAGATE)
    tags = [dict(t) for t in request.get("tags") or []]
    if len(tags) > 50:
        raise _invalid("A gateway can have at most 50 tags.")
    vpc_id, subnets = _network(account_id, region, network)
    network["subnets"] = subnets
    network.setdefault("ipAddressType", "dualstack")
    configuration = {
        **variant,
        "networkConfiguration": network,
        "scheme": variant.get("scheme") or "internet-facing",
        "port": 443,
        "protocol": "HTTPS",
        "maxAlbCount": variant.get("maxAlbCount") or 10,
        "httpDesync": variant.get("httpDesync") or "defensive",
    }
    protection = request.get("deletionProtection")
    now = _now()
    gateway = Gateway(
        arn=arn, name=name, account_id=account_id, region=region,
        infrastructure_role_arn=role,
        deletion_protection=True if protection is None else bool(protection),
        configuration=configuration, vpc_id=vpc_id, tags=tags,
        propagate_tags=request.get("propagateTags") or "GATEWAY",
        created_at=now, updated_at=now, client_token=token,
    )
    state.gateways[arn] = gateway
    return gateway


def update_gateway(account_id: str, region: str, request: dict[str, Any]) -> Gateway:
    """``UpdateGateway``: mutable settings only; UPDATE_IN_PROGRESS, then UPDATE_COMPLETE."""
    gateway = find_gateway(account_id, region, str(request.get("gateway")))
    changes: dict[str, Any] = {}
    if request.get("configuration") is not None:
        changes = _variant(request["configuration"], "UpdateGateway")
        allowed = {"networkConfiguration", "maxAlbCount", "webACLArn", "accessLogs",
                   "httpDesync", "testTrafficRules"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise _invalid(f"UpdateGateway cannot change {', '.join(unknown)}.")
        network = changes.get("networkConfiguration") or {}
        if set(network) - {"inboundSecurityGroup"}:
            raise _invalid("UpdateGateway can change only networkConfiguration."
                           "inboundSecurityGroup.")
        _check_mutable(account_id, region, changes)
        max_albs = changes.get("maxAlbCount")
        if max_albs is not None and max_albs < len(gateway.albs):
            raise _invalid(f"maxAlbCount {max_albs} is below the {len(gateway.albs)} load "
                           "balancers the gateway uses.")
    role = request.get("infrastructureRoleArn")
    if role is not None and not _ROLE_ARN.match(str(role)):
        raise _invalid(f"infrastructureRoleArn '{role}' is not an IAM role ARN.")
    _enum("propagateTags", request.get("propagateTags"), PROPAGATE)
    for key, value in changes.items():
        if key == "networkConfiguration":
            gateway.configuration["networkConfiguration"].update(value)
        else:
            gateway.configuration[key] = value
    if role is not None:
        gateway.infrastructure_role_arn = str(role)
    if request.get("deletionProtection") is not None:
        gateway.deletion_protection = bool(request["deletionProtection"])
    if request.get("propagateTags") is not None:
        gateway.propagate_tags = str(request["propagateTags"])
    gateway.status = "UPDATE_IN_PROGRESS"
    gateway.updated_at = _now()

    def complete(_due: float) -> None:
        if gateway.status == "UPDATE_IN_PROGRESS":
            for alb in gateway.albs:
                _apply_settings(gateway, alb)
            gateway.status = "UPDATE_COMPLETE"
            gateway.updated_at = _now()

    WORLD.schedule(WORLD.timing.task_start, complete)
    return gateway


def delete_gateway(account_id: str, region: str, name_or_arn: str) -> Gateway:
    """``DeleteGateway``: refused with deletion protection on or a cluster associated."""
    state = _state(account_id, region)
    gateway = find_gateway(account_id, region, name_or_arn)
    if gateway.deletion_protection:
        raise ClientException(f"The gateway '{gateway.name}' has deletion protection enabled. "
                              "Disable it with UpdateGateway before deleting the gateway.")
    associated = sorted(cluster for (g, cluster), status in state.associations.items()
                        if g == gateway.arn and status in ("ACTIVE", "DISASSOCIATING"))
    if associated:
        raise ClientException(f"The gateway '{gateway.name}' is associated with clusters "
                              f"{', '.join(associated)}; disassociate them first.")
    elbv2 = _elbv2(account_id, region)
    for alb in gateway.albs:
        with tolerated(f"deleting load balancer {alb.load_balancer_arn} of gateway"):
            elbv2.delete_load_balancer(alb.load_balancer_arn)
        with tolerated(f"deleting security group {alb.security_group_id} of gateway"):
            _ec2(account_id, region).delete_security_group(group_id=alb.security_group_id)
        with tolerated(f"deleting certificate {alb.certificate_arn} of gateway"):
            acm_backends[account_id][region].delete_certificate(alb.certificate_arn)
    gateway.albs = []
    del state.gateways[gateway.arn]
    gateway.status = "DELETED"
    gateway.updated_at = _now()
    return gateway


def list_gateways(account_id: str, region: str, names: list[str] | None,
                  statuses: list[str] | None) -> list[Gateway]:
    if names is not None and len(names) > 10:
        raise _invalid("names: at most 10 gateway names.")
    for status in statuses or []:
        _enum("status", status, GATEWAY_STATUSES)
    gateways = sorted(_state(account_id, region).gateways.values(), key=lambda g: g.name)
    return [g for g in gateways if (not names or g.name in names)
            and (not statuses or g.status in statuses)]


def gateway_view(gateway: Gateway) -> dict[str, Any]:
    """The ``Gateway`` shape."""
    configuration = copy.deepcopy(gateway.configuration)
    configuration["currentAlbCount"] = len(gateway.albs)
    view: dict[str, Any] = {
        "gatewayArn": gateway.arn,
        "name": gateway.name,
        "status": gateway.status,
        "infrastructureRoleArn": gateway.infrastructure_role_arn,
        "deletionProtection": gateway.deletion_protection,
        "configuration": {"hostSharedAlb": configuration},
        "accessType": gateway.access_type,
        "propagateTags": gateway.propagate_tags,
        "tags": gateway.tags,
        "createdAt": gateway.created_at,
        "updatedAt": gateway.updated_at,
    }
    if gateway.status_reason:
        view["statusReason"] = gateway.status_reason
    return view


# ------------------------------------------------------------------ cluster associations


def associate(ecs_backend: Any, gateway_name: str, cluster_name: str) -> tuple[Gateway, Any]:
    """``AssociateGatewayWithCluster``: ACTIVE at once (again ACTIVE if disassociating)."""
    account_id, region = ecs_backend.account_id, ecs_backend.region_name
    gateway = find_gateway(account_id, region, gateway_name)
    cluster = _cluster(ecs_backend, cluster_name)
    state = _state(account_id, region)
    key = (gateway.arn, str(cluster.arn))
    if key not in state.associations:
        count = sum(1 for (_, c) in state.associations if c == cluster.arn)
        if count >= MAX_GATEWAYS_PER_CLUSTER:
            raise _invalid(f"The cluster '{cluster.name}' is already associated with "
                           f"{MAX_GATEWAYS_PER_CLUSTER} gateways, the most it can be.")
    state.associations[key] = "ACTIVE"
    return gateway, cluster


def disassociate(ecs_backend: Any, gateway_name: str, cluster_name: str) -> tuple[Gateway, Any]:
    """``DisassociateGatewayFromCluster``: DISASSOCIATING until the cluster's routes on the
    gateway are gone (at once when there are none)."""
    account_id, region = ecs_backend.account_id, ecs_backend.region_name
    gateway = find_gateway(account_id, region, gateway_name)
    state = _state(account_id, region)
    try:
        cluster = _cluster(ecs_backend, cluster_name)
    except ClusterNotFoundException:
        # A cluster deleted while associated can still be let go of (else the gateway could
        # never be deleted); one that never was associated is not found.
        name = str(cluster_name).split("/")[-1]
        gone = [c for (g, c) in state.associations if g == gateway.arn
                and c.split("/")[-1] == name]
        if not gone:
            raise
        state.associations.pop((gateway.arn, gone[0]))
        return gateway, _GoneCluster(gone[0])
    key = (gateway.arn, str(cluster.arn))
    if key not in state.associations:
        raise ResourceNotFoundException(
            f"The gateway '{gateway.name}' is not associated with the cluster '{cluster.name}'.")
    state.associations[key] = "DISASSOCIATING"
    _settle_association(state, key)
    return gateway, cluster


@attrs.define
class _GoneCluster:
    """A deleted cluster, as much of it as an association remembers."""

    arn: str

    @property
    def name(self) -> str:
        return self.arn.split("/")[-1]


def _settle_association(state: _State, key: tuple[str, str]) -> None:
    if state.associations.get(key) != "DISASSOCIATING":
        return
    if not any(r.gateway_arn == key[0] and r.cluster_arn == key[1]
               for r in state.routes.values()):
        del state.associations[key]


def list_associations(account_id: str, region: str, gateway: str | None, cluster: str | None,
                      statuses: list[str] | None) -> list[dict[str, str]]:
    for status in statuses or []:
        _enum("status", status, ASSOCIATION_STATUSES)
    state = _state(account_id, region)
    gateway_arn_ = None
    if gateway:  # this operation has no GatewayNotFoundException: an unknown one matches none
        known = state.gateways.get(gateway) or state.gateways.get(
            gateway_arn(account_id, region, gateway))
        gateway_arn_ = known.arn if known is not None else "-"
    found = []
    for (g, c), status in sorted(state.associations.items()):
        if gateway_arn_ and g != gateway_arn_:
            continue
        if cluster and c != cluster and c.split("/")[-1] != cluster:
            continue
        if statuses and status not in statuses:
            continue
        found.append({"gatewayArn": g, "clusterArn": c, "status": status})
    return found


# ------------------------------------------------------------------ service connectors


def _port_mapping(task_definition: Any, port_name: str) -> int | None:
    for container in task_definition.container_definitions:
        for mapping in container.get("portMappings") or []:
            if mapping.get("name") == port_name and mapping.get("containerPort") is not None:
                return int(mapping["containerPort"])
    return None


def _service_vpc(account_id: str, region: str, network_configuration: Any) -> str | None:
    subnets = ((network_configuration or {}).get("awsvpcConfiguration") or {}).get("subnets")
    if not subnets:
        return None
    with tolerated("reading the service's subnet"):
        return str(_ec2(account_id, region).get_subnet(str(subnets[0])).vpc_id)
    return None


def _compatible(state: _State, cluster_arn: str, vpc_id: str | None,
                connector: dict[str, Any]) -> list[Gateway]:
    access = list((connector.get("filters") or {}).get("accessTypes") or ACCESS_TYPES)
    found = []
    for (g, c), status in sorted(state.associations.items()):
        gateway = state.gateways.get(g)
        if c != cluster_arn or status != "ACTIVE" or gateway is None:
            continue
        if gateway.access_type in access and (vpc_id is None or gateway.vpc_id == vpc_id):
            found.append(gateway)
    return found


def validate_connectors(ecs_backend: Any, cluster_name: str, task_definition: Any,
                        network_configuration: Any, connectors: Any) -> list[dict[str, Any]]:
    """The ``gatewayConnectors`` of a CreateService/UpdateService, checked as ECS does before
    it changes anything: at most one, its port a named port of the task definition, an
    ``awsvpc`` service, and a compatible gateway ACTIVE on the cluster."""
    if connectors is None:
        return []
    if not isinstance(connectors, list):
        raise _invalid("gatewayConnectors must be a list.")
    if len(connectors) > 1:
        raise _invalid("A service supports no more than one gateway connector.")
    if not connectors:
        return []
    connector = copy.deepcopy(connectors[0])
    health = connector.get("healthCheck") or {}
    for key in ("healthCheckPort", "healthCheckTimeoutSeconds", "healthCheckIntervalSeconds",
                "healthyThresholdCount", "unhealthyThresholdCount"):
        if health.get(key) is not None:  # CloudFormation passes numbers as strings
            health[key] = int(health[key])
    port_name = connector.get("portName")
    if not port_name:
        raise _invalid("gatewayConnectors[0].portName is required.")
    _enum("healthCheck.healthCheckProtocol", health.get("healthCheckProtocol"), ("HTTP", "HTTPS"))
    for access in (connector.get("filters") or {}).get("accessTypes") or []:
        _enum("filters.accessTypes", access, ACCESS_TYPES)
    delay = (connector.get("deregistrationDelay") or {}).get("timeoutSeconds")
    if delay is not None and not 0 <= int(delay) <= 3600:
        raise _invalid(f"deregistrationDelay.timeoutSeconds {delay} is not in 0-3600.")
    if task_definition is not None:
        if getattr(task_definition, "network_mode", None) != "awsvpc":
            raise _invalid("A gateway connector needs a task definition with the awsvpc "
                           "network mode.")
        if _port_mapping(task_definition, str(port_name)) is None:
            raise _invalid(f"The task definition has no container port named '{port_name}'.")
    cluster = _cluster(ecs_backend, cluster_name)
    account_id, region = ecs_backend.account_id, ecs_backend.region_name
    state = _state(account_id, region)
    if not any(c == cluster.arn and s == "ACTIVE" for (_, c), s in state.associations.items()):
        raise _invalid(f"No gateway is associated with the cluster '{cluster.name}'. Associate "
                       "one with AssociateGatewayWithCluster before connecting a service.")
    vpc_id = _service_vpc(account_id, region, network_configuration)
    compatible = _compatible(state, str(cluster.arn), vpc_id, connector)
    if not compatible:
        raise _invalid(f"No gateway associated with the cluster '{cluster.name}' is compatible "
                       "with the service: same VPC as its subnets, an access type its filter "
                       "accepts.")
    for gateway in compatible:
        if not _has_room(gateway):
            raise _invalid(f"The gateway '{gateway.name}' has no room for another route: its "
                           f"{len(gateway.albs)} load balancers (maxAlbCount "
                           f"{gateway.configuration.get('maxAlbCount')}) are full.")
    return [connector]


def _has_room(gateway: Gateway) -> bool:
    """Whether a new route fits: a load balancer with room, or room for one more."""
    return (any(len(alb.routes) < ROUTES_PER_ALB for alb in gateway.albs)
            or len(gateway.albs) < int(gateway.configuration.get("maxAlbCount") or 10))


def route_url(service_name: str, token: str, region: str) -> str:
    """A route's generated HTTPS URL (a DNS label of at most 63 characters)."""
    label = re.sub(r"[^a-z0-9-]", "-", service_name.lower()).strip("-")[:50].rstrip("-")
    label = label or "service"
    return f"https://{label}-{token}.ecs.{region}.on.aws"


def _alb_for(gateway: Gateway) -> Alb | None:
    """A shared load balancer with room for one more route: a new one if all are full and
    ``maxAlbCount`` allows; ``None`` when it does not."""
    for alb in gateway.albs:
        if len(alb.routes) < ROUTES_PER_ALB:
            return alb
    if len(gateway.albs) >= int(gateway.configuration.get("maxAlbCount") or 10):
        return None
    account_id, region = gateway.account_id, gateway.region
    ec2 = _ec2(account_id, region)
    index = len(gateway.albs) + 1
    suffix = mock_random.get_random_hex(6)
    group = ec2.create_security_group(
        f"ecs-gateway-{gateway.name[:40]}-{suffix}",
        f"Managed by Amazon ECS gateway {gateway.name}", vpc_id=gateway.vpc_id)
    network = gateway.configuration.get("networkConfiguration") or {}
    if not network.get("inboundSecurityGroup"):
        cidr = "0.0.0.0/0"
        if gateway.configuration.get("scheme") == "internal":
            cidr = str(ec2.get_vpc(gateway.vpc_id).cidr_block)
        ec2.authorize_security_group_ingress(group.id, "tcp", "443", "443",
                                             [{"CidrIp": cidr}])
    groups = [group.id] + ([network["inboundSecurityGroup"]]
                           if network.get("inboundSecurityGroup") else [])
    elbv2 = _elbv2(account_id, region)
    name = f"ecs-gw-{hashlib.sha1(gateway.arn.encode()).hexdigest()[:12]}-{index}"
    balancer = elbv2.create_load_balancer(
        name, groups, list(network.get("subnets") or []),
        scheme=str(gateway.configuration.get("scheme") or "internet-facing"),
        loadbalancer_type="application",
        ip_address_type="dualstack" if network.get("ipAddressType", "").startswith("dual")
        else "ipv4")
    acm: Any = acm_backends[account_id][region]  # moto types the token as str; it takes None
    certificate = acm.request_certificate(
        domain_name=f"*.ecs.{region}.on.aws", idempotency_token=None,
        subject_alt_names=[f"*.ecs.{region}.on.aws"], tags=[])
    acm.get_certificate(certificate).status = "ISSUED"
    listener = elbv2.create_listener(
        balancer.arn, "HTTPS", "443", "ELBSecurityPolicy-TLS13-1-2-2021-06", certificate,
        [{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "Not Found"}}])
    alb = Alb(balancer.arn, listener.arn, str(group.id), certificate)
    gateway.albs.append(alb)
    _apply_settings(gateway, alb)
    return alb


def _apply_settings(gateway: Gateway, alb: Alb) -> None:
    """What the gateway passes on to a load balancer it manages: access logs, desync
    mitigation, deletion protection, its WAF web ACL and (``propagateTags``) its tags."""
    account_id, region = gateway.account_id, gateway.region
    config = gateway.configuration
    s3 = (((config.get("accessLogs") or {}).get("destination") or {}).get("s3") or {})
    attributes = {
        "access_logs.s3.enabled": "true" if s3.get("bucket") else "false",
        "access_logs.s3.bucket": str(s3.get("bucket") or ""),
        "access_logs.s3.prefix": str(s3.get("prefix") or ""),
        "routing.http.desync_mitigation_mode": str(config.get("httpDesync") or "defensive"),
        "deletion_protection.enabled": "true" if gateway.deletion_protection else "false",
    }
    elbv2 = _elbv2(account_id, region)
    with tolerated(f"setting the attributes of {alb.load_balancer_arn}"):
        elbv2.modify_load_balancer_attributes(alb.load_balancer_arn, attributes)
    if gateway.propagate_tags == "GATEWAY" and gateway.tags:
        with tolerated(f"tagging {alb.load_balancer_arn}"):
            elbv2.add_tags([alb.load_balancer_arn], [
                {"Key": t["key"], "Value": t.get("value", "")} for t in gateway.tags])
    if config.get("webACLArn"):
        from moto.wafv2.models import wafv2_backends

        # An ACL the emulator does not hold cannot be associated (on AWS the gateway would
        # report the failure); the gateway keeps its setting.
        with tolerated(f"associating {config['webACLArn']} with {alb.load_balancer_arn}"):
            wafv2_backends[account_id][region].associate_web_acl(
                str(config["webACLArn"]), alb.load_balancer_arn)


def _create_route(gateway: Gateway, cluster_arn: str, service: Any, connector: dict[str, Any],
                  container_port: int, vpc_id: str | None) -> Route:
    account_id, region = gateway.account_id, gateway.region
    alb = _alb_for(gateway)
    if alb is None:
        raise _invalid(f"The gateway '{gateway.name}' has reached maxAlbCount "
                       f"({gateway.configuration.get('maxAlbCount')}) load balancers.")
    route_id = mock_random.get_random_hex(32)
    token = route_id[:8]
    url = route_url(str(service.name), token, region)
    host = url.removeprefix("https://")
    # The load balancer's wildcard certificate covers the route's host. (AWS issues one per
    # route; moto makes an RSA key for each certificate, half a second apiece.)
    certificate = alb.certificate_arn
    elbv2 = _elbv2(account_id, region)
    health = connector.get("healthCheck") or {}
    matcher = health.get("matcher") or {}
    target_group = elbv2.create_target_group(
        f"ecs-gw-{token}-{route_id[8:20]}"[:32],
        protocol="HTTP", port=container_port, vpc_id=vpc_id or gateway.vpc_id, target_type="ip",
        healthcheck_protocol=health.get("healthCheckProtocol") or "HTTP",
        healthcheck_port=str(health["healthCheckPort"]) if health.get("healthCheckPort")
        else None,
        healthcheck_path=health.get("healthCheckPath") or "/",
        healthcheck_interval_seconds=health.get("healthCheckIntervalSeconds"),
        healthcheck_timeout_seconds=health.get("healthCheckTimeoutSeconds"),
        healthy_threshold_count=str(health["healthyThresholdCount"])
        if health.get("healthyThresholdCount") else None,
        unhealthy_threshold_count=str(health["unhealthyThresholdCount"])
        if health.get("unhealthyThresholdCount") else None,
        matcher={"HttpCode": matcher["httpCode"]} if matcher.get("httpCode") else None,
    )
    delay = (connector.get("deregistrationDelay") or {}).get("timeoutSeconds")
    target_group.attributes["deregistration_delay.timeout_seconds"] = str(
        300 if delay is None else int(delay))
    listener = elbv2.describe_listeners(None, [alb.listener_arn])[0]
    priority = 1 + max((int(r.priority) for r in listener.rules.values()
                        if str(r.priority).isdigit()), default=0)
    rule = elbv2.create_rule(
        alb.listener_arn,
        [{"Field": "host-header", "HostHeaderConfig": {"Values": [host]}}],
        priority,
        [{"Type": "forward", "TargetGroupArn": target_group.arn}],
    )
    service_group = _service_security_group(service)
    if service_group is not None:
        with tolerated(f"admitting gateway {gateway.name} to {service_group}"):
            _ec2(account_id, region).authorize_security_group_ingress(
                service_group, "tcp", str(container_port), str(container_port), [],
                source_groups=[{"GroupId": alb.security_group_id}])
    route = Route(
        arn=f"arn:aws:ecs:{region}:{account_id}:gateway-route/{gateway.name}/{route_id}",
        gateway_arn=gateway.arn, cluster_arn=cluster_arn, service_arn=str(service.arn),
        service_name=str(service.name), port_name=str(connector["portName"]),
        container_port=container_port, url=url, certificate_arn=certificate,
        load_balancer_arn=alb.load_balancer_arn, listener_arn=alb.listener_arn,
        listener_rule_arn=str(rule.arn), target_group_arn=str(target_group.arn),
        load_balancer_security_group=alb.security_group_id,
        service_security_group=service_group,
    )
    alb.routes.append(route.arn)
    return route


def _service_security_group(service: Any) -> str | None:
    config = getattr(service, "network_configuration", None) or {}
    groups = (config.get("awsvpcConfiguration") or {}).get("securityGroups") or []
    return str(groups[0]) if groups else None


def _delete_route(state: _State, route: Route) -> None:
    gateway = state.gateways.get(route.gateway_arn)
    account_id, region = route.arn.split(":")[4], route.arn.split(":")[3]
    elbv2 = _elbv2(account_id, region)
    with tolerated(f"deleting listener rule of route {route.arn}"):
        elbv2.delete_rule(route.listener_rule_arn)
    with tolerated(f"deleting target group of route {route.arn}"):
        elbv2.delete_target_group(route.target_group_arn)
    if route.service_security_group is not None:
        with tolerated(f"revoking the gateway's rule on {route.service_security_group}"):
            _ec2(account_id, region).revoke_security_group_ingress(
                route.service_security_group, "tcp", str(route.container_port),
                str(route.container_port), [],
                source_groups=[{"GroupId": route.load_balancer_security_group}])
    if gateway is not None:
        for alb in gateway.albs:
            if route.arn in alb.routes:
                alb.routes.remove(route.arn)
    state.routes.pop(route.arn, None)
    _settle_association(state, (route.gateway_arn, route.cluster_arn))


def connect_service(ecs_backend: Any, service: Any, connectors: list[dict[str, Any]] | None,
                    task_definition: Any) -> None:
    """Make the service's routes match ``connectors`` (``None``: leave them as they are):
    one route per compatible gateway; a route that is no longer wanted is removed."""
    if connectors is None:
        return
    account_id, region = ecs_backend.account_id, ecs_backend.region_name
    state = _state(account_id, region)
    state.connectors[str(service.arn)] = copy.deepcopy(connectors)
    current = [r for r in state.routes.values() if r.service_arn == service.arn]
    wanted: dict[str, dict[str, Any]] = {}
    vpc_id = _service_vpc(account_id, region, getattr(service, "network_configuration", None))
    cluster = ecs_backend.clusters.get(service.cluster_name)
    for connector in connectors:
        for gateway in _compatible(state, str(cluster.arn), vpc_id, connector):
            wanted[gateway.arn] = connector
    for route in current:
        connector_ = wanted.get(route.gateway_arn)
        if connector_ is None or connector_["portName"] != route.port_name:
            _delete_route(state, route)
        else:
            _apply_health_check(route, connector_)
            wanted.pop(route.gateway_arn)
    for arn, connector in wanted.items():
        port = _port_mapping(task_definition, str(connector["portName"])) if task_definition \
            else None
        route = _create_route(state.gateways[arn], str(cluster.arn), service, connector,
                              port or 80, vpc_id)
        state.routes[route.arn] = route


def _apply_health_check(route: Route, connector: dict[str, Any]) -> None:
    account_id, region = route.arn.split(":")[4], route.arn.split(":")[3]
    target_group = _elbv2(account_id, region).target_groups.get(route.target_group_arn)
    if target_group is None:
        return
    health = connector.get("healthCheck") or {}
    setters: dict[str, Callable[[Any], Any]] = {
        "healthCheckPath": lambda v: setattr(target_group, "health_check_path", v),
        "healthCheckIntervalSeconds":
            lambda v: setattr(target_group, "health_check_interval_seconds", int(v)),
        "healthCheckTimeoutSeconds":
            lambda v: setattr(target_group, "health_check_timeout_seconds", int(v)),
        "healthyThresholdCount": lambda v: setattr(target_group, "healthy_threshold_count", str(v)),
        "unhealthyThresholdCount":
            lambda v: setattr(target_group, "unhealthy_threshold_count", str(v)),
    }
    for key, setter in setters.items():
        if health.get(key) is not None:
            setter(health[key])
    delay = (connector.get("deregistrationDelay") or {}).get("timeoutSeconds")
    if delay is not None:
        target_group.attributes["deregistration_delay.timeout_seconds"] = str(int(delay))


def disconnect_service(ecs_backend: Any, service: Any) -> None:
    """The service is deleted: its routes go (and a disassociating cluster with them)."""
    state = _state(ecs_backend.account_id, ecs_backend.region_name)
    state.connectors.pop(str(service.arn), None)
    for route in [r for r in state.routes.values() if r.service_arn == service.arn]:
        _delete_route(state, route)


def service_connectors(ecs_backend: Any, service: Any) -> list[dict[str, Any]]:
    """The gateway connectors the service was created or last updated with."""
    state = _state(ecs_backend.account_id, ecs_backend.region_name)
    return copy.deepcopy(state.connectors.get(str(service.arn), []))


def route_targets(ecs_backend: Any, service: Any, task_definition: Any) -> list[tuple[str, int]]:
    """(target group ARN, container port) of each of the service's gateway routes, where a
    task of ``task_definition`` registers."""
    state = _state(ecs_backend.account_id, ecs_backend.region_name)
    found = []
    for route in state.routes.values():
        if route.service_arn != service.arn or route.status != "ACTIVE":
            continue
        port = _port_mapping(task_definition, route.port_name) if task_definition else None
        found.append((route.target_group_arn, port or route.container_port))
    return found


# ------------------------------------------------------------------ routes


def find_route(account_id: str, region: str, arn: str) -> Route:
    route = _state(account_id, region).routes.get(arn)
    if route is None:
        raise ResourceNotFoundException(f"The gateway route '{arn}' was not found.")
    return route


def list_routes(ecs_backend: Any, request: dict[str, Any]) -> list[Route]:
    account_id, region = ecs_backend.account_id, ecs_backend.region_name
    for status in request.get("status") or []:
        _enum("status", status, ROUTE_STATUSES)
    gateway = request.get("gateway")
    gateway_arn_ = find_gateway(account_id, region, gateway).arn if gateway else None
    cluster = request.get("cluster")
    service = request.get("service")
    found = []
    for route in sorted(_state(account_id, region).routes.values(), key=lambda r: r.arn):
        if gateway_arn_ and route.gateway_arn != gateway_arn_:
            continue
        if cluster and cluster not in (route.cluster_arn, route.cluster_arn.split("/")[-1]):
            continue
        if service and service not in (route.service_arn, route.service_name):
            continue
        port_name = request.get("serviceContainerPortName")
        if port_name and route.port_name != port_name:
            continue
        if request.get("status") and route.status not in request["status"]:
            continue
        found.append(route)
    return found


def route_view(route: Route) -> dict[str, Any]:
    """The ``GatewayRoute`` shape."""
    account_id, region = route.arn.split(":")[4], route.arn.split(":")[3]
    resources: dict[str, Any] = {
        "acmCertificateArn": route.certificate_arn,
        "loadBalancerArn": route.load_balancer_arn,
        "listenerArn": route.listener_arn,
        "listenerRuleArn": route.listener_rule_arn,
        "testListenerRuleArns": [],
        "loadBalancerSecurityGroups": [{
            "arn": f"arn:aws:ec2:{region}:{account_id}:security-group/"
                   f"{route.load_balancer_security_group}",
            "ruleArns": [],
        }],
    }
    if route.service_security_group:
        resources["serviceSecurityGroupArn"] = (
            f"arn:aws:ec2:{region}:{account_id}:security-group/{route.service_security_group}")
    return {
        "gatewayRouteArn": route.arn,
        "serviceArn": route.service_arn,
        "serviceContainerPortName": route.port_name,
        "status": route.status,
        "serviceUrl": route.url,
        "resources": {"hostSharedAlb": [resources]},
    }


def route_summary(route: Route) -> dict[str, Any]:
    """The ``GatewayRouteSummary`` shape."""
    return {
        "gatewayRouteArn": route.arn,
        "gatewayArn": route.gateway_arn,
        "clusterArn": route.cluster_arn,
        "serviceArn": route.service_arn,
        "serviceContainerPortName": route.port_name,
        "status": route.status,
    }


def describe_resources(account_id: str, region: str, name_or_arn: str) -> list[dict[str, Any]]:
    """``DescribeGatewayResources``: each shared load balancer and the routes it serves."""
    gateway = find_gateway(account_id, region, name_or_arn)
    return [{
        "loadBalancerArn": alb.load_balancer_arn,
        "listenerArn": alb.listener_arn,
        "securityGroup": alb.security_group_id,
        "gatewayRouteArns": list(alb.routes),
    } for alb in gateway.albs]
