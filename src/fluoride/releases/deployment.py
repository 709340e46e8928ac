"""Deployments: change the stack's image, follow the ECS deployment it starts, judge it.

A deployment succeeds only when *its own* ECS deployment (found by id: the one that
appears after the update, on a new task definition) reaches ``COMPLETED`` with the desired
count running and its targets healthy, and the stack update completes. "The service is
stable" is never enough: after a rollback the old tasks are stable too. A rollback (by
the ECS circuit breaker or by CloudFormation) raises :class:`RolledBack`; the deadline
cancels the stack update, waits for the previous release to serve again and raises
:class:`DeploymentTimeout`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Literal
from urllib.parse import urlparse

import attrs
import botocore.exceptions

from fluoride.aws import Aws, translate
from fluoride.errors import (
    AwsError,
    DeploymentFailed,
    DeploymentInProgress,
    DeploymentTimeout,
    FluorideError,
    ImageNotFound,
    RollbackFailed,
    RolledBack,
    ServiceNotFound,
)
from fluoride.events import DeploymentProgress, Note, PlanReady, Reporter, ServiceEventSeen
from fluoride.infra.stack import Stack, StackInfo, StackState
from fluoride.names import DEFAULT_TIMEOUT
from fluoride.releases.ecs import EcsDeployment, EcsService, describe_service
from fluoride.releases.history import Outcome, Release, ReleaseHistory, new_id
from fluoride.releases.registry import Registry, ResolvedImage
from fluoride.waiting import Clock, Deadline, poll

__all__ = [
    "AWS_POLL_INTERVAL",
    "LOCAL_POLL_INTERVAL",
    "Deployments",
    "ServiceOutputs",
    "TargetHealth",
    "default_poll_interval",
    "stopped_task_reasons",
    "target_health",
]

#: Seconds between looks on AWS: three calls per look stay far below every API's limits.
AWS_POLL_INTERVAL = 3.0
#: Seconds between looks on a loopback endpoint (the emulator: rollouts take ~1 s).
LOCAL_POLL_INTERVAL = 0.1

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
_CONNECTION = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)


def default_poll_interval(aws: Aws) -> float:
    """:data:`LOCAL_POLL_INTERVAL` on a loopback endpoint (the emulator), else
    :data:`AWS_POLL_INTERVAL`."""
    host = urlparse(aws.endpoint_url or "").hostname
    return LOCAL_POLL_INTERVAL if host in ("127.0.0.1", "localhost", "::1") else AWS_POLL_INTERVAL


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _transient(exc: BaseException) -> bool:
    """Throttling that outlasted botocore's retries, or a dropped connection: look again."""
    if isinstance(exc, _CONNECTION):
        return True
    if isinstance(exc, AwsError):
        return exc.code in _THROTTLED or isinstance(exc.__cause__, _CONNECTION)
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
        )


@attrs.frozen
class TargetHealth:
    """How many load balancer targets are healthy, unhealthy, starting or draining."""

    healthy: int = 0
    unhealthy: int = 0
    initial: int = 0
    draining: int = 0


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
            if detail:
                texts.append(f"container {c.get('name', '?')}: {detail}")
        text = "; ".join(t for t in texts if t)
        if text and text not in reasons:
            reasons.append(text)
        if len(reasons) >= limit:
            break
    return reasons


@attrs.frozen
class _Before:
    """The ECS service just before an update: what the new deployment must differ from."""

    task_definition: str | None
    deployment_ids: frozenset[str]
    event_ids: frozenset[str]

    @classmethod
    def of(cls, ecs: EcsService | None) -> _Before:
        if ecs is None:
            return cls(None, frozenset(), frozenset())
        primary = ecs.primary
        return cls(
            primary.task_definition if primary else ecs.task_definition,
            frozenset(d.id for d in ecs.deployments),
            frozenset(e.id for e in ecs.events),
        )


@attrs.frozen
class _Verdict:
    kind: Literal["stable", "rolled_back", "rollback_failed", "no_deployment"]
    info: StackInfo
    deployment: EcsDeployment | None


