"""Reads a deployment needs, as plain values: stack outputs, target health, why tasks
stopped, and which image ECS really serves.

Only reads; judging what was read is :mod:`fluoride.releases.verdict`'s job.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import attrs
import botocore.exceptions

from fluoride.aws import Aws, translate
from fluoride.errors import AwsError
from fluoride.infra.stack import StackInfo, StackState
from fluoride.releases.ecs import EcsService
from fluoride.releases.verdict import Phase, TargetHealth

__all__ = [
    "CONNECTION_ERRORS",
    "Served",
    "ServiceOutputs",
    "TargetHealth",
    "gateway_target_group",
    "served",
    "stack_phase",
    "stack_task_definition",
    "stopped_task_reasons",
    "target_health",
    "transient",
]

_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
}
#: A dropped connection or a broken response: the call may be made again.
CONNECTION_ERRORS = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)

_PHASES: dict[StackState, Phase] = {
    StackState.COMPLETE: "complete",
    StackState.IN_PROGRESS: "in progress",
    StackState.ROLLED_BACK: "rolled back",
    StackState.FAILED: "failed",
    StackState.REVIEW: "review",
}


def stack_phase(state: StackState) -> Phase:
    """The stack state as :mod:`~fluoride.releases.verdict` takes it."""
    return _PHASES[state]


def transient(exc: BaseException) -> bool:
    """Throttling that outlasted botocore's retries, or a dropped connection: look again."""
    if isinstance(exc, CONNECTION_ERRORS):
        return True
    if isinstance(exc, AwsError):
        return exc.code in _THROTTLED or isinstance(exc.__cause__, CONNECTION_ERRORS)
    return False


@attrs.frozen
class ServiceOutputs:
    """The stack outputs a deployment needs."""

    cluster: str
    ecs_service: str
    target_group: str | None
    repository: str
    repository_uri: str
    log_bucket: str
    #: the environment whose gateway serves the service (``None``: its own load balancer);
    #: then ``target_group`` is ``None`` and the route's is looked up (`gateway_target_group`)
    gateway: str | None = None

    @classmethod
    def from_info(cls, info: StackInfo) -> ServiceOutputs:
        out = info.outputs
        needed = ("ClusterName", "EcsServiceName", "RepositoryName", "RepositoryUri",
                  "AccessLogBucketName")
        missing = [k for k in needed if not out.get(k)]
        if missing:
            raise AwsError(
                f"The stack {info.name} ({info.status}) lacks the outputs "
                + ", ".join(missing) + ".",
                resource=info.name,
                hint="Was it created by Fluoride, and did its creation complete?",
            )
        return cls(
            cluster=out["ClusterName"],
            ecs_service=out["EcsServiceName"],
            target_group=out.get("TargetGroupArn") or None,
            repository=out["RepositoryName"],
            repository_uri=out["RepositoryUri"],
            log_bucket=out["AccessLogBucketName"],
            gateway=info.parameters.get("Gateway") or None,
        )


def gateway_target_group(aws: Aws, cluster: str, ecs_service: str) -> str | None:
    """The target group of the service's gateway route (``None`` until ECS has made the
    route): ``ListGatewayRoutes``, ``DescribeGatewayRoute``, then the route's listener rule."""
    from fluoride.infra.gateway import rule_target_group, service_route

    route = service_route(aws, cluster, ecs_service)
    if route is None or route.listener_rule is None:
        return None
    return rule_target_group(aws, route.listener_rule)


def target_health(aws: Aws, target_group: str) -> TargetHealth:
    """Count the targets of ``target_group`` by state."""
    with translate("DescribeTargetHealth", target_group):
        raw = aws.client("elbv2").describe_target_health(TargetGroupArn=target_group)
    counts = {"healthy": 0, "unhealthy": 0, "initial": 0, "draining": 0}
    for t in raw.get("TargetHealthDescriptions", []):
        state = t.get("TargetHealth", {}).get("State", "")
        if state in counts:
            counts[state] += 1
    return TargetHealth(**counts)


