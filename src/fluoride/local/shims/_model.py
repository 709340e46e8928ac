"""How fluoride's shims hook into moto's CloudFormation models.

Two ways, one calling convention: a shim either adds a model of its own
(:class:`ShimResource`, for a type moto skips) or corrects one of moto's models
(:func:`patch_model`). Either way its create and update hooks receive a :class:`Creation`,
what moto's ``create_from_cloudformation_json`` / ``update_from_cloudformation_json`` was
called with, so moto's long signatures are written here only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

from fluoride.local.shims._patch import original, patch

__all__ = ["Creation", "ShimResource", "as_bool", "ecs_tags", "patch_model", "tags"]


def as_bool(value: object, default: bool = False) -> bool:
    """A CloudFormation boolean: ``true``/``false`` as YAML booleans or as strings."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def tags(raw: list[dict[str, Any]]) -> list[dict[str, str]]:
    """CloudFormation ``Tags`` as most APIs take them: ``Key`` and ``Value`` as strings."""
    return [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in raw]


def ecs_tags(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tags (their keys already camelCased) as ECS takes them: the value as a string."""
    return [{"key": t["key"], "value": str(t["value"])} for t in raw]


@dataclass(frozen=True)
class Creation:
    """One create (or update) of a resource by moto's CloudFormation: what moto passed.

    For an update, ``resource_name`` is the new logical name and ``kwargs`` is empty.
    """

    resource_name: str
    cloudformation_json: dict[str, Any]
    account_id: str
    region_name: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def properties(self) -> dict[str, Any]:
        """A copy of the resolved ``Properties`` (moto has already applied the intrinsics)."""
        return dict(self.cloudformation_json.get("Properties") or {})

    def backend(self, backends: Any) -> Any:
        """This account's and region's backend among moto's ``backends``."""
        return backends[self.account_id][self.region_name]

    def replace(self, resource: Any, create: CreateHook) -> Any:
        """Delete ``resource`` and ``create`` it again: an update that needs a replacement."""
        resource.delete(self.account_id, self.region_name)
        return create(self)

    def moto_create(self, model: type[Any], properties: dict[str, Any] | None = None) -> Any:
        """moto's own ``model.create_from_cloudformation_json``, with other properties if given."""
        cloudformation_json = self.cloudformation_json
        if properties is not None:
            cloudformation_json = {**cloudformation_json, "Properties": properties}
        create = original(model, "create_from_cloudformation_json")
        return create(self.resource_name, cloudformation_json, self.account_id,
                      self.region_name, **self.kwargs)

    def moto_update(self, model: type[Any], resource: Any) -> Any:
        """moto's own ``model.update_from_cloudformation_json`` of ``resource``."""
        update = original(model, "update_from_cloudformation_json")
        return update(resource, self.resource_name, self.cloudformation_json, self.account_id,
                      self.region_name)


CreateHook = Callable[[Creation], Any]
UpdateHook = Callable[[Any, Creation], Any]
DeleteHook = Callable[[Any, str, str], None]


def _moto_create(create: Callable[[type[Any], Creation], Any]) -> Any:
    """A ``create_from_cloudformation_json`` with moto's signature: ``create(cls, creation)``."""

    def create_from_cloudformation_json(
        cls: type[Any],
        /,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        return create(
            cls, Creation(resource_name, cloudformation_json, account_id, region_name, kwargs)
        )

    return classmethod(create_from_cloudformation_json)


def _moto_update(update: Callable[[type[Any], Any, Creation], Any]) -> Any:
    """An ``update_from_cloudformation_json`` with moto's signature: ``update(cls, ...)``."""

    def update_from_cloudformation_json(
        cls: type[Any],
        /,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        return update(
            cls,
            original_resource,
            Creation(new_resource_name, cloudformation_json, account_id, region_name),
        )

    return classmethod(update_from_cloudformation_json)


def patch_model(
    model: type[Any],
    *,
    create: CreateHook | None = None,
    update: UpdateHook | None = None,
    delete: DeleteHook | None = None,
) -> None:
    """Replace what moto's CloudFormation calls on ``model`` with fluoride's hooks.

    ``create(creation)`` and ``update(resource, creation)`` stand for the model's
    ``create_from_cloudformation_json`` and ``update_from_cloudformation_json``;
    ``delete(resource, account_id, region_name)`` for its ``delete`` (called by the stack's
    deletion). A hook left out keeps moto's own method.
    """
    if create is not None:
        patch(model, "create_from_cloudformation_json",
              _moto_create(lambda _cls, creation: create(creation)))
    if update is not None:
        patch(model, "update_from_cloudformation_json",
              _moto_update(lambda _cls, resource, creation: update(resource, creation)))
    if delete is not None:
        patch(model, "delete", delete)


class ShimResource(CloudFormationModel):
    """A resource made by a fluoride shim: a physical id, attributes and a delete action.

    Subclasses set ``TYPE``, ``NAME_PROPERTY`` and ``ATTRIBUTES``, implement :meth:`create`
    and :meth:`delete`, and may override :meth:`update`, which defaults to "delete and
    create again", right for the resources that have no cheap update.
    """

    TYPE: ClassVar[str] = "Fluoride::Emulator::Shim"
    NAME_PROPERTY: ClassVar[str] = ""
    ATTRIBUTES: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, physical_id: str, **attributes: Any) -> None:
        self.physical_id = physical_id
        self.attributes = attributes

    @classmethod
    def create(cls, creation: Creation) -> ShimResource:
        """Create the resource in its moto backend."""
        raise NotImplementedError

    @classmethod
    def update(cls, resource: Any, creation: Creation) -> Any:
        """Update ``resource`` to the new properties; by default delete and create again."""
        return creation.replace(resource, cls.create)

    def delete(self, account_id: str, region_name: str) -> None:
        """Remove the resource from its backend (called by moto's stack deletion)."""

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

    # What moto calls, as patch_model installs it on moto's own models.
    create_from_cloudformation_json = _moto_create(
        lambda cls, creation: cls.create(creation))
    update_from_cloudformation_json = _moto_update(
        lambda cls, resource, creation: cls.update(resource, creation))

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        """Not used: moto calls :meth:`delete` on the instance first."""
