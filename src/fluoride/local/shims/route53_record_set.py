"""CloudFormation record names are fully qualified, as Route 53 stores them.

moto 5.2.5 behaviour corrected: ``AWS::Route53::RecordSet`` stores the ``Name`` exactly as
written (``api.example.com``), while Route 53, and moto's own
``ChangeResourceRecordSets``, store it fully qualified (``api.example.com.``); a client
looking the record up by its canonical name does not find it.

With the shim the name gets its trailing dot before the record is stored.
"""

from __future__ import annotations

from typing import Any

from moto.route53.models import RecordSet

from fluoride.local.shims._model import Creation, patch_model

__all__ = ["install"]


def _create(creation: Creation) -> Any:
    properties = creation.properties
    name = str(properties.get("Name", ""))
    if name and not name.endswith("."):
        properties["Name"] = name + "."
    return creation.moto_create(RecordSet, properties)


def install() -> None:
    patch_model(RecordSet, create=_create)
