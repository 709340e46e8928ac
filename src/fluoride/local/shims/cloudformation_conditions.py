"""Conditions evaluate as in CloudFormation: ``!Condition`` works, ``Fn::Equals`` on strings.

moto 5.2.5 behaviour corrected:

* moto's YAML loader turns the short form ``!Condition Name`` into
  ``{"Fn::Condition": "Name"}``, which its condition evaluator does not know: inside
  ``!Or``/``!And`` it counts as false, inside ``!Not`` as true. So ``HasHttps: !Or
  [!Condition HasCertArn, !Condition RequestCert]`` is false even with a certificate;
* moto turns ``Number`` parameters into Python numbers and compares them with ``==``, so
  ``!Equals [!Ref RequestsPerTarget, "0"]`` is false for the value 0 (``0 != "0"``), and
  a resource meant to be off is created.

With the shim ``!Condition`` refers to the named condition, and ``Fn::Equals`` compares
the string forms of both sides (numbers as written, booleans as ``true``/``false``), as
CloudFormation, where every parameter value is a string, does.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing

from fluoride.local.shims._patch import original, patch

__all__ = ["cfn_string", "install"]


def cfn_string(value: Any) -> Any:
    """The string CloudFormation would compare for ``value`` (lists element-wise)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return [cfn_string(v) for v in value]
    return value


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
    condition = _condition_refs(condition)
    if isinstance(condition, dict) and list(condition) == ["Condition"]:
        return bool(condition_map[condition["Condition"]])
    if isinstance(condition, dict) and list(condition) == ["Fn::Equals"]:
        values = []
        for value in condition["Fn::Equals"]:
            if isinstance(value, dict) and "Condition" in value:
                values.append(condition_map[value["Condition"]])
            else:
                values.append(parsing.clean_json(value, resources_map))
        left, right = (cfn_string(v) for v in values)
        return bool(left == right)
    return original(parsing, "parse_condition")(condition, resources_map, condition_map)


def install() -> None:
    patch(parsing, "parse_condition", _parse_condition)