def stopped_task_reasons(
    aws: Aws,
    cluster: str,
    ecs_service: str,
    *,
    select: Callable[[dict[str, Any]], bool],
    limit: int = 10,
) -> list[str]:
    """Why the stopped tasks of ``ecs_service`` that ``select`` picks stopped, newest first,
    each reason once (ECS keeps stopped tasks for about an hour).
    """
    ecs = aws.client("ecs")
    with translate("ListTasks", ecs_service):
        arns = ecs.list_tasks(
            cluster=cluster, serviceName=ecs_service, desiredStatus="STOPPED", maxResults=100
        )["taskArns"]
    if not arns:
        return []
    with translate("DescribeTasks", ecs_service):
        tasks: list[dict[str, Any]] = list(
            ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]  # type: ignore[arg-type]
        )
    epoch = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    tasks.sort(key=lambda t: t.get("stoppedAt") or t.get("createdAt") or epoch, reverse=True)
    reasons: list[str] = []
    for task in tasks:
        if not select(task):
            continue
        texts = [task.get("stoppedReason") or ""]
        for c in task.get("containers", []):
            detail = c.get("reason") or ""
            code = c.get("exitCode")
            if code not in (None, 0):
                detail = f"exit code {code}" + (f": {detail}" if detail else "")
            if c.get("healthStatus") == "UNHEALTHY":  # ECS gives no reason of its own
                detail = "health check failed (UNHEALTHY)" + (f", {detail}" if detail else "")
            if detail:
                texts.append(f"container {c.get('name', '?')}: {detail}")
        text = _explained("; ".join(t for t in texts if t))
        if text and text not in reasons:
            reasons.append(text)
        if len(reasons) >= limit:
            break
    return reasons


@attrs.frozen
class Served:
    """What ECS serves now: its PRIMARY deployment's task definition and image.

    Attributes:
        task_definition: the task definition ARN.
        image: the image of its container, as the task definition names it.
        since: when ECS created that deployment.
        deployment_id: that deployment's id.
    """

    task_definition: str
    image: str
    since: dt.datetime | None
    deployment_id: str


def served(aws: Aws, ecs: EcsService) -> Served | None:
    """The image ECS serves (``None`` without a PRIMARY deployment, or an image)."""
    primary = ecs.primary
    if primary is None or not primary.task_definition:
        return None
    with translate("DescribeTaskDefinition", primary.task_definition):
        raw = aws.client("ecs").describe_task_definition(taskDefinition=primary.task_definition)
    containers = raw["taskDefinition"].get("containerDefinitions", [])
    # The template's one container is ``app``; a tool that renamed it still has one first.
    app = next((c for c in containers if c.get("name") == "app"), None) or (
        containers[0] if containers else None)
    if app is None or not app.get("image"):
        return None
    return Served(primary.task_definition, app["image"], primary.created, primary.id)


def stack_task_definition(aws: Aws, stack: str) -> str:
    """The task definition the stack made (its ``TaskDefinition`` resource)."""
    with translate("DescribeStackResource", stack):
        raw = aws.client("cloudformation").describe_stack_resource(
            StackName=stack, LogicalResourceId="TaskDefinition"
        )
    return raw["StackResourceDetail"]["PhysicalResourceId"]


_MISSING_KEY = re.compile(r"did not contain json key (\S+)")


def _explained(reason: str) -> str:
    """ECS's stopped reason, with what it means for a Fluoride service when it is terse.

    A key named in ``secret_env`` that the secret lacks stops the task before its container
    starts; ECS says only "did not contain json key <key>". A failed container health check
    names no container, nor what to change.
    """
    missing = _MISSING_KEY.search(reason)
    if missing:
        key = missing.group(1)
        return (f"{reason} (ECS reports that the service's secret has no key {key!r}, which "
                f"secret_env names: add it, e.g. svc.secret.put_json({{..., {key!r}: ...}}), "
                "or remove it from secret_env)")
    if reason.startswith("Task failed container health checks"):
        return (f"{reason} (an essential container's health check failed: for a sidecar, "
                "its health_command; if it needs longer to start, raise health.grace_period, "
                "which delays counting failures by up to 300 s)")
    if "unable to retrieve secret from asm" in reason:
        return (f"{reason} (ECS could not read the service's secret for secret_env: is it "
                "deleted, or not JSON?)")
    return reason
