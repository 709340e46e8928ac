"""The snippets mypy checks stay what users read.

``tests/typing_checks/`` is type-checked by ``mypy --strict`` with the rest of tests/
(never run). Here: its copy of the README's "Use" snippet is the README's, line for line,
so the README's own snippet is the one that type-checks.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _function_body(path: Path, name: str) -> str:
    text = path.read_text("utf-8")
    body = text.split(f"def {name}() -> None:\n", 1)[1]
    return textwrap.dedent(body).strip()


def test_the_readme_snippet_is_the_one_mypy_checks() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    found = re.search(r"## Use\n\n```python\n(.*?)```", readme, re.S)
    assert found is not None, "README.md lost its '## Use' Python snippet"
    imports, _, code = found.group(1).partition("\n\n")
    assert imports == "from fluoride import Fluoride, ServiceSpec"
    checked = ROOT / "tests" / "typing_checks" / "readme_use.py"
    assert imports in checked.read_text("utf-8")
    assert _function_body(checked, "readme_use") == code.strip()
