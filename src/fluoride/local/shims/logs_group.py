"""A log group made by CloudFormation keeps its KMS key.

moto 5.2.5 behaviour corrected: ``AWS::Logs::LogGroup`` hands its properties to the log
group as they are, and the log group reads its key from ``kmsKeyId`` (the API's
spelling), so the template's ``KmsKeyId`` is dropped and ``DescribeLogGroups`` shows no
key. The strict profile (``compliance = "strict"``) encrypts its log group this way.

With the shim ``KmsKeyId`` is passed on under the name moto reads.
"""

from __future__ import annotations

from typing import Any

from moto.logs.models import LogGroup

from fluoride.local.shims._model import Creation, patch_model

__all__ = ["install"]


def _create(creation: Creation) -> Any:
    properties = creation.properties
    if properties.get("KmsKeyId"):
        properties["kmsKeyId"] = properties.pop("KmsKeyId")
    return creation.moto_create(LogGroup, properties)


def install() -> None:
    patch_model(LogGroup, create=_create)
