"""The package's layers, as docs/architecture.md draws them, held by the imports.

Each module may import only from its own layer and the layers below it (``ALLOWED``),
and no two modules import each other at load time, directly or through others. Imports
inside functions (deliberately lazy) and under ``TYPE_CHECKING`` count for the layer
rule but not for cycles: they do not run when a module loads.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "fluoride"

# layer -> the layers it may import (besides itself)
BASE = {"names", "_version", "_release", "_check", "errors", "aws", "events", "waiting",
        "ratelimit", "selection"}
ALLOWED: dict[str, set[str]] = {
    "names": set(),
    "_version": set(),
    "_release": set(),
    "errors": {"_release"},
    "_check": {"errors"},
    "aws": {"errors", "ratelimit"},
    "ratelimit": {"errors", "waiting", "events"},
    "selection": {"errors"},
    "events": {"errors", "_release"},
    "waiting": {"errors", "events"},
    "spec": {"names", "errors"},
    "infra": BASE | {"spec"},
    "stores": BASE,
    "logs": BASE,
    "releases": BASE | {"infra"},
    "service": BASE | {"spec", "infra", "releases", "stores", "logs", "_settings", "_exec",
                       "cost"},
    # pure arithmetic over infra/prices.py
    "cost": {"errors", "infra", "spec"},
    # the verbs Service delegates to: they see the layers below and Service (as a type)
    "_settings": BASE | {"spec", "infra", "releases", "stores", "service"},
    "_exec": BASE | {"spec", "infra", "releases", "service"},
    "client": BASE | {"spec", "infra", "releases", "stores", "logs", "service", "local", "fleet"},
    "fleet": BASE | {"service"},
    # a fleet across accounts and regions: a list of clients
    "multi": BASE | {"spec", "infra", "service", "client", "fleet"},
    "awscli": {"cli", "errors"},
    "awscli_config": {"errors"},
    "local": {"errors", "names", "infra", "spec"},
    "cli": BASE | {"spec", "infra", "releases", "stores", "logs", "service", "client", "local",
                   "fleet", "cost", "awscli_config"},
    "fluoride": BASE | {"client", "service", "spec", "logs", "fleet", "multi"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("fluoride", *parts))


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "fluoride"


def _imports(path: Path) -> Iterator[tuple[str, bool]]:
    """(imported fluoride module, runs at load time) for each import in ``path``."""
    tree = ast.parse(path.read_text("utf-8"))

    def walk(node: ast.AST, at_load: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            loads = at_load
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                loads = False
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                yield from walk_list(child.body, False)
                yield from walk_list(child.orelse, at_load)
                continue
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                if child.module.split(".")[0] == "fluoride":
                    yield child.module, at_load
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "fluoride":
                        yield alias.name, at_load
            yield from walk(child, loads)

    def walk_list(nodes: list[ast.stmt], at_load: bool) -> Iterator[tuple[str, bool]]:
        for n in nodes:
            wrapper = ast.Module(body=[n], type_ignores=[])
            yield from walk(wrapper, at_load)

    yield from walk(tree, True)


MODULES = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports_only_its_own_layer_and_those_below(module: str) -> None:
    layer = _layer(module)
    assert layer in ALLOWED, f"{module}: layer {layer!r} is not in docs/architecture.md's table"
    wrong = sorted(
        imported
        for imported, _ in _imports(MODULES[module])
        if _layer(imported) != layer and _layer(imported) not in ALLOWED[layer]
    )
    assert not wrong, f"{module} ({layer}) may not import {wrong}"


def _load_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        targets = set()
        for imported, at_load in _imports(path):
            if not at_load:
                continue
            # `from fluoride.x import name` loads fluoride.x (and, if `name` is a submodule,
            # that too: resolved by the closest module that exists)
            target = imported
            while target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            if target != module and target in MODULES:
                targets.add(target)
        graph[module] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    cycles = []
    for start in graph:
        stack = [(start, [start])]
        seen: set[str] = set()
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, set()):
                if nxt == start:
                    cycles.append(" -> ".join([*path, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    return sorted(set(cycles))


def test_no_module_imports_itself_back_at_load_time() -> None:
    cycles = _cycles(_load_graph())
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_cycle_check_can_fail(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("from fluoride.b import x\n")
    (tmp_path / "b.py").write_text(
        "def f():\n    from fluoride.a import y\nfrom fluoride.a import z\n"
    )
    found = {name: list(_imports(tmp_path / f"{name}.py")) for name in ("a", "b")}
    assert found["a"] == [("fluoride.b", True)]
    assert found["b"] == [("fluoride.a", False), ("fluoride.a", True)]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
        "a -> b -> c -> a",
        "b -> c -> a -> b",
        "c -> a -> b -> c",
    ]
    assert _cycles({"a": {"b"}, "b": set()}) == []
