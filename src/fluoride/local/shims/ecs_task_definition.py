"""CloudFormation registers complete ECS task definitions, and replaces them on update.

moto 5.2.5 behaviour corrected:

* ``AWS::ECS::TaskDefinition`` created by CloudFormation keeps only its family, container
  definitions, volumes and memory: CPU, network mode, compatibilities (FARGATE), the
  execution and task roles, runtime platform and tags are dropped;
* on update moto passes the container definitions through with CloudFormation's
  PascalCase keys (``Name``, ``Image``, ``PortMappings``), so the new revision has no
  container name, image or ports that the API can read, and it deregisters the old
  revision at once;
* the model has no delete, so deleting the stack leaves the task definition ACTIVE.

With the shim create and update register a revision with every property (container
definitions in the API's camelCase, environment values as strings). An update registers
a new revision and leaves the old one ACTIVE: the stack operation deregisters the old one
when the update completes, or the new one when it rolls back, as CloudFormation does.
Deleting the resource deregisters it.
"""

from __future__ import annotations

from typing import Any

from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.ecs.models import TaskDefinition, ecs_backends
from moto.moto_api._internal import mock_random

from fluoride.local._errors import tolerated
from fluoride.local.shims._model import Creation, ecs_tags, patch_model

__all__ = ["container_definitions", "install"]


def _string_map(mapping: dict[Any, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in mapping.items()}


def _stringify_environment(container: dict[str, Any]) -> dict[str, Any]:
    for key in ("environment",):
        if key in container:
            container[key] = [
                {"name": str(e["name"]), "value": "" if e.get("value") is None else str(e["value"])}
                for e in container[key]
            ]
    if "dockerLabels" in container:
        container["dockerLabels"] = _string_map(container["dockerLabels"])
    return container


def container_definitions(properties: dict[str, Any]) -> list[dict[str, Any]]:
    """Container definitions in the ECS API's shape from CloudFormation properties."""
    raw = properties.get("ContainerDefinitions") or []
    options = [c.get("LogConfiguration", {}).get("Options") for c in raw]
    labels = [c.get("DockerLabels") for c in raw]
    containers = [_stringify_environment(c) for c in remap_nested_keys(raw, pascal_to_camelcase)]
    # Log options and docker labels are free-form maps: keep their keys as written.
    for container, option, label in zip(containers, options, labels, strict=True):
        if option is not None:
            container["logConfiguration"]["options"] = _string_map(option)
        if label is not None:
            container["dockerLabels"] = _string_map(label)
    return containers


def _register(creation: Creation) -> Any:
    """Register a revision with every property: what a create and an update both do."""
    p = creation.properties
    family = p.get("Family") or f"task-definition-{int(mock_random.random() * 10**6)}"
    camel = remap_nested_keys(
        {k: v for k, v in p.items() if k != "ContainerDefinitions"}, pascal_to_camelcase
    )
    return creation.backend(ecs_backends).register_task_definition(
        family=family,
        container_definitions=container_definitions(p),
        volumes=camel.get("volumes"),
        network_mode=camel.get("networkMode"),
        tags=ecs_tags(camel.get("tags", [])) or None,
        placement_constraints=camel.get("placementConstraints"),
        requires_compatibilities=camel.get("requiresCompatibilities"),
        cpu=None if camel.get("cpu") is None else str(camel["cpu"]),
        memory=None if camel.get("memory") is None else str(camel["memory"]),
        task_role_arn=camel.get("taskRoleArn"),
        execution_role_arn=camel.get("executionRoleArn"),
        proxy_configuration=camel.get("proxyConfiguration"),
        inference_accelerators=camel.get("inferenceAccelerators"),
        runtime_platform=camel.get("runtimePlatform"),
        ipc_mode=camel.get("ipcMode"),
        pid_mode=camel.get("pidMode"),
        ephemeral_storage=camel.get("ephemeralStorage"),
    )


def _delete(self: Any, account_id: str, region_name: str) -> None:
    with tolerated(f"deregistering task definition {self.arn}"):  # may be gone already
        ecs_backends[account_id][region_name].deregister_task_definition(self.arn)


def install() -> None:
    patch_model(TaskDefinition, create=_register,
                update=lambda _old, creation: _register(creation), delete=_delete)
