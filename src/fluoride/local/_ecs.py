"""ECS services in simulated time: deployments, tasks, targets and the circuit breaker.

moto keeps an ECS service as a static record; here each service has deployments that
progress as on AWS's rolling update (minimum healthy 100 %, maximum 200 %):

* a new PRIMARY deployment starts IN_PROGRESS beside the ACTIVE one and launches its
  tasks (PROVISIONING, then RUNNING after ``Timing.task_start``);
* a running task registers in the service's target groups (``initial``) and, after
  ``Timing.health_check``, becomes ``healthy`` or ``unhealthy`` depending on its image;
* when the PRIMARY deployment has its desired count healthy, the other deployments'
  tasks drain (``draining``, then STOPPED after ``Timing.drain``), the old deployments
  disappear and the PRIMARY one is COMPLETED;
* a task of an unhealthy image is stopped with a reason, the deployment's
  ``failedTasks`` grows and a replacement is launched; at the circuit breaker's threshold
  the deployment is FAILED and, with rollback on, a new deployment of the last completed
  task definition starts;
* a deployment alarm in ALARM state fails the deployment the same way;
* a task whose container reads keys of a secret (``secrets``, the spec's ``secret_env``)
  fails to start, with ECS's words, when the secret or a key is missing;
* a container with a ``healthCheck`` is ``UNKNOWN``, then ``HEALTHY`` or ``UNHEALTHY``
  depending on its image (``push_image(healthy=False)``); a task counts as healthy only
  once its essential containers' checks pass, and one whose essential container turns
  ``UNHEALTHY`` is stopped ("Task failed container health checks"), as the ECS scheduler
  does; a non-essential container's verdict changes nothing but its ``healthStatus``.

With ``Timing.derive`` the health check and drain durations are each service's own
(target group health checks, grace period, deregistration delay, stop timeout: see
:class:`~fluoride.local._timing.RolloutSettings`), scaled by ``Timing.scale``.

Everything is driven by happenings on :data:`~fluoride.local._world.WORLD`, so the
progress is the same whoever reads it and however often.
"""

from __future__ import annotations

import functools
import json
import math
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import attrs
from moto.ec2.models import ec2_backends
from moto.ecs.models import Container, EC2ContainerServiceBackend, Task
from moto.elbv2.models import elbv2_backends
from moto.moto_api._internal import mock_random
from moto.secretsmanager.models import secretsmanager_backends

from fluoride.local import _gateway
from fluoride.local._context import note_deployment
from fluoride.local._errors import AWS_ERRORS, is_aws_error, log, tolerated
from fluoride.local._images import ResolvedImage, min_memory, resolve_image
from fluoride.local._task_logs import write_task_line
from fluoride.local._timing import RolloutSettings
from fluoride.local._world import WORLD
from fluoride.names import APP_CONTAINER

__all__ = [
    "Deployment",
    "EmulatedTask",
    "ServiceSim",
    "circuit_breaker_threshold",
    "deployment_outcome",
    "find_service",
    "on_service_created",
    "on_service_deleted",
    "on_service_updated",
    "on_task_stopped_by_user",
    "target_health",
]


#: How many service events a service keeps (AWS shows the last 100).
MAX_EVENTS = 100

#: Called whenever a deployment may have completed or failed (stack operations listen).
DEPLOYMENT_LISTENERS: list[Callable[[], None]] = []
_notifying = {"busy": False, "again": False}


def _notify() -> None:
    if _notifying["busy"]:
        _notifying["again"] = True
        return
    _notifying["busy"] = True
    try:
        while True:
            _notifying["again"] = False
            for listener in list(DEPLOYMENT_LISTENERS):
                listener()
            if not _notifying["again"]:
                break
    finally:
        _notifying["busy"] = False


class EmulatedTask(Task):
    """A moto ECS task whose status only the simulation changes.

    moto's own tasks advance one state each time they are described (RUNNING, then
    DEACTIVATING, STOPPING, ...); a service's tasks must not.
    """

    @property
    def status(self) -> str | None:
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        self._status = value

    def advance(self) -> None:
        """Describing a task does not move it."""


@attrs.define(eq=False)
class SimTask:
    task: Any  # an EmulatedTask; Any because the simulation sets attributes moto lacks
    deployment: Deployment
    image: ResolvedImage
    state: str = "PROVISIONING"  # PROVISIONING, RUNNING, STOPPING, STOPPED
    healthy: bool = False
    #: The load balancer's verdict is in and passed (or the task has no load balancer).
    balanced: bool = False
    #: Essential containers with a health check that has not passed yet.
    checks_pending: set[str] = attrs.field(factory=set)
    #: Whether any essential container has a health check (it decides the task's health).
    checks_decide: bool = False
    ip: str | None = None
    eni_id: str | None = None
    targets: list[tuple[str, int]] = attrs.field(factory=list)

    @property
    def alive(self) -> bool:
        return self.state in ("PROVISIONING", "RUNNING")

    @property
    def short_id(self) -> str:
        return str(self.task.id)


