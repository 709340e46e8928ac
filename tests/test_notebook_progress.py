"""Progress in a real Jupyter kernel: each operation's block is in the output of the cell
that ran it, and keeps its summary line after later operations ran.

Executes a small notebook headless with nbclient (skipped when nbclient and ipykernel
are not installed). The kernel inherits this process's environment, so it imports the
same fluoride.
"""

from __future__ import annotations

from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

CELLS = [
    "from fluoride import Fluoride\nfl = Fluoride.local()\nsvc = fl.service('cells')",
    "svc.create();",
    "fl.emulator.push_image('fluoride/cells', 'v1')\nsvc.deploy('v1');",
    "svc.delete();",
    "fl.close()",
]


def _html(cell: Any) -> str:
    return "".join(
        str(output.get("data", {}).get("text/html", ""))
        for output in cell.outputs
        if output.output_type in {"display_data", "execute_result"}
    )


def test_each_operation_shows_in_its_own_cell() -> None:
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in CELLS]
    )
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3").execute()
    html = [_html(cell) for cell in notebook.cells]
    assert html[0] == ""  # making a client shows no progress
    for index, operation in ((1, "create"), (2, "deploy"), (3, "delete")):
        summary = html[index].split("<details>")[0]
        assert f"{operation} cells done in" in summary, html[index][:500]
        others = {"create", "deploy", "delete"} - {operation}
        assert not any(f"{other} cells" in html[index] for other in others)
    assert "stable: v1" in html[2]
    assert "deleted; kept its data" in html[3]
    errors = [o for cell in notebook.cells for o in cell.outputs if o.output_type == "error"]
    assert errors == []
