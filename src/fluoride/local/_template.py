"""What a CloudFormation resource refers to, and the order resources depend on each other."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["dependency_order", "dependents", "references"]

_SUB_NAME = re.compile(r"\$\{(?!!)([A-Za-z0-9_:]+)(?:\.[A-Za-z0-9_.]+)?\}")


def references(node: Any) -> set[str]:
    """Names a piece of template refers to: ``Ref``, ``Fn::GetAtt``, ``Fn::Sub`` variables,
    conditions used by ``Fn::If``/``Condition`` and ``DependsOn``."""
    found: set[str] = set()
    _collect(node, found)
    return found


def _collect(node: Any, found: set[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, found)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "Ref" and isinstance(value, str):
            found.add(value)
        elif key == "Fn::GetAtt":
            if isinstance(value, str):
                found.add(value.split(".", 1)[0])
            elif isinstance(value, list) and value and isinstance(value[0], str):
                found.add(value[0])
            _collect(value, found)
        elif key == "Fn::Sub":
            text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
            local = set(variables) if isinstance(variables, dict) else set()
            found.update(n for n in _SUB_NAME.findall(str(text)) if n not in local)
            _collect(variables, found)
        elif key == "Fn::If" and isinstance(value, list) and value:
            if isinstance(value[0], str):
                found.add(value[0])
            _collect(value[1:], found)
        elif key in ("Condition", "DependsOn"):
            if isinstance(value, str):
                found.add(value)
            elif isinstance(value, list):
                found.update(v for v in value if isinstance(v, str))
            else:
                _collect(value, found)
        else:
            _collect(value, found)


def dependency_order(resources: Mapping[str, Any], names: Iterable[str] | None = None) -> list[str]:
    """``names`` (default: all resources) sorted so that each comes after what it refers to."""
    wanted = list(resources) if names is None else [n for n in resources if n in set(names)]
    refs = {name: references(resources[name]) & set(resources) for name in wanted}
    ordered: list[str] = []
    placed: set[str] = set()
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in placed or name in visiting or name not in refs:
            return
        visiting.add(name)
        for dep in sorted(refs[name]):
            visit(dep)
        visiting.discard(name)
        placed.add(name)
        ordered.append(name)

    for name in wanted:
        visit(name)
    return ordered


def dependents(resources: Mapping[str, Any], name: str) -> set[str]:
    """Resources that refer to ``name`` directly."""
    return {other for other, body in resources.items()
            if other != name and name in references(body)}
