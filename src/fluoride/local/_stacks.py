"""CloudFormation stack operations that take time and can fail, as on AWS.

moto applies a whole stack operation inside the API call and reports it complete. Here an
operation ends only when the ECS deployments it started end, as CloudFormation waits for
an ECS service to stabilise:

* create: ``CREATE_IN_PROGRESS`` until the services' first deployments complete, then
  ``CREATE_COMPLETE``; a resource that fails (at once, or a deployment that fails) makes it
  ``ROLLBACK_IN_PROGRESS``, deletes what was created (keeping ``Retain`` resources) and
  ends ``ROLLBACK_COMPLETE``;
* update: ``UPDATE_IN_PROGRESS`` until the deployments complete, then
  ``UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`` (replaced and removed resources are deleted) and
  ``UPDATE_COMPLETE``; a failure, or ``CancelUpdateStack``, makes it
  ``UPDATE_ROLLBACK_IN_PROGRESS``: the previous template, parameters and resources come
  back, services return to their previous task definitions and, once that deployment
  completes, ``UPDATE_ROLLBACK_COMPLETE``;
* delete: resources are deleted in reverse dependency order with ``DELETE_SKIPPED`` for
  ``Retain``; a resource that cannot be deleted leaves the stack ``DELETE_FAILED``.

Each resource gets its own stack events and status, as on AWS.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import Any

import attrs
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Event

from fluoride.local import _ecs
from fluoride.local._context import CURRENT_OPERATION
from fluoride.local._errors import is_aws_error, log
from fluoride.local._template import dependency_order, dependents, references
from fluoride.local._world import WORLD

__all__ = [
    "ResourceFailed",
    "StackOperation",
    "add_resource_event",
    "apply_update",
    "delete_resources",
    "normalise_parameters",
    "operation_for",
    "plan_update",
    "present_resources",
    "run_create",
    "run_update",
]


#: Resource types that CloudFormation replaces (new physical id) on any property change.
REPLACED_ON_UPDATE = frozenset({"AWS::ECS::TaskDefinition"})


class ResourceFailed(Exception):
    """A resource could not be created, updated or deleted."""

    def __init__(self, logical_id: str, resource_type: str, reason: str) -> None:
        super().__init__(f"{logical_id} ({resource_type}): {reason}")
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.reason = reason


def _failed(logical_id: str, resource_type: str, doing: str, exc: Exception) -> ResourceFailed:
    """The resource failure an exception stands for; an emulator bug is logged at ERROR.

    An AWS error (a missing cluster, a refused parameter) fails the resource as on AWS.
    Anything else fails it too, so that the stack rolls back, but is the emulator's own
    failure and is reported as such.
    """
    if not is_aws_error(exc):
        log.error("emulator: %s %s (%s) failed", doing, logical_id, resource_type,
                  exc_info=exc)
    return ResourceFailed(logical_id, resource_type, error_reason(exc))


def error_reason(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or getattr(exc, "description", None) or str(exc)
    return f"Resource handler returned message: \"{message}\""


# ------------------------------------------------------------------ events and statuses


def _resource_status(stack: Any) -> dict[str, tuple[str, str | None, Any]]:
    if not hasattr(stack, "_fluoride_resource_status"):
        stack._fluoride_resource_status = {}
    found: dict[str, tuple[str, str | None, Any]] = stack._fluoride_resource_status
    return found


def resource_status(stack: Any, logical_id: str) -> tuple[str, str | None, Any] | None:
    """(status, reason, timestamp) of a stack's resource, as its last event said."""
    return _resource_status(stack).get(logical_id)


def add_resource_event(
    stack: Any,
    logical_id: str,
    resource_type: str,
    physical_id: str | None,
    status: str,
    reason: str | None = None,
    *,
    current: bool = True,
) -> None:
    """Add a resource event; unless ``current`` is false, it is also the resource's status.

    An event about a physical resource that the logical resource no longer stands for (the
    old task definition deleted in an update's cleanup) is history only: AWS lists the
    resource with the status of its current physical resource.
    """
    event = Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical_id,
        physical_resource_id=physical_id or "",
        resource_type=resource_type,
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=None,
    )
    event.timestamp = WORLD.clock.wall(WORLD.event_time())
    stack.events.append(event)
    if current:
        _resource_status(stack)[logical_id] = (status, reason, event.timestamp)


