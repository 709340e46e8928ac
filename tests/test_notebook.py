"""The tutorial notebook (docs/tutorial.ipynb), executed headless in a real Jupyter kernel.

This is what a scientist sees: nbclient starts an ipykernel, runs every cell on the
embedded emulator, and keeps the outputs exactly as Jupyter would store them (a display
updated in place is updated in the output of the cell that first showed it, so progress
written into the wrong cell is seen here).

The expectations are a table: a cell's tag (``metadata.tags`` in the notebook) and what its
outputs must show. Every cell is checked for tracebacks too. One test runs the notebook
once and reports every row that fails, so ``pytest -n 2`` does not run it twice.
"""

from __future__ import annotations

import html
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")  # the dev extra has them; a bare install skips
nbclient = pytest.importorskip("nbclient")

import fluoride.errors  # noqa: E402  (after the skips: only this test needs the kernel)

NOTEBOOK = Path(__file__).parent.parent / "docs" / "tutorial.ipynb"
# The run takes about 40 s on a 2-core machine; this bound catches a hang, not slowness.
RUN_BUDGET_SECONDS = 300.0

Cell = Any  # nbformat's NotebookNode: a dict with attribute access, untyped
Check = Callable[[Cell], "str | None"]  # None when the cell is as expected, else the problem


# ----------------------------------------------------------------------- what a cell shows

def _result(cell: Cell) -> dict[str, Any] | None:
    """The data of the cell's ``execute_result`` (its last expression's value)."""
    for out in cell.outputs:
        if out.output_type == "execute_result":
            return dict(out.data)
    return None


def _displays(cell: Cell) -> list[dict[str, Any]]:
    """The data of the cell's ``display_data`` outputs (progress blocks and the like)."""
    return [dict(out.data) for out in cell.outputs if out.output_type == "display_data"]


def _text(data: dict[str, Any]) -> str:
    """What a person reads in one output: the HTML without tags, or else the plain text."""
    if "text/html" in data:
        return html.unescape(re.sub(r"<[^>]+>", " ", str(data["text/html"])))
    return str(data.get("text/plain", ""))


def result_html(cell: Cell) -> str | None:
    """The cell's value renders as HTML (``_repr_html_``), not only as a plain repr."""
    data = _result(cell)
    if data is None:
        return "shows no value"
    if "text/html" not in data:
        return f"shows only text/plain: {str(data.get('text/plain'))[:120]!r}"
    return None


def result_short(cell: Cell) -> str | None:
    """The cell's plain repr is one line of at most 120 characters."""
    data = _result(cell)
    if data is None:
        return "shows no value"
    plain = str(data.get("text/plain", ""))
    if "\n" in plain or len(plain) > 120:
        return f"plain repr of {len(plain)} characters: {plain[:120]!r}..."
    return None


def result_preview(cell: Cell) -> str | None:
    """A lazy result (logs, a scan) shows a bounded preview: a header line and at most
    ``PREVIEW_LINES`` more, none over 200 characters."""
    data = _result(cell)
    if data is None:
        return "shows no value"
    lines = str(data.get("text/plain", "")).splitlines()
    if len(lines) > PREVIEW_LINES + 1 or any(len(line) > 200 for line in lines):
        return f"a preview of {len(lines)} lines, the longest {max(map(len, lines))} characters"
    return None


PREVIEW_LINES = 20


def result_is(expected: str) -> Check:
    """The cell's plain value is exactly ``expected``."""

    def check(cell: Cell) -> str | None:
        data = _result(cell)
        plain = None if data is None else data.get("text/plain")
        return None if plain == expected else f"shows {plain!r}, not {expected!r}"

    return check


def own_progress(mentions: str, *, never: tuple[str, ...] = ()) -> Check:
    """The operation's progress is in this cell: a display output mentioning ``mentions``
    (case-insensitive), and none mentioning what later cells do (``never``): a display
    handle reused across cells would be rewritten with a later operation's progress."""

    def check(cell: Cell) -> str | None:
        shown = " | ".join(_text(d) for d in _displays(cell))
        if mentions.lower() not in shown.lower():
            return f"no progress mentioning {mentions!r} in its own output (shows {shown[:160]!r})"
        wrong = [w for w in never if w.lower() in shown.lower()]
        return f"its progress block shows a later operation's {wrong}" if wrong else None

    return check


