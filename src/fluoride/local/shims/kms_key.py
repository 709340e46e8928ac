"""A KMS key made by CloudFormation keeps its key policy as JSON text.

moto 5.2.5 behaviour corrected: ``AWS::KMS::Key`` stores its ``KeyPolicy`` as the dict the
template holds (CloudFormation takes a JSON object there), and every later call that
checks the key policy (``DescribeKey``, ``GetKeyRotationStatus``, encrypting with the key)
fails with ``TypeError`` because moto parses the policy as a string. The strict profile's
key (``compliance = "strict"``) is made this way.

With the shim the policy is serialized to JSON text before moto creates the key.
"""

from __future__ import annotations

import json
from typing import Any

from moto.kms.models import Key

from fluoride.local.shims._model import Creation, patch_model

__all__ = ["install"]


def _create(creation: Creation) -> Any:
    properties = creation.properties
    if isinstance(properties.get("KeyPolicy"), dict):
        properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
    return creation.moto_create(Key, properties)


def install() -> None:
    patch_model(Key, create=_create)
