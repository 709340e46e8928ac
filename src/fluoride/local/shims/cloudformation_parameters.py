"""Stack parameters read back as strings, as the API carries them.

moto 5.2.5 behaviour corrected: ``DescribeStacks`` reports each parameter's *resolved*
value: a ``CommaDelimitedList`` or ``List<...>`` parameter comes back as the Python
list's ``repr`` (``['subnet-1', 'subnet-2']``), and a ``NoEcho`` parameter is masked only
when its value happens to equal its name. ``UsePreviousValue`` in a change set passes
that list on, and applying it fails (``'list' object has no attribute 'split'``).

With the shim parameters read back as AWS returns them (``subnet-1,subnet-2``, numbers
as written, ``****`` for ``NoEcho``), and previous values are passed on as strings.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import Stack

from fluoride.local import _stacks
from fluoride.local.shims._patch import original, patch

__all__ = ["install"]


def _parameter_list(self: Any) -> list[dict[str, Any]]:
    values = _stacks.normalise_parameters(self.resource_map.resolved_parameters)
    hidden = set(getattr(self.resource_map, "no_echo_parameter_keys", []))
    return [
        {"ParameterKey": key, "ParameterValue": "****" if key in hidden else value}
        for key, value in values.items()
    ]


def _load_parameters(self: Any) -> None:
    # Values given as lists (UsePreviousValue of a list parameter) go back to strings.
    self.input_parameters = {
        key: ",".join(str(v) for v in value) if isinstance(value, list) else value
        for key, value in (self.input_parameters or {}).items()
    }
    original(parsing.ResourceMap, "load_parameters")(self)


def install() -> None:
    patch(Stack, "parameter_list", property(_parameter_list))
    patch(parsing.ResourceMap, "load_parameters", _load_parameters)