@attrs.define(eq=False)
class Deployment:
    id: str
    task_definition: str
    desired: int
    created: float
    updated: float
    status: str = "PRIMARY"  # PRIMARY, ACTIVE
    rollout_state: str = "IN_PROGRESS"  # IN_PROGRESS, COMPLETED, FAILED
    rollout_reason: str = ""
    failed_tasks: int = 0
    tasks: list[SimTask] = attrs.field(factory=list)
    image: ResolvedImage | None = None

    def alive(self) -> list[SimTask]:
        return [t for t in self.tasks if t.alive]

    def running(self) -> int:
        return sum(1 for t in self.tasks if t.state == "RUNNING")

    def pending(self) -> int:
        return sum(1 for t in self.tasks if t.state == "PROVISIONING")

    def healthy(self) -> int:
        return sum(1 for t in self.tasks if t.state == "RUNNING" and t.healthy)


@attrs.define(eq=False)
class ServiceSim:
    service: Any
    backend: EC2ContainerServiceBackend
    deployments: list[Deployment] = attrs.field(factory=list)
    last_completed: Deployment | None = None
    steady: bool = False
    deleted: bool = False
    subnet_cursor: int = 0

    @property
    def name(self) -> str:
        return str(self.service.name)

    @property
    def arn(self) -> str:
        return str(self.service.arn)

    @property
    def primary(self) -> Deployment | None:
        return self.deployments[0] if self.deployments else None

    def all_tasks(self) -> Iterable[SimTask]:
        for deployment in self.deployments:
            yield from deployment.tasks


# ------------------------------------------------------------------ registry


def _services() -> dict[int, ServiceSim]:
    found: dict[int, ServiceSim] = WORLD.state.setdefault("ecs_services", {})
    return found


def _stray_tasks() -> list[SimTask]:
    """Tasks still draining from deployments that were removed (deleted services)."""
    found: list[SimTask] = WORLD.state.setdefault("ecs_stray_tasks", [])
    return found


def find_service(service: Any) -> ServiceSim | None:
    return _services().get(id(service))


def _health_table() -> dict[tuple[str, str], tuple[str, str | None, str | None]]:
    found: dict[tuple[str, str], tuple[str, str | None, str | None]] = WORLD.state.setdefault(
        "target_health", {}
    )
    return found


def target_health(
    target_group_arn: str, target_id: str
) -> tuple[str, str | None, str | None] | None:
    """The simulated (state, reason, description) of a target, if the simulation owns it."""
    return _health_table().get((target_group_arn, target_id))


# ------------------------------------------------------------------ helpers


def _new_deployment_id() -> str:
    return f"ecs-svc/{mock_random.randint(10**18, 10**19 - 1)}"


def circuit_breaker_threshold(desired: int) -> int:
    """Failed tasks that trip the circuit breaker: half the desired count, 3 to 200."""
    return min(200, max(3, math.ceil(desired / 2)))


def _deployment_configuration(sim: ServiceSim) -> dict[str, Any]:
    value = getattr(sim.service, "deployment_configuration", None)
    return value if isinstance(value, dict) else {}


def _circuit_breaker(sim: ServiceSim) -> tuple[bool, bool]:
    cb = _deployment_configuration(sim).get("deploymentCircuitBreaker") or {}
    return bool(cb.get("enable")), bool(cb.get("rollback"))


def _event(sim: ServiceSim, t: float, message: str) -> None:
    sim.service.events.insert(
        0, {"id": str(uuid.uuid4()), "createdAt": WORLD.clock.wall(t), "message": message}
    )
    del sim.service.events[MAX_EVENTS:]


def _log_line(sim: ServiceSim, task: SimTask, t: float, what: str | Callable[[str], str],
              *, only: str | None = None) -> None:
    """What the task "wrote" (no container runs): see :mod:`fluoride.local._task_logs`.
    Each container writes the line to its own stream; a sidecar's names itself
    (``task <id> container <name> ...``). ``what`` may be a function of the container's
    image (what each container started from)."""
    def line(name: str, image: str) -> str | None:
        if only is not None and name != only:
            return None
        text = what if isinstance(what, str) else what(image)
        who = "" if name == APP_CONTAINER else f"container {name} "
        return f"task {task.short_id} {who}{text}"

    write_task_line(sim.backend, task.deployment.task_definition, task.short_id,
                    WORLD.clock.wall(t), line)


def _tasks_text(tasks: list[SimTask]) -> str:
    return " ".join(f"(task {t.short_id})" for t in tasks)


def _task_definition(sim: ServiceSim, arn: str) -> Any:
    return sim.backend.describe_task_definition(arn)


def _container_image(task_definition: Any) -> str:
    for container in task_definition.container_definitions:
        if container.get("essential", True):
            return str(container.get("image", ""))
    return str(task_definition.container_definitions[0].get("image", ""))


#: How ECS's agent begins the stopped reason of a task whose secrets it could not read.
_ASM_FAILURE = ("ResourceInitializationError: unable to pull secrets or registry auth: "
                "execution resource retrieval failed: unable to retrieve secret from asm: "
                "service call has been retried 1 time(s): ")


def _secret_failure(sim: ServiceSim, task_definition: Any) -> str | None:
    """Why ECS could not read the task's ``secrets`` (``valueFrom`` = a secret's ARN,
    ``:<json key>::``) as it says it, or ``None`` when every one resolves."""
    backend = secretsmanager_backends[sim.backend.account_id][sim.backend.region_name]
    for container in task_definition.container_definitions:
        for secret in container.get("secrets") or []:
            parts = str(secret.get("valueFrom", "")).split(":")
            arn, key = ":".join(parts[:7]), (parts[7] if len(parts) > 7 else "")
            try:
                value = backend.get_secret_value(arn, None, None).get("SecretString")  # type: ignore[arg-type]  # moto's stubs say str, it takes None
            except Exception as exc:  # moto's error for a missing or deleted secret
                return _ASM_FAILURE + f"failed to fetch secret {arn} from secrets manager: {exc}"
            if not key:
                continue
            try:
                data = json.loads(value or "")
            except ValueError:
                data = None
            if not isinstance(data, dict) or key not in data:
                return (_ASM_FAILURE + "retrieved secret from Secrets Manager did not contain "
                        f"json key {key}")
    return None