@attrs.define
class _Follower:
    """One deployment being followed: its id once found, events seen, last progress."""

    owner: Deployments
    where: ServiceOutputs
    before: _Before
    deployment_id: str | None = None
    #: the deployment we follow was found once and has since disappeared
    gone: bool = False
    #: ``steady``: judge a settled service (``wait_stable`` with nothing running)
    steady: bool = False
    task_definition: str | None = None
    events: list[str] = attrs.field(factory=list)
    _seen: set[str] = attrs.field(factory=set)
    _last: DeploymentProgress | None = None

    def __attrs_post_init__(self) -> None:
        self._seen = set(self.before.event_ids)

    def check(self) -> _Verdict | None:
        try:
            return self._check()
        except (AwsError, *_CONNECTION) as exc:
            if not _transient(exc):
                raise
            text = exc.message if isinstance(exc, FluorideError) else str(exc)
            self.owner.reporter(Note(f"{self.owner.service}: {text} (looking again shortly)"))
            return None

    def _check(self) -> _Verdict | None:
        owner = self.owner
        info = owner.stack.describe()
        if info is None:
            raise DeploymentFailed(
                f"The stack of {owner.service} was deleted during the deployment."
            )
        ecs = describe_service(owner.aws, self.where.cluster, self.where.ecs_service)
        if ecs is None:
            raise DeploymentFailed(
                f"The ECS service of {owner.service} disappeared during the deployment."
            )
        self._report_events(ecs)
        dep = self._find(ecs)
        health = None
        if dep is not None and dep.running > 0 and self.where.target_group:
            health = target_health(owner.aws, self.where.target_group)
        self._report_progress(dep, health)

        state = info.state
        if state is StackState.FAILED:
            return _Verdict("rollback_failed", info, dep)
        primary_done = ecs.primary is None or ecs.primary.rollout_state == "COMPLETED"
        if state is StackState.ROLLED_BACK and not self.steady:
            # CloudFormation undid the update; done once the previous release serves.
            return _Verdict("rolled_back", info, dep) if primary_done else None
        if state in (StackState.IN_PROGRESS, StackState.REVIEW):
            return None
        # The stack is settled (complete, or rolled back in steady mode).
        if dep is None:
            if self.gone:
                return _Verdict("rolled_back", info, None) if primary_done else None
            return _Verdict("no_deployment", info, None)
        if dep.rollout_state == "FAILED" or dep.status == "INACTIVE":
            return _Verdict("rolled_back", info, dep) if primary_done else None
        healthy = health is None or health.healthy >= dep.desired
        if (
            dep.status == "PRIMARY"
            and dep.rollout_state == "COMPLETED"
            and dep.running >= dep.desired
            and healthy
        ):
            return _Verdict("stable", info, dep)
        return None

    def _find(self, ecs: EcsService) -> EcsDeployment | None:
        if self.deployment_id is not None:
            found = next((d for d in ecs.deployments if d.id == self.deployment_id), None)
            if found is None:
                self.gone = True
            return found
        # The new deployment: not there before the update and on another task definition.
        # ECS's own rollback deployment is new too, but runs the old task definition.
        fresh = [
            d for d in ecs.deployments
            if d.id not in self.before.deployment_ids
            and d.task_definition != self.before.task_definition
        ]
        if not fresh:
            return None
        found = next((d for d in fresh if d.status == "PRIMARY"), fresh[0])
        self.deployment_id = found.id
        self.task_definition = found.task_definition
        return found

    def _report_events(self, ecs: EcsService) -> None:
        for event in reversed(ecs.events):
            if event.id in self._seen:
                continue
            self._seen.add(event.id)
            self.events.append(event.message)
            self.owner.reporter(ServiceEventSeen(self.owner.service, event.message,
                                                 event.created))

    def _report_progress(self, dep: EcsDeployment | None, health: TargetHealth | None) -> None:
        if dep is None:
            return
        progress = DeploymentProgress(
            service=self.owner.service,
            rollout_state=dep.rollout_state,
            desired=dep.desired,
            running=dep.running,
            pending=dep.pending,
            failed=dep.failed,
            healthy_targets=health.healthy if health else None,
            unhealthy_targets=health.unhealthy if health else None,
        )
        if progress != self._last:
            self._last = progress
            self.owner.reporter(progress)


