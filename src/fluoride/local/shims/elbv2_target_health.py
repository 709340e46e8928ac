"""Target health follows the emulated tasks.

moto 5.2.5 behaviour corrected: every registered IP target is ``healthy`` from the moment
it is registered, whatever runs behind it, and nothing ever registers an ECS service's
tasks.

With the shim the targets that the emulated ECS services register report ``initial``
(``Elb.RegistrationInProgress``) until their health check settles, then ``healthy``, or
``unhealthy`` (``Target.ResponseCodeMismatch``) for an image marked unhealthy, and
``draining`` (``Target.DeregistrationInProgress``) while their task stops. Targets that
you register yourself keep moto's behaviour.
"""

from __future__ import annotations

from typing import Any

from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

from fluoride.local import _ecs
from fluoride.local.shims._patch import original, patch

__all__ = ["install"]


def _health_for(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
    simulated = _ecs.target_health(self.arn, target["Id"])
    if simulated is not None:
        registered = self.targets.get(target["Id"], target)
        state, reason, description = simulated
        return FakeHealthStatus(
            target["Id"], registered.get("Port", self.port), self.health_check_port, state,
            reason, description,
        )
    return original(FakeTargetGroup, "health_for")(self, target, ec2_backend)


def install() -> None:
    patch(FakeTargetGroup, "health_for", _health_for)
