"""A spec's ``fluoride.toml`` file: reading it with every bad field reported at once,
and writing only the fields that differ from their defaults.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, Final

import attrs
import cattrs
import tomli_w
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn

from fluoride.errors import ConfigError, FieldError
from fluoride.spec._envspec import EnvironmentSpec, environment_name_problems
from fluoride.spec._rules import _service_name_problems
from fluoride.spec._values import Environment, ServiceSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    # tomli is only installed on 3.10 (see pyproject); mypy checks against 3.10 without it.
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]


class _WrongType(ValueError):
    """TOML values of the wrong type: ``entries`` pairs a path suffix ("" for the value
    itself, ``[2]`` or ``.NAME`` for an item) with the problem, shown as is."""

    def __init__(self, entries: list[tuple[str, str]]) -> None:
        self.entries = entries
        super().__init__("; ".join(problem for _, problem in entries))


def _describe(value: object) -> str:
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string",
             list: "a list", dict: "a table"}
    return f"{kinds.get(type(value), type(value).__name__)} ({value!r})"


def _wrong(problem: str) -> _WrongType:
    return _WrongType([("", problem)])


def _structure_int(value: object, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(f"must be a whole number, got {_describe(value)}")
    return value


def _structure_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        raise _wrong(f"must be a string, got {_describe(value)}")
    return value


def _structure_bool(value: object, _: type) -> bool:
    if not isinstance(value, bool):
        raise _wrong(f"must be true or false, got {_describe(value)}")
    return value


def _structure_optional_str(value: object, _: type) -> str | None:
    return None if value is None else _structure_str(value, str)


def _structure_optional_bool(value: object, _: type) -> bool | None:
    return None if value is None else _structure_bool(value, bool)


def _structure_str_tuple(value: object, _: type) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise _wrong(f"must be a list of strings, got {_describe(value)}")
    bad = [(f"[{i}]", f"must be a string, got {_describe(item)}")
           for i, item in enumerate(value) if not isinstance(item, str)]
    if bad:
        raise _WrongType(bad)
    return tuple(value)


def _structure_environment(value: object, _: type) -> Environment:
    if not isinstance(value, Mapping):
        raise _wrong(f"must be a table of names to strings, got {_describe(value)}")
    bad = [(f".{name}", f"must be a string, got {_describe(item)}; quote it")
           for name, item in value.items() if not isinstance(item, str)]
    if bad:
        raise _WrongType(bad)
    return Environment(value)


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(omit_if_default=True, forbid_extra_keys=True)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(str | None, _structure_optional_str)
    converter.register_structure_hook(bool | None, _structure_optional_bool)
    # Generic aliases are not classes, so they are matched by equality.
    converter.register_structure_hook_func(
        lambda t: t == tuple[str, ...], _structure_str_tuple)
    converter.register_structure_hook_func(
        lambda t: t == Mapping[str, str], _structure_environment)
    converter.register_unstructure_hook_func(lambda t: t == tuple[str, ...], list)
    converter.register_unstructure_hook_func(lambda t: t == Mapping[str, str], dict)

    def table_hook(cls: type[Any]) -> Callable[[object, type], Any]:
        inner = make_dict_structure_fn(cls, converter)

        def structure(value: object, _: type) -> Any:
            # Without this, a scalar where a table belongs fails deep in cattrs' code.
            if not isinstance(value, Mapping):
                raise _wrong(f"must be a table, got {_describe(value)}")
            return inner(value, cls)

        return structure

    converter.register_structure_hook_factory(attrs.has, table_hook)
    return converter


_CONVERTER: Final = _make_converter()

_HEADER: Final = (
    "# Fluoride service spec. Fields left out take their defaults;\n"
    "# see the ServiceSpec reference for every field.\n"
)


def _field_errors(exc: BaseException, path: str) -> list[FieldError]:
    """Flatten a cattrs structuring error into one `FieldError` per bad field."""
    here = path or "(top level)"
    if isinstance(exc, ClassValidationError):
        errors: list[FieldError] = []
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            errors += _field_errors(sub, f"{path}.{note.name}" if path else note.name)
        for sub in without:
            errors += _field_errors(sub, path)
        return errors
    if isinstance(exc, IterableValidationError):
        errors = []
        with_inotes, iwithout = exc.group_exceptions()
        for sub, inote in with_inotes:
            errors += _field_errors(sub, f"{path}[{inote.index}]")
        for sub in iwithout:
            errors += _field_errors(sub, path)
        return errors
    if isinstance(exc, ForbiddenExtraKeysError):
        known = ", ".join(a.name for a in attrs.fields(exc.cl))
        return [
            FieldError(f"{path}.{key}" if path else key, "is not a known field",
                       allowed=known + (", name" if not path else ""))
            for key in sorted(exc.extra_fields)
        ]
    if isinstance(exc, _WrongType):
        return [FieldError(f"{path}{suffix}" or here, problem) for suffix, problem in exc.entries]
    if isinstance(exc, KeyError):
        return [FieldError(here, f"is missing ({exc})")]
    if isinstance(exc, AttributeError | TypeError | ValueError):
        # e.g. a scalar where a table belongs: cattrs fails inside the generated code.
        return [FieldError(here, f"has the wrong shape ({exc})")]
    raise exc


def loads_config(text: str, *, source: str = "fluoride.toml") -> tuple[str | None, ServiceSpec]:
    """Parse the text of a ``fluoride.toml``: its optional ``name`` and its spec.

    Top-level keys are `ServiceSpec` fields, nested groups are tables (``[health]``,
    ``[network]``, ``[environment]``...). The spec is validated.

    Raises:
        ConfigError: bad TOML, unknown keys, wrong types or invalid values; ``errors``
            lists every bad field. ``source`` names the file in the message.

    .. versionadded:: 0.1.0
    """
    if not isinstance(text, str):
        raise ConfigError(f"{source} cannot be read.", errors=[FieldError(
            "text", f"must be a string, got {type(text).__name__}",
            allowed="the file's text (for bytes: data.decode('utf-8'), or load_config(path))")])
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{source} is not valid TOML: {exc}",
            hint="TOML takes key = value lines, strings in quotes, numbers bare, and "
            "[tables] such as [health]; see the ServiceSpec reference for the fields.",
        ) from exc
    name = data.pop("name", None)
    errors = [] if name is None else _service_name_problems(name, "name")
    try:
        spec = _CONVERTER.structure(data, ServiceSpec)
    except _STRUCTURE_ERRORS as exc:
        shape_errors = _field_errors(exc, "")
        errors += shape_errors + _problems_of_the_rest(data, shape_errors)
        raise ConfigError(f"{source} is invalid.", errors=_in_field_order(errors)) from exc
    errors += spec.problems()
    if errors:
        raise ConfigError(f"{source} is invalid.", errors=errors)
    return name, spec


_STRUCTURE_ERRORS: Final = (ClassValidationError, IterableValidationError, ForbiddenExtraKeysError)

_CHECKED_WITH: Final = {"memory": "cpu", "max_count": "min_count"}
"""Top-level fields whose rules read another top-level field."""


def _in_field_order(errors: list[FieldError]) -> list[FieldError]:
    """``name`` first, then the spec's fields in their order, unknown keys last."""
    order = {name: i for i, name in enumerate(attrs.fields_dict(ServiceSpec))}
    order["name"] = -1
    return sorted(errors, key=lambda e: order.get(_top(e.field), len(order)))