def add_stack_event(stack: Any, status: str, reason: str | None = None) -> None:
    stack._add_stack_event(status, resource_status_reason=reason)
    stack.events[-1].timestamp = WORLD.clock.wall(WORLD.event_time())


def _set_status(stack: Any, status: str, reason: str | None = None) -> None:
    stack.status = status
    stack.stack_status_reason = reason
    add_stack_event(stack, status, reason)


def _physical_id(model: Any) -> str | None:
    value = getattr(model, "physical_resource_id", None)
    return None if value is None else str(value)


def freeze_outputs(stack: Any) -> None:
    """Evaluate the outputs once, at the end of an operation (AWS shows them from then on)."""
    from moto.cloudformation.models import Stack

    from fluoride.local.shims._patch import original

    try:
        stack._fluoride_outputs = original(Stack, "outputs").fget(stack)
    except Exception:  # an output that cannot be evaluated must not break the stack
        log.exception("emulator: outputs of %s could not be evaluated", stack.name)
        stack._fluoride_outputs = None


# ------------------------------------------------------------------ registry


def _operations() -> dict[str, StackOperation]:
    found: dict[str, StackOperation] = WORLD.state.setdefault("stack_operations", {})
    return found


def operation_for(stack: Any) -> StackOperation | None:
    return _operations().get(stack.stack_id)


def _poll_operations(now: float) -> None:
    for operation in list(_operations().values()):
        operation.check()


def _deployments_changed() -> None:
    _poll_operations(WORLD.event_time())


if _poll_operations not in WORLD.pollers:
    WORLD.pollers.append(_poll_operations)
if _deployments_changed not in _ecs.DEPLOYMENT_LISTENERS:
    _ecs.DEPLOYMENT_LISTENERS.append(_deployments_changed)


# ------------------------------------------------------------------ snapshots


@attrs.define(eq=False)
class Snapshot:
    """Everything a stack update changes in moto's records, to restore on rollback."""

    template: Any
    template_dict: dict[str, Any]
    parameters: dict[str, Any]
    tags: dict[str, str]
    role_arn: str | None
    rm_template: dict[str, Any]
    json_map: dict[str, Any]
    input_parameters: dict[str, Any]
    resolved_parameters: dict[str, Any]
    parsed: dict[str, Any]
    conditions: Any
    no_echo: list[str]
    output_map: Any
    outputs: Any

    @classmethod
    def take(cls, stack: Any) -> Snapshot:
        rm = stack.resource_map
        return cls(
            template=stack.template,
            template_dict=stack.template_dict,
            parameters=dict(stack.parameters or {}),
            tags=dict(stack.tags or {}),
            role_arn=stack.role_arn,
            rm_template=rm._template,
            json_map=rm._resource_json_map,
            input_parameters=dict(rm.input_parameters or {}),
            resolved_parameters=dict(rm.resolved_parameters),
            parsed=dict(rm._parsed_resources),
            conditions=copy.copy(getattr(rm, "lazy_condition_map", {})),
            no_echo=list(getattr(rm, "no_echo_parameter_keys", [])),
            output_map=stack.output_map,
            outputs=getattr(stack, "_fluoride_outputs", None),
        )

    def restore(self, stack: Any) -> None:
        rm = stack.resource_map
        stack.template = self.template
        stack.template_dict = self.template_dict
        stack.parameters = self.parameters
        stack.tags = self.tags
        stack.role_arn = self.role_arn
        rm._template = self.rm_template
        rm._resource_json_map = self.json_map
        rm.input_parameters = self.input_parameters
        rm.resolved_parameters = self.resolved_parameters
        rm._parsed_resources = dict(self.parsed)
        rm.lazy_condition_map = self.conditions
        rm.no_echo_parameter_keys = self.no_echo
        stack.output_map = self.output_map
        stack._fluoride_outputs = self.outputs


