"""CloudFormation applies a DynamoDB table's TTL, point-in-time recovery and encryption.

moto 5.2.5 behaviour corrected: ``AWS::DynamoDB::Table`` created by CloudFormation drops
``TimeToLiveSpecification`` and ``PointInTimeRecoverySpecification``, and passes
``SSESpecification`` on in CloudFormation's shape (``SSEEnabled``), which moto's table
does not read (it looks for the API's ``Enabled``). So ``DescribeTimeToLive`` says
``DISABLED``, ``DescribeContinuousBackups`` says point-in-time recovery is ``DISABLED``
and ``DescribeTable`` has no ``SSEDescription``, though the template turns all three on.
The model has no update either: a changed setting is ignored.

With the shim the three are applied to the table in moto's DynamoDB backend on create
and on update (encryption with the AWS managed key ``alias/aws/dynamodb`` unless the
template names a key, as on AWS).
"""

from __future__ import annotations

from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table

from fluoride.local.shims._model import Creation, as_bool, patch_model

__all__ = ["install", "sse_specification"]


def sse_specification(cloudformation: dict[str, Any] | None) -> dict[str, Any] | None:
    """CloudFormation's ``SSESpecification`` in the shape moto's table reads."""
    if not cloudformation:
        return None
    spec: dict[str, Any] = {"Enabled": as_bool(cloudformation.get("SSEEnabled"))}
    if cloudformation.get("SSEType"):
        spec["SSEType"] = str(cloudformation["SSEType"])
    if cloudformation.get("KMSMasterKeyId"):
        spec["KMSMasterKeyId"] = str(cloudformation["KMSMasterKeyId"])
    return spec


def _apply(table: Any, creation: Creation) -> Any:
    """Put the settings moto drops on ``table``; return it."""
    properties = creation.properties
    backend: Any = creation.backend(dynamodb_backends)
    ttl = properties.get("TimeToLiveSpecification")
    if ttl:
        backend.update_time_to_live(table.name, {
            "AttributeName": str(ttl.get("AttributeName", "")),
            "Enabled": as_bool(ttl.get("Enabled"))})
    recovery = properties.get("PointInTimeRecoverySpecification")
    if recovery is not None:
        spec: dict[str, Any] = {
            "PointInTimeRecoveryEnabled": as_bool(recovery.get("PointInTimeRecoveryEnabled"))}
        if recovery.get("RecoveryPeriodInDays") is not None:
            spec["RecoveryPeriodInDays"] = int(recovery["RecoveryPeriodInDays"])
        backend.update_continuous_backups(table.name, spec)
    sse = sse_specification(properties.get("SSESpecification"))
    if sse is not None:
        if sse["Enabled"] and "KMSMasterKeyId" not in sse:
            sse["KMSMasterKeyId"] = table._get_default_encryption_key(
                creation.account_id, creation.region_name)
        table.sse_specification = sse
    return table


def _create(creation: Creation) -> Any:
    properties = creation.properties
    properties.pop("SSESpecification", None)  # applied afterwards, in the API's shape
    return _apply(creation.moto_create(Table, properties), creation)


def _update(table: Any, creation: Creation) -> Any:
    name = creation.properties.get("TableName")
    if name and name != table.name:  # a new name is a new table; the old one goes in cleanup
        return _create(creation)
    return _apply(table, creation)


def install() -> None:
    patch_model(Table, create=_create, update=_update)
