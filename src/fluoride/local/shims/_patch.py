"""Patching moto in place, idempotently, keeping every original for the tests."""

from __future__ import annotations

from typing import Any

__all__ = ["ORIGINALS", "original", "patch", "register_model"]

#: (owner, attribute name) -> moto's own value before fluoride replaced it.
ORIGINALS: dict[tuple[object, str], Any] = {}


def patch(owner: object, name: str, replacement: Any) -> Any:
    """Replace ``owner.name`` with ``replacement`` once; return moto's original.

    Patching again (a second emulator in the same process) keeps the first original, so
    the shim never wraps itself.
    """
    key = (owner, name)
    if key not in ORIGINALS:
        ORIGINALS[key] = getattr(owner, name, None)
    setattr(owner, name, replacement)
    return ORIGINALS[key]


def original(owner: object, name: str) -> Any:
    """moto's own ``owner.name``, whether or not it has been patched.

    For a class, this is what ``getattr`` gives: a function for a method, a bound method
    for a classmethod, the property object for a property.
    """
    key = (owner, name)
    if key in ORIGINALS:
        return ORIGINALS[key]
    return getattr(owner, name, None)


def register_model(model: type[Any]) -> None:
    """Make a CloudFormation model class known to moto's (cached) model tables."""
    from moto.cloudformation import parsing

    resource_type = model.cloudformation_type()
    models = parsing.get_model_list()
    models[:] = [m for m in models if m.cloudformation_type() != resource_type]
    models.append(model)
    parsing.get_model_map()[resource_type] = model
    parsing.get_name_type_map()[resource_type] = model.cloudformation_name_type()
