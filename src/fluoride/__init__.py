"""Fluoride: a microservice in a box on AWS, from Python.

Every public name is imported on first use (PEP 562), so ``import fluoride`` and the CLI's
``--help`` do not pay for boto3 and the whole SDK before they need them. Type checkers
see ordinary imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fluoride._release import Outcome, Release, ReleaseList
    from fluoride._settings import ComplianceSwitchRefused, StoreReplacementRefused
    from fluoride.client import Fluoride, LocalFluoride
    from fluoride.cost import CostEstimate
    from fluoride.environment import Environment, EnvironmentStatus
    from fluoride.errors import (
        AwsError,
        ConfigError,
        CredentialsError,
        DeploymentFailed,
        DeploymentInProgress,
        DeploymentTimeout,
        EmulatorError,
        EnvironmentInUse,
        EnvironmentNotFound,
        FieldError,
        FluorideError,
        ImageNotFound,
        ImageTagExists,
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
        FleetFinished,
        FleetStarted,
        ForService,
        HtmlReporter,
        LoggingReporter,
        Note,
        OperationFinished,
        OperationStarted,
        PlannedChange,
        PlanReady,
        ProgressEvent,
        Reporter,
        RichProgress,
        ServiceEventSeen,
        ServiceFinished,
        StackEventSeen,
    )
    from fluoride.fleet import FleetFailed, FleetResult, StatusList, Target
    from fluoride.infra.plan import Plan
    from fluoride.infra.stack import StackState
    from fluoride.logs import LogLine, LogLines, LogStream
    from fluoride.multi import Fleet
    from fluoride.service import DeleteResult, Service, ServiceStatus
    from fluoride.spec import EnvironmentSpec, ServiceSpec, Sidecar
    from fluoride.stores.data import Bucket, Items, Objects, ObjectSummary, Secret, Table

# public name -> the module that defines it
_WHERE: dict[str, str] = {
    "Fluoride": "fluoride.client",
    "LocalFluoride": "fluoride.client",
    "Environment": "fluoride.environment",
    "EnvironmentStatus": "fluoride.environment",
    "EnvironmentSpec": "fluoride.spec",
    "Outcome": "fluoride._release",
    "Release": "fluoride._release",
    "ReleaseList": "fluoride._release",
    "Items": "fluoride.stores.data",
    "Objects": "fluoride.stores.data",
    "LogLine": "fluoride.logs",
    "Fleet": "fluoride.multi",
    "FleetFailed": "fluoride.fleet",
    "FleetResult": "fluoride.fleet",
    "StatusList": "fluoride.fleet",
    "Target": "fluoride.fleet",
    "LogLines": "fluoride.logs",
    "LogStream": "fluoride.logs",
    "Service": "fluoride.service",
    "ServiceStatus": "fluoride.service",
    "ServiceSpec": "fluoride.spec",
    "DeleteResult": "fluoride.service",
    "StackState": "fluoride.infra.stack",
    "Plan": "fluoride.infra.plan",
    "CostEstimate": "fluoride.cost",
    "StoreReplacementRefused": "fluoride._settings",
    "ComplianceSwitchRefused": "fluoride._settings",
    **dict.fromkeys(("Table", "Bucket", "Secret", "ObjectSummary"), "fluoride.stores.data"),
    "Sidecar": "fluoride.spec",
    **dict.fromkeys(
        (
            "AwsError",
            "ConfigError",
            "CredentialsError",
            "DeploymentFailed",
            "DeploymentInProgress",
            "DeploymentTimeout",
            "EmulatorError",
            "EnvironmentInUse",
            "EnvironmentNotFound",
            "FieldError",
            "FluorideError",
            "ImageNotFound",
            "ImageTagExists",
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
    # progress events and reporters: a public, typed API (docs/events.md)
    **dict.fromkeys(
        (
            "DeploymentProgress",
            "FleetFinished",
            "FleetStarted",
            "ForService",
            "HtmlReporter",
            "LoggingReporter",
            "Note",
            "OperationFinished",
            "OperationStarted",
            "PlanReady",
            "PlannedChange",
            "ProgressEvent",
            "Reporter",
            "RichProgress",
            "ServiceEventSeen",
            "ServiceFinished",
            "StackEventSeen",
        ),
        "fluoride.events",
    ),
}

__all__ = [
    "AwsError",
    "Bucket",
    "ComplianceSwitchRefused",
    "ConfigError",
    "CostEstimate",
    "CredentialsError",
    "DeleteResult",
    "DeploymentFailed",
    "DeploymentInProgress",
    "DeploymentProgress",
    "DeploymentTimeout",
    "EmulatorError",
    "Environment",
    "EnvironmentInUse",
    "EnvironmentNotFound",
    "EnvironmentSpec",
    "EnvironmentStatus",
    "FieldError",
    "Fleet",
    "FleetFailed",
    "FleetFinished",
    "FleetResult",
    "FleetStarted",
    "Fluoride",
    "FluorideError",
    "ForService",
    "HtmlReporter",
    "ImageNotFound",
    "ImageTagExists",
    "InvalidInput",
    "Items",
    "LocalFluoride",
    "LogLine",
    "LogLines",
    "LogStream",
    "LoggingReporter",
    "NoContainerEngine",
    "NoDefaultVpc",
    "Note",
    "ObjectSummary",
    "Objects",
    "OperationFinished",
    "OperationStarted",
    "Outcome",
    "Plan",
    "PlanReady",
    "PlannedChange",
    "ProgressEvent",
    "PushFailed",
    "Release",
    "ReleaseList",
    "Reporter",
    "RichProgress",
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
    "Sidecar",
    "StackEventSeen",
    "StackFailed",
    "StackState",
    "StatusList",
    "StoreNotFound",
    "StoreNotProvisioned",
    "StoreReplacementRefused",
    "StoresRetained",
    "Table",
    "Target",
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
