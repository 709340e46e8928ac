"""Stack resources and outputs are read, never re-created, and carry their own status.

moto 5.2.5 behaviour corrected: a stack's resources and outputs are evaluated lazily on
every read, and reading one that is not in the stack (deleted, rolled back, or never
created) *creates it*: ``ListStackResources`` or ``DescribeStacks`` on a deleted stack
brings its ECS service, load balancer and the rest back to life. Every resource is
reported ``CREATE_COMPLETE`` with the stack's creation time, whatever happened to it, and
outputs are shown while the stack is still being created.

With the shim, resource listings show the resources that exist, each with the status and
time of its last event, and outputs are evaluated once when an operation completes (as
AWS shows them), not while a stack is being created or after it is gone.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.models import Stack
from moto.cloudformation.responses import CloudFormationResponse, StackResourceDTO
from moto.core.responses import ActionResult

from fluoride.local import _stacks
from fluoride.local.shims._patch import original, patch

__all__ = ["install"]


def _stack_resources(self: Any) -> list[Any]:
    return [model for _, model, _ in _stacks.present_resources(self.resource_map)]


def _outputs(self: Any) -> Any:
    return getattr(self, "_fluoride_outputs", None)


def _dto_init(self: Any, stack: Any, resource: Any) -> None:
    original(StackResourceDTO, "__init__")(self, stack, resource)
    found = _stacks.resource_status(stack, getattr(resource, "logical_resource_id", ""))
    if found is not None:
        self.resource_status, self.resource_status_reason, self.timestamp = found
        self.last_updated_timestamp = found[2]


def _list_stack_resources(self: Any) -> ActionResult:
    stack, resources = self.cloudformation_backend.list_stack_resources(
        self._get_param("StackName")
    )
    summaries = []
    for resource in resources:
        logical_id = getattr(resource, "logical_resource_id", "")
        status, reason, when = _stacks.resource_status(stack, logical_id) or (
            "CREATE_COMPLETE", None, stack.creation_time)
        summaries.append({
            "LogicalResourceId": logical_id,
            "PhysicalResourceId": getattr(resource, "physical_resource_id", ""),
            "ResourceType": getattr(resource, "cf_resource_type", ""),
            "ResourceStatus": status,
            "ResourceStatusReason": reason,
            "LastUpdatedTimestamp": when,
        })
    return ActionResult({"StackResourceSummaries": summaries})


def install() -> None:
    patch(Stack, "stack_resources", property(_stack_resources))
    patch(Stack, "outputs", property(_outputs))
    patch(StackResourceDTO, "__init__", _dto_init)
    patch(CloudFormationResponse, "list_stack_resources", _list_stack_resources)
