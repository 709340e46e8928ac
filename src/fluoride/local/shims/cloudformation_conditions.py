"""Conditions evaluate as in CloudFormation: ``!Condition`` works, ``Fn::Equals`` on strings.

moto 5.2.5 behaviour corrected:

* moto's YAML loader turns the short form ``!Condition Name`` into
  ``{"Fn::Condition": "Name"}``, which its condition evaluator does not know: inside
  ``!Or``/``!And`` it counts as false, inside ``!Not`` as true. So ``HasHttps: !Or
  [!Condition HasCertArn, !Condition RequestCert]`` is false even with a certificate;
* moto turns ``Number`` parameters into Python numbers and compares them with ``==``, so
  ``!Equals [!Ref RequestsPerTarget, "0"]`` is false for the value 0 (``0 != "0"``), and
  a resource meant to be off is created.

With the shim conditions are evaluated by Fluoride's one evaluator
(``fluoride.infra.resolve.evaluate_condition``): ``!Condition`` refers to the named
condition, and ``Fn::Equals`` compares the string forms of both sides (numbers as written,
booleans as ``true``/``false``), as CloudFormation, where every parameter value is a
string, does.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing

from fluoride.errors import FieldError
from fluoride.infra.resolve import evaluate_condition
from fluoride.local.shims._patch import original, patch

__all__ = ["install"]


def _condition_refs(node: Any) -> Any:
    """``{"Fn::Condition": X}`` (moto's reading of ``!Condition X``) as ``{"Condition": X}``."""
    if isinstance(node, dict):
        if list(node) == ["Fn::Condition"]:
            return {"Condition": node["Fn::Condition"]}
        return {key: _condition_refs(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_condition_refs(value) for value in node]
    return node


def _parse_condition(condition: Any, resources_map: Any, condition_map: dict[str, Any]) -> Any:
    """A condition by Fluoride's one evaluator (``fluoride.infra.resolve``), on the values
    moto resolved: ``resources_map`` is the stack's parsed parameters, pseudo parameters
    and resources. Anything it cannot decide (a function it does not evaluate in a
    condition) is left to moto."""

    def ref(name: str) -> Any:
        value = resources_map.get(name) if isinstance(resources_map, dict) else None
        return value if isinstance(value, (str, int, float, bool, list)) else None

    try:
        held = evaluate_condition(_condition_refs(condition), ref,
                                  lambda name: bool(condition_map[name]))
    except FieldError:  # e.g. Fn::FindInMap, whose mappings moto keeps elsewhere
        held = None
    if held is None:
        return original(parsing, "parse_condition")(condition, resources_map, condition_map)
    return held


def install() -> None:
    patch(parsing, "parse_condition", _parse_condition)
