"""Sphinx configuration: furo, MyST (through myst-nb), autodoc, doctest.

CI builds the HTML nitpicky with warnings as errors (``-n -W``), and runs the doctest
builder. The tutorial notebook is executed on the embedded emulator when the pages are
read (myst-nb), so its outputs are always this version's; CI's doctest build reuses the
HTML build's doctrees (``-d``), so it does not read or execute anything again (on its own,
``-D nb_execution_mode=off`` skips the notebook). tests/test_notebook.py runs the notebook
in a kernel and checks what each cell shows.
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import version as _version
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE / "_ext"))
# The kernel that runs the tutorial imports this checkout's fluoride too, whatever is
# installed and whatever relative PYTHONPATH the build was started with.
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, (str(HERE.parent / "src"), os.environ.get("PYTHONPATH")))
)

project = "Fluoride"
author = "Fluoride developers"
copyright = "2026, Fluoride developers"
release = _version("fluoride")

extensions = [
    "myst_nb",  # the markdown pages and the tutorial notebook (it includes myst-parser)
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinxcontrib.mermaid",
    "fluoride_docs",  # _ext/: the stack diagram and the troubleshooting page, from the code
]
myst_enable_extensions = ["colon_fence", "deflist"]
exclude_patterns = ["_build", "jupyter_execute", "**.ipynb_checkpoints"]
html_theme = "furo"
html_title = "Fluoride"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_type_aliases: dict[str, str] = {}
suppress_warnings = ["myst.header"]

# -- the tutorial notebook ------------------------------------------------------------------
# Executed on every HTML build (no stored outputs to go stale); a cell that raises fails
# the build unless it is tagged raises-exception.
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# -- the Mermaid graph on the stack page ----------------------------------------------------
# Drawn by the reader's browser (mermaid.js, fetched when the page is viewed); the build
# itself needs no network, and the same page has the graph as a table.
mermaid_version = "11.12.1"

# -- doctest -------------------------------------------------------------------------------
doctest_global_setup = ""
doctest_test_doctest_blocks = "default"

# -- nitpicky: every cross-reference must resolve ------------------------------------------
# No intersphinx: it needs the Python, boto3 and botocore inventories from the internet at
# build time, and neither CI nor a developer's machine here has it. References to types
# of those projects are listed below instead, each as the external type it is.
nitpicky = True
nitpick_ignore_regex = [
    # the standard library, as autodoc writes it into signatures (``dt`` is ``datetime``)
    ("py:(class|meth|func|exc)",
     r"(datetime|dt|collections\.abc|typing|pathlib|enum|decimal|os|logging)\..*"),
    ("py:class", r"(Path|Decimal|Iterator|Iterable|Mapping|Sequence|Callable|Any|IO)"),
    # boto3/botocore and mypy-boto3's client and resource types (external: no inventory
    # offline), as written in full or by their short names in annotations
    ("py:class", r"(boto3|botocore|mypy_boto3_\w+)(\..*)?"),
    ("py:class", r"\w+(Client|Table)"),
    # attrs and click internals that appear in inherited signatures
    ("py:class", r"(attrs|attr|click)\..*"),
    # pandas (an optional extra; no inventory offline)
    ("py:class", r"(pd|pandas)\.DataFrame"),
    # rich's console (no inventory offline)
    ("py:class", r"(rich\.console\.)?Console"),
    # type variables and aliases autodoc writes as bare names in generic signatures
    ("py:class", r"(fluoride\._display\.)?T|Member"),
    # Fluoride's internals that public signatures mention but users never make or hold:
    # the AWS seam, clocks, the stack driver, the emulator's server parts, price tables
    ("py:class", r"(fluoride\.aws\.)?Aws"),
    ("py:class", r"(Clock|SimulatedClock|FakeClock)"),
    ("py:class", r"(fluoride\.infra\.stack\.)?(Stack|StackInfo)"),
    ("py:class", r"(fluoride\.stores\.retention\.)?RetainedStores"),
    ("py:class", r"(fluoride\.releases\.deployment\.)?Deployments"),
    ("py:class", r"(fluoride\.local\._emulator\.)?(RolloutHold|EmulatorServer)"),
    ("py:(class|meth)", r"(RolloutSettings|from_settings)"),
    ("py:class", r"(fluoride\.infra\.prices\.)?PriceTable"),
    # a type alias (str | timedelta | datetime); each signature's docstring lists its forms
    ("py:class", r"TimeSpec"),
]