# ------------------------------------------------------------------ rendering


def _render(sim: ServiceSim) -> None:
    """Write the simulation's state into moto's service record (what the API returns)."""
    service = sim.service
    running = sum(1 for t in sim.all_tasks() if t.state == "RUNNING")
    pending = sum(1 for t in sim.all_tasks() if t.state == "PROVISIONING")
    service.running_count = running
    service.pending_count = pending
    if sim.primary is not None:
        service.task_definition = sim.primary.task_definition
    network = getattr(service, "network_configuration", None) or None
    service.deployments = [
        {
            "id": d.id,
            "status": d.status,
            "taskDefinition": d.task_definition,
            "desiredCount": d.desired,
            "pendingCount": d.pending(),
            "runningCount": d.running(),
            "failedTasks": d.failed_tasks,
            "createdAt": WORLD.clock.wall(d.created),
            "updatedAt": WORLD.clock.wall(d.updated),
            "launchType": service.launch_type,
            "platformVersion": "1.4.0" if service.launch_type == "FARGATE" else None,
            "platformFamily": "Linux" if service.launch_type == "FARGATE" else None,
            "networkConfiguration": network,
            "rolloutState": d.rollout_state,
            "rolloutStateReason": d.rollout_reason,
        }
        for d in sim.deployments
    ]
    _render_cluster(sim.backend, service.cluster_name)


def _render_cluster(backend: EC2ContainerServiceBackend, cluster_name: str) -> None:
    cluster = backend.clusters.get(cluster_name)
    if cluster is None:
        return
    sims = [s for s in _services().values()
            if s.service.cluster_name == cluster_name and not s.deleted]
    cluster.running_tasks_count = sum(s.service.running_count for s in sims)
    cluster.pending_tasks_count = sum(s.service.pending_count for s in sims)
    cluster.active_services_count = len(sims)


# ------------------------------------------------------------------ lifecycle hooks


def on_service_created(backend: EC2ContainerServiceBackend, service: Any) -> ServiceSim:
    """Start simulating a service moto just created (its first deployment starts now)."""
    now = WORLD.event_time()
    sim = ServiceSim(service=service, backend=backend)
    _services()[id(service)] = sim
    service.created_at = WORLD.clock.wall(now)
    service.events = []
    if service.task_definition:
        _start_deployment(sim, service.task_definition, now, desired=service.desired_count)
    else:
        _render(sim)
    return sim


def on_service_updated(
    service: Any,
    *,
    task_definition: str | None,
    desired_count: int | None,
    force_new_deployment: bool,
    configuration_changed: bool,
) -> None:
    """Apply an UpdateService: a new deployment when the task or its placement changes,
    otherwise a new desired count for the current deployment."""
    sim = find_service(service)
    if sim is None or sim.deleted:
        return
    now = WORLD.event_time()
    primary = sim.primary
    if desired_count is not None:
        service.desired_count = desired_count
    target = task_definition or (primary.task_definition if primary else None)
    new_task = primary is None or (target is not None and target != primary.task_definition)
    if target is not None and (new_task or force_new_deployment or configuration_changed):
        _start_deployment(sim, target, now, desired=service.desired_count)
        return
    if primary is not None:
        if desired_count is not None and desired_count != primary.desired:
            primary.desired = desired_count
            primary.updated = now
            sim.steady = False
        note_deployment(sim.arn, primary.id)
        _reconcile(sim, now)


def on_service_deleted(service: Any) -> None:
    """The service is gone: its tasks stop (draining first) and its deployments end."""
    sim = find_service(service)
    if sim is None or sim.deleted:
        return
    now = WORLD.event_time()
    sim.deleted = True
    for task in list(sim.all_tasks()):
        if task.alive:
            _stop_task(sim, task, now, reason="Service deleted",
                       stop_code="ServiceSchedulerInitiated")
        if task.state != "STOPPED":
            _stray_tasks().append(task)
    sim.deployments = []
    service.deployments = []
    service.running_count = 0
    service.pending_count = 0
    service.desired_count = 0
    _render_cluster(sim.backend, service.cluster_name)
    _notify()


def on_task_stopped_by_user(backend: EC2ContainerServiceBackend, task: Any, reason: str) -> bool:
    """StopTask on a service's task: it drains and stops, and the service replaces it."""
    for sim in _services().values():
        for sim_task in sim.all_tasks():
            if sim_task.task is task:
                if sim_task.alive:
                    _stop_task(sim, sim_task, WORLD.event_time(),
                               reason=reason or "Task stopped by user", stop_code="UserInitiated")
                    _reconcile(sim, WORLD.event_time())
                return True
    return False


