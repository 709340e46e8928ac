"""Which CloudFormation operation (if any) is applying changes right now.

ECS calls made while a stack operation applies its resources report the deployments they
start here, so the operation can wait for them the way CloudFormation waits for an ECS
service to stabilise.
"""

from __future__ import annotations

import contextvars
from typing import Protocol

__all__ = ["CURRENT_OPERATION", "DeploymentWatcher", "note_deployment"]


class DeploymentWatcher(Protocol):
    def watch_deployment(self, service_arn: str, deployment_id: str) -> None: ...


CURRENT_OPERATION: contextvars.ContextVar[DeploymentWatcher | None] = contextvars.ContextVar(
    "fluoride_current_stack_operation", default=None
)


def note_deployment(service_arn: str, deployment_id: str) -> None:
    """Tell the stack operation in progress (if any) to wait for this deployment."""
    operation = CURRENT_OPERATION.get()
    if operation is not None:
        operation.watch_deployment(service_arn, deployment_id)
