"""The ``[plugins]`` lines of ``~/.aws/config`` that enable ``aws fluoride``, added and
removed by a pure edit of the file's text (``fluoride awscli install`` / ``uninstall``).

The edit works line by line, so every other line (profiles, comments, blank lines, the
order) stays as it was; :mod:`configparser` is used only to refuse a file the AWS CLI
itself could not read (botocore reads it with ``configparser.RawConfigParser``).

What each AWS CLI does with ``[plugins]`` (read in their sources, ``awscli/plugin.py``):

* v1 imports every entry as ``name = module`` and calls ``module.awscli_initialize``.
  It knows nothing of ``cli_legacy_plugin_path``: that entry is imported as a module too,
  and every ``aws`` command then fails (``ModuleNotFoundError``; seen with awscli 1.45.11).
* v2 loads no plugin at all unless ``cli_legacy_plugin_path`` is set: it adds each
  directory of that value (``os.pathsep``-separated) to ``sys.path``, then imports the
  entries as v1 does, in its own bundled Python.

So the v2 line is written only for v2.
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Sequence

import attrs

from fluoride.errors import ConfigError

__all__ = [
    "LEGACY_PATH",
    "PLUGIN_LINE",
    "ConfigEdit",
    "has_legacy_path",
    "install_plugin",
    "uninstall_plugin",
]

#: The plugin entry: ``aws fluoride`` comes from the module fluoride.awscli.
PLUGIN_NAME = "fluoride"
PLUGIN_MODULE = "fluoride.awscli"
PLUGIN_LINE = f"{PLUGIN_NAME} = {PLUGIN_MODULE}"
#: AWS CLI v2's setting: where its bundled Python finds plugins.
LEGACY_PATH = "cli_legacy_plugin_path"
SECTION = "plugins"

_HEADER = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(?:[#;].*)?$")
_KEY = re.compile(r"^([^\s=:#;\[][^=:]*?)\s*[=:]\s*(.*?)\s*$")


@attrs.frozen
class ConfigEdit:
    """The config text after an edit, and the lines it added and removed (in words for
    the user to read before it is written). ``changed`` is False when nothing was to do."""

    text: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def check_parsable(text: str, source: str = "the AWS config file") -> None:
    """Raise :class:`ConfigError` when the AWS CLI could not read ``text`` either."""
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=source)
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(
            f"{source} cannot be read as an INI file ({type(exc).__name__}: {first}); "
            "it was not changed.",
            hint="Fix that line (the AWS CLI cannot read the file either), then run the "
            "command again.",
        ) from exc


@attrs.frozen
class _Section:
    name: str
    start: int  # the header's line index (-1: no header, the lines before the first one)
    end: int  # one past its last line


def _sections(lines: Sequence[str]) -> list[_Section]:
    heads = [(i, m.group(1)) for i, line in enumerate(lines) if (m := _HEADER.match(line))]
    out = []
    for n, (i, name) in enumerate(heads):
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        out.append(_Section(name, i, end))
    return out


def _keys(lines: Sequence[str], section: _Section) -> dict[str, int]:
    """Top-level keys of ``section`` (lowercased, as configparser reads them) -> line."""
    found: dict[str, int] = {}
    for i in range(section.start + 1, section.end):
        m = _KEY.match(lines[i])
        if m:
            found.setdefault(m.group(1).strip().lower(), i)
    return found


def _last_content(lines: Sequence[str], section: _Section) -> int:
    """The index of the section's last line that is not blank or a comment."""
    last = section.start
    for i in range(section.start + 1, section.end):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith(("#", ";")):
            last = i
    return last


def _value(line: str) -> str:
    m = _KEY.match(line)
    return m.group(2) if m else ""


def install_plugin(text: str, *, legacy_path: str | None = None) -> ConfigEdit:
    """``text`` with ``fluoride = fluoride.awscli`` in ``[plugins]`` (made if missing), and,
    given ``legacy_path`` (for AWS CLI v2), that directory in ``cli_legacy_plugin_path``:
    added to the setting's directories when it names others. Idempotent. Raises
    :class:`ConfigError` for a file the AWS CLI could not read."""
    check_parsable(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines()
    added: list[str] = []
    removed: list[str] = []
    plugins = next((s for s in _sections(lines) if s.name == SECTION), None)
    wanted = [PLUGIN_LINE] + ([f"{LEGACY_PATH} = {legacy_path}"] if legacy_path else [])
    if plugins is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines += [f"[{SECTION}]", *wanted]
        added += [f"[{SECTION}]", *wanted]
        return ConfigEdit(newline.join(lines) + newline, tuple(added), ())
    keys = _keys(lines, plugins)
    inserts: list[str] = []
    at = keys.get(PLUGIN_NAME)
    if at is None:
        inserts.append(PLUGIN_LINE)
    elif _value(lines[at]) != PLUGIN_MODULE:
        removed.append(lines[at])
        lines[at] = PLUGIN_LINE
        added.append(PLUGIN_LINE)
    if legacy_path:
        at = keys.get(LEGACY_PATH)
        if at is None:
            inserts.append(f"{LEGACY_PATH} = {legacy_path}")
        else:
            paths = [p for p in _value(lines[at]).split(os.pathsep) if p]
            if legacy_path not in paths:
                new = f"{LEGACY_PATH} = {os.pathsep.join([*paths, legacy_path])}"
                removed.append(lines[at])
                lines[at] = new
                added.append(new)
    if inserts:
        where = _last_content(lines, plugins) + 1
        lines[where:where] = inserts
        added += inserts
    if not (added or removed):
        return ConfigEdit(text)
    return ConfigEdit(newline.join(lines) + newline, tuple(added), tuple(removed))


def has_legacy_path(text: str) -> bool:
    """Whether ``[plugins]`` sets ``cli_legacy_plugin_path`` (AWS CLI v1 fails with it)."""
    lines = text.splitlines()
    plugins = next((s for s in _sections(lines) if s.name == SECTION), None)
    return plugins is not None and LEGACY_PATH in _keys(lines, plugins)


def uninstall_plugin(text: str) -> ConfigEdit:
    """``text`` without ``fluoride = fluoride.awscli``; ``cli_legacy_plugin_path`` goes
    too when no other plugin is left to need it, and ``[plugins]`` when it is left empty.
    Idempotent. Raises :class:`ConfigError` for a file the AWS CLI could not read."""
    check_parsable(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines()
    plugins = next((s for s in _sections(lines) if s.name == SECTION), None)
    if plugins is None:
        return ConfigEdit(text)
    keys = _keys(lines, plugins)
    at = keys.get(PLUGIN_NAME)
    if at is None or _value(lines[at]) != PLUGIN_MODULE:
        return ConfigEdit(text)  # not ours (or not there): leave it
    drop = {at}
    others = set(keys) - {PLUGIN_NAME, LEGACY_PATH}
    if not others and LEGACY_PATH in keys:
        drop.add(keys[LEGACY_PATH])
    rest = [i for i in range(plugins.start + 1, plugins.end)
            if i not in drop and lines[i].strip()]
    if not rest:  # nothing else in the section, not even a comment: the header goes too
        drop.add(plugins.start)
        drop.update(range(plugins.start + 1, plugins.end))
        # and the blank line install put before it
        if plugins.start > 0 and not lines[plugins.start - 1].strip():
            drop.add(plugins.start - 1)
    removed = tuple(lines[i] for i in sorted(drop) if lines[i].strip())
    kept = [line for i, line in enumerate(lines) if i not in drop]
    return ConfigEdit(newline.join(kept) + (newline if kept else ""), (), removed)