def _top(field: str) -> str:
    return re.split(r"[.\[]", field, maxsplit=1)[0]


def _problems_of_the_rest(data: Mapping[str, Any], shape_errors: list[FieldError]) -> list[
    FieldError
]:
    """The rule problems of the fields that did have the right shape, so that one pass
    reports everything: the top-level fields with shape errors are left at their defaults,
    and no rule is reported that reads a field left out."""
    dropped = {_top(e.field) for e in shape_errors}
    try:
        rest = _CONVERTER.structure(
            {k: v for k, v in data.items() if k not in dropped}, ServiceSpec
        )
    except _STRUCTURE_ERRORS:  # pragma: no cover - the bad fields were all dropped
        return []
    return [
        e for e in rest.problems()
        if _top(e.field) not in dropped and _CHECKED_WITH.get(_top(e.field)) not in dropped
    ]


def load_config(path: str | Path) -> tuple[str | None, ServiceSpec]:
    """Read a ``fluoride.toml``: its optional service ``name`` and its validated spec.

    Raises:
        ConfigError: the file is missing, unreadable or invalid (see `loads_config`).

    .. versionadded:: 0.1.0
    """
    if not isinstance(path, str | PathLike):
        raise ConfigError("No fluoride.toml to read.", errors=[FieldError(
            "path", f"must be a path, got {path!r}", allowed="a str or pathlib.Path")])
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror or exc}.",
                          hint="Write one with `fluoride create`, or pass the right path.") \
            from exc
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path} is not UTF-8 text: byte {exc.object[exc.start]:#04x} at line {line} "
            f"(byte offset {exc.start}) cannot be decoded.",
            errors=[FieldError(str(path), f"has the byte {exc.object[exc.start]:#04x} at line "
                               f"{line}", allowed="a TOML file saved as UTF-8")],
            hint="Save the file as UTF-8 (TOML files are UTF-8 by definition).",
        ) from exc
    return loads_config(text, source=str(path))


