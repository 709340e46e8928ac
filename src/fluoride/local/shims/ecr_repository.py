"""CloudFormation keeps an ECR repository's scanning, encryption and lifecycle policy.

moto 5.2.5 behaviour corrected: ``AWS::ECR::Repository`` passes
``ImageScanningConfiguration`` and ``EncryptionConfiguration`` on with CloudFormation's
PascalCase keys (``ScanOnPush``), which the API then cannot read back (``scanOnPush`` is
missing from ``DescribeRepositories``), and drops ``LifecyclePolicy``.

With the shim both configurations are stored in the API's camelCase, and the lifecycle
policy text is put on the repository.
"""

from __future__ import annotations

from typing import Any

from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.ecr.models import Repository, ecr_backends

from fluoride.local.shims._model import Creation, as_bool, patch_model

__all__ = ["install"]


def _create(creation: Creation) -> Any:
    properties = creation.properties
    scan = properties.pop("ImageScanningConfiguration", None)
    encryption = properties.pop("EncryptionConfiguration", None)
    lifecycle = properties.pop("LifecyclePolicy", None)
    repository = creation.moto_create(Repository, properties)
    if scan is not None:
        repository.image_scanning_configuration = {
            "scanOnPush": as_bool(scan.get("ScanOnPush"))}
    if encryption is not None:
        repository.encryption_configuration = remap_nested_keys(encryption, pascal_to_camelcase)
    if lifecycle and lifecycle.get("LifecyclePolicyText"):
        backend: Any = creation.backend(ecr_backends)
        backend.put_lifecycle_policy(
            None, repository.name, str(lifecycle["LifecyclePolicyText"]))
    return repository


def install() -> None:
    patch_model(Repository, create=_create)
