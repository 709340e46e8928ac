"""Fluoride: a microservice in a box on AWS, from Python."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

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

try:
    __version__ = version("fluoride")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

from fluoride.client import Fluoride
from fluoride.history import Outcome, Release
from fluoride.logs import LogLine
from fluoride.service import Service, ServiceStatus
from fluoride.spec import ServiceSpec

__all__ = [
    "AwsError",
    "ConfigError",
    "CredentialsError",
    "DeploymentFailed",
    "DeploymentInProgress",
    "DeploymentTimeout",
    "EmulatorError",
    "FieldError",
    "Fluoride",
    "FluorideError",
    "ImageNotFound",
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
    "StackFailed",
    "StoreNotProvisioned",
    "__version__",
]
