"""CloudFormation keeps load balancer and target group attributes and their ``Fn::GetAtt``s.

moto 5.2.5 behaviour corrected:

* ``AWS::ElasticLoadBalancingV2::LoadBalancer`` drops ``LoadBalancerAttributes`` (idle
  timeout, access logs, invalid header fields) and ``Fn::GetAtt`` for
  ``LoadBalancerFullName``, ``CanonicalHostedZoneID`` and ``SecurityGroups`` is not
  implemented: it resolves to the unevaluated ``{"Fn::GetAtt": ...}`` itself, so an alarm
  dimension or a Route 53 alias target gets garbage;
* ``AWS::ElasticLoadBalancingV2::TargetGroup`` drops ``TargetGroupAttributes`` (the
  deregistration delay), has no ``Fn::GetAtt`` at all (``TargetGroupFullName`` fails
  the stack with an AttributeError) and no delete, so deleting the stack leaves it.

With the shim the attributes are applied, the ``Fn::GetAtt``s return what AWS returns
(``app/<name>/<id>``, ``targetgroup/<name>/<id>``, the region's ALB hosted zone), and
deleting a target group resource deletes the target group.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.elbv2.models import FakeLoadBalancer, FakeTargetGroup, elbv2_backends

from fluoride.local._errors import tolerated
from fluoride.local.shims._model import Creation, patch_model
from fluoride.local.shims._patch import original, patch

__all__ = ["ALB_HOSTED_ZONES", "install"]

#: Route 53 hosted zone ids of Application Load Balancers, per region.
ALB_HOSTED_ZONES = {
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-east-2": "Z3AADJGX6KTTL2",
    "us-west-1": "Z368ELLRRE2KJ0",
    "us-west-2": "Z1H1FL5HABSF5",
    "eu-west-1": "Z32O12XQLNTSW2",
    "eu-west-2": "ZHURV8PSTC4K8",
    "eu-central-1": "Z215JYRZR1TBD5",
    "ap-southeast-1": "Z1LMS91P8CMLE5",
    "ap-southeast-2": "Z1GM3OXH4ZPM65",
    "ap-northeast-1": "Z14GRHDCWA56QT",
}


def _attributes(raw: list[dict[str, Any]] | None) -> dict[str, str]:
    return {str(a["Key"]): str(a["Value"]) for a in raw or []}


def _region(arn: str) -> str:
    return arn.split(":")[3]


def _lb_create(creation: Creation) -> Any:
    lb = creation.moto_create(FakeLoadBalancer)
    lb.canonical_hosted_zone_id = ALB_HOSTED_ZONES.get(
        creation.region_name, lb.canonical_hosted_zone_id)
    attributes = _attributes(creation.properties.get("LoadBalancerAttributes"))
    if attributes:
        creation.backend(elbv2_backends).modify_load_balancer_attributes(lb.arn, attributes)
    return lb


def _lb_full_name(lb: Any) -> str:
    return "/".join(lb.arn.split(":loadbalancer/")[1].split("/")[:3])


def _lb_get_attribute(self: Any, attribute_name: str) -> Any:
    if attribute_name == "LoadBalancerFullName":
        return _lb_full_name(self)
    if attribute_name == "CanonicalHostedZoneID":
        return ALB_HOSTED_ZONES.get(_region(self.arn), self.canonical_hosted_zone_id)
    if attribute_name == "SecurityGroups":
        return list(self.security_groups)
    if attribute_name == "LoadBalancerArn":
        return self.arn
    return original(FakeLoadBalancer, "get_cfn_attribute")(self, attribute_name)


def _tg_create(creation: Creation) -> Any:
    target_group = creation.moto_create(FakeTargetGroup)
    attributes = _attributes(creation.properties.get("TargetGroupAttributes"))
    if attributes:
        backend = creation.backend(elbv2_backends)
        backend.modify_target_group_attributes(target_group.arn, attributes)
    return target_group


_TG_ATTRIBUTES = frozenset(
    {"TargetGroupFullName", "TargetGroupName", "TargetGroupArn", "LoadBalancerArns"}
)


def _tg_has_attribute(cls: type[Any], /, attr: str) -> bool:
    return attr in _TG_ATTRIBUTES


def _tg_get_attribute(self: Any, attribute_name: str) -> Any:
    if attribute_name == "TargetGroupFullName":
        return "targetgroup/" + self.arn.split(":targetgroup/")[1]
    if attribute_name == "TargetGroupName":
        return self.name
    if attribute_name == "TargetGroupArn":
        return self.arn
    if attribute_name == "LoadBalancerArns":
        return list(self.load_balancer_arns)
    raise UnformattedGetAttTemplateException()


def _tg_delete(self: Any, account_id: str, region_name: str) -> None:
    backend = elbv2_backends[account_id][region_name]
    if self.arn in backend.target_groups:
        backend.delete_target_group(self.arn)  # in use by a listener: moto retries later


def _tg_update(tg: Any, creation: Creation) -> Any:
    p = creation.properties
    backend = creation.backend(elbv2_backends)
    # moto validates a few fields differently from AWS: the rest of the update still applies.
    with tolerated(f"modifying target group {tg.arn}"):
        backend.modify_target_group(
            tg.arn,
            health_check_proto=p.get("HealthCheckProtocol"),
            health_check_port=p.get("HealthCheckPort"),
            health_check_path=p.get("HealthCheckPath"),
            health_check_interval=p.get("HealthCheckIntervalSeconds"),
            health_check_timeout=p.get("HealthCheckTimeoutSeconds"),
            health_check_enabled=p.get("HealthCheckEnabled"),
            healthy_threshold_count=p.get("HealthyThresholdCount"),
            unhealthy_threshold_count=p.get("UnhealthyThresholdCount"),
            http_codes=(p.get("Matcher") or {}).get("HttpCode"),
        )
    attributes = _attributes(p.get("TargetGroupAttributes"))
    if attributes:
        backend.modify_target_group_attributes(tg.arn, attributes)
    return tg


def install() -> None:
    patch_model(FakeLoadBalancer, create=_lb_create)
    patch(FakeLoadBalancer, "get_cfn_attribute", _lb_get_attribute)
    patch_model(FakeTargetGroup, create=_tg_create, update=_tg_update, delete=_tg_delete)
    patch(FakeTargetGroup, "has_cfn_attr", classmethod(_tg_has_attribute))
    patch(FakeTargetGroup, "get_cfn_attribute", _tg_get_attribute)
