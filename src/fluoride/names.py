"""Names and defaults that several layers share, each written once.

A Fluoride service called ``hello`` lives in the stack ``fluoride-hello``, pushes images to
the ECR repository ``fluoride/hello``, keeps its secret at ``fluoride/hello`` and its
container logs in ``/fluoride/hello``.
"""

from __future__ import annotations

from typing import Final

#: Every stack Fluoride makes is named ``fluoride-<service>``.
STACK_PREFIX: Final = "fluoride-"
#: The stack tag that marks a Fluoride service (its value is the service name).
SERVICE_TAG: Final = "fluoride:service"
#: The app's container in the task definition (also its awslogs stream prefix: each
#: container logs under ``<name>/<name>/<task-id>``).
APP_CONTAINER: Final = "app"
#: The stack tag that records the Fluoride version that last wrote the stack.
VERSION_TAG: Final = "fluoride:version"
#: How long a create, deploy, update, rollback or delete may take before it gives up, in s.
DEFAULT_TIMEOUT: Final = 900.0
#: Secrets Manager's recovery window for a deleted secret, in days (AWS allows 7 to 30).
DEFAULT_RECOVERY_DAYS: Final = 30
#: Every environment's stack (and its ECS gateway) is named ``fluoride-env-<environment>``.
ENVIRONMENT_STACK_PREFIX: Final = "fluoride-env-"
#: The stack tag that marks a Fluoride environment (its value is the environment name).
ENVIRONMENT_TAG: Final = "fluoride:environment"
#: CloudFormation's limit for a template sent in the request body, in bytes.
MAX_INLINE_TEMPLATE: Final = 51_200


def stack_name(service: str) -> str:
    """The stack that holds ``service``."""
    return STACK_PREFIX + service


def environment_stack_name(environment: str) -> str:
    """The stack that holds ``environment`` (its gateway has the same name)."""
    return ENVIRONMENT_STACK_PREFIX + environment


def repository_name(service: str) -> str:
    """The ECR repository of ``service``."""
    return f"fluoride/{service}"


def secret_name(service: str) -> str:
    """The default name of the secret ``service`` owns."""
    return f"fluoride/{service}"


def log_group_name(service: str) -> str:
    """The container log group of ``service``."""
    return f"/fluoride/{service}"


def alarm_topic_name(service: str) -> str:
    """The SNS topic the stack makes for ``notify``'s email addresses."""
    return f"fluoride-{service}-alarms"
