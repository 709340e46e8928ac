"""CloudFormation creates ``AWS::ApplicationAutoScaling::ScalableTarget`` and ``::ScalingPolicy``.

moto 5.2.5 behaviour corrected: its CloudFormation has no model for either type; both are
skipped with a warning, so the stack completes with no scalable target and no policy, and
a ``Ref`` to them resolves to nothing.

With the shim the target is registered, and the policy put, in moto's Application Auto
Scaling backend, so ``describe_scalable_targets`` and ``describe_scaling_policies`` show
them. ``Ref`` on the target is ``resource-id|dimension|namespace`` and on the policy its
ARN, as on AWS; ``ScalingTargetId`` is understood. Updates re-register/re-put in place;
deleting deregisters (and removes the target's policies, as AWS does).
"""

from __future__ import annotations

from typing import Any, ClassVar

from moto.applicationautoscaling.models import applicationautoscaling_backends

from fluoride.local._errors import tolerated
from fluoride.local.shims._model import Creation, ShimResource
from fluoride.local.shims._patch import register_model

__all__ = ["ScalableTargetResource", "ScalingPolicyResource", "install"]


def _int(value: object) -> int | None:
    return None if value is None or value == "" else int(str(value))


def _number(value: object) -> Any:
    """Numbers in a policy body as AWS returns them (TargetValue is a double)."""
    if isinstance(value, dict):
        return {k: _number(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_number(v) for v in value]
    return value


def _policy_body(config: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = _number(dict(config))
    if "TargetValue" in body:
        body["TargetValue"] = float(body["TargetValue"])
    for key in ("ScaleInCooldown", "ScaleOutCooldown"):
        if key in body:
            body[key] = int(body[key])
    return body


class ScalableTargetResource(ShimResource):
    TYPE: ClassVar[str] = "AWS::ApplicationAutoScaling::ScalableTarget"
    ATTRIBUTES: ClassVar[frozenset[str]] = frozenset({"Id"})

    @classmethod
    def create(cls, creation: Creation) -> ScalableTargetResource:
        p = creation.properties
        backend: Any = creation.backend(applicationautoscaling_backends)
        target = backend.register_scalable_target(
            namespace=p["ServiceNamespace"],
            r_id=p["ResourceId"],
            dimension=p["ScalableDimension"],
            min_capacity=_int(p.get("MinCapacity")),
            max_capacity=_int(p.get("MaxCapacity")),
            role_arn=p.get("RoleARN"),
            suspended_state=p.get("SuspendedState"),
        )
        physical_id = f"{target.resource_id}|{target.scalable_dimension}|{target.service_namespace}"
        return cls(physical_id, Id=physical_id, namespace=target.service_namespace,
                   resource_id=target.resource_id, dimension=target.scalable_dimension)

    @classmethod
    def update(cls, resource: Any, creation: Creation) -> Any:
        p = creation.properties
        old = resource.attributes
        if (p["ServiceNamespace"], p["ResourceId"], p["ScalableDimension"]) != (
            old["namespace"], old["resource_id"], old["dimension"]
        ):
            return super().update(resource, creation)
        return cls.create(creation)  # registering again updates the target in place

    def delete(self, account_id: str, region_name: str) -> None:
        backend = applicationautoscaling_backends[account_id][region_name]
        a = self.attributes
        for key, policy in list(backend.policies.items()):
            if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (
                a["namespace"], a["resource_id"], a["dimension"]
            ):
                policy.delete_alarms(account_id, region_name)
                del backend.policies[key]
        # Already gone: deleting is idempotent.
        with tolerated(f"deregistering scalable target {self.physical_id}"):
            backend.deregister_scalable_target(a["namespace"], a["resource_id"], a["dimension"])


class ScalingPolicyResource(ShimResource):
    TYPE: ClassVar[str] = "AWS::ApplicationAutoScaling::ScalingPolicy"
    ATTRIBUTES: ClassVar[frozenset[str]] = frozenset({"Arn"})

    @classmethod
    def create(cls, creation: Creation) -> ScalingPolicyResource:
        p = creation.properties
        if p.get("ScalingTargetId"):
            resource_id, dimension, namespace = str(p["ScalingTargetId"]).split("|")
        else:
            resource_id = p["ResourceId"]
            dimension = p["ScalableDimension"]
            namespace = p["ServiceNamespace"]
        policy_type = p.get("PolicyType")
        if policy_type == "StepScaling":
            body = _number(dict(p.get("StepScalingPolicyConfiguration") or {}))
        else:
            body = _policy_body(p.get("TargetTrackingScalingPolicyConfiguration") or {})
        backend = creation.backend(applicationautoscaling_backends)
        policy = backend.put_scaling_policy(
            policy_name=p["PolicyName"],
            service_namespace=namespace,
            resource_id=resource_id,
            scalable_dimension=dimension,
            policy_body=body,
            policy_type=policy_type,
        )
        return cls(policy.policy_arn, Arn=policy.policy_arn, name=p["PolicyName"],
                   namespace=namespace, resource_id=resource_id, dimension=dimension)

    def delete(self, account_id: str, region_name: str) -> None:
        a = self.attributes
        # Maybe gone with its scalable target already.
        with tolerated(f"deleting scaling policy {a['name']}"):
            applicationautoscaling_backends[account_id][region_name].delete_scaling_policy(
                a["name"], a["namespace"], a["resource_id"], a["dimension"]
            )


def install() -> None:
    register_model(ScalableTargetResource)
    register_model(ScalingPolicyResource)
