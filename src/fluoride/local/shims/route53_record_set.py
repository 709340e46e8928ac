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

from fluoride.local.shims._patch import original, patch

__all__ = ["install"]


def _create(
    cls: type[Any],
    /,
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Any:
    properties = dict(cloudformation_json.get("Properties") or {})
    name = str(properties.get("Name", ""))
    if name and not name.endswith("."):
        properties["Name"] = name + "."
    create = original(RecordSet, "create_from_cloudformation_json")
    return create(resource_name, {**cloudformation_json, "Properties": properties}, account_id,
                  region_name, **kwargs)


def install() -> None:
    patch(RecordSet, "create_from_cloudformation_json", classmethod(_create))