def deployment_outcome(service_arn: str, deployment_id: str) -> tuple[str, str]:
    """(state, reason) of a deployment for a waiting stack operation.

    ``state`` is ``IN_PROGRESS``, ``COMPLETED`` (completed and the service is steady),
    ``FAILED`` or ``GONE`` (the service or the deployment no longer exists).
    """
    for sim in _services().values():
        if sim.arn != service_arn or sim.deleted:
            continue
        for deployment in sim.deployments:
            if deployment.id != deployment_id:
                continue
            if deployment.rollout_state == "FAILED":
                return "FAILED", deployment.rollout_reason
            if deployment.rollout_state == "COMPLETED" and sim.steady:
                return "COMPLETED", deployment.rollout_reason
            return "IN_PROGRESS", deployment.rollout_reason
        return "GONE", "The deployment was replaced before it completed."
    return "GONE", "The service no longer exists."


# ------------------------------------------------------------------ deployments


def _start_deployment(sim: ServiceSim, task_definition: str, t: float, *, desired: int,
                      reason: str | None = None) -> Deployment:
    td = _task_definition(sim, task_definition)
    deployment_id = _new_deployment_id()
    deployment = Deployment(
        id=deployment_id,
        task_definition=td.arn,
        desired=desired,
        created=t,
        updated=t,
        rollout_reason=reason or f"ECS deployment {deployment_id} in progress.",
        image=resolve_image(_container_image(td)),
    )
    for old in sim.deployments:
        if old.status == "PRIMARY":
            old.status = "ACTIVE"
            old.updated = t
    sim.deployments.insert(0, deployment)
    sim.steady = False
    sim.service.task_definition = td.arn
    note_deployment(sim.arn, deployment.id)
    _reconcile(sim, t)
    return deployment


def _fail_deployment(sim: ServiceSim, deployment: Deployment, t: float, reason: str,
                     event: str, *, cause: str = "circuit breaker") -> None:
    deployment.rollout_state = "FAILED"
    deployment.rollout_reason = reason
    deployment.updated = t
    _event(sim, t, f"(service {sim.name}) (deployment {deployment.id}) {event}")
    _, cb_rollback = _circuit_breaker(sim)
    alarms = _deployment_configuration(sim).get("alarms") or {}
    rollback = cb_rollback or bool(alarms.get("rollback"))
    previous = sim.last_completed
    # A failing rollback (to the very task definition that failed) is not rolled back again.
    if rollback and previous is not None and deployment is sim.primary \
            and previous.task_definition != deployment.task_definition:
        _event(sim, t, f"(service {sim.name}) rolling back to deployment {previous.id}.")
        _start_deployment(
            sim, previous.task_definition, t, desired=sim.service.desired_count,
            reason=f"ECS deployment {cause}: rolling back to deploymentId {previous.id}.",
        )


def _check_circuit_breaker(sim: ServiceSim, deployment: Deployment, t: float) -> None:
    enabled, _ = _circuit_breaker(sim)
    if not enabled or deployment.rollout_state != "IN_PROGRESS":
        return
    if deployment.failed_tasks >= circuit_breaker_threshold(deployment.desired):
        _fail_deployment(
            sim, deployment, t,
            reason="ECS deployment circuit breaker: tasks failed to start.",
            event="deployment failed: tasks failed to start.",
        )


def _reconcile(sim: ServiceSim, t: float) -> None:
    """Bring the service one step towards its desired state (the ECS scheduler)."""
    if sim.deleted:
        return
    primary = sim.primary
    if primary is None:
        _render(sim)
        return
    if primary.rollout_state != "FAILED":
        alive = primary.alive()
        if len(alive) < primary.desired:
            started = [_launch_task(sim, primary, t) for _ in range(primary.desired - len(alive))]
            launched = [task for task in started if task is not None]
            if launched:
                _event(sim, t, f"(service {sim.name}) has started {len(launched)} tasks: "
                               f"{_tasks_text(launched)}.")
        elif len(alive) > primary.desired:
            extra = sorted(alive, key=lambda task: (task.healthy, task.state == "RUNNING"))
            extra = extra[: len(alive) - primary.desired]
            for task in extra:
                _stop_task(sim, task, t, reason=f"Scaling activity initiated by (deployment "
                                                f"{primary.id})",
                           stop_code="ServiceSchedulerInitiated")
            _event(sim, t, f"(service {sim.name}) has stopped {len(extra)} running tasks: "
                           f"{_tasks_text(extra)}.")

    if primary.rollout_state != "FAILED" and primary.healthy() >= primary.desired:
        draining: list[SimTask] = []
        for old in sim.deployments[1:]:
            if old.desired:
                old.desired = 0
                old.updated = t
            for task in old.alive():
                _stop_task(sim, task, t, reason=f"Scaling activity initiated by (deployment "
                                                f"{primary.id})",
                           stop_code="ServiceSchedulerInitiated")
                draining.append(task)
        if draining:
            _event(sim, t, f"(service {sim.name}) has begun draining connections on "
                           f"{len(draining)} tasks.")
            _event(sim, t, f"(service {sim.name}) has stopped {len(draining)} running tasks: "
                           f"{_tasks_text(draining)}.")
        others_done = all(
            task.state == "STOPPED" for old in sim.deployments[1:] for task in old.tasks
        )
        settled = others_done and all(task.state != "STOPPING" for task in primary.tasks)
        if others_done and len(sim.deployments) > 1:
            sim.deployments = [primary]
        if settled and primary.rollout_state == "IN_PROGRESS":
            primary.rollout_state = "COMPLETED"
            primary.rollout_reason = f"ECS deployment {primary.id} completed."
            primary.updated = t
            sim.last_completed = primary
            _event(sim, t, f"(service {sim.name}) (deployment {primary.id}) deployment completed.")
        if settled and primary.rollout_state == "COMPLETED" and not sim.steady:
            sim.steady = True
            _event(sim, t, f"(service {sim.name}) has reached a steady state.")
    _render(sim)
    _notify()


