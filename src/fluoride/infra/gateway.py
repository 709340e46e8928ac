"""Reads of a service's ECS gateway route: its generated URL, its status, and the target
group ECS made for it (whose health a deployment watches).

Behind an environment's gateway (``ServiceSpec(gateway=...)``) the service's stack owns no
load balancer or target group: ECS makes a route on one of the gateway's shared load
balancers. ``ListGatewayRoutes`` finds it by cluster and service, ``DescribeGatewayRoute``
gives its ``serviceUrl`` and listener rule, and the rule's forward action names the target
group (ELB's ``DescribeRules``).

.. versionadded:: 0.3.0
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from fluoride.aws import Aws, translate

__all__ = ["GatewayRoute", "alarm_unarmed", "metric_names", "rule_target_group",
           "service_route"]

#: Route states that no longer serve (a route being removed, or one that failed).
_GONE = ("DELETE_IN_PROGRESS", "DELETE_FAILED", "CREATE_FAILED")


@attrs.frozen
class GatewayRoute:
    """A service's route on its gateway.

    Attributes:
        arn: the route's ARN.
        url: the generated ``https://`` URL (``None`` until ECS has made it).
        status: ECS's ``GatewayRouteStatus`` (``ACTIVE``, ``CREATE_IN_PROGRESS``...).
        listener_rule: the shared load balancer's listener rule for the route.
        load_balancer: the shared load balancer's ARN.
    """

    arn: str
    url: str | None
    status: str
    listener_rule: str | None
    load_balancer: str | None

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> GatewayRoute:
        albs = (raw.get("resources") or {}).get("hostSharedAlb") or [{}]
        return cls(arn=str(raw.get("gatewayRouteArn", "")), url=raw.get("serviceUrl") or None,
                   status=str(raw.get("status", "")),
                   listener_rule=albs[0].get("listenerRuleArn") or None,
                   load_balancer=albs[0].get("loadBalancerArn") or None)


def service_route(aws: Aws, cluster: str, ecs_service: str) -> GatewayRoute | None:
    """The route ECS made for ``ecs_service`` in ``cluster``, or ``None`` when it has none
    (yet): one ``ListGatewayRoutes`` and one ``DescribeGatewayRoute``."""
    ecs: Any = aws.client("ecs")  # boto3-stubs 1.43 predate the gateway operations
    with translate("ListGatewayRoutes", ecs_service):
        summaries = ecs.list_gateway_routes(cluster=cluster, service=ecs_service).get(
            "gatewayRoutes", [])
    live = [s for s in summaries if s.get("status") not in _GONE] or summaries
    if not live:
        return None
    arn = live[0]["gatewayRouteArn"]
    with translate("DescribeGatewayRoute", arn):
        raw = ecs.describe_gateway_route(gatewayRouteArn=arn).get("gatewayRoute") or {}
    return GatewayRoute.from_api(raw)


def alarm_unarmed(parameters: Mapping[str, str]) -> str | None:
    """The gateway whose route the stack's 5xx alarm still waits for, from the stack's
    parameters alone (no call): the service is behind a gateway with ``alarm_rollback`` on,
    and the route's target group is not yet known (``MetricsKnown`` false); else ``None``.

    >>> alarm_unarmed({"Gateway": "lab", "AlarmRollback": "true", "GatewayTargetGroup": ""})
    'lab'
    >>> alarm_unarmed({"Gateway": "lab", "AlarmRollback": "true",
    ...                "GatewayTargetGroup": "targetgroup/t/2b"}) is None
    True
    """
    gateway = parameters.get("Gateway") or ""
    if (gateway and parameters.get("AlarmRollback") == "true"
            and not parameters.get("GatewayTargetGroup")):
        return gateway
    return None


def metric_names(load_balancer_arn: str, target_group_arn: str) -> tuple[str, str]:
    """The CloudWatch dimension values of a load balancer and a target group ARN.

    >>> metric_names("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/gw/1a",
    ...              "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/t/2b")
    ('app/gw/1a', 'targetgroup/t/2b')
    """
    return (load_balancer_arn.split(":loadbalancer/", 1)[-1],
            "targetgroup/" + target_group_arn.split(":targetgroup/", 1)[-1])


def rule_target_group(aws: Aws, rule_arn: str) -> str | None:
    """The target group a listener rule forwards to (its first), or ``None``."""
    with translate("DescribeRules", rule_arn):
        rules = aws.client("elbv2").describe_rules(RuleArns=[rule_arn]).get("Rules", [])
    for rule in rules:
        for action in rule.get("Actions", []):
            if action.get("Type") != "forward":
                continue
            if action.get("TargetGroupArn"):
                return str(action["TargetGroupArn"])
            groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
            if groups:
                return str(groups[0]["TargetGroupArn"])
    return None
