"""Stack operations take time, fail per resource, roll back, and can be cancelled.

moto 5.2.5 behaviour corrected:

* a stack operation is applied inside the API call and reported complete at once: an
  update that changes an ECS service's task definition is ``UPDATE_COMPLETE`` before any
  task of it has started (CloudFormation waits for the service to stabilise);
* a resource that fails to create or update makes the API call itself fail (an HTML 500
  that botocore retries) and leaves half the stack behind: there is no
  ``ROLLBACK_COMPLETE`` or ``UPDATE_ROLLBACK_COMPLETE``, and no resource-level events;
* ``CancelUpdateStack`` is not implemented; updates, change sets and deletes are accepted
  whatever the stack's status; a CREATE change set for an existing stack makes a second
  stack of the same name;
* a stack whose deletion fails vanishes from ``DescribeStacks`` by name;
* executing an UPDATE change set does not record its parameters on the stack.

With the shim, stack operations behave as described in ``fluoride.local._stacks``.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError
from moto.cloudformation.models import CloudFormationBackend, Stack
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import EmptyResult

from fluoride.local import _stacks
from fluoride.local.shims._patch import original, patch

__all__ = ["install"]

#: Statuses in which a stack refuses updates and change sets.
BUSY = frozenset({
    "CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "DELETE_IN_PROGRESS",
    "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "REVIEW_IN_PROGRESS",
})
#: Statuses in which a stack refuses to be deleted.
UNDELETABLE = frozenset({
    "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "ROLLBACK_IN_PROGRESS",
})


def _not_updatable(stack: Any) -> ValidationError:
    return ValidationError(
        stack.stack_id,
        message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.",
    )


def _validate_status(self: Any, stack: Any) -> None:
    if stack.status in BUSY or stack.status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED",
                                                "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED"):
        raise _not_updatable(stack)


def _create_resources(self: Any) -> None:
    _stacks.run_create(self)


def _update(self: Any, template: Any, role_arn: str | None = None,
            parameters: dict[str, Any] | None = None, tags: dict[str, str] | None = None) -> None:
    _stacks.run_update(self, template, parameters, role_arn=role_arn, tags=tags)


def _delete(self: Any) -> None:
    _stacks.run_delete(self)


def _find_stack(backend: Any, name_or_id: str) -> Any:
    if name_or_id in backend.stacks:
        return backend.stacks[name_or_id]
    for stack in backend.stacks.values():
        if stack.name == name_or_id:
            return stack
    return None


def _delete_stack(self: Any, name_or_stack_id: str) -> None:
    stack = _find_stack(self, name_or_stack_id)
    if stack is None:
        return  # deleting a stack that does not exist succeeds, as on AWS
    if stack.status in UNDELETABLE:
        raise ValidationError(
            stack.stack_id,
            message=f"Stack [{stack.name}] cannot be deleted while in status {stack.status}",
        )
    original(CloudFormationBackend, "delete_stack")(self, stack.stack_id)
    if stack.status == "DELETE_FAILED":  # keep it findable, as AWS does
        self.deleted_stacks.pop(stack.stack_id, None)
        self.stacks[stack.stack_id] = stack


def _execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    change_set = None
    if change_set_name in self.change_sets:
        change_set = self.change_sets[change_set_name]
    else:
        for candidate in self.change_sets.values():
            if candidate.change_set_name == change_set_name and (
                stack_name is None or stack_name in (candidate.stack_name, candidate.stack_id)
            ):
                change_set = candidate
    if change_set is None:
        raise ValidationError(stack_name, message=f"ChangeSet [{change_set_name}] does not exist")
    if change_set.execution_status != "AVAILABLE":
        raise ValidationError(
            stack_name,
            message=f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
                    f"execution status of [{change_set.execution_status}]",
        )
    stack = self.stacks.get(change_set.stack_id)
    if stack is None:  # deleted since the change set was made, as AWS answers
        raise ValidationError(stack_name, message=f"Stack [{stack_name}] does not exist")
    if change_set.change_set_type == "CREATE":
        if stack.status != "REVIEW_IN_PROGRESS":
            raise _not_updatable(stack)
        stack.template = change_set.template
        stack._parse_template()
        stack.description = stack.template_dict.get("Description")
        stack.parameters = _stacks.normalise_parameters(change_set.parameters)
        stack.resource_map = stack._create_resource_map()
        stack.output_map = stack._create_output_map()
        _stacks.add_stack_event(stack, "CREATE_IN_PROGRESS", "User Initiated")
        change_set.execution_status = "EXECUTE_COMPLETE"
        stack.create_resources()
    else:
        if stack.status in BUSY:
            raise _not_updatable(stack)
        change_set.execution_status = "EXECUTE_COMPLETE"
        _stacks.run_update(stack, change_set.template, change_set.parameters,
                           role_arn=change_set.role_arn or stack.role_arn,
                           tags=change_set.tags or None)
    for other in self.change_sets.values():
        if other is not change_set and other.stack_id == stack.stack_id \
                and other.execution_status == "AVAILABLE":
            other.execution_status = "OBSOLETE"


def _create_change_set_response(self: Any) -> Any:
    stack_name = self._get_param("StackName")
    kind = self._get_param("ChangeSetType", "CREATE")
    existing = _find_stack(self.cloudformation_backend, stack_name)
    if kind == "CREATE" and existing is not None:
        if existing.status != "REVIEW_IN_PROGRESS":
            raise AlreadyExistsException(f"Stack [{stack_name}] already exists")
        # A new CREATE change set for a stack under review replaces the reviewed one.
        self.cloudformation_backend.stacks.pop(existing.stack_id, None)
    if kind == "UPDATE" and existing is not None and existing.status in BUSY:
        raise _not_updatable(existing)
    return original(CloudFormationResponse, "create_change_set")(self)


def _cancel_update_stack(self: Any) -> Any:
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    operation = _stacks.operation_for(stack)
    if stack.status != "UPDATE_IN_PROGRESS" or operation is None:
        raise ValidationError(
            stack.stack_id, message="CancelUpdateStack cannot be called from current stack status"
        )
    operation.cancel()
    return EmptyResult()


def install() -> None:
    patch(Stack, "create_resources", _create_resources)
    patch(Stack, "update", _update)
    patch(Stack, "delete", _delete)
    patch(CloudFormationBackend, "delete_stack", _delete_stack)
    patch(CloudFormationBackend, "execute_change_set", _execute_change_set)
    patch(CloudFormationResponse, "create_change_set", _create_change_set_response)
    patch(CloudFormationResponse, "_validate_status", _validate_status)
    patch(CloudFormationResponse, "cancel_update_stack", _cancel_update_stack)