# ------------------------------------------------------------------ settings


def _number(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _settings(sim: ServiceSim, task: SimTask) -> RolloutSettings | None:
    """The durations the stack set for ``task``: its service's target group and grace
    period, its own task definition's stop timeout; AWS's defaults for what is not set.
    ``None`` unless ``Timing.derive`` is on (nothing is read then)."""
    if not WORLD.timing.derive:
        return None
    aws = RolloutSettings()
    values: dict[str, Any] = {}
    backend = elbv2_backends[sim.backend.account_id][sim.backend.region_name]
    for arn, _ in _target_groups(sim, task.deployment.task_definition):
        target_group = backend.target_groups.get(arn)
        if target_group is None:
            continue
        values["interval"] = _number(target_group.health_check_interval_seconds, aws.interval)
        values["healthy_threshold"] = int(_number(target_group.healthy_threshold_count,
                                                  aws.healthy_threshold))
        values["unhealthy_threshold"] = int(_number(target_group.unhealthy_threshold_count,
                                                    aws.unhealthy_threshold))
        values["deregistration_delay"] = _number(
            target_group.attributes.get("deregistration_delay.timeout_seconds"),
            aws.deregistration_delay)
        break
    values["grace_period"] = _number(
        getattr(sim.service, "health_check_grace_period_seconds", None), aws.grace_period)
    try:
        td = _task_definition(sim, task.deployment.task_definition)
    except AWS_ERRORS:  # deregistered since: the stop timeout is ECS's default
        td = None
    if td is not None:
        essential = [c for c in td.container_definitions if c.get("essential", True)]
        container = (essential or td.container_definitions or [{}])[0]
        values["stop_timeout"] = _number(container.get("stopTimeout"), aws.stop_timeout)
    return RolloutSettings(**values)


# ------------------------------------------------------------------ tasks


def _target_groups(sim: ServiceSim, task_definition: str) -> list[tuple[str, int | None]]:
    """Where a task of ``task_definition`` registers: (target group ARN, container port) of
    each of the service's load balancers, then of each of its gateway routes."""
    found: list[tuple[str, int | None]] = [
        (str(lb["targetGroupArn"]), lb.get("containerPort"))
        for lb in list(getattr(sim.service, "load_balancers", None) or [])
        if lb.get("targetGroupArn")]
    try:
        td = _task_definition(sim, task_definition)
    except AWS_ERRORS:  # deregistered since: the route's own port
        td = None
    found.extend(_gateway.route_targets(sim.backend, sim.service, td))
    return found


def _network_configuration(sim: ServiceSim) -> dict[str, Any] | None:
    config = getattr(sim.service, "network_configuration", None) or {}
    awsvpc = config.get("awsvpcConfiguration")
    if not awsvpc or not awsvpc.get("subnets"):
        return None
    subnets = list(awsvpc["subnets"])
    first = subnets[sim.subnet_cursor % len(subnets)]
    sim.subnet_cursor += 1
    rotated = [first] + [s for s in subnets if s != first]
    return {"awsvpcConfiguration": {**awsvpc, "subnets": rotated,
                                    "securityGroups": list(awsvpc.get("securityGroups") or [])}}


def _containers(td: Any) -> list[Any]:
    """One moto ``Container`` per container definition of ``td`` (moto makes only the
    first's), so a sidecar shows in ``DescribeTasks`` with its own state and reason."""
    made: list[Any] = []
    for definition in td.container_definitions:
        container: Any = Container(td)  # type: ignore[abstract]  # moto instantiates it too
        container.image = definition.get("image")
        container.cpu = definition.get("cpu", 0)
        container.memory = definition.get("memory")
        container.environment = definition.get("environment")
        container.name = definition.get("name")
        container.command = definition.get("command")
        made.append(container)
    return made


def _sidecars(td: Any, task_memory: int) -> list[tuple[str, ResolvedImage, int, bool]]:
    """Each container other than the app's: its name, image, memory limit (its own
    ``memory``, else the task's) and whether it is essential."""
    return [(str(d.get("name", "")), resolve_image(str(d.get("image", ""))),
             int(d.get("memory") or task_memory), bool(d.get("essential", True)))
            for d in td.container_definitions if d.get("name") != APP_CONTAINER]


@attrs.frozen
class _Check:
    """A container's ``healthCheck`` as its task definition holds it."""

    container: str
    essential: bool
    command: str
    interval: float
    retries: int
    start_period: float


def _health_checks(td: Any) -> list[_Check]:
    """The containers of ``td`` that have a health check (ECS's defaults for what is unset:
    30 s, 3 retries, no start period)."""
    found = []
    for d in td.container_definitions:
        check = d.get("healthCheck")
        if not isinstance(check, dict) or not check.get("command"):
            continue
        command = [str(c) for c in check["command"]]
        found.append(_Check(
            container=str(d.get("name", "")), essential=bool(d.get("essential", True)),
            command=" ".join(command[1:]) if command[0] in ("CMD", "CMD-SHELL") else
            " ".join(command),
            interval=_number(check.get("interval"), 30.0),
            retries=int(_number(check.get("retries"), 3)),
            start_period=_number(check.get("startPeriod"), 0.0)))
    return found


def _launch_task(sim: ServiceSim, deployment: Deployment, t: float) -> SimTask | None:
    service = sim.service
    backend = sim.backend
    td = _task_definition(sim, deployment.task_definition)
    cluster = backend.clusters[service.cluster_name]
    try:
        task: Any = EmulatedTask(
            cluster=cluster,
            task_definition=td,
            container_instance_arn=None,
            resource_requirements=None,
            backend=backend,
            group=f"service:{service.name}",
            launch_type=service.launch_type or "FARGATE",
            overrides={},
            started_by=deployment.id,
            tags=list(service.tags or []) if service.propagate_tags == "SERVICE" else [],
            networking_configuration=_network_configuration(sim),
            platform_version="1.4.0",
        )
    except Exception as exc:  # moto refuses the task (e.g. no network configuration)
        if not is_aws_error(exc):
            log.exception("emulator: launching a task of %s failed", sim.name)
        _event(sim, t, f"(service {sim.name}) was unable to place a task. Reason: {exc}.")
        deployment.failed_tasks += 1
        _check_circuit_breaker(sim, deployment, t)
        return None
    image = deployment.image or resolve_image(_container_image(td))
    sim_task = SimTask(task=task, deployment=deployment, image=image)
    task.status = "PROVISIONING"
    task.desired_status = "RUNNING"
    task.created_at = WORLD.clock.wall(t)
    task.cpu = td.cpu
    task.memory = td.memory
    task.version = 1
    task.health_status = "UNKNOWN"
    task.platform_family = "Linux"
    task.enable_execute_command = bool(getattr(service, "enable_execute_command", False))
    task.connectivity = "CONNECTED"
    task.connectivity_at = WORLD.clock.wall(t)
    for detail in (task.attachments[0]["details"] if task.attachments else []):
        if detail["name"] == "privateIPv4Address":
            sim_task.ip = detail["value"]
        if detail["name"] == "networkInterfaceId":
            sim_task.eni_id = detail["value"]
        if detail["name"] == "subnetId":
            subnet = ec2_backends[backend.account_id][backend.region_name].get_subnet(
                detail["value"])
            task.availability_zone = subnet.availability_zone
    if sim_task.ip is None:  # bridge/host networking: the emulator still gives it an address
        sim_task.ip = f"10.0.{mock_random.randint(0, 255)}.{mock_random.randint(1, 254)}"
    task.containers = _containers(td)  # moto makes one, of the first definition
    container: Any
    for container in task.containers:
        container.last_status = "PENDING"
        container.exitCode = None
        container.health_status = "UNKNOWN"
        container.runtime_id = None
        if container.name == APP_CONTAINER or container is task.containers[0]:
            container.image = image.reference
            container.image_digest = image.digest
        else:
            container.image_digest = resolve_image(str(container.image or "")).digest
        if sim_task.ip is not None:
            container.network_interfaces = [
                {"attachmentId": task.attachments[0]["id"] if task.attachments else "",
                 "privateIpv4Address": sim_task.ip}
            ]
    backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
    deployment.tasks.append(sim_task)
    WORLD.schedule(WORLD.timing.task_start, lambda due: _task_started(sim, sim_task, due), at=t)
    return sim_task


def _task_started(sim: ServiceSim, task: SimTask, t: float) -> None:
    if task.state != "PROVISIONING":
        return
    moto_task: Any = task.task
    moto_task.pull_started_at = WORLD.clock.wall(t)
    if task.image.pull_error is not None:
        moto_task.pull_stopped_at = WORLD.clock.wall(t)
        _task_failed(sim, task, t, reason=task.image.pull_error, stop_code="TaskFailedToStart",
                     exit_code=None, drain=False)
        return
    td = _task_definition(sim, task.deployment.task_definition)
    secret_failure = _secret_failure(sim, td)
    if secret_failure is not None:
        moto_task.pull_stopped_at = WORLD.clock.wall(t)
        _task_failed(sim, task, t, reason=secret_failure, stop_code="TaskFailedToStart",
                     exit_code=None, drain=False)
        return
    sidecars = _sidecars(td, int(moto_task.memory or 0))
    for name, image, _, _ in sidecars:
        if image.pull_error is not None:  # any container's image: the task cannot start
            moto_task.pull_stopped_at = WORLD.clock.wall(t)
            _task_failed(sim, task, t, reason=image.pull_error, stop_code="TaskFailedToStart",
                         exit_code=None, drain=False, container=name)
            return
    task.state = "RUNNING"
    moto_task.status = "RUNNING"
    moto_task.pull_stopped_at = WORLD.clock.wall(t)
    moto_task.started_at = WORLD.clock.wall(t)
    container: Any
    for container in moto_task.containers:
        container.last_status = "RUNNING"
        container.runtime_id = f"{moto_task.id}-{mock_random.randint(10**9, 10**10 - 1)}"
    _log_line(sim, task, t, lambda image: f"started from {image or task.image.reference}")
    needed = min_memory(task.image.digest)
    if needed is not None and int(moto_task.memory or 0) < needed:
        _log_line(sim, task, t, f"out of memory: needs {needed} MiB, has {moto_task.memory}")
        _task_failed(sim, task, t, reason=_OOM, stop_code="EssentialContainerExited",
                     exit_code=137, drain=False, container=moto_task.containers[0].name)
        return
    for name, image, limit, essential in sidecars:
        needed = min_memory(image.digest)
        if needed is None or limit >= needed:
            continue
        _log_line(sim, task, t, f"out of memory: needs {needed} MiB, has {limit}", only=name)
        if essential:  # ECS stops the task; the container says why
            _task_failed(sim, task, t, reason="Essential container in task exited",
                         stop_code="EssentialContainerExited", exit_code=137, drain=False,
                         container=name, container_reason=_OOM)
            return
        for container in moto_task.containers:  # a non-essential one stops alone
            if container.name == name:
                container.last_status, container.exitCode = "STOPPED", 137
                container.reason = _OOM
    _start_health_checks(sim, task, td, t)
    registered: list[str] = []
    for arn, container_port in _target_groups(sim, task.deployment.task_definition):
        target_group = elbv2_backends[sim.backend.account_id][sim.backend.region_name] \
            .target_groups.get(arn)
        if target_group is None:
            continue
        port = int(container_port or target_group.port or 80)
        assert task.ip is not None
        target_group.targets[task.ip] = {"Id": task.ip, "Port": port}
        target_group.deregistered_targets.pop(task.ip, None)
        _health_table()[(arn, task.ip)] = (
            "initial", "Elb.RegistrationInProgress", "Target registration is in progress")
        task.targets.append((arn, port))
        registered.append(arn)
    for arn in registered:
        _event(sim, t, f"(service {sim.name}) registered 1 targets in (target-group {arn})")
    if registered or not task.image.healthy:
        settings = _settings(sim, task) if task.targets else None
        verdict = WORLD.timing.health_verdict(settings, healthy=task.image.healthy)
        WORLD.schedule(verdict, lambda due: _health_checked(sim, task, due), at=t)
    else:
        _mark_healthy(task)
    _reconcile(sim, t)


def _mark_healthy(task: SimTask) -> None:
    """The load balancer's verdict passed (or there is none to wait for)."""
    task.balanced = True
    for arn, _ in task.targets:
        assert task.ip is not None
        _health_table()[(arn, task.ip)] = ("healthy", None, None)
    _settle_health(task)


def _settle_health(task: SimTask) -> None:
    """A task is healthy once the load balancer's verdict and its essential containers'
    health checks have all passed. Its ``healthStatus`` is its essential containers' (ECS:
    HEALTHY when all have passed); without container checks, the load balancer's."""
    task.healthy = task.balanced and not task.checks_pending
    if task.checks_decide:
        task.task.health_status = "UNKNOWN" if task.checks_pending else "HEALTHY"
    elif task.balanced:
        task.task.health_status = "HEALTHY" if task.targets else "UNKNOWN"


def _start_health_checks(sim: ServiceSim, task: SimTask, td: Any, t: float) -> None:
    """Schedule each running container's health check verdict (see `_container_checked`)."""
    moto_task: Any = task.task
    containers = {c.name: c for c in moto_task.containers}
    for check in _health_checks(td):
        container = containers.get(check.container)
        if container is None or container.last_status != "RUNNING":
            continue  # stopped already (a non-essential sidecar killed for memory)
        image = task.image if container is moto_task.containers[0] else resolve_image(
            str(container.image or ""))
        if check.essential:
            task.checks_pending.add(check.container)
            task.checks_decide = True
        delay = WORLD.timing.container_verdict(check.interval, check.retries,
                                               check.start_period, healthy=image.healthy)
        WORLD.schedule(delay, functools.partial(_container_checked, sim, task, check,
                                                image.healthy), at=t)
    if task.checks_decide:
        moto_task.health_status = "UNKNOWN"


def _container_checked(sim: ServiceSim, task: SimTask, check: _Check, healthy: bool,
                       t: float) -> None:
    """A container's health check verdict: ``HEALTHY``; or ``UNHEALTHY``, which stops the
    task when the container is essential ("Task failed container health checks", the ECS
    scheduler's words) and changes nothing else when it is not."""
    if task.state != "RUNNING":
        return
    container: Any = next((c for c in task.task.containers if c.name == check.container), None)
    if container is None or container.last_status != "RUNNING":
        return
    if healthy:
        container.health_status = "HEALTHY"
        task.checks_pending.discard(check.container)
        _settle_health(task)
        _reconcile(sim, t)
        return
    container.health_status = "UNHEALTHY"
    _log_line(sim, task, t, f"health check failed {check.retries} times in a row: "
                            f"{check.command}", only=check.container)
    if not check.essential:
        return
    task.task.health_status = "UNHEALTHY"
    _event(sim, t, f"(service {sim.name}) (task {task.short_id}) failed container health "
                   "checks.")
    _task_failed(sim, task, t, reason="Task failed container health checks",
                 stop_code="ServiceSchedulerInitiated", exit_code=0, drain=True)


def _health_checked(sim: ServiceSim, task: SimTask, t: float) -> None:
    if task.state != "RUNNING":
        return
    if task.image.healthy:
        _mark_healthy(task)
        _reconcile(sim, t)
        return
    if task.targets:
        for arn, port in task.targets:
            assert task.ip is not None
            _health_table()[(arn, task.ip)] = (
                "unhealthy", "Target.ResponseCodeMismatch",
                "Health checks failed with these codes: [500]")
            _event(sim, t, f"(service {sim.name}) (port {port}) is unhealthy in (target-group "
                           f"{arn}) due to (reason Health checks failed with these codes: [500]).")
        first = task.targets[0][0]
        _task_failed(sim, task, t,
                     reason=f"Task failed ELB health checks in (target-group {first})",
                     stop_code="ServiceSchedulerInitiated", exit_code=None, drain=True)
    else:
        _task_failed(sim, task, t, reason="Essential container in task exited",
                     stop_code="EssentialContainerExited", exit_code=1, drain=False)


#: What ECS says of a container killed for using more than its memory.
_OOM = "OutOfMemoryError: Container killed due to memory usage"


def _task_failed(sim: ServiceSim, task: SimTask, t: float, *, reason: str, stop_code: str,
                 exit_code: int | None, drain: bool, container: str | None = None,
                 container_reason: str | None = None) -> None:
    """Stop ``task`` as failed. With ``container``, that container alone carries the exit
    code and its reason (``container_reason``, else ``reason``): the one that failed."""
    deployment = task.deployment
    _stop_task(sim, task, t, reason=reason, stop_code=stop_code, exit_code=exit_code, drain=drain,
               container=container, container_reason=container_reason)
    deployment.failed_tasks += 1
    deployment.updated = t
    _event(sim, t, f"(service {sim.name}) has stopped 1 running tasks: {_tasks_text([task])}.")
    _check_circuit_breaker(sim, deployment, t)
    _reconcile(sim, t)


def _stop_task(sim: ServiceSim, task: SimTask, t: float, *, reason: str, stop_code: str,
               exit_code: int | None = 0, drain: bool = True, container: str | None = None,
               container_reason: str | None = None) -> None:
    if not task.alive:
        return
    moto_task: Any = task.task
    was_running = task.state == "RUNNING"
    task.state = "STOPPING"
    task.healthy = False
    moto_task.desired_status = "STOPPED"
    moto_task.status = "DEACTIVATING" if task.targets else "STOPPING"
    moto_task.stopping_at = WORLD.clock.wall(t)
    moto_task.stopped_reason = reason
    moto_task.stop_code = stop_code
    each: Any
    for each in moto_task.containers:
        if each.last_status == "STOPPED":
            continue  # a non-essential sidecar that stopped earlier keeps its own exit
        if container is not None and each.name != container:
            # stopped by ECS after the failing one: a clean stop, no reason of its own
            if getattr(each, "reason", None) is None:
                each.exitCode = 0 if was_running else None
            continue
        each.exitCode = exit_code if was_running else None
        if exit_code or container is not None:
            each.reason = container_reason or reason
    for arn, _ in task.targets:
        assert task.ip is not None
        _health_table()[(arn, task.ip)] = (
            "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
    delay = WORLD.timing.stop(_settings(sim, task), drain=drain and was_running,
                              load_balanced=bool(task.targets))
    WORLD.schedule(delay, lambda due: _task_stopped(sim, task, due), at=t)


def _task_stopped(sim: ServiceSim, task: SimTask, t: float) -> None:
    if task.state == "STOPPED":
        return
    task.state = "STOPPED"
    moto_task: Any = task.task
    moto_task.status = "STOPPED"
    moto_task.stopped_at = WORLD.clock.wall(t)
    moto_task.execution_stopped_at = WORLD.clock.wall(t)
    moto_task.connectivity = None
    for container in moto_task.containers:
        container.last_status = "STOPPED"
    _log_line(sim, task, t, f"stopped: {moto_task.stopped_reason or 'no reason given'}")
    account, region = sim.backend.account_id, sim.backend.region_name
    for arn, _ in task.targets:
        assert task.ip is not None
        _health_table().pop((arn, task.ip), None)
        target_group = elbv2_backends[account][region].target_groups.get(arn)
        if target_group is not None:
            target = target_group.targets.pop(task.ip, None)
            if target is not None:
                target_group.deregistered_targets[task.ip] = target
            _event(sim, t, f"(service {sim.name}) deregistered 1 targets in (target-group {arn})")
    if task.eni_id is not None:
        # The ENI may have gone with its subnet or VPC already.
        with tolerated(f"deleting ENI {task.eni_id} of task {task.short_id}"):
            ec2_backends[account][region].delete_network_interface(task.eni_id)
    if task in _stray_tasks():
        _stray_tasks().remove(task)
    if not sim.deleted:
        _reconcile(sim, t)


# ------------------------------------------------------------------ alarms


def _alarms_in_alarm(sim: ServiceSim) -> list[str]:
    from moto.cloudwatch.models import cloudwatch_backends

    alarms = _deployment_configuration(sim).get("alarms") or {}
    if not alarms.get("enable"):
        return []
    backend = cloudwatch_backends[sim.backend.account_id][sim.backend.region_name]
    names = [str(n) for n in alarms.get("alarmNames") or []]
    return [n for n in names if n in backend.alarms and backend.alarms[n].state_value == "ALARM"]


def _poll_alarms(now: float) -> None:
    for sim in list(_services().values()):
        primary = sim.primary
        if sim.deleted or primary is None or primary.rollout_state != "IN_PROGRESS":
            continue
        firing = _alarms_in_alarm(sim)
        if firing:
            listed = ", ".join(firing)
            _fail_deployment(
                sim, primary, now,
                reason=f"ECS deployment failed: alarm(s) detected: [{listed}].",
                event=f"deployment failed: alarm(s) detected: [{listed}].",
                cause="alarms",
            )
            _reconcile(sim, now)


if _poll_alarms not in WORLD.pollers:
    WORLD.pollers.append(_poll_alarms)
