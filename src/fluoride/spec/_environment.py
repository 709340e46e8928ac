"""How a spec's environment variables are written into the template body:
`render_environment` and the YAML quoting it shares with the size rule.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from fluoride.errors import FluorideError

ENVIRONMENT_MARKER: Final = "# fluoride:user-environment"
"""The template line that `render_environment` replaces with the user's variables."""


_MARKER_LINE = re.compile(r"^([ \t]*)" + re.escape(ENVIRONMENT_MARKER) + r"[ \t]*$", re.MULTILINE)
_COMMENT_LINE = re.compile(r"^[ \t]*#.*(\n|\Z)", re.MULTILINE)


def _without_comment_lines(template_body: str) -> str:
    """The template without its full-line comments, the environment marker kept.

    The comments are for readers of the file; CloudFormation counts every byte of a
    template body. (The template has no block scalar with a line starting with ``#``:
    tests/test_template_lint.py checks that the document is unchanged.)
    """
    return _COMMENT_LINE.sub(
        lambda m: m.group(0) if m.group(0).strip() == ENVIRONMENT_MARKER else "", template_body
    )


def _yaml_quote(value: str) -> str:
    """A YAML double-quoted scalar holding exactly ``value``, in printable ASCII.

    Not ``json.dumps``: it writes characters beyond U+FFFF as surrogate pairs, which YAML
    reads as two lone surrogates. YAML's ``\\U`` escape takes them whole.
    """
    out = ['"']
    for char in value:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_RENDERED_INDENT: Final = 17
"""Bytes `MAX_ENVIRONMENT_RENDERED` counts for each item's indentation and line break."""


def _environment_item(name: str, value: str) -> str:
    return f"- {{Name: {_yaml_quote(name)}, Value: {_yaml_quote(value)}}}"


def render_environment(
    template_body: str, environment: Mapping[str, str], *, keep_comments: bool = False
) -> str:
    """The template with its ``# fluoride:user-environment`` line replaced by one
    ``- {Name: ..., Value: ...}`` item per variable, at that line's indentation.

    With no variables the marker line is simply removed. The template's other full-line
    comments are dropped too (unless ``keep_comments``, for people reading it): this is the
    body sent to CloudFormation, which limits it to 51,200 bytes.

    Raises:
        FluorideError: the template has no marker line, or more than one (a bug in
            Fluoride's template, not in the user's spec).

    .. versionadded:: 0.1.0
    """
    if not keep_comments:
        template_body = _without_comment_lines(template_body)
    matches = list(_MARKER_LINE.finditer(template_body))
    if len(matches) != 1:
        raise FluorideError(
            f"The template has {len(matches)} '{ENVIRONMENT_MARKER}' lines instead of one, "
            "so the environment variables cannot be placed.",
            hint="This is a bug in Fluoride's template; please report it.",
        )
    match = matches[0]
    indent = match.group(1)
    lines = [indent + _environment_item(name, value) for name, value in environment.items()]
    start, end = match.span()
    if not lines:
        # Remove the marker line with its line break.
        if template_body[end:end + 1] == "\n":
            end += 1
        return template_body[:start] + template_body[end:]
    return template_body[:start] + "\n".join(lines) + template_body[end:]