def load_spec(path: str | Path) -> ServiceSpec:
    """Read the spec of a ``fluoride.toml`` (its ``name``, if any, is checked, then ignored).

    .. versionadded:: 0.1.0
    """
    return load_config(path)[1]


def dumps_config(spec: ServiceSpec, *, name: str | None = None) -> str:
    """The ``fluoride.toml`` text for ``spec``, listing only fields that differ from
    their defaults. ``name``, when given, is written first.

    Raises:
        ConfigError: the spec or the name is invalid.

    .. versionadded:: 0.1.0
    """
    errors = ([] if name is None else _service_name_problems(name, "name")) + spec.problems()
    if errors:
        raise ConfigError("Cannot save an invalid service spec.", errors=errors)
    data: dict[str, Any] = {} if name is None else {"name": name}
    data.update(_CONVERTER.unstructure(spec, ServiceSpec))
    return _HEADER + tomli_w.dumps(data)


def save_spec(spec: ServiceSpec, path: str | Path, *, name: str | None = None) -> None:
    """Write ``spec`` (and ``name``, if given) to a ``fluoride.toml`` at ``path``.

    Raises:
        ConfigError: the spec or the name is invalid; nothing is written.

    .. versionadded:: 0.1.0
    """
    Path(path).write_text(dumps_config(spec, name=name), encoding="utf-8")


def loads_environment_config(text: str, *, source: str = "environment.toml") -> tuple[
    str | None, EnvironmentSpec
]:
    """Parse an environment's TOML file: its optional ``name`` and its `EnvironmentSpec`
    (top-level keys are the spec's fields), every bad field reported at once.

    .. versionadded:: 0.3.0
    """
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}",
                          hint="TOML takes key = value lines, strings in quotes, numbers "
                          "bare; see the EnvironmentSpec reference for the fields.") from exc
    name = data.pop("name", None)
    errors = [] if name is None else environment_name_problems(name, "name")
    try:
        spec = _CONVERTER.structure(data, EnvironmentSpec)
    except _STRUCTURE_ERRORS as exc:
        shape = _field_errors(exc, "")
        dropped = {_top(e.field) for e in shape}
        rest: list[FieldError] = []
        # The rules of the fields that had the right shape, so one pass says all (the bad
        # fields were all dropped, so this structures).
        with contextlib.suppress(*_STRUCTURE_ERRORS):
            rest = [e for e in _CONVERTER.structure(
                {k: v for k, v in data.items() if k not in dropped}, EnvironmentSpec
            ).problems() if _top(e.field) not in dropped]
        raise ConfigError(f"{source} is invalid.", errors=errors + shape + rest) from exc
    errors += spec.problems()
    if errors:
        raise ConfigError(f"{source} is invalid.", errors=errors)
    return name, spec


def load_environment_config(path: str | Path) -> tuple[str | None, EnvironmentSpec]:
    """Read an environment's TOML file (see `loads_environment_config`).

    .. versionadded:: 0.3.0
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}.") from exc
    return loads_environment_config(text, source=str(path))
