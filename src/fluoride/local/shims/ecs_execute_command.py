"""``ExecuteCommand`` answers as ECS does, for the emulated tasks.

moto 5.2.5 behaviour corrected: ECS's ``ExecuteCommand`` is not implemented (the call
fails), so ``svc.exec()`` could not be exercised against the emulator at all.

With the shim the call is checked as ECS checks it (the task exists and is running, it was
started with execute command enabled, the container is one of the task's, the session is
interactive) and answered with a session (``sessionId``, ``streamUrl``, ``tokenValue``).
Nothing listens at the stream URL: the Session Manager plugin cannot connect to it, and no
command runs.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api._internal import mock_random

from fluoride.local.shims._patch import patch

__all__ = ["install"]

NOT_ENABLED = (
    "The execute command failed because execute command was not enabled when the task was "
    "run or the execute command agent isn't running. Wait and try again or run a new task "
    "with execute command enabled and try again."
)


def _find_task(self: Any, cluster: str, task_id: str) -> Any:
    cluster_name = cluster.split("/")[-1]
    for arn, task in self.ecs_backend.tasks.get(cluster_name, {}).items():
        if arn == task_id or arn.endswith("/" + task_id):
            return task
    raise InvalidParameterException("The task provided in the request was not found.")


def _execute_command(self: Any) -> ActionResult:
    task = _find_task(self, str(self._get_param("cluster", "default")),
                      str(self._get_param("task", "")))
    if not self._get_param("interactive"):
        raise InvalidParameterException("Interactive is the only mode supported currently.")
    if task.status != "RUNNING":
        raise InvalidParameterException("The task provided in the request is not running.")
    if not getattr(task, "enable_execute_command", False):
        raise InvalidParameterException(NOT_ENABLED)
    containers = list(task.containers)
    name = self._get_param("container")
    if name is None and len(containers) == 1:
        name = containers[0].name
    matches = [c for c in containers if c.name == name]
    if not matches:
        raise InvalidParameterException(
            "The container provided in the request was not found in the task.")
    session_id = f"ecs-execute-command-{mock_random.get_random_hex(17)}"
    region = self.ecs_backend.region_name
    return ActionResult({
        "clusterArn": task.cluster_arn,
        "containerArn": matches[0].container_arn,
        "containerName": name,
        "interactive": True,
        "session": {
            "sessionId": session_id,
            "streamUrl": f"wss://ssmmessages.{region}.amazonaws.com/v1/data-channel/"
                         f"{session_id}?role=publish_subscribe&cell-number=AAEAAQ",
            "tokenValue": mock_random.get_random_hex(64),
        },
        "taskArn": task.task_arn,
    })


def install() -> None:
    patch(EC2ContainerServiceResponse, "execute_command", _execute_command)
