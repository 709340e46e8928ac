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
    from fluoride.client import Fluoride
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
        StoreNotProvisioned,
    )
    from fluoride.fleet import FleetFailed, FleetResult, StatusList, Target
    from fluoride.logs import LogLine
    from fluoride.multi import Fleet
    from fluoride.service import Service, ServiceStatus
    from fluoride.spec import ServiceSpec, Sidecar

# public name -> the module that defines it
_WHERE: dict[str, str] = {
    "Fluoride": "fluoride.client",
    "Outcome": "fluoride._release",
    "Release": "fluoride._release",
    "LogLine": "fluoride.logs",
    "Fleet": "fluoride.multi",
    "FleetFailed": "fluoride.fleet",
    "FleetResult": "fluoride.fleet",
    "StatusList": "fluoride.fleet",
    "Target": "fluoride.fleet",
    "Service": "fluoride.service",
    "ServiceStatus": "fluoride.service",
    "ServiceSpec": "fluoride.spec",
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
            "StoreNotProvisioned",
        ),
        "fluoride.errors",
    ),
}

__all__ = [
    "AwsError",
    "ConfigError",
    "CredentialsError",
    "DeploymentFailed",
    "DeploymentInProgress",
    "DeploymentTimeout",
    "EmulatorError",
    "FieldError",
    "Fleet",
    "FleetFailed",
    "FleetResult",
    "Fluoride",
    "FluorideError",
    "ImageNotFound",
    "ImageTagExists",
    "InvalidInput",
    "LogLine",
    "NoContainerEngine",
    "NoDefaultVpc",
    "Outcome",
    "PushFailed",
    "Release",
    "RollbackFailed",
    "RolledBack",
    "Service",
    "ServiceExists",
    "ServiceNotFound",
    "ServiceSpec",
    "ServiceStatus",
    "Sidecar",
    "StackFailed",
    "StatusList",
    "StoreNotProvisioned",
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