@attrs.define
class Deployments:
    """The releases of one service: deploy, follow, roll back, and their history.

    :class:`~fluoride.service.Service` delegates its release verbs here.

    Attributes:
        aws: the AWS seam.
        stack: the service's stack.
        service: the service name.
        reporter: where progress goes.
        clock: where waiting sleeps (tests inject a fake one).
        poll_interval: seconds between looks while waiting.
        rollback_timeout: how long a cancelled update may take to roll back.
    """

    aws: Aws = attrs.field(repr=False)
    stack: Stack = attrs.field(repr=False)
    service: str
    reporter: Reporter = attrs.field(repr=False)
    clock: Clock = attrs.field(repr=False)
    poll_interval: float = AWS_POLL_INTERVAL
    rollback_timeout: float = DEFAULT_TIMEOUT
    _stores: dict[str, ReleaseHistory] = attrs.field(factory=dict, init=False, repr=False)

    # -- the pieces --------------------------------------------------------------------------

    def registry(self, where: ServiceOutputs) -> Registry:
        return Registry(self.aws, where.repository, where.repository_uri)

    def store(self, where: ServiceOutputs) -> ReleaseHistory:
        """The history store; one per bucket, so a write reuses the ETag of the last one."""
        found = self._stores.get(where.log_bucket)
        if found is None:
            found = self._stores[where.log_bucket] = ReleaseHistory(self.aws, where.log_bucket)
        return found

    def history(self) -> list[Release]:
        """Every release of the service, newest first."""
        where = ServiceOutputs.from_info(self.stack.require())
        return self.store(where).load()

    def serving(self, info: StackInfo, releases: Sequence[Release]) -> Release | None:
        """The release serving now: while an update runs, the last stable one; otherwise
        the one whose image the stack runs (made up from the stack when the history does
        not know it). ``None`` before the first image.
        """
        if info.state is StackState.IN_PROGRESS:
            return next((r for r in releases if r.outcome is Outcome.STABLE), None)
        image = info.parameters.get("Image") or None
        if image is None:
            return None
        accept = (Outcome.STABLE, Outcome.IN_PROGRESS)
        found = next((r for r in releases if r.image == image and r.outcome in accept), None)
        if found is not None:
            return attrs.evolve(found, outcome=Outcome.STABLE)
        digest = image.split("@", 1)[1] if "@" in image else None
        return Release(
            id="", image=image, digest=digest, tags=(),
            deployed_at=info.updated or info.created or _now(), deployed_by=None,
            outcome=Outcome.STABLE,
        )

    def progress(
        self, info: StackInfo, ecs: EcsService | None = None
    ) -> DeploymentProgress | None:
        """The running ECS deployment's progress, or ``None`` when none is running.

        ``ecs`` is the service as already read (saves a DescribeServices call).
        """
        if ecs is None:
            where = ServiceOutputs.from_info(info)
            ecs = describe_service(self.aws, where.cluster, where.ecs_service)
        primary = ecs.primary if ecs else None
        if primary is None or primary.rollout_state != "IN_PROGRESS":
            return None
        return DeploymentProgress(
            service=self.service, rollout_state=primary.rollout_state,
            desired=primary.desired, running=primary.running, pending=primary.pending,
            failed=primary.failed,
        )

    # -- deploy ------------------------------------------------------------------------------

    def deploy(
        self,
        image: str | ResolvedImage | None = None,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        rollback: bool = False,
    ) -> Release:
        """Resolve ``image``, change only the stack's ``Image`` parameter, and (with
        ``wait``) follow the deployment to its outcome. See :meth:`Service.deploy`.
        """
        info = self.stack.require()
        where = ServiceOutputs.from_info(info)
        store = self.store(where)
        ecs = describe_service(self.aws, where.cluster, where.ecs_service)
        self._refuse_if_busy(info, ecs, store)
        target = image if isinstance(image, ResolvedImage) else self.registry(where).resolve(image)
        if target.reference == info.parameters.get("Image"):
            current = self.serving(info, store.load())
            self.reporter(Note(f"{self.service} already runs {target.reference}."))
            if current is not None:
                return current
        release = Release(
            id=new_id(), image=target.reference, digest=target.digest, tags=target.tags,
            deployed_at=_now(), deployed_by=self.aws.caller_arn(), outcome=Outcome.IN_PROGRESS,
            rollback=rollback,
        )
        try:
            planned = self.stack.plan(
                kind="UPDATE",
                parameters={"Image": target.reference},
                template_body=None,
                keep_previous=[k for k in info.parameters if k != "Image"],
                reporter=self.reporter,
            )
        except DeploymentInProgress as exc:  # CloudFormation is the lock: someone holds it
            raise self._busy(self.stack.describe() or info, store, refused=True) from exc
        if planned is None:  # pragma: no cover - the image differs, so there is a change
            raise DeploymentFailed(f"CloudFormation planned no change for {release.image}.")
        change_set, changes = planned
        self.reporter(PlanReady(stack=self.stack.name, changes=changes))
        before = _Before.of(ecs)
        written = store.change(lambda rs: [release, *rs])
        try:
            self.stack.execute(change_set)
        except (DeploymentInProgress, ServiceNotFound) as exc:
            # Another client executed first (or deleted the stack): this attempt never
            # started; drop its entry.
            with contextlib.suppress(FluorideError):
                store.remove(release.id)
            if isinstance(exc, ServiceNotFound):
                raise
            self.stack.discard(change_set)
            raise self._busy(self.stack.describe() or info, store, refused=True) from exc
        except FluorideError as exc:
            store.update(release.id, outcome=Outcome.FAILED, reason=exc.message,
                         finished_at=_now())
            raise
        # This attempt holds the stack now, so no other entry can still be starting: judge
        # the ones nobody followed to the end (settling earlier could judge a racer's).
        if any(r.id != release.id and r.outcome is Outcome.IN_PROGRESS for r in written):
            store.change(lambda rs: [r for r in rs if r.id == release.id]
                         + _settle([r for r in rs if r.id != release.id], info))
        verb = "Rolling back" if rollback else "Deploying"
        self.reporter(Note(f"{verb} {self.service} to {release.short}."))
        if not wait:
            return release
        return self._follow(release, _Follower(self, where, before), timeout)

    def _refuse_if_busy(
        self, info: StackInfo, ecs: EcsService | None, store: ReleaseHistory
    ) -> None:
        if info.state is StackState.FAILED:
            raise RollbackFailed(
                f"The stack of {self.service} is {info.status}; it cannot be updated.",
                hint=_recover_hint(self.stack.name, info.status),
            )
        rolling = ecs is not None and ecs.primary is not None and (
            ecs.primary.rollout_state == "IN_PROGRESS"
        )
        if info.state is StackState.IN_PROGRESS or rolling:
            raise self._busy(info, store)

    def _busy(
        self, info: StackInfo, store: ReleaseHistory, *, refused: bool = False
    ) -> DeploymentInProgress:
        try:
            releases = store.load()
        except AwsError:  # the history is a courtesy here; the refusal is what matters
            releases = []
        running = next((r for r in releases if r.outcome is Outcome.IN_PROGRESS), None)
        if running is None and refused and releases and info.state is not StackState.IN_PROGRESS:
            running = releases[0]  # CloudFormation refused us: the winner, finished already
        by: str | None
        at: dt.datetime | None
        if running is not None:
            by, at = running.deployed_by, running.deployed_at
            what = f"{running.short}, started by {by} at {at:%Y-%m-%d %H:%M:%S} UTC"
        else:
            by, at = None, info.updated or info.created
            when = f" at {at:%Y-%m-%d %H:%M:%S} UTC" if at else ""
            what = f"{info.status}, started outside Fluoride{when}"
        return DeploymentInProgress(
            f"A deployment of {self.service} is already running ({what}).",
            started_by=by,
            started_at=at,
            hint=f"Wait for it (`svc.wait_stable()`, `fluoride status {self.service}`) or "
            f"cancel it (`svc.rollback()`, `fluoride rollback {self.service}`).",
        )

    # -- following ---------------------------------------------------------------------------

    def wait_stable(self, *, timeout: float = DEFAULT_TIMEOUT) -> Release:
        """Follow the running deployment (or judge the last one) to its outcome."""
        info = self.stack.require()
        where = ServiceOutputs.from_info(info)
        store = self.store(where)
        releases = store.load()
        ecs = describe_service(self.aws, where.cluster, where.ecs_service)
        pending = releases[0] if releases and releases[0].outcome is Outcome.IN_PROGRESS else None
        primary = ecs.primary if ecs else None
        before = _Before.of(ecs)
        if primary is not None and primary.rollout_state == "IN_PROGRESS":
            # With the stack settled, ECS runs a deployment CloudFormation did not start
            # (e.g. a forced new deployment): judge it by ECS alone.
            follower = _Follower(self, where, before, deployment_id=primary.id,
                                 task_definition=primary.task_definition,
                                 steady=info.state is not StackState.IN_PROGRESS)
            return self._follow(pending if not follower.steady else None, follower, timeout)
        if info.state is StackState.IN_PROGRESS:
            # CloudFormation has not reached the ECS service yet: follow the next deployment.
            return self._follow(pending, _Follower(self, where, before), timeout)
        if pending is not None:
            if info.parameters.get("Image") != pending.image:
                after = _Verdict("rolled_back", info, None)
                return self._conclude(pending, after, _Follower(self, where, before))
            store.update(pending.id, outcome=Outcome.STABLE, finished_at=_now())
        # Nothing running: make sure what serves is steady (running, healthy) and say what.
        follower = _Follower(self, where, before, steady=True,
                             deployment_id=primary.id if primary else None)
        verdict = poll(follower.check, deadline=Deadline.after(self.clock, timeout),
                       interval=self.poll_interval)
        if verdict is None or verdict.kind != "stable":
            state = "no ECS deployment" if verdict is None else verdict.kind.replace("_", " ")
            raise DeploymentFailed(
                f"{self.service} is not steady ({state}) after {timeout:.0f} s.",
                events=follower.events,
                hint=f"See `fluoride status {self.service}` and `fluoride logs {self.service}`.",
            )
        found = self.serving(verdict.info, store.load())
        if found is None:
            raise ImageNotFound(f"{self.service} runs no image yet.", resource=self.service,
                                hint=f"Deploy one: `fluoride deploy {self.service} IMAGE`.")
        return found

    def _follow(self, release: Release | None, follower: _Follower, timeout: float) -> Release:
        deadline = Deadline.after(self.clock, timeout)
        verdict = poll(follower.check, deadline=deadline, interval=self.poll_interval)
        if verdict is None:
            return self._on_deadline(release, follower, timeout)
        return self._conclude(release, verdict, follower)

    def _conclude(self, release: Release | None, verdict: _Verdict, follower: _Follower) -> Release:
        where = follower.where
        store = self.store(where)
        name = release.short if release else "the running deployment"
        if verdict.kind == "stable":
            if release is None:
                found = self.serving(verdict.info, store.load())
                assert found is not None  # a completed deployment runs an image
                return found
            done = store.update(release.id, outcome=Outcome.STABLE, finished_at=_now())
            self.reporter(Note(f"{self.service} serves {name}."))
            return done or attrs.evolve(release, outcome=Outcome.STABLE)
        if verdict.kind == "no_deployment":
            self._record(store, release, Outcome.FAILED, "the update started no ECS deployment")
            raise DeploymentFailed(
                f"The stack update for {name} finished, but ECS started no new deployment of "
                f"{self.service}, so it cannot be judged.",
                events=follower.events,
                hint=f"Check `fluoride status {self.service}`.",
            )
        reasons = self._reasons(follower, release)
        first = reasons[0] if reasons else None
        if verdict.kind == "rollback_failed":
            self._record(store, release, Outcome.FAILED, first or verdict.info.reason)
            raise RollbackFailed(
                f"The deployment of {name} to {self.service} failed and CloudFormation could "
                f"not undo it: the stack is {verdict.info.status}"
                + (f" ({verdict.info.reason})." if verdict.info.reason else "."),
                reasons=reasons, events=follower.events,
                hint=_recover_hint(self.stack.name, verdict.info.status),
            )
        releases = self._record(store, release, Outcome.ROLLED_BACK, first)
        serving = self.serving(self.stack.require(), releases)
        now_serving = f" {serving.short} serves again." if serving else ""
        raise RolledBack(
            f"The deployment of {name} to {self.service} was rolled back"
            + (f": {first}." if first else ".") + now_serving,
            reasons=reasons, events=follower.events, serving=serving,
            hint=f"Fix the image and deploy again; the container logs: "
            f"`fluoride logs {self.service} --since 15m`.",
        )

    def _record(
        self, store: ReleaseHistory, release: Release | None, outcome: Outcome,
        reason: str | None,
    ) -> list[Release]:
        if release is None:
            return store.load()
        rid = release.id

        def edit(releases: list[Release]) -> list[Release]:
            return [
                attrs.evolve(r, outcome=outcome, reason=reason, finished_at=_now())
                if r.id == rid else r
                for r in releases
            ]

        return store.change(edit)

    def _reasons(self, follower: _Follower, release: Release | None) -> list[str]:
        where = follower.where
        dep_id, task_def = follower.deployment_id, follower.task_definition
        since = release.deployed_at if release else None
        old = follower.before.task_definition

        def select(task: dict[str, Any]) -> bool:
            if dep_id is not None or task_def is not None:
                return bool(task.get("startedBy") == dep_id
                            or task.get("taskDefinitionArn") == task_def)
            # The deployment vanished before we saw it: tasks of anything but the old one.
            created = task.get("createdAt")
            recent = since is None or created is None or created >= since
            return bool(recent and task.get("taskDefinitionArn") != old)

        try:
            reasons = stopped_task_reasons(self.aws, where.cluster, where.ecs_service,
                                           select=select)
        except AwsError:  # the outcome stands without its explanation
            reasons = []
        if not reasons:
            _, reason = self.stack.first_failure()
            if reason:
                reasons.append(reason)
        return reasons

    # -- the deadline ------------------------------------------------------------------------

    def _on_deadline(self, release: Release | None, follower: _Follower, timeout: float) -> Release:
        name = release.short if release else "the running deployment"
        if follower.steady:  # not a stack update: there is nothing to cancel
            raise DeploymentFailed(
                f"{self.service}: {name} did not become steady within {timeout:.0f} s.",
                reasons=self._reasons(follower, release), events=follower.events,
                hint=f"See `fluoride status {self.service}` and `fluoride logs {self.service}`.",
            )
        self.reporter(Note(
            f"{self.service}: {name} did not finish within {timeout:.0f} s; cancelling the "
            "update so the previous release serves again."
        ))
        try:
            self.stack.cancel_update()
        except AwsError as exc:
            info = self.stack.describe()
            status = info.status if info else "DELETED"
            if not status.startswith("UPDATE_ROLLBACK"):
                if info is not None and info.state is StackState.COMPLETE:
                    # The update ended just now: judge it rather than cancel it.
                    verdict = follower.check()
                    if verdict is not None:
                        return self._conclude(release, verdict, follower)
                self._record(self.store(follower.where), release, Outcome.FAILED,
                             f"timed out; cancelling failed: {exc.message}")
                raise RollbackFailed(
                    f"{name} did not finish within {timeout:.0f} s, and cancelling the stack "
                    f"update failed ({status}): {exc.message}",
                    events=follower.events,
                    hint=_recover_hint(self.stack.name, status),
                ) from exc
        verdict = poll(
            follower.check,
            deadline=Deadline.after(self.clock, self.rollback_timeout),
            interval=self.poll_interval,
        )
        if verdict is None:
            self._record(self.store(follower.where), release, Outcome.TIMED_OUT,
                         "timed out; still rolling back")
            raise DeploymentFailed(
                f"{name} timed out and was cancelled, but the rollback has not finished "
                f"within {self.rollback_timeout:.0f} s.",
                events=follower.events,
                hint=f"Follow it with `fluoride status {self.service}`.",
            )
        if verdict.kind != "rolled_back":
            # The update completed (or failed to roll back) before the cancel took hold.
            return self._conclude(release, verdict, follower)
        reasons = self._reasons(follower, release)
        releases = self._record(self.store(follower.where), release, Outcome.TIMED_OUT,
                                f"not stable within {timeout:.0f} s; cancelled")
        serving = self.serving(verdict.info, releases)
        raise DeploymentTimeout(
            f"{name} did not become stable within {timeout:.0f} s; Fluoride cancelled it"
            + (f" and {serving.short} serves again." if serving else "."),
            reasons=reasons, events=follower.events, serving=serving,
            hint="Look at the reasons and events; deploy again with a longer timeout if it "
            "was only slow.",
        )

    # -- rollback ----------------------------------------------------------------------------

    def rollback(
        self,
        to: Release | str | None = None,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Release:
        """Cancel a running deployment, or deploy the previous stable release (or ``to``).
        See :meth:`Service.rollback`.
        """
        info = self.stack.require()
        where = ServiceOutputs.from_info(info)
        store = self.store(where)
        releases = store.load()
        if info.status == "UPDATE_IN_PROGRESS":
            info, releases = self._cancel_running(info, where, releases, wait=wait)
            if to is None or not wait:
                serving = self.serving(info, releases)
                if serving is None:
                    raise ImageNotFound(f"{self.service} runs no image.", resource=self.service)
                return serving
        target = self._rollback_target(to, info, where, releases)
        return self.deploy(target, wait=wait, timeout=timeout, rollback=True)

    def _cancel_running(
        self, info: StackInfo, where: ServiceOutputs, releases: list[Release], *, wait: bool
    ) -> tuple[StackInfo, list[Release]]:
        running = next((r for r in releases if r.outcome is Outcome.IN_PROGRESS), None)
        ecs = describe_service(self.aws, where.cluster, where.ecs_service)
        self.reporter(Note(f"Cancelling the running deployment of {self.service}."))
        self.stack.cancel_update()
        store = self.store(where)
        releases = self._record(store, running, Outcome.CANCELLED, "cancelled by rollback()")
        if not wait:
            return info, releases
        follower = _Follower(self, where, _Before.of(ecs))
        verdict = poll(follower.check, deadline=Deadline.after(self.clock, self.rollback_timeout),
                       interval=self.poll_interval)
        if verdict is None or verdict.kind == "rollback_failed":
            raise RollbackFailed(
                f"Cancelling the deployment of {self.service} did not finish cleanly.",
                events=follower.events,
                hint=_recover_hint(self.stack.name, verdict.info.status if verdict else "?"),
            )
        return self.stack.require(), store.load()

    def _rollback_target(
        self,
        to: Release | str | None,
        info: StackInfo,
        where: ServiceOutputs,
        releases: Sequence[Release],
    ) -> ResolvedImage:
        if isinstance(to, Release):
            return ResolvedImage(to.image, to.digest, to.tags)
        if isinstance(to, str):
            for r in releases:
                if to in (r.digest, r.image) or to in r.tags:
                    return ResolvedImage(r.image, r.digest, r.tags)
            return self.registry(where).resolve(to)
        current = self.serving(info, releases)
        start = 0
        if current is not None and current.id:
            start = next((i + 1 for i, r in enumerate(releases) if r.id == current.id), 0)
        for r in releases[start:]:
            if r.outcome is Outcome.STABLE and (current is None or r.image != current.image):
                return ResolvedImage(r.image, r.digest, r.tags)
        raise ImageNotFound(
            f"{self.service} has no earlier stable release to roll back to.",
            resource=self.service,
            hint=f"Deploy a given image instead: `fluoride deploy {self.service} IMAGE`.",
        )


def _settle(releases: list[Release], info: StackInfo) -> list[Release]:
    """Judge entries nobody followed to the end (``deploy(wait=False)``), from the stack.

    Called while the stack is settled, before a new deployment is recorded.
    """
    image = info.parameters.get("Image")
    out: list[Release] = []
    newest = True
    for r in releases:
        if r.outcome is Outcome.IN_PROGRESS:
            if newest and r.image == image and info.state is StackState.COMPLETE:
                r = attrs.evolve(r, outcome=Outcome.STABLE, finished_at=_now())
            elif newest and info.state is StackState.ROLLED_BACK:
                r = attrs.evolve(r, outcome=Outcome.ROLLED_BACK, finished_at=_now(),
                                 reason="rolled back (found after the fact)")
            else:
                r = attrs.evolve(r, outcome=Outcome.FAILED, finished_at=_now(),
                                 reason="not followed to the end; outcome unknown")
        newest = False
        out.append(r)
    return out


def _recover_hint(stack: str, status: str) -> str:
    if status == "UPDATE_ROLLBACK_FAILED":
        return (
            "Fix what blocked the rollback (see the stack events), then run "
            f"`aws cloudformation continue-update-rollback --stack-name {stack}`."
        )
    return (
        f"Look at the stack events (`aws cloudformation describe-stack-events --stack-name "
        f"{stack}`); once it settles, deploy again or `fluoride rollback`."
    )