# ------------------------------------------------------------------ operations


@attrs.define(eq=False)
class Watch:
    service_arn: str
    deployment_id: str
    logical_id: str | None
    resource_type: str | None
    physical_id: str | None
    action: str  # CREATE or UPDATE


@attrs.define(eq=False)
class AppliedUpdate:
    """What an update did: to clean up after success, or to undo on rollback."""

    added: list[str] = attrs.field(factory=list)
    updated: list[str] = attrs.field(factory=list)
    replaced: list[tuple[str, Any, dict[str, Any], Any]] = attrs.field(factory=list)
    removed: list[tuple[str, Any, dict[str, Any]]] = attrs.field(factory=list)


@attrs.define(eq=False)
class StackOperation:
    """A create or update that is not over yet (see the module docstring)."""

    stack: Any
    kind: str  # CREATE or UPDATE
    snapshot: Snapshot | None = None
    applied: AppliedUpdate = attrs.field(factory=AppliedUpdate)
    phase: str = "IN_PROGRESS"  # IN_PROGRESS, ROLLBACK_IN_PROGRESS, DONE
    watches: list[Watch] = attrs.field(factory=list)
    scope: list[tuple[str, str]] = attrs.field(factory=list)
    applying: bool = False
    #: The models and JSON the update put in place (kept when the snapshot is restored).
    applied_models: dict[str, Any] = attrs.field(factory=dict)
    applied_json: dict[str, Any] = attrs.field(factory=dict)

    # -- what ECS tells us

    def watch_deployment(self, service_arn: str, deployment_id: str) -> None:
        logical_id, resource_type = self.scope[-1] if self.scope else (None, None)
        self.watches = [w for w in self.watches if w.service_arn != service_arn]
        action = "CREATE" if self.kind == "CREATE" and self.phase == "IN_PROGRESS" else "UPDATE"
        self.watches.append(
            Watch(service_arn, deployment_id, logical_id, resource_type, service_arn, action)
        )

    def waits_for(self, logical_id: str) -> bool:
        return any(w.logical_id == logical_id for w in self.watches)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        token = CURRENT_OPERATION.set(self)
        try:
            yield
        finally:
            CURRENT_OPERATION.reset(token)

    @contextlib.contextmanager
    def resource(self, logical_id: str, resource_type: str) -> Iterator[None]:
        self.scope.append((logical_id, resource_type))
        try:
            yield
        finally:
            self.scope.pop()

    # -- progress

    def settle(self) -> None:
        """After the API call: finish now if nothing is pending, else wait (lazily)."""
        if self.phase == "DONE":
            return
        _operations()[self.stack.stack_id] = self
        self.check()

    def check(self) -> None:
        if self.applying:  # resources are still being changed: judge afterwards
            return
        if self.phase == "DONE":
            _operations().pop(self.stack.stack_id, None)
            return
        outcomes = [(w, *_ecs.deployment_outcome(w.service_arn, w.deployment_id))
                    for w in self.watches]
        failed = next(((w, reason) for w, state, reason in outcomes
                       if state in ("FAILED", "GONE")), None)
        if self.phase == "IN_PROGRESS":
            if failed is not None:
                watch, reason = failed
                self.fail(watch.logical_id or "?", watch.resource_type or "?", watch.physical_id,
                          _deployment_failure(reason))
                return
            for watch, state, _ in outcomes:
                if state == "COMPLETED":
                    self._complete_watch(watch)
            if not self.watches:
                self.complete()
        elif self.phase == "ROLLBACK_IN_PROGRESS":
            if failed is not None:
                watch, reason = failed
                self._rollback_failed(watch, reason)
                return
            for watch, state, _ in outcomes:
                if state == "COMPLETED":
                    self._complete_watch(watch)
            if not self.watches:
                self.finish_rollback()

    def _complete_watch(self, watch: Watch) -> None:
        self.watches.remove(watch)
        if watch.logical_id is not None:
            add_resource_event(self.stack, watch.logical_id, watch.resource_type or "",
                               watch.physical_id, f"{watch.action}_COMPLETE")

    def complete(self) -> None:
        stack = self.stack
        if self.kind == "CREATE":
            self.phase = "DONE"
            freeze_outputs(stack)
            _set_status(stack, "CREATE_COMPLETE")
        else:
            _set_status(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
            self._cleanup(
                [(name, old, body) for name, old, body, _ in self.applied.replaced]
                + self.applied.removed,
                replaced={name for name, *_ in self.applied.replaced},
            )
            self.phase = "DONE"
            freeze_outputs(stack)
            _set_status(stack, "UPDATE_COMPLETE")
        _operations().pop(stack.stack_id, None)

    # -- failure and rollback

    def fail(self, logical_id: str, resource_type: str, physical_id: str | None,
             reason: str) -> None:
        """A resource failed: mark it and start the rollback."""
        if self.phase != "IN_PROGRESS":
            return
        action = "CREATE" if self.kind == "CREATE" else "UPDATE"
        add_resource_event(self.stack, logical_id, resource_type, physical_id,
                           f"{action}_FAILED", reason)
        verb = "create" if self.kind == "CREATE" else "update"
        stack_reason = f"The following resource(s) failed to {verb}: [{logical_id}]. "
        if self.kind == "CREATE":
            stack_reason += "Rollback requested by user."
        self.rollback(stack_reason.strip())

    def cancel(self) -> None:
        """CancelUpdateStack: every resource still updating fails as cancelled."""
        for watch in list(self.watches):
            if watch.logical_id is not None:
                add_resource_event(self.stack, watch.logical_id, watch.resource_type or "",
                                   watch.physical_id, "UPDATE_FAILED",
                                   "Resource update cancelled")
        self.rollback("Resource update cancelled")

    def rollback(self, reason: str) -> None:
        stack = self.stack
        self.watches = []
        self.phase = "ROLLBACK_IN_PROGRESS"
        _operations()[stack.stack_id] = self
        if self.kind == "CREATE":
            _set_status(stack, "ROLLBACK_IN_PROGRESS", reason)
            self._delete_all_for_rollback()
            return
        _set_status(stack, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
        assert self.snapshot is not None
        self.snapshot.restore(stack)
        rm = stack.resource_map
        self.applying = True
        try:
            with self.active():
                for name in dependency_order(rm._resource_json_map, self.applied.updated):
                    body = rm._resource_json_map.get(name)
                    if body is None or name not in rm._parsed_resources:
                        continue
                    try:
                        _update_resource(self, rm, name, body)
                    except ResourceFailed as failure:
                        log.warning("emulator: rollback of %s failed: %s", name, failure.reason)
        finally:
            self.applying = False
        self.check()

    def finish_rollback(self) -> None:
        stack = self.stack
        _set_status(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        new_models = [(name, new, body) for name, _, body, new in self.applied.replaced]
        added = []
        current = self.applied_models
        for name in self.applied.added:
            if name in current:
                added.append((name, current[name], self.applied_json.get(name, {})))
        self._cleanup(new_models + added, replaced=set())
        self.phase = "DONE"
        freeze_outputs(stack)
        _set_status(stack, "UPDATE_ROLLBACK_COMPLETE")
        _operations().pop(stack.stack_id, None)

    def _rollback_failed(self, watch: Watch, reason: str) -> None:
        stack = self.stack
        if watch.logical_id is not None:
            add_resource_event(stack, watch.logical_id, watch.resource_type or "",
                               watch.physical_id, "UPDATE_FAILED", _deployment_failure(reason))
        self.phase = "DONE"
        status = "ROLLBACK_FAILED" if self.kind == "CREATE" else "UPDATE_ROLLBACK_FAILED"
        _set_status(stack, status, f"The following resource(s) failed to update: "
                                  f"[{watch.logical_id}].")
        _operations().pop(stack.stack_id, None)

    def _delete_all_for_rollback(self) -> None:
        stack = self.stack
        rm = stack.resource_map
        try:
            delete_resources(stack, present_resources(rm), retain_policies=("Retain",))
        except ResourceFailed:
            self.phase = "DONE"
            _set_status(stack, "ROLLBACK_FAILED")
            _operations().pop(stack.stack_id, None)
            return
        self.phase = "DONE"
        stack._fluoride_outputs = None
        _set_status(stack, "ROLLBACK_COMPLETE")
        _operations().pop(stack.stack_id, None)

    def _cleanup(self, items: list[tuple[str, Any, dict[str, Any]]], replaced: set[str]) -> None:
        try:
            delete_resources(self.stack, items, replaced=replaced)
        except ResourceFailed as failure:  # AWS carries on with a warning event
            log.warning("emulator: cleanup of %s failed: %s", failure.logical_id, failure.reason)



def _deployment_failure(reason: str) -> str:
    if "circuit breaker" in reason:
        reason = "Error occurred during operation 'ECS Deployment Circuit Breaker was triggered'."
    return (f"Resource handler returned message: \"{reason}\" "
            "(HandlerErrorCode: GeneralServiceException)")


# ------------------------------------------------------------------ creating


def create_resource(logical_id: str, resource_json: dict[str, Any], resources_map: Any,
                    account_id: str, region_name: str) -> Any:
    """moto's ``parse_and_create_resource`` with events, failures and waiting."""
    from fluoride.local.shims._patch import original

    create = original(parsing, "parse_and_create_resource")
    condition = resource_json.get("Condition")
    if condition and not resources_map.lazy_condition_map[condition]:
        return None
    operation = CURRENT_OPERATION.get()
    stack = operation.stack if isinstance(operation, StackOperation) else None
    resource_type = str(resource_json.get("Type"))
    if parsing.resource_class_from_type(resource_type) is None:
        return create(logical_id, resource_json, resources_map, account_id, region_name)
    if stack is not None:
        add_resource_event(stack, logical_id, resource_type, None, "CREATE_IN_PROGRESS")
    scope = operation.resource(logical_id, resource_type) if isinstance(
        operation, StackOperation) else contextlib.nullcontext()
    try:
        with scope:
            model = create(logical_id, resource_json, resources_map, account_id, region_name)
    except (ResourceFailed, ValidationError):
        raise
    except Exception as exc:
        raise _failed(logical_id, resource_type, "creating", exc) from exc
    if stack is not None and model is not None:
        add_resource_event(stack, logical_id, resource_type, _physical_id(model),
                           "CREATE_IN_PROGRESS", "Resource creation Initiated")
        assert isinstance(operation, StackOperation)
        if not operation.waits_for(logical_id):
            add_resource_event(stack, logical_id, resource_type, _physical_id(model),
                               "CREATE_COMPLETE")
        else:
            for watch in operation.watches:
                if watch.logical_id == logical_id:
                    watch.physical_id = _physical_id(model)
    return model


def run_create(stack: Any) -> None:
    """Create a stack's resources (``Stack.create_resources``).

    A resource that fails rolls the stack back (asynchronously, as on AWS). A template
    error (moto's ``ValidationError``, e.g. a ``Fn::GetAtt`` on an unknown resource) fails
    the API call instead, and leaves no stack and no resources behind, as CloudFormation's
    validation does.
    """
    operation = StackOperation(stack=stack, kind="CREATE")
    stack.status = "CREATE_IN_PROGRESS"
    stack._fluoride_outputs = None
    with operation.active():
        try:
            stack.resource_map.create(stack.template_dict)
        except ResourceFailed as failure:
            stack.description = stack.template_dict.get("Description")
            operation.fail(failure.logical_id, failure.resource_type, None, failure.reason)
            return
        except Exception:
            _discard_stack(stack)
            raise
    stack.description = stack.template_dict.get("Description")
    operation.settle()


def _discard_stack(stack: Any) -> None:
    """Undo a stack that failed validation half-way: its resources, then the stack itself."""
    from moto.cloudformation.models import cloudformation_backends

    try:
        delete_resources(stack, present_resources(stack.resource_map), retain_policies=())
    except ResourceFailed:
        log.warning("emulator: resources of the invalid stack %s could not all be removed",
                    stack.name)
    cloudformation_backends[stack.account_id][stack.region_name].stacks.pop(stack.stack_id, None)


# ------------------------------------------------------------------ updating


def normalise_parameters(values: dict[str, Any] | None) -> dict[str, str]:
    """Parameter values as the API carries them: strings, lists joined with commas."""
    result: dict[str, str] = {}
    for key, value in (values or {}).items():
        if isinstance(value, list):
            result[key] = ",".join(str(v) for v in value)
        elif value is None:
            result[key] = ""
        else:
            result[key] = str(value)
    return result


def present_resources(rm: Any) -> list[tuple[str, Any, dict[str, Any]]]:
    present = []
    for name, body in rm._resource_json_map.items():
        model = rm._parsed_resources.get(name)
        if model is not None and not isinstance(model, (str, int, float, list, dict)):
            present.append((name, model, body))
    return present


@attrs.frozen
class Plan:
    add: list[str]
    modify: list[str]
    replace: set[str]
    remove: list[str]


def _active(rm: Any, body: dict[str, Any]) -> bool:
    condition = body.get("Condition")
    return not condition or bool(rm.lazy_condition_map[condition])


def _changed_names(old_params: dict[str, Any], new_params: dict[str, Any],
                   old_conditions: dict[str, bool], new_conditions: dict[str, bool]) -> set[str]:
    changed = {k for k in set(old_params) | set(new_params)
               if old_params.get(k) != new_params.get(k)}
    changed |= {c for c in set(old_conditions) | set(new_conditions)
                if old_conditions.get(c) != new_conditions.get(c)}
    return changed


def _conditions(rm: Any) -> dict[str, bool]:
    conditions = getattr(rm, "lazy_condition_map", {}) or {}
    return {name: bool(conditions[name]) for name in conditions}


def plan_update(stack: Any, template_dict: dict[str, Any], parameters: dict[str, Any] | None
                ) -> Plan:
    """What an update with this template and these parameters would change (no side effects)."""
    rm = stack.resource_map
    probe = parsing.ResourceMap(
        stack.stack_id, stack.name, normalise_parameters(parameters or rm.input_parameters),
        stack.tags or {}, region_name=stack.region_name, account_id=stack.account_id,
        template=template_dict, cross_stack_resources=stack.cross_stack_resources,
    )
    probe.load()
    present = {name for name, _, _ in present_resources(rm)}
    new_json = template_dict.get("Resources", {})
    old_json = rm._resource_json_map
    changed = _changed_names(dict(rm.resolved_parameters), dict(probe.resolved_parameters),
                             _conditions(rm), _conditions(probe))
    add = [n for n in new_json if _active(probe, new_json[n]) and n not in present]
    remove = [n for n in present if n not in new_json or not _active(probe, new_json[n])]
    dirty = {n for n in new_json if n in present and _active(probe, new_json[n])
             and (old_json.get(n) != new_json[n] or references(new_json[n]) & changed)}
    replace: set[str] = set()
    modify: list[str] = []
    for name in dependency_order(new_json, set(present) - set(remove)):
        if name not in dirty:
            continue
        modify.append(name)
        if new_json[name].get("Type") in REPLACED_ON_UPDATE:
            replace.add(name)
            dirty |= dependents(new_json, name)
    return Plan(add=add, modify=modify, replace=replace, remove=remove)


def _update_resource(operation: StackOperation, rm: Any, name: str, body: dict[str, Any]) -> Any:
    from fluoride.local.shims._patch import original

    stack = operation.stack
    resource_type = str(body.get("Type"))
    old = rm._parsed_resources[name]
    old_physical = _physical_id(old)
    add_resource_event(stack, name, resource_type, old_physical, "UPDATE_IN_PROGRESS")
    update = original(parsing, "parse_and_update_resource")
    try:
        with operation.resource(name, resource_type):
            new = update(name, body, rm, account_id=stack.account_id,
                         region_name=stack.region_name)
    except (ResourceFailed, ValidationError):
        raise
    except Exception as exc:
        raise _failed(name, resource_type, "updating", exc) from exc
    if new is None:  # moto cannot update this type: it stays as it was
        new = old
    rm._parsed_resources[name] = new
    new_physical = _physical_id(new)
    if new_physical != old_physical:
        add_resource_event(stack, name, resource_type, new_physical, "UPDATE_IN_PROGRESS",
                           "Requested update requires the creation of a new physical resource; "
                           "hence creating one.")
    if not operation.waits_for(name):
        add_resource_event(stack, name, resource_type, new_physical, "UPDATE_COMPLETE")
    else:
        for watch in operation.watches:
            if watch.logical_id == name:
                watch.physical_id = new_physical
    return new


def apply_update(operation: StackOperation, template_dict: dict[str, Any],
                 parameters: dict[str, Any] | None) -> AppliedUpdate:
    """Update the stack's resources in dependency order (``ResourceMap.update``)."""
    stack = operation.stack
    rm = stack.resource_map
    old_json = rm._resource_json_map
    old_params = dict(rm.resolved_parameters)
    old_conditions = _conditions(rm)
    present = {name: model for name, model, _ in present_resources(rm)}

    rm._template = template_dict
    if parameters:
        rm.input_parameters = normalise_parameters(parameters)
    rm.resolved_parameters = {}
    rm.load_mapping()
    rm.load_parameters()
    rm.load_conditions()
    rm._resource_json_map = template_dict["Resources"]
    new_json = rm._resource_json_map
    changed = _changed_names(old_params, dict(rm.resolved_parameters), old_conditions,
                             _conditions(rm))

    applied = operation.applied
    remove = [n for n in present if n not in new_json or not _active(rm, new_json[n])]
    for name in remove:
        applied.removed.append((name, present[name], old_json[name]))
        rm._parsed_resources.pop(name, None)
    dirty = {n for n in new_json if n in present and n not in remove
             and (old_json.get(n) != new_json[n] or references(new_json[n]) & changed)}
    for name in dependency_order(new_json):
        body = new_json[name]
        if not _active(rm, body):
            continue
        if name not in present:
            if name not in rm._parsed_resources:
                rm[name]  # moto's lazy map creates the resource on access
            if name in rm._parsed_resources:
                applied.added.append(name)
            continue
        if name not in dirty:
            continue
        old = rm._parsed_resources[name]
        new = _update_resource(operation, rm, name, body)
        if _physical_id(new) != _physical_id(old):
            applied.replaced.append((name, old, old_json[name], new))
            dirty |= dependents(new_json, name)
        else:
            applied.updated.append(name)
    operation.applied_models = dict(rm._parsed_resources)
    operation.applied_json = dict(new_json)
    return applied


def run_update(stack: Any, template: Any, parameters: dict[str, Any] | None,
               role_arn: str | None = None, tags: dict[str, str] | None = None) -> None:
    """Update a stack (``Stack.update`` and executing an UPDATE change set).

    Template and parameter errors fail the API call before anything changes; a resource
    that fails starts the rollback.
    """
    from moto.cloudformation.models import Stack

    plan_update(stack, Stack.parse_template(template), parameters)  # validates, changes nothing
    previous_status, previous_reason = stack.status, getattr(stack, "stack_status_reason", None)
    events_before = len(stack.events)
    add_stack_event(stack, "UPDATE_IN_PROGRESS", "User Initiated")
    operation = StackOperation(stack=stack, kind="UPDATE", snapshot=Snapshot.take(stack))
    stack.status = "UPDATE_IN_PROGRESS"
    stack.stack_status_reason = None
    with operation.active():
        try:
            stack.template = template
            stack._parse_template()
            apply_update(operation, stack.template_dict, parameters)
            stack.output_map = stack._create_output_map()
            if parameters:
                stack.parameters = normalise_parameters(parameters)
            stack.role_arn = role_arn
            if tags is not None:
                stack.tags = tags
        except ResourceFailed as failure:
            operation.applied_models = dict(stack.resource_map._parsed_resources)
            operation.applied_json = dict(stack.resource_map._resource_json_map)
            operation.fail(failure.logical_id, failure.resource_type, None, failure.reason)
            return
        except Exception:  # a template error met half-way: as if the update never started
            assert operation.snapshot is not None
            operation.snapshot.restore(stack)
            stack.status, stack.stack_status_reason = previous_status, previous_reason
            del stack.events[events_before:]
            raise
    operation.settle()


# ------------------------------------------------------------------ deleting


def delete_resources(
    stack: Any,
    items: list[tuple[str, Any, dict[str, Any]]],
    *,
    retain_policies: tuple[str, ...] = ("Retain",),
    replaced: set[str] | None = None,
) -> None:
    """Delete resources, dependents first, with events; keep those whose policy retains them.

    ``replaced`` names resources deleted because they were replaced (their
    ``UpdateReplacePolicy`` applies instead of the ``DeletionPolicy``).
    """
    replaced = replaced or set()
    rm = stack.resource_map
    bodies = {name: body for name, _, body in items}
    order = list(reversed(dependency_order(bodies)))
    by_name = {name: (model, body) for name, model, body in items}
    remaining: list[str] = []
    # A model the stack has replaced (cleanup after an update, or after its rollback) is
    # not what the logical resource stands for any more: its events leave the status alone.
    superseded = {name for name, (model, _) in by_name.items()
                  if name in rm._parsed_resources and rm._parsed_resources[name] is not model}
    for name in order:
        model, body = by_name[name]
        policy_key = "UpdateReplacePolicy" if name in replaced else "DeletionPolicy"
        resource_type = str(body.get("Type"))
        if body.get(policy_key) in retain_policies:
            add_resource_event(stack, name, resource_type, _physical_id(model), "DELETE_SKIPPED",
                               current=name not in superseded)
            continue
        remaining.append(name)
    last_error: tuple[str, str] | None = None
    progress = True
    while remaining and progress:
        progress = False
        for name in list(remaining):
            model, body = by_name[name]
            resource_type = str(body.get("Type"))
            add_resource_event(stack, name, resource_type, _physical_id(model),
                               "DELETE_IN_PROGRESS", current=name not in superseded)
            try:
                rm._delete_resource(model, body)
            except Exception as exc:  # a dependency still exists: try again next pass
                if not is_aws_error(exc):
                    log.error("emulator: deleting %s (%s) failed", name, resource_type,
                              exc_info=exc)
                last_error = (name, error_reason(exc))
                continue
            add_resource_event(stack, name, resource_type, _physical_id(model), "DELETE_COMPLETE",
                               current=name not in superseded)
            if rm._parsed_resources.get(name) is model:
                rm._parsed_resources.pop(name, None)
            remaining.remove(name)
            progress = True
    if remaining:
        name, reason = last_error or (remaining[0], "Resource could not be deleted")
        for left in remaining:
            _, body = by_name[left]
            add_resource_event(stack, left, str(body.get("Type")), _physical_id(by_name[left][0]),
                               "DELETE_FAILED", reason if left == name else None,
                               current=left not in superseded)
        raise ResourceFailed(name, str(by_name[name][1].get("Type")), reason)


def run_delete(stack: Any) -> bool:
    """Delete a stack's resources (``Stack.delete``); False when the stack is DELETE_FAILED."""
    operation = _operations().pop(stack.stack_id, None)
    if operation is not None:
        operation.phase = "DONE"
    add_stack_event(stack, "DELETE_IN_PROGRESS", "User Initiated")
    stack.status = "DELETE_IN_PROGRESS"
    try:
        delete_resources(stack, present_resources(stack.resource_map))
    except ResourceFailed as failure:
        _set_status(stack, "DELETE_FAILED",
                    f"The following resource(s) failed to delete: [{failure.logical_id}]. ")
        return False
    stack._fluoride_outputs = None
    _set_status(stack, "DELETE_COMPLETE")
    return True
