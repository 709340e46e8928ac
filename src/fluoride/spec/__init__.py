"""What a service should be: `ServiceSpec`, its validation, its template parameters and
its ``fluoride.toml`` file.

A `ServiceSpec` is a frozen value. Its defaults are the fast ones: health checks every
5 s with 2 passes, a 10 s deregistration delay and a 10 s stop timeout, so a deployment
of a healthy image finishes in about a minute. `ServiceSpec.validate` reports every bad
field at once; `to_parameters` maps a valid spec onto the template's parameters.

The package is split by concern, each module importing only those below it:
``_environment`` (the rendered environment block) ← ``_rules`` (validation) ←
``_values`` (the attrs classes) ← ``_parameters`` (template parameters) and ``_toml``
(the file). This module is their public face.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from fluoride.spec._environment import (
    ENVIRONMENT_MARKER,
    SECRET_ENVIRONMENT_MARKER,
    render_environment,
)
from fluoride.spec._envspec import (
    ENVIRONMENT_NAME_MAX,
    EnvironmentSpec,
    environment_name_problems,
    environment_spec_problems,
)
from fluoride.spec._parameters import to_parameters, user_tags
from fluoride.spec._rules import (
    FARGATE_MEMORY,
    LOG_RETENTION_DAYS,
    MAX_ENVIRONMENT_RENDERED,
    MAX_ENVIRONMENT_VALUE,
    MAX_ENVIRONMENT_VARIABLES,
    MAX_SECRET_VARIABLES,
    RESERVED_ENVIRONMENT_NAMES,
    RESERVED_ENVIRONMENT_PREFIXES,
    SERVICE_NAME_MAX,
    spec_argument_problems,
    validate_service_name,
)
from fluoride.spec._toml import dumps_config, load_config, load_spec, loads_config, save_spec
from fluoride.spec._values import (
    Access,
    Domain,
    Environment,
    HealthCheck,
    Network,
    ServiceSpec,
    Sidecar,
    Stores,
)

__all__ = [
    "ENVIRONMENT_MARKER",
    "ENVIRONMENT_NAME_MAX",
    "FARGATE_MEMORY",
    "LOG_RETENTION_DAYS",
    "MAX_ENVIRONMENT_RENDERED",
    "MAX_ENVIRONMENT_VALUE",
    "MAX_ENVIRONMENT_VARIABLES",
    "MAX_SECRET_VARIABLES",
    "RESERVED_ENVIRONMENT_NAMES",
    "RESERVED_ENVIRONMENT_PREFIXES",
    "SECRET_ENVIRONMENT_MARKER",
    "SERVICE_NAME_MAX",
    "Access",
    "Domain",
    "Environment",
    "EnvironmentSpec",
    "HealthCheck",
    "Network",
    "ServiceSpec",
    "Sidecar",
    "Stores",
    "dumps_config",
    "environment_name_problems",
    "environment_spec_problems",
    "load_config",
    "load_spec",
    "loads_config",
    "render_environment",
    "save_spec",
    "spec_argument_problems",
    "to_parameters",
    "user_tags",
    "validate_service_name",
]
