"""``ListTasks`` filters by service and desired status; stopping a service's task replaces it.

moto 5.2.5 behaviour corrected: ``ListTasks`` ignores ``serviceName`` (it lists every
task in the cluster) and, without ``desiredStatus``, lists stopped tasks too, where AWS
lists only tasks whose desired status is RUNNING. ``StopTask`` marks a task STOPPED and
nothing replaces it. A task has one container, the task definition's first, whatever
the definition holds, and it is ``HEALTHY`` whatever its ``healthCheck`` (one that can
only fail, ``exit 1``, included).

With the shim ``ListTasks`` filters by the task's service (its ``service:<name>`` group)
and defaults ``desiredStatus`` to RUNNING; stopping an emulated service's task drains it
and the service starts a replacement, as the ECS scheduler does. An emulated service's
task has a container per definition (:func:`fluoride.local._ecs._containers`), so a
sidecar has its own state, exit code and reason: a sidecar whose image cannot be pulled
stops the task before it starts; one killed for memory (``push_image(needs_memory=)``)
stops the task when it is essential, and only itself when it is not. A container with a
``healthCheck`` is ``UNKNOWN``, then ``HEALTHY``, or ``UNHEALTHY`` for an image pushed
with ``healthy=False``: an essential one stops the task ("Task failed container health
checks") and holds a new deployment until it passes; a non-essential one only shows it.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.ecs.models import EC2ContainerServiceBackend
from moto.ecs.responses import EC2ContainerServiceResponse

from fluoride.local import _ecs
from fluoride.local.shims._patch import original, patch

__all__ = ["install"]


def _list_tasks(self: Any) -> ActionResult:
    service_name = self._get_param("serviceName")
    tasks = self.ecs_backend.list_tasks(
        self._get_param("cluster", "default"),
        self._get_param("containerInstance"),
        self._get_param("family"),
        self._get_param("startedBy"),
        None,
        self._get_param("desiredStatus") or "RUNNING",
    )
    if service_name:
        group = "service:" + str(service_name).split("/")[-1]
        tasks = [t for t in tasks if t.group == group]
    return ActionResult({"taskArns": [t.task_arn for t in tasks]})


def _stop_task(self: EC2ContainerServiceBackend, cluster_str: str, task_str: str,
               reason: str) -> Any:
    cluster = self._get_cluster(cluster_str)
    task_id = task_str.split("/")[-1]
    for arn, task in self.tasks.get(cluster.name, {}).items():
        if arn.endswith(task_id) and _ecs.on_task_stopped_by_user(self, task, reason):
            return task
    return original(EC2ContainerServiceBackend, "stop_task")(self, cluster_str, task_str, reason)


def install() -> None:
    patch(EC2ContainerServiceResponse, "list_tasks", _list_tasks)
    patch(EC2ContainerServiceBackend, "stop_task", _stop_task)
