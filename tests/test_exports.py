"""The package's exports are written three times in ``fluoride/__init__.py``: the imports
type checkers read, the lazy map (``_WHERE``) and ``__all__``. Type checkers need the
imports and a literal ``__all__``; the lazy map keeps ``import fluoride`` cheap. These
tests keep the three in step."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import fluoride


def _type_checking_imports() -> dict[str, str]:
    tree = ast.parse(Path(fluoride.__file__).read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If)
                 and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
    return {alias.name: node.module or "" for node in block.body
            if isinstance(node, ast.ImportFrom) for alias in node.names}


def test_the_lazy_map_and_all_name_the_same_exports() -> None:
    assert set(fluoride._WHERE) == set(fluoride.__all__) - {"__version__"}
    assert fluoride.__all__ == sorted(fluoride.__all__)
    assert len(fluoride.__all__) == len(set(fluoride.__all__))


def test_the_type_checkers_see_each_export_where_it_is_loaded_from() -> None:
    assert _type_checking_imports() == fluoride._WHERE


def test_each_export_is_the_object_its_module_defines() -> None:
    for name, module in fluoride._WHERE.items():
        assert getattr(fluoride, name) is getattr(importlib.import_module(module), name), name