@dataclass(frozen=True)
class Expect:
    tag: str
    check: Check

    def __str__(self) -> str:
        return f"{self.tag}: {getattr(self.check, '__name__', 'check')}"


# The cells whose value a person reads: each renders as HTML with a one-line repr; lazy
# results (logs, a scan) show a bounded preview instead of one line.
DISPLAYED = (
    "client", "service", "create", "deploy", "failed-deploy", "status", "deploy-v3",
    "rollback", "history", "fleet", "table", "bucket", "secret", "delete",
)
PREVIEWS = ("logs", "table-scan")

# The data cells of docs/tutorial.ipynb, after "table-put-get" (tag -> source): the rows
# below check them.
DATA_CELLS = {
    "table-floats": 'table.put_item({"pk": "run#3", "sample": "C1", "ratio": 0.25})\n'
                    'table.get_item({"pk": "run#3"})["ratio"]',
    "dataframe": "import pandas as pd\n\n"
                 'frame = pd.DataFrame({"pk": ["s1", "s2"], "ratio": [0.5, 1.25],'
                 ' "reads": [3, 4]})\n'
                 "table.from_pandas(frame)\n"
                 'back = table.to_pandas().query("pk in [\'s1\', \'s2\']").sort_values("pk")\n'
                 'back[["pk", "ratio", "reads"]].to_dict("records") == frame.to_dict("records")',
}


# Cell tag -> what it must show.
EXPECTATIONS: tuple[Expect, ...] = (
    Expect("create", result_html),  # ServiceStatus
    Expect("status", result_html),  # ServiceStatus
    Expect("fleet", result_html),  # fl.status(): the fleet's table
    # --- each operation's progress in the output of its own cell.
    Expect("create", own_progress("hello", never=("Deleted", "rolled back", "v1"))),
    Expect("deploy", own_progress("v1", never=("v2", "v3", "Deleted"))),
    Expect("failed-deploy", own_progress("v2", never=("v3", "Deleted"))),
    Expect("deploy-v3", own_progress("v3", never=("Deleted",))),
    Expect("rollback", own_progress("v1", never=("Deleted",))),
    Expect("delete", own_progress("Deleted")),
    # --- every listed result renders as HTML, with a short plain repr.
    *(Expect(tag, check) for tag in DISPLAYED for check in (result_html, result_short)),
    *(Expect(tag, check) for tag in PREVIEWS for check in (result_html, result_preview)),
    # --- floats and a DataFrame round-trip (the cells of DATA_CELLS).
    Expect("table-floats", result_is("0.25")),
    Expect("dataframe", result_is("True")),
)

# ------------------------------------------------------------------------------ the run

FLUORIDE_ERRORS = frozenset(
    name for name, value in vars(fluoride.errors).items()
    if isinstance(value, type) and issubclass(value, fluoride.errors.FluorideError)
)


def _tracebacks(cell: Cell) -> list[str]:
    """Problems a person would see as a traceback that is not a Fluoride error."""
    problems = []
    for out in cell.outputs:
        if out.output_type == "error" and out.ename not in FLUORIDE_ERRORS:
            problems.append(f"raised {out.ename}: {out.evalue[:200]}")
        if out.output_type == "stream" and "Traceback (most recent call last)" in out.text:
            problems.append(f"printed a traceback to {out.name}: {out.text[-300:]}")
    return problems


HARNESS = "harness"  # the tag of the cell this test adds first: which fluoride the kernel has


def run_notebook(path: Path, workdir: Path) -> tuple[Any, float]:
    """Execute the notebook in a fresh python3 kernel; return it with its outputs and the
    seconds the run took. A failing cell is kept (allow_errors) so the table can say which.

    The kernel imports the fluoride this test imported (its directory first on PYTHONPATH:
    a relative PYTHONPATH would not hold in the kernel's working directory), and a first
    cell, tagged ``harness``, shows which file that was."""
    nb = nbformat.read(path, as_version=4)
    probe = nbformat.v4.new_code_cell("import fluoride\nfluoride.__file__")
    probe.metadata["tags"] = [HARNESS]
    nb.cells.insert(0, probe)
    here = str(Path(fluoride.errors.__file__).parent.parent)
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join(filter(None, (here, os.environ.get("PYTHONPATH"))))}
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    started = time.monotonic()
    client.execute(env=env)
    return nb, time.monotonic() - started


