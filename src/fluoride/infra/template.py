"""The CloudFormation templates (a service's and an environment's): where they live and
how they are read.

The design card keeps it at the repository's top level, ``templates/fluoride.yaml``; the
wheel carries it inside the package (hatch ``force-include``), so an installed Fluoride
reads it with `importlib.resources` and a source checkout reads the top-level file.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

_PACKAGED = "templates/fluoride.yaml"
# src/fluoride/infra/template.py -> the checkout's root
_SOURCE = Path(__file__).resolve().parents[3] / "templates" / "fluoride.yaml"


def template_path() -> Path:
    """The template file this Fluoride reads: packaged in the wheel, or the checkout's."""
    packaged = resources.files("fluoride").joinpath(_PACKAGED)
    if packaged.is_file():
        return Path(str(packaged))
    return _SOURCE


@cache
def load_template() -> str:
    """The template's text, with its comments (read once per process)."""
    return template_path().read_text("utf-8")


def environment_template_path() -> Path:
    """The environment template (``templates/environment.yaml``), packaged or the
    checkout's."""
    return template_path().with_name("environment.yaml")


@cache
def load_environment_template() -> str:
    """The environment template's text, with its comments (read once per process)."""
    return environment_template_path().read_text("utf-8")
