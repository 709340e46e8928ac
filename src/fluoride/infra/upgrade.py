"""Which template a stack was made with, and whether this Fluoride has a newer one.

Every stack carries two tags: ``fluoride:version`` (the Fluoride that last wrote it) and
``fluoride:template`` (a digest of the template it runs, before the environment is
rendered into it). A version can change without the template changing, and a template
can only be compared by its content, so the digest decides whether an upgrade is
available and the versions say which way it goes.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Final

from fluoride.names import VERSION_TAG

__all__ = ["TEMPLATE_TAG", "template_digest", "template_note", "template_tags"]

#: Stack tag: the first 16 hex digits of the SHA-256 of the template file the stack runs.
TEMPLATE_TAG: Final = "fluoride:template"


def template_digest(template: str) -> str:
    """The digest recorded in `TEMPLATE_TAG` for a template file's text."""
    return hashlib.sha256(template.encode()).hexdigest()[:16]


def template_tags(template: str, version: str) -> dict[str, str]:
    """The tags a create or update writes: the template's digest and Fluoride's version."""
    return {TEMPLATE_TAG: template_digest(template), VERSION_TAG: version}


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text.split("+")[0])[:3])


def template_note(tags: Mapping[str, str], *, template: str, version: str) -> str | None:
    """What to say about the stack's template, or ``None`` when it is the installed one.

    >>> template_note({TEMPLATE_TAG: "0", VERSION_TAG: "0.1.0"}, template="t", version="0.2.0")
    'made with the template of Fluoride 0.1.0; Fluoride 0.2.0 has a newer one: update() applies it'
    """
    if tags.get(TEMPLATE_TAG) == template_digest(template):
        return None
    made_by = tags.get(VERSION_TAG)
    where = f"Fluoride {made_by}" if made_by else "an older Fluoride"
    if made_by and _version_key(made_by) > _version_key(version):
        return (f"made with the template of {where}, newer than the installed {version}: "
                "upgrade Fluoride before update() (an update would send the older template)")
    return (f"made with the template of {where}; Fluoride {version} has a newer one: "
            "update() applies it")
