"""Sphinx configuration: furo, MyST and autodoc. Built with -W in CI."""

from __future__ import annotations

import sys
from importlib.metadata import version as _version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "src"))

project = "Fluoride"
author = "Fluoride developers"
copyright = "2026, Fluoride developers"
release = _version("fluoride")

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
]
myst_enable_extensions = ["colon_fence", "deflist"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = "Fluoride"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# attrs classes and mypy-boto3 types only exist for type checkers; do not try to resolve them.
autodoc_type_aliases: dict[str, str] = {}
nitpicky = False
suppress_warnings = ["myst.header"]
