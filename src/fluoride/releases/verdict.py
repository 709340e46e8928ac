"""The deploy verdict: which ECS deployment is ours, and what it has come to.

Pure functions over plain values; nothing here reads AWS. The orchestration
(:mod:`fluoride.releases.deployment`) reads the stack, the ECS service and the target
health, hands them to :func:`pick` and :func:`judge`, and acts on the :class:`Verdict`.

The central promise: **a service that is stable only because ECS rolled back is never
success.** After the ECS circuit breaker (or CloudFormation) rolls a deployment back, the
service is steady, healthy, and on a PRIMARY deployment that is COMPLETED: everything a
"services stable" check asks for. So the deployment is followed *by id*:

* :func:`pick` takes the deployment that appears after the update on a new task
  definition; never one that existed before (the old PRIMARY), and never ECS's rollback
  deployment (new, but on the task definition that served before).
* :func:`judge` calls it stable only when *that* deployment (or a later deployment of the
  same task definition, such as a forced new deployment) is PRIMARY, COMPLETED, with its
  desired count running and as many targets healthy, and the stack update has finished.

Why no botocore waiter here: a waiter model (even a custom one made with
``botocore.waiter.create_waiter_with_client``) matches JMESPath over *one* API's answer.
This verdict needs three answers at once (the stack's state, the ECS deployments, the
target health), a deployment chosen by id after the update began, and a memory between
looks (the id, once found, and whether it has since vanished). ECS's own
``services_stable`` waiter is exactly the false success above: one deployment, running
equal to desired, whichever deployment that is.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

__all__ = [
    "COMPLETED",
    "FAILED",
    "IN_PROGRESS",
    "Before",
    "EcsDeployment",
    "Kind",
    "Look",
    "Phase",
    "TargetHealth",
    "Verdict",
    "judge",
    "pick",
    "rollout_state",
]

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
PRIMARY = "PRIMARY"

#: The stack's state, as :class:`fluoride.infra.stack.StackState` values name it.
Phase = Literal["complete", "in progress", "rolled back", "failed", "review"]


@attrs.frozen
class EcsDeployment:
    """One ECS deployment of a service.

    Attributes:
        id: ECS's deployment id (``ecs-svc/...``).
        status: ``PRIMARY`` (the newest), ``ACTIVE`` (still running tasks) or ``INACTIVE``.
        task_definition: the task definition ARN it runs.
        rollout_state: ``IN_PROGRESS``, ``COMPLETED`` or ``FAILED``; ``None`` where ECS
            leaves it out (services without the rolling-update circuit breaker fields).
        rollout_reason: ECS's words on the rollout state.
        desired, running, pending, failed: task counts.
        created: when ECS created it.
    """

    id: str
    status: str
    task_definition: str
    rollout_state: str | None
    rollout_reason: str | None
    desired: int
    running: int
    pending: int
    failed: int
    created: dt.datetime | None

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> EcsDeployment:
        return cls(
            id=raw["id"],
            status=raw.get("status", ""),
            task_definition=raw.get("taskDefinition", ""),
            rollout_state=raw.get("rolloutState"),
            rollout_reason=raw.get("rolloutStateReason"),
            desired=raw.get("desiredCount", 0),
            running=raw.get("runningCount", 0),
            pending=raw.get("pendingCount", 0),
            failed=raw.get("failedTasks", 0),
            created=raw.get("createdAt"),
        )


@attrs.frozen
class TargetHealth:
    """How many load balancer targets are healthy, unhealthy, starting or draining."""

    healthy: int = 0
    unhealthy: int = 0
    initial: int = 0
    draining: int = 0


@attrs.frozen
class Before:
    """The ECS service just before an update: what the new deployment must differ from.

    Attributes:
        task_definition: the task definition that served (the PRIMARY deployment's).
        deployment_ids: every deployment id ECS listed.
    """

    task_definition: str | None = None
    deployment_ids: frozenset[str] = frozenset()


class Kind(enum.Enum):
    """What a look concludes."""

    WAIT = "keep waiting"  #: not decided yet: look again
    STABLE = "stable"  #: our deployment serves: completed, running, healthy
    ROLLED_BACK = "rolled back"  #: ECS or CloudFormation undid it; the previous one serves
    FAILED = "failed"  #: it cannot become the serving release (and nothing rolled it back)
    ROLLBACK_FAILED = "rollback failed"  #: CloudFormation could not undo the update


@attrs.frozen
class Verdict:
    """A look's conclusion, with the reason in words and the deployment it is about."""

    kind: Kind
    reason: str
    deployment: EcsDeployment | None = None

    @property
    def done(self) -> bool:
        return self.kind is not Kind.WAIT


@attrs.frozen
class Look:
    """One look at a deployment, as plain values.

    Attributes:
        stack: the stack's state.
        deployments: the ECS service's deployments, as ECS lists them.
        deployment_id: the deployment we follow (:func:`pick`'s answer); ``None`` while
            none has appeared.
        task_definition: the task definition that deployment runs.
        health: the target group's health; ``None`` without a load balancer.
        by_ecs_alone: the deployment was not started by a stack update (a forced new
            deployment, ``wait_stable`` on a settled service): the stack's rolled-back
            state from some earlier update says nothing about it.
    """

    stack: Phase
    deployments: Sequence[EcsDeployment]
    deployment_id: str | None
    task_definition: str | None = None
    health: TargetHealth | None = None
    by_ecs_alone: bool = False


def rollout_state(deployment: EcsDeployment, deployments: Sequence[EcsDeployment]) -> str:
    """ECS's ``rolloutState``; where ECS leaves it out, what the counts say.

    Without a rollout state a deployment is COMPLETED once it is the only one, PRIMARY,
    with its desired count running and none pending; until then IN_PROGRESS. (Such a
    deployment is never seen FAILED: a rollback shows as a newer PRIMARY deployment.)
    """
    if deployment.rollout_state is not None:
        return deployment.rollout_state
    alone = len(deployments) == 1
    if (
        alone
        and deployment.status == PRIMARY
        and deployment.running >= deployment.desired
        and deployment.pending == 0
    ):
        return COMPLETED
    return IN_PROGRESS


def pick(deployments: Sequence[EcsDeployment], before: Before) -> EcsDeployment | None:
    """The deployment an update started: not listed before it, on another task definition.

    ECS's rollback deployment is new too, but runs the task definition that served
    before, so it is never picked; nor is the old PRIMARY. When several qualify (ours,
    and someone's later one), the oldest is ours. ``None`` while none has appeared.
    """
    fresh = [
        (i, d) for i, d in enumerate(deployments)
        if d.id not in before.deployment_ids and d.task_definition != before.task_definition
    ]
    if not fresh:
        return None
    latest = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    # ECS lists the newest first: without creation times, the last listed is the oldest.
    _, found = min(fresh, key=lambda p: (p[1].created or latest, -p[0]))
    return found


def judge(look: Look) -> Verdict:
    """What one look says about the deployment we follow; see the module docstring."""
    deployments = look.deployments
    primary = next((d for d in deployments if d.status == PRIMARY), None)
    ours = next((d for d in deployments if d.id == look.deployment_id), None)
    if look.stack == "failed":
        return Verdict(Kind.ROLLBACK_FAILED, "CloudFormation could not roll the update back",
                       ours)
    if look.stack in ("in progress", "review"):
        return Verdict(Kind.WAIT, "the stack update is still running", ours)
    primary_done = primary is None or rollout_state(primary, deployments) == COMPLETED
    if look.stack == "rolled back" and not look.by_ecs_alone:
        if not primary_done:
            return Verdict(Kind.WAIT, "the previous release is rolling out again", ours)
        return Verdict(Kind.ROLLED_BACK, "CloudFormation rolled the update back", ours)
    if look.deployment_id is None:
        return Verdict(Kind.FAILED, "the update finished, but ECS started no new deployment")
    # What carries our task definition now: our deployment while it is PRIMARY, or a later
    # deployment of the same task definition (a forced new deployment replaced ours).
    carrier = ours if ours is not None and ours.status == PRIMARY else None
    if carrier is None and primary is not None and primary.task_definition == look.task_definition:
        carrier = primary
    if carrier is None:
        if ours is None:
            why = f"the deployment {look.deployment_id} vanished"
        elif ours.rollout_state == FAILED:
            why = f"the deployment {ours.id} failed" + (
                f" ({ours.rollout_reason})" if ours.rollout_reason else "")
        else:
            why = f"the deployment {ours.id} was replaced"
        if primary is not None:
            why += f"; ECS runs {primary.task_definition} ({primary.id})"
        if not primary_done:
            return Verdict(Kind.WAIT, why + " and is still rolling it out", ours)
        return Verdict(Kind.ROLLED_BACK, why, ours)
    state = rollout_state(carrier, deployments)
    if state == FAILED:
        return Verdict(
            Kind.FAILED,
            f"the deployment {carrier.id} failed and nothing rolled it back"
            + (f" ({carrier.rollout_reason})" if carrier.rollout_reason else ""),
            carrier,
        )
    counts = f"{carrier.running} of {carrier.desired} running"
    if state != COMPLETED:
        return Verdict(Kind.WAIT, f"the deployment {carrier.id} is {state} ({counts})", carrier)
    if carrier.running < carrier.desired:
        return Verdict(Kind.WAIT, f"the deployment {carrier.id} is COMPLETED with {counts}",
                       carrier)
    if look.health is not None and look.health.healthy < carrier.desired:
        return Verdict(
            Kind.WAIT,
            f"{look.health.healthy} of {carrier.desired} targets healthy", carrier,
        )
    return Verdict(Kind.STABLE, f"the deployment {carrier.id} is COMPLETED ({counts})",
                   carrier)
