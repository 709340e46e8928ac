"""A small base for the CloudFormation models fluoride adds to moto."""

from __future__ import annotations

from typing import Any, ClassVar

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

__all__ = ["ShimResource", "as_bool", "props"]


def props(cloudformation_json: dict[str, Any]) -> dict[str, Any]:
    """The resolved ``Properties`` of a resource (moto has already applied the intrinsics)."""
    value = cloudformation_json.get("Properties") or {}
    return dict(value)


def as_bool(value: object, default: bool = False) -> bool:
    """A CloudFormation boolean: ``true``/``false`` as YAML booleans or as strings."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


class ShimResource(CloudFormationModel):
    """A resource made by a fluoride shim: a physical id, attributes and a delete action.

    Subclasses set ``TYPE``, ``NAME_PROPERTY`` and ``ATTRIBUTES`` and implement
    ``create_from_cloudformation_json``; ``update_from_cloudformation_json`` defaults to
    "delete and create again", which is right for the resources that have no cheap update.
    """

    TYPE: ClassVar[str] = "Fluoride::Emulator::Shim"
    NAME_PROPERTY: ClassVar[str] = ""
    ATTRIBUTES: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, physical_id: str, **attributes: Any) -> None:
        self.physical_id = physical_id
        self.attributes = attributes

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self.ATTRIBUTES and attribute_name in self.attributes:
            return self.attributes[attribute_name]
        raise UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        """Remove the resource from its backend (called by moto's stack deletion)."""

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        """Not used: moto calls :meth:`delete` on the instance first."""
