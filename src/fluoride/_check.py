"""Pure checks of the arguments users pass: timeouts, counts, flags, endpoint URLs.

Each ``*_problems`` function returns the :class:`FieldError` of one value (empty when it
is fine) and makes no call of any kind, so a table of cases tests it. :func:`refuse`
raises one :class:`InvalidInput` listing every problem of a call at once; the SDK's verbs
call it on their first line, before any AWS call.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Iterable, Sequence

from fluoride.errors import FieldError, InvalidInput

__all__ = [
    "container_problems",
    "count_problems",
    "endpoint_problems",
    "flag_problems",
    "refuse",
    "seconds_problems",
    "shown",
    "timeout_problems",
]

_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def refuse(call: str, problems: Iterable[FieldError]) -> None:
    """Raise :class:`InvalidInput` for ``call`` when there are any ``problems``."""
    found = list(problems)
    if found:
        raise InvalidInput(f"{call} was refused: nothing was sent to AWS and nothing changed.",
                           errors=found)


_CONTAINER = re.compile(r"[A-Za-z0-9_-]{1,255}")


def container_problems(value: object, field: str = "container") -> list[FieldError]:
    """Problems of a container name (``None`` is the app's): letters, digits, ``_``, ``-``."""
    if value is None or (isinstance(value, str) and _CONTAINER.fullmatch(value)):
        return []
    return [FieldError(field, f"{shown(value)} is not a container name",
                       allowed="'app' (the default) or a sidecar's name: letters, digits, "
                       "_ and -")]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def seconds_problems(value: object, field: str, *, allowed: str) -> list[FieldError]:
    """Problems of a duration in seconds that must be a finite number above 0."""
    if not _is_number(value):
        return [FieldError(field, f"must be a number of seconds, got {shown(value)}",
                           allowed=allowed)]
    assert isinstance(value, int | float)  # narrowed by _is_number
    if math.isnan(value) or math.isinf(value):
        return [FieldError(field, f"{value} is not a finite number", allowed=allowed)]
    if value <= 0:
        return [FieldError(field, f"{value} is not above 0", allowed=allowed)]
    return []


def timeout_problems(value: object, field: str = "timeout") -> list[FieldError]:
    """Problems of a wait's ``timeout``: a finite number of seconds above 0.

    >>> timeout_problems(600)
    []
    >>> timeout_problems(0)[0].message
    'timeout: 0 is not above 0 (allowed: seconds, a finite number above 0, e.g. 900)'
    """
    return seconds_problems(value, field, allowed="seconds, a finite number above 0, e.g. 900")


def count_problems(value: object, field: str, low: int, high: int | None = None) -> list[
    FieldError
]:
    """Problems of a whole number that must lie in ``low..high`` (no upper bound: None)."""
    allowed = f"a whole number from {low} to {high}" if high is not None else \
        f"a whole number, {low} or more"
    if isinstance(value, bool) or not isinstance(value, int):
        return [FieldError(field, f"must be a whole number, got {shown(value)}", allowed=allowed)]
    if value < low or (high is not None and value > high):
        return [FieldError(field, f"{value} is out of range", allowed=allowed)]
    return []


def flag_problems(value: object, field: str) -> list[FieldError]:
    """Problems of an on/off argument: only ``True`` and ``False`` are accepted (a string
    such as ``"no"`` would otherwise count as true)."""
    if isinstance(value, bool):
        return []
    return [FieldError(field, f"must be True or False, got {shown(value)}",
                       allowed="True or False")]


def endpoint_problems(value: object, field: str = "endpoint_url") -> list[FieldError]:
    """Problems of an endpoint URL: ``http(s)://host[:port][/path]``, or ``None``.

    >>> endpoint_problems("http://127.0.0.1:4566")
    []
    """
    allowed = "None, or a URL like http://127.0.0.1:4566 or https://host.example.com"
    if value is None:
        return []
    if not isinstance(value, str):
        return [FieldError(field, f"must be a string, got {shown(value)}", allowed=allowed)]
    try:
        url = urllib.parse.urlsplit(value)
        port = url.port  # raises ValueError for a port that is no number or out of range
    except ValueError as exc:
        return [FieldError(field, f"{shown(value)} is not a URL ({exc})", allowed=allowed)]
    if url.scheme not in ("http", "https"):
        why = f"has the scheme {url.scheme!r}" if url.scheme else "has no http:// or https://"
        return [FieldError(field, f"{shown(value)} {why}", allowed=allowed)]
    host = url.hostname or ""
    netloc_host = url.netloc.rpartition("@")[2]
    if port is not None:
        netloc_host = netloc_host.rsplit(":", 1)[0]
    if not host or not _HOST.fullmatch(netloc_host) or any(c.isspace() for c in value):
        return [FieldError(field, f"{shown(value)} has no valid host name", allowed=allowed)]
    return []


def type_problems(value: object, field: str, types: Sequence[type], allowed: str) -> list[
    FieldError
]:
    """Problems of a value that must be an instance of one of ``types``."""
    if isinstance(value, tuple(types)) and not (isinstance(value, bool) and bool not in types):
        return []
    return [FieldError(field, f"must be {allowed}, got {shown(value)}", allowed=allowed)]
