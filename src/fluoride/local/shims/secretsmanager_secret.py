"""CloudFormation creates ``AWS::SecretsManager::Secret``.

moto 5.2.5 behaviour corrected: its CloudFormation has no model for
``AWS::SecretsManager::Secret``; the resource is skipped with a warning, the stack still
completes, ``Ref`` to it resolves to nothing and ``Fn::GetAtt`` on it breaks the stack.

With the shim the secret is created in moto's Secrets Manager backend with its value from
``SecretString`` or ``GenerateSecretString`` (``SecretStringTemplate`` +
``GenerateStringKey``), its description and tags. ``Ref`` and ``Fn::GetAtt Id`` return
the ARN, as on AWS. Deleting the resource deletes the secret without a recovery window.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from moto.secretsmanager.models import secretsmanager_backends
from moto.secretsmanager.utils import random_password

from fluoride.local.shims._model import Creation, ShimResource, as_bool, tags
from fluoride.local.shims._patch import register_model

__all__ = ["SecretResource", "generate_secret_string", "install"]

RESOURCE_TYPE = "AWS::SecretsManager::Secret"


def generate_secret_string(spec: dict[str, Any]) -> str:
    """The value Secrets Manager generates for a ``GenerateSecretString`` property."""
    password = random_password(
        int(spec.get("PasswordLength", 32)),
        str(spec.get("ExcludeCharacters", "")),
        as_bool(spec.get("ExcludeNumbers")),
        as_bool(spec.get("ExcludePunctuation")),
        as_bool(spec.get("ExcludeUppercase")),
        as_bool(spec.get("ExcludeLowercase")),
        as_bool(spec.get("IncludeSpace")),
        as_bool(spec.get("RequireEachIncludedType"), default=True),
    )
    template = spec.get("SecretStringTemplate")
    key = spec.get("GenerateStringKey")
    if template is not None and key:
        document = json.loads(template)
        document[key] = password
        return json.dumps(document)
    return password


class SecretResource(ShimResource):
    TYPE: ClassVar[str] = RESOURCE_TYPE
    NAME_PROPERTY: ClassVar[str] = "Name"
    ATTRIBUTES: ClassVar[frozenset[str]] = frozenset({"Id"})

    @classmethod
    def create(cls, creation: Creation) -> SecretResource:
        properties = creation.properties
        backend = creation.backend(secretsmanager_backends)
        name = properties.get("Name") or creation.resource_name
        if "SecretString" in properties:
            value = str(properties["SecretString"])
        else:
            value = generate_secret_string(properties.get("GenerateSecretString") or {})
        backend.create_secret(
            name=name,
            secret_string=value,
            secret_binary=None,
            description=properties.get("Description"),
            tags=tags(properties.get("Tags", [])) or None,
            kms_key_id=properties.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        arn = backend.secrets[name].arn
        return cls(arn, Id=arn, name=name)

    @classmethod
    def update(cls, resource: Any, creation: Creation) -> Any:
        properties = creation.properties
        name = properties.get("Name") or resource.attributes["name"]
        if name != resource.attributes["name"]:
            return super().update(resource, creation)
        backend = creation.backend(secretsmanager_backends)
        secret: Any = backend.secrets[name]
        secret.description = properties.get("Description")
        return resource

    def delete(self, account_id: str, region_name: str) -> None:
        secretsmanager_backends[account_id][region_name].delete_secret(
            self.physical_id, recovery_window_in_days=None, force_delete_without_recovery=True
        )


def install() -> None:
    register_model(SecretResource)
