"""The installed version, read once, only when asked for (importlib.metadata is not free)."""

from __future__ import annotations

from functools import cache


@cache
def version() -> str:
    """Fluoride's version, or ``0.0.0`` in a source tree that was never installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _version

    try:
        return _version("fluoride")
    except PackageNotFoundError:
        return "0.0.0"
