"""ECS: read a service's tasks, deployments and events as attrs values.

The deployment value itself lives in :mod:`fluoride.releases.verdict` (which judges it
without I/O); it is re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs

from fluoride.aws import Aws, translate
from fluoride.releases.verdict import EcsDeployment

__all__ = ["EcsDeployment", "EcsEvent", "EcsService", "describe_service"]


@attrs.frozen
class EcsEvent:
    """One service event message."""

    id: str
    message: str
    created: dt.datetime


@attrs.frozen
class EcsService:
    """The ECS service as it is now."""

    cluster: str
    name: str
    arn: str
    status: str
    task_definition: str
    desired: int
    running: int
    pending: int
    deployments: Sequence[EcsDeployment]
    events: Sequence[EcsEvent]

    @property
    def primary(self) -> EcsDeployment | None:
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)


def describe_service(aws: Aws, cluster: str, service: str) -> EcsService | None:
    """The ECS service, or ``None`` when it does not exist (or is INACTIVE)."""
    with translate("DescribeServices", service):
        raw = aws.client("ecs").describe_services(cluster=cluster, services=[service])
    found = [s for s in raw.get("services", []) if s.get("status") != "INACTIVE"]
    if not found:
        return None
    s = found[0]
    return EcsService(
        cluster=cluster,
        name=s["serviceName"],
        arn=s["serviceArn"],
        status=s.get("status", ""),
        task_definition=s.get("taskDefinition", ""),
        desired=s.get("desiredCount", 0),
        running=s.get("runningCount", 0),
        pending=s.get("pendingCount", 0),
        deployments=[EcsDeployment.from_api(d) for d in s.get("deployments", [])],
        events=[
            EcsEvent(id=e.get("id", ""), message=e.get("message", ""), created=e["createdAt"])
            for e in s.get("events", [])
        ],
    )
