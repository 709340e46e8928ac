"""Fluoride: a microservice in a box on AWS, from Python.

Every public name is imported on first use (PEP 562), so ``import fluoride`` and the CLI's
``--help`` do not pay for boto3 and the whole SDK before they need them. Type checkers
see ordinary imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fluoride._release import Outcome, Release
    from fluoride._settings import StoreReplacementRefused
    from fluoride.client import Fluoride
    from fluoride.cost import CostEstimate
    from fluoride.errors import (
        AwsError,
        ConfigError,
        CredentialsError,
        DeploymentFailed,
        DeploymentInProgress,
        DeploymentTimeout,
        EmulatorError,
        FieldError,
        FluorideError,
        ImageNotFound,
        InvalidInput,
        NoContainerEngine,
        NoDefaultVpc,
        PushFailed,
        RollbackFailed,
        RolledBack,
        ServiceExists,
        ServiceNotFound,
        StackFailed,
        StoreNotFound,
        StoreNotProvisioned,
        StoresRetained,
    )
    from fluoride.events import (
        DeploymentProgress,
        FleetStarted,
        ForService,
        Note,
        PlannedChange,
        PlanReady,
        ProgressEvent,
        Reporter,
        ServiceEventSeen,
        ServiceFinished,
        StackEventSeen,
    )
    from fluoride.fleet import FleetFailed
    from fluoride.infra.plan import Plan
    from fluoride.infra.stack import StackState
    from fluoride.logs import LogLine
    from fluoride.service import DeleteResult, Service, ServiceStatus
    from fluoride.spec import ServiceSpec
    from fluoride.stores.data import Bucket, ObjectSummary, Secret, Table

# public name -> the module that defines it
_WHERE: dict[str, str] = {
    "Fluoride": "fluoride.client",
    "Outcome": "fluoride._release",
    "Release": "fluoride._release",
    "LogLine": "fluoride.logs",
    "Service": "fluoride.service",
    "ServiceStatus": "fluoride.service",
    "ServiceSpec": "fluoride.spec",
    "DeleteResult": "fluoride.service",
    "StackState": "fluoride.infra.stack",
    "Plan": "fluoride.infra.plan",
    "CostEstimate": "fluoride.cost",
    "FleetFailed": "fluoride.fleet",
    "StoreReplacementRefused": "fluoride._settings",
    **dict.fromkeys(("Table", "Bucket", "Secret", "ObjectSummary"), "fluoride.stores.data"),
    **dict.fromkeys(
        (
            "DeploymentProgress",
            "FleetStarted",
            "ForService",
            "Note",
            "PlanReady",
            "PlannedChange",
            "ProgressEvent",
            "Reporter",
            "ServiceEventSeen",
            "ServiceFinished",
            "StackEventSeen",
        ),
        "fluoride.events",
    ),
    **dict.fromkeys(
        (
            "AwsError",
            "ConfigError",
            "CredentialsError",
            "DeploymentFailed",
            "DeploymentInProgress",
            "DeploymentTimeout",
            "EmulatorError",
            "FieldError",
            "FluorideError",
            "ImageNotFound",
            "InvalidInput",
            "NoContainerEngine",
            "NoDefaultVpc",
            "PushFailed",
            "RollbackFailed",
            "RolledBack",
            "ServiceExists",
            "ServiceNotFound",
            "StackFailed",
            "StoreNotFound",
            "StoreNotProvisioned",
            "StoresRetained",
        ),
        "fluoride.errors",
    ),
}

__all__ = [
    "AwsError",
    "Bucket",
    "ConfigError",
    "CostEstimate",
    "CredentialsError",
    "DeleteResult",
    "DeploymentFailed",
    "DeploymentInProgress",
    "DeploymentProgress",
    "DeploymentTimeout",
    "EmulatorError",
    "FieldError",
    "FleetFailed",
    "FleetStarted",
    "Fluoride",
    "FluorideError",
    "ForService",
    "ImageNotFound",
    "InvalidInput",
    "LogLine",
    "NoContainerEngine",
    "NoDefaultVpc",
    "Note",
    "ObjectSummary",
    "Outcome",
    "Plan",
    "PlanReady",
    "PlannedChange",
    "ProgressEvent",
    "PushFailed",
    "Release",
    "Reporter",
    "RollbackFailed",
    "RolledBack",
    "Secret",
    "Service",
    "ServiceEventSeen",
    "ServiceExists",
    "ServiceFinished",
    "ServiceNotFound",
    "ServiceSpec",
    "ServiceStatus",
    "StackEventSeen",
    "StackFailed",
    "StackState",
    "StoreNotFound",
    "StoreNotProvisioned",
    "StoreReplacementRefused",
    "StoresRetained",
    "Table",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from fluoride._version import version

        return version()
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'fluoride' has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
