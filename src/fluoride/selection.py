"""Which services an operation is about: names, globs (``"team-*"``) and stack tags.

Pure: a :class:`Selector` decides from names and tags already read; it makes no AWS call.
The tags are the ones the spec sets on the stack (``project``, ``team``, ``contact``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping

import attrs

from fluoride.errors import ConfigError, FieldError

__all__ = ["TAG_KEYS", "Selector"]

#: The stack tags a spec can set, and so the tags a selection can ask for.
TAG_KEYS = ("project", "team", "contact")

#: A name or a glob of names: service-name characters and ``* ? [ ] !``.
_PATTERN = re.compile(r"[a-z0-9*?\[\]!-]{1,64}")
_GLOB = re.compile(r"[*?\[]")


def _is_glob(pattern: str) -> bool:
    return _GLOB.search(pattern) is not None


@attrs.frozen
class Selector:
    """Services by name or glob (any one of ``patterns``) and by tag (every one of ``tags``).

    No patterns means every name; no tags means any tags. Tag values may be globs too.

    Example::

        Selector.of(["team-*"], tags={"project": "shop"}).select(
            {"team-a": {"project": "shop"}, "other": {}})   # ['team-a']
    """

    patterns: tuple[str, ...] = ()
    tags: Mapping[str, str] = attrs.field(factory=dict)

    @classmethod
    def of(
        cls,
        patterns: str | Iterable[str] | None = None,
        *,
        tags: Mapping[str, str] | None = None,
    ) -> Selector:
        """Validate and build; every bad pattern and tag is reported at once."""
        if isinstance(patterns, str):
            patterns = [patterns]
        items = tuple(patterns or ())
        errors: list[FieldError] = []
        for i, p in enumerate(items):
            if not isinstance(p, str) or not _PATTERN.fullmatch(p):
                errors.append(FieldError(
                    f"select[{i}]", f"{p!r} is not a service name or glob",
                    allowed="lowercase letters, digits, '-' and the glob characters * ? [ ] !",
                ))
        found = dict(tags or {})
        for key, value in found.items():
            if key not in TAG_KEYS:
                errors.append(FieldError(f"tags.{key}", f"{key!r} is not a tag Fluoride sets",
                                         allowed=", ".join(TAG_KEYS)))
            elif not isinstance(value, str) or not value:
                errors.append(FieldError(f"tags.{key}", f"{value!r} is not a tag value",
                                         allowed="a non-empty string (globs allowed)"))
        if errors:
            raise ConfigError("The selection of services is invalid.", errors=errors)
        return cls(items, found)

    @classmethod
    def parse(cls, items: Iterable[str]) -> Selector:
        """The CLI's ``--select`` values: ``NAME``, ``GLOB`` or ``KEY=VALUE`` (a tag)."""
        patterns: list[str] = []
        tags: dict[str, str] = {}
        for item in items:
            key, sep, value = item.partition("=")
            if sep:
                tags[key.strip()] = value.strip()
            else:
                patterns.append(item.strip())
        return cls.of(patterns, tags=tags)

    @property
    def everything(self) -> bool:
        """Whether this selects every service."""
        return not self.patterns and not self.tags

    def matches(self, name: str, tags: Mapping[str, str]) -> bool:
        """Whether the service ``name`` with its stack ``tags`` is selected."""
        if self.patterns and not any(fnmatch.fnmatchcase(name, p) for p in self.patterns):
            return False
        return all(
            key in tags and fnmatch.fnmatchcase(tags[key], value)
            for key, value in self.tags.items()
        )

    def select(self, found: Mapping[str, Mapping[str, str]]) -> list[str]:
        """The selected names among ``found`` (name -> stack tags), sorted."""
        return sorted(name for name, tags in found.items() if self.matches(name, tags))

    def missing(self, found: Iterable[str]) -> list[str]:
        """Plain names (not globs) asked for that are not among ``found``."""
        have = set(found)
        return [p for p in self.patterns if not _is_glob(p) and p not in have]

    def __str__(self) -> str:
        parts = [*self.patterns, *(f"{k}={v}" for k, v in self.tags.items())]
        return " ".join(parts) if parts else "every service"