def test_every_cell_of_the_tutorial_shows_what_it_should(tmp_path: Path) -> None:
    nb, seconds = run_notebook(NOTEBOOK, tmp_path)
    cells = {tag: cell for cell in nb.cells if cell.cell_type == "code"
             for tag in cell.metadata.get("tags", [])}
    assert result_is(repr(fluoride.errors.__file__.replace("errors.py", "__init__.py")))(
        cells.pop(HARNESS)) is None, "the kernel runs another fluoride than this test"
    nb.cells = nb.cells[1:]
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    untagged = [cell.source[:60] for cell in code_cells if not cell.metadata.get("tags")]
    assert not untagged, f"every code cell needs a tag for this table: {untagged}"

    problems = [f"{tag}: {p}" for tag, cell in cells.items() for p in _tracebacks(cell)]
    for expect in EXPECTATIONS:
        cell = cells.get(expect.tag)
        problem = "no cell has this tag" if cell is None else expect.check(cell)
        if problem:
            problems.append(f"{expect}: {problem}")
    print(f"the tutorial ran in {seconds:.1f} s ({len(code_cells)} code cells)")
    assert not problems, "\n".join(problems)
    assert seconds < RUN_BUDGET_SECONDS, f"the tutorial took {seconds:.0f} s"


def test_the_table_names_only_cells_the_notebook_has() -> None:
    """A row for a tag the notebook lacks would fail at run time; say so without a kernel,
    and keep the tags unique (the table finds a cell by its tag)."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    tags = [tag for cell in nb.cells if cell.cell_type == "code"
            for tag in cell.metadata.get("tags", []) if tag != "raises-exception"]
    assert len(tags) == len(set(tags)), sorted(tags)
    wanted = {e.tag for e in EXPECTATIONS} | set(DISPLAYED) | set(PREVIEWS)
    assert wanted <= set(tags), sorted(wanted - set(tags))
    # Stored without outputs: the docs build executes it, so nothing stale is ever shown.
    stale = [t for cell in nb.cells if cell.cell_type == "code" and cell.outputs
             for t in cell.metadata.get("tags", ["(untagged)"])]
    assert not stale, f"cells stored with outputs (clear them): {stale}"


def test_the_checks_catch_what_they_are_for() -> None:
    """Each check against a made-up cell that passes it and one that does not."""
    node = nbformat.from_dict

    def cell(*outputs: dict[str, Any]) -> Cell:
        return node({"cell_type": "code", "source": "", "metadata": {}, "outputs": list(outputs)})

    def result(**data: str) -> dict[str, Any]:
        return {"output_type": "execute_result", "data": data, "metadata": {},
                "execution_count": 1}

    def display(**data: str) -> dict[str, Any]:
        return {"output_type": "display_data", "data": data, "metadata": {}}

    rich = cell(result(**{"text/plain": "Release(v1)", "text/html": "<b>v1</b>"}))
    plain = cell(result(**{"text/plain": "Release(" + "x" * 200 + ")"}))
    assert result_html(rich) is None
    assert result_html(plain) is not None
    assert result_html(cell()) == "shows no value"
    assert result_short(rich) is None
    assert result_short(plain) is not None
    preview = "<LogStream ...>\n" + "\n".join(f"  line {i}" for i in range(10))
    assert result_preview(cell(result(**{"text/plain": preview}))) is None
    endless = "\n".join(f"line {i}" for i in range(100))
    assert result_preview(cell(result(**{"text/plain": endless}))) is not None
    assert result_is("True")(cell(result(**{"text/plain": "True"}))) is None
    assert result_is("True")(cell(result(**{"text/plain": "False"}))) is not None

    progress = own_progress("created", never=("Deleted",))
    assert progress(cell(display(**{"text/html": "<div>Created hello</div>"}))) is None
    assert progress(cell(result(**{"text/plain": "Created"}))) is not None  # not a display
    rewritten = cell(display(**{"text/html": "<div>Created</div><div>Deleted hello</div>"}))
    assert "later operation" in str(progress(rewritten))

    crash = cell({"output_type": "error", "ename": "TypeError", "evalue": "Float types",
                  "traceback": []})
    ours = cell({"output_type": "error", "ename": "RolledBack", "evalue": "v2", "traceback": []})
    printed = cell({"output_type": "stream", "name": "stderr",
                    "text": "Traceback (most recent call last):\n  ...\nKeyError: 1\n"})
    assert _tracebacks(crash)
    assert _tracebacks(printed)
    assert _tracebacks(ours) == []
