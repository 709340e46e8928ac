"""Stack updates change every resource the change affects, in dependency order.

moto 5.2.5 behaviour corrected: moto marks a resource modified only when its own JSON
changed or holds a direct ``Ref`` to a changed parameter. It misses parameters used
through ``Fn::Sub`` or through conditions, and resources that refer to a resource that
was replaced: an update of the image parameter registers a new task definition but leaves
the ECS service on the old one. Resources whose ``Condition`` turns true or false are
neither created nor deleted, and a resource moto cannot update is dropped from the
stack. Change sets list no changes for a parameter-only update (and no ``Replacement``),
and "no changes" is decided by comparing typed values with strings.

With the shim an update (direct or by change set) works out the changed parameters and
conditions, updates each affected resource after what it refers to, treats a replaced
resource's dependents as changed, creates and deletes conditional resources, and keeps a
resource it cannot update as it was. Change sets list the same changes, with
``Replacement`` for replaced resources.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import Change, ChangeSet, Stack

from fluoride.local import _stacks
from fluoride.local.shims._patch import patch

__all__ = ["install"]


def _change(action: str, name: str, resource_type: str, physical_id: str | None,
            replacement: str | None) -> Any:
    change: Any = Change(action=action, logical_resource_id=name, resource_type=resource_type)
    change.physical_resource_id = physical_id
    change.replacement = replacement
    return change


def _diff(self: Any) -> list[Change]:
    stack = self.stack
    plan = _stacks.plan_update(stack, self.template_dict, self.parameters)
    new = self.template_dict.get("Resources", {})
    old = stack.resource_map._resource_json_map
    parsed = stack.resource_map._parsed_resources
    changes = [_change("Add", n, new[n]["Type"], None, None) for n in plan.add]
    for name in plan.modify:
        physical = getattr(parsed.get(name), "physical_resource_id", None)
        replacement = "True" if name in plan.replace else "False"
        changes.append(_change("Modify", name, new[name]["Type"], physical, replacement))
    for name in plan.remove:
        physical = getattr(parsed.get(name), "physical_resource_id", None)
        changes.append(_change("Remove", name, old[name]["Type"], physical, None))
    return changes


def _has_parameters(self: Any, other_parameters: dict[str, Any]) -> bool:
    slots = (self.template_dict or {}).get("Parameters", {})
    wanted = _stacks.normalise_parameters(
        {name: slot.get("Default", "") for name, slot in slots.items()}
    )
    wanted.update(_stacks.normalise_parameters(other_parameters))
    current = _stacks.normalise_parameters(self.resource_map.resolved_parameters)
    return wanted == current


def install() -> None:
    patch(parsing, "parse_and_create_resource", _stacks.create_resource)
    patch(ChangeSet, "diff", _diff)
    patch(Stack, "has_parameters", _has_parameters)
