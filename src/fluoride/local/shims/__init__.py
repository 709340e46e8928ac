"""Fluoride's corrections to moto 5.2.5, one module per behaviour.

Each module's docstring names the moto behaviour it corrects; ``tests/test_emulator_shims.py``
checks that unpatched moto still behaves that way, so a shim that has become unnecessary
(or wrong) after a moto upgrade fails the suite. :func:`install` applies them all, once.
"""

from __future__ import annotations

import threading
from types import ModuleType

from fluoride.local.shims import (
    acm_certificate,
    applicationautoscaling,
    cloudformation_conditions,
    cloudformation_lifecycle,
    cloudformation_parameters,
    cloudformation_resources,
    cloudformation_updates,
    cloudwatch_alarm,
    cloudwatch_alarm_state,
    dynamodb_table,
    ec2_network_interface_dns,
    ec2_security_group,
    ec2_security_group_ingress,
    ec2_vpc_endpoint,
    ecr_images,
    ecr_repository,
    ecs_cluster,
    ecs_execute_command,
    ecs_gateway,
    ecs_service,
    ecs_task_definition,
    ecs_task_network,
    ecs_tasks,
    elbv2_cloudformation,
    elbv2_target_health,
    kms_key,
    logs_group,
    logs_stream_prefix,
    route53_record_set,
    s3_bucket,
    s3_bucket_policy,
    secretsmanager_secret,
    sns_topic,
)

__all__ = ["SHIMS", "install"]

#: Every shim, in the order it is installed.
SHIMS: tuple[ModuleType, ...] = (
    # resources moto's CloudFormation skips or half-creates
    secretsmanager_secret,
    applicationautoscaling,
    s3_bucket,
    s3_bucket_policy,
    acm_certificate,
    cloudwatch_alarm,
    cloudwatch_alarm_state,
    dynamodb_table,
    ec2_security_group,
    ec2_security_group_ingress,
    ec2_vpc_endpoint,
    ec2_network_interface_dns,
    ecr_repository,
    ecr_images,
    elbv2_cloudformation,
    route53_record_set,
    ecs_cluster,
    ecs_task_definition,
    sns_topic,
    kms_key,
    logs_group,
    logs_stream_prefix,
    # ECS services, their tasks and their targets in simulated time
    ecs_service,
    ecs_task_network,
    ecs_tasks,
    ecs_execute_command,
    ecs_gateway,
    elbv2_target_health,
    # stack operations
    cloudformation_conditions,
    cloudformation_parameters,
    cloudformation_updates,
    cloudformation_resources,
    cloudformation_lifecycle,
)

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Apply every shim to moto, in this process, once."""
    global _installed
    with _lock:
        if _installed:
            return
        for shim in SHIMS:
            shim.install()
        _install_reset_hook()
        _installed = True


def _install_reset_hook() -> None:
    """moto's reset (``/moto-api/reset``, or a new emulator) also resets the emulated world."""
    from moto.moto_api._internal.models import MotoAPIBackend

    from fluoride.local._world import WORLD
    from fluoride.local.shims._patch import original, patch

    def reset(self: MotoAPIBackend) -> None:
        with WORLD.lock:
            original(MotoAPIBackend, "reset")(self)
            WORLD.reset(WORLD.timing)

    patch(MotoAPIBackend, "reset", reset)
