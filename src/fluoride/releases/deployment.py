"""Deployments: change the stack's image, follow the ECS deployment it starts, act on the
verdict.

This module orchestrates; the pieces live beside it: :mod:`~fluoride.releases.verdict`
(which deployment is ours and what it has come to: pure), :mod:`~fluoride.releases.observe`
(the reads: outputs, target health, stopped tasks, what ECS serves) and
:mod:`~fluoride.releases.bookkeeping` (how the history changes after a look: pure).

A deployment succeeds only when *its own* ECS deployment reaches ``COMPLETED`` with the
desired count running and its targets healthy, and the stack update completes. A rollback
(by the ECS circuit breaker or by CloudFormation) raises :class:`RolledBack`; the deadline
cancels the stack update, waits for the previous release to serve again and raises
:class:`DeploymentTimeout`.

Waiting is :func:`fluoride.waiting.poll`, not a botocore waiter: each round reads three
APIs, judges the deployment picked by id (see :mod:`~fluoride.releases.verdict` for why no
waiter model can say that), streams progress and service events between rounds, treats
throttling and dropped connections as "look again", and stops at a deadline on the
monotonic clock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlparse

import attrs

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
    how,
)
from fluoride.events import DeploymentProgress, Note, PlanReady, Reporter, ServiceEventSeen
from fluoride.infra.stack import Stack, StackInfo, StackState
from fluoride.names import DEFAULT_TIMEOUT, STACK_PREFIX
from fluoride.releases.bookkeeping import Seen, mark, now, reconcile, same_image, settle
from fluoride.releases.ecs import EcsDeployment, EcsService, describe_service
from fluoride.releases.history import Outcome, Release, ReleaseHistory, new_id
from fluoride.releases.observe import (
    CONNECTION_ERRORS,
    ServiceOutputs,
    TargetHealth,
    gateway_target_group,
    served,
    stack_phase,
    stack_task_definition,
    stopped_task_reasons,
    target_health,
    transient,
)
from fluoride.releases.registry import Registry, ResolvedImage
from fluoride.releases.verdict import (
    COMPLETED,
    IN_PROGRESS,
    Before,
    Kind,
    Look,
    Verdict,
    judge,
    pick,
    rollout_state,
)
from fluoride.waiting import Clock, Deadline, poll

__all__ = [
    "AWS_POLL_INTERVAL",
    "LOCAL_POLL_INTERVAL",
    "Deployments",
    "Now",
    "ServiceOutputs",
    "TargetHealth",
    "before_update",
    "default_poll_interval",
    "stopped_task_reasons",
    "target_health",
]

#: Seconds between looks on AWS: three calls per look stay far below every API's limits.
AWS_POLL_INTERVAL = 3.0
#: Seconds between looks on a loopback endpoint (the emulator: rollouts take ~1 s).
LOCAL_POLL_INTERVAL = 0.1


def default_poll_interval(aws: Aws) -> float:
    """:data:`LOCAL_POLL_INTERVAL` on a loopback endpoint (the emulator), else
    :data:`AWS_POLL_INTERVAL`."""
    host = urlparse(aws.endpoint_url or "").hostname
    return LOCAL_POLL_INTERVAL if host in ("127.0.0.1", "localhost", "::1") else AWS_POLL_INTERVAL


def before_update(ecs: EcsService | None) -> Before:
    """The ECS service just before an update, as :func:`~fluoride.releases.verdict.pick`
    takes it."""
    if ecs is None:
        return Before()
    primary = ecs.primary
    return Before(
        primary.task_definition if primary else ecs.task_definition,
        frozenset(d.id for d in ecs.deployments),
    )


@attrs.frozen
class Now:
    """What serves a service now, after a look at ECS.

    Attributes:
        releases: the history, with what the look found written into it.
        serving: the release serving, or ``None`` before the first image.
        drift: when ECS serves another image than the stack's ``Image`` parameter, that
            said in words; else ``None``.
    """

    releases: list[Release]
    serving: Release | None
    drift: str | None = None


@attrs.frozen
class _Judged:
    verdict: Verdict
    info: StackInfo


@attrs.define
class _Follower:
    """One deployment being followed: its id once found, events seen, last progress.

    ``steady``: the deployment is judged by ECS alone (not started by a stack update).
    """

    owner: Deployments
    where: ServiceOutputs
    before: Before
    deployment_id: str | None = None
    steady: bool = False
    task_definition: str | None = None
    events: list[str] = attrs.field(factory=list)
    _seen: set[str] = attrs.field(factory=set)
    _last: DeploymentProgress | None = None
    _route_target_group: str | None = None

    def check(self) -> _Judged | None:
        """One look; its verdict when decided, ``None`` to look again."""
        try:
            judged = self.look()
        except (AwsError, *CONNECTION_ERRORS) as exc:
            if not transient(exc):
                raise
            text = exc.message if isinstance(exc, FluorideError) else str(exc)
            self.owner.reporter(Note(self.owner.service,
                                     f"{self.owner.service}: {text} (looking again shortly)"))
            return None
        return judged if judged.verdict.done else None

    def look(self) -> _Judged:
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
        if self.deployment_id is None:
            found = pick(ecs.deployments, self.before)
            if found is not None:
                self.deployment_id, self.task_definition = found.id, found.task_definition
        ours = next((d for d in ecs.deployments if d.id == self.deployment_id), None)
        if ours is not None and self.task_definition is None:
            self.task_definition = ours.task_definition
        health = None
        serves_ours = any(
            d.task_definition == self.task_definition and d.running > 0 for d in ecs.deployments
        )
        target_group = self.where.target_group
        if target_group is None and self.where.gateway and serves_ours:
            # Behind a gateway: the route's target group, once ECS has made the route.
            target_group = self._route_target_group or gateway_target_group(
                owner.aws, self.where.cluster, self.where.ecs_service)
            self._route_target_group = target_group
        if self.task_definition is not None and serves_ours and target_group:
            health = target_health(owner.aws, target_group)
        self._report_progress(ours, health, ecs)
        verdict = judge(Look(
            stack=stack_phase(info.state), deployments=ecs.deployments,
            deployment_id=self.deployment_id, task_definition=self.task_definition,
            health=health, by_ecs_alone=self.steady,
        ))
        return _Judged(verdict, info)

    def _report_events(self, ecs: EcsService) -> None:
        for event in reversed(ecs.events):
            if event.id in self._seen:
                continue
            self._seen.add(event.id)
            self.events.append(event.message)
            self.owner.reporter(ServiceEventSeen(self.owner.service, event.message,
                                                 event.created))

    def _report_progress(
        self, dep: EcsDeployment | None, health: TargetHealth | None, ecs: EcsService
    ) -> None:
        if dep is None:
            return
        progress = DeploymentProgress(
            service=self.owner.service,
            rollout_state=rollout_state(dep, ecs.deployments),
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


def _event_ids(ecs: EcsService | None) -> set[str]:
    return {e.id for e in ecs.events} if ecs is not None else set()


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

    def _follower(self, where: ServiceOutputs, ecs: EcsService | None, **kw: Any) -> _Follower:
        follower = _Follower(self, where, before_update(ecs), **kw)
        follower._seen = _event_ids(ecs)
        return follower

    def follow_from(
        self, release: Release, where: ServiceOutputs, before: EcsService | None, timeout: float
    ) -> Release:
        """Follow the rollout an update just started, as :meth:`deploy` follows its own:
        the deployment new since ``before`` (the ECS service as read before the change set
        ran), judged by the same verdict, its outcome written into ``release``."""
        return self._follow(release, self._follower(where, before), timeout)

    def history(self) -> list[Release]:
        """Every release of the service, newest first, with what ECS serves looked at: a
        release nobody followed, now serving, is ``STABLE``; an image set outside
        Fluoride is an entry of its own."""
        return self.look(self.stack.require()).releases

    def serving(self, info: StackInfo, releases: Sequence[Release]) -> Release | None:
        """The release serving now, by the stack: while an update runs, the last stable
        one; otherwise the one whose image the stack runs (made up from the stack when the
        history does not know it). ``None`` before the first image. :meth:`look` asks ECS.
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
            deployed_at=info.updated or info.created or now(), deployed_by=None,
            outcome=Outcome.STABLE,
        )

    def look(
        self,
        info: StackInfo,
        ecs: EcsService | None = None,
        releases: list[Release] | None = None,
    ) -> Now:
        """What serves now, as ECS says (its PRIMARY deployment's task definition), written
        into the history when the history did not know it; see
        :mod:`~fluoride.releases.bookkeeping`.

        While the stack or ECS is rolling out, what serves is the last stable release.
        """
        where = ServiceOutputs.from_info(info)
        store = self.store(where)
        if releases is None:
            releases = store.load()
        if info.state is StackState.IN_PROGRESS:
            return Now(releases, self.serving(info, releases))
        if ecs is None:
            ecs = describe_service(self.aws, where.cluster, where.ecs_service)
        primary = ecs.primary if ecs else None
        if (
            ecs is None or primary is None or primary.desired == 0  # no image yet: nothing serves
            or rollout_state(primary, ecs.deployments) != COMPLETED
        ):
            return Now(releases, self.serving(info, releases))
        got = served(self.aws, ecs)
        if got is None:
            return Now(releases, self.serving(info, releases))
        stack_image = info.parameters.get("Image") or None
        seen = Seen(got.image, self._digest(got.image, where), got.since, got.task_definition,
                    stack_image)
        if reconcile(releases, seen) is not None:
            releases = store.change(lambda rs: reconcile(rs, seen) or rs)
        serving = next(
            (r for r in releases if r.outcome is Outcome.STABLE
             and same_image(r.image, r.digest, seen.image, seen.digest)),
            None,
        ) or self.serving(info, releases)
        drift = None
        if stack_image is not None and not same_image(seen.image, seen.digest, stack_image,
                                                      _digest_of(stack_image)):
            said = next((r.short for r in releases if r.image == stack_image), stack_image)
            drift = (f"serving {seen.digest or seen.image} set outside Fluoride; the stack "
                     f"says {said}")
        return Now(releases, serving, drift)

    def _digest(self, image: str, where: ServiceOutputs) -> str | None:
        found = _digest_of(image)
        if found is None and image.startswith(where.repository_uri + ":"):
            try:
                found = self.registry(where).resolve(image).digest
            except FluorideError:  # gone from the repository: the reference must do
                found = None
        return found

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
        if ecs is None or primary is None:
            return None
        state = rollout_state(primary, ecs.deployments)
        if state != IN_PROGRESS:
            return None
        return DeploymentProgress(
            service=self.service, rollout_state=state,
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
        on_stable: Callable[[StackInfo], None] | None = None,
    ) -> Release:
        """Resolve ``image``, change only the stack's ``Image`` parameter, and (with
        ``wait``) follow the deployment to its outcome. See :meth:`Service.deploy`.

        When the stack already names ``image`` but ECS serves another (set outside
        Fluoride), the service is moved back to the stack's own task definition.

        ``on_stable`` is called once the release serves (judged ``STABLE``, or already
        serving), with the stack as this deploy first read it (its parameters other than
        ``Image`` are unchanged): what to do after a good deploy, at no extra call.
        """
        info = self.stack.require()
        where = ServiceOutputs.from_info(info)
        store = self.store(where)
        ecs = describe_service(self.aws, where.cluster, where.ecs_service)
        self._refuse_if_busy(info, ecs, store)
        target = image if isinstance(image, ResolvedImage) else self.registry(where).resolve(image)
        if target.reference == info.parameters.get("Image"):
            found = self.look(info, ecs)
            if found.drift is None:
                self.reporter(Note(self.service,
                                   f"{self.service} already runs {target.reference}."))
                if found.serving is not None:
                    if on_stable is not None:
                        on_stable(info)
                    return found.serving
            else:
                return self._restore(target, info, where, ecs, found, wait=wait,
                                     timeout=timeout, rollback=rollback, on_stable=on_stable)
        release = self._new_release(target, rollback)
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
        follower = self._follower(where, ecs)
        # The entry goes in as it is; the others are judged only once this attempt holds
        # the stack (settling earlier could judge a racer's entry).
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
                         finished_at=now())
            raise
        # This attempt holds the stack now, so no other entry can still be starting: judge
        # the ones nobody followed to the end (settling earlier could judge a racer's).
        if any(r.id != release.id and r.outcome is Outcome.IN_PROGRESS for r in written):
            phase = stack_phase(info.state)
            image = info.parameters.get("Image")
            store.change(lambda rs: [r for r in rs if r.id == release.id] + settle(
                [r for r in rs if r.id != release.id], phase=phase, image=image,
                updated=info.updated))
        verb = "Rolling back" if rollback else "Deploying"
        self.reporter(Note(self.service, f"{verb} {self.service} to {release.short}."))
        if not wait:
            return release
        done = self._follow(release, follower, timeout)
        if on_stable is not None and done.outcome is Outcome.STABLE:
            on_stable(info)
        return done

    def _new_release(self, target: ResolvedImage, rollback: bool) -> Release:
        return Release(
            id=new_id(), image=target.reference, digest=target.digest, tags=target.tags,
            deployed_at=now(), deployed_by=self.aws.caller_arn(), outcome=Outcome.IN_PROGRESS,
            rollback=rollback,
        )

    def _record_start(self, store: ReleaseHistory, release: Release, info: StackInfo) -> None:
        phase = stack_phase(info.state)
        image = info.parameters.get("Image")
        store.change(lambda rs: [release, *settle(rs, phase=phase, image=image,
                                                  updated=info.updated)])

    def _restore(
        self, target: ResolvedImage, info: StackInfo, where: ServiceOutputs,
        ecs: EcsService | None, found: Now, *, wait: bool, timeout: float, rollback: bool,
        on_stable: Callable[[StackInfo], None] | None = None,
    ) -> Release:
        """The stack names ``target``, ECS serves an image set outside Fluoride: move the
        ECS service back to the stack's own task definition (CloudFormation sees no change
        to make), and follow that deployment by ECS alone."""
        self.reporter(Note(self.service, f"{self.service}: {found.drift}; moving it back to "
                           f"{target.reference}."))
        task_definition = stack_task_definition(self.aws, self.stack.name)
        release = self._new_release(target, rollback)
        store = self.store(where)
        self._record_start(store, release, info)
        try:
            with translate("UpdateService", where.ecs_service):
                raw = self.aws.client("ecs").update_service(
                    cluster=where.cluster, service=where.ecs_service,
                    taskDefinition=task_definition,
                )
        except FluorideError as exc:
            store.update(release.id, outcome=Outcome.FAILED, reason=exc.message,
                         finished_at=now())
            raise
        primary = next((d for d in raw["service"].get("deployments", [])
                        if d.get("status") == "PRIMARY"), None)
        follower = self._follower(where, ecs, steady=True, task_definition=task_definition,
                                  deployment_id=primary["id"] if primary else None)
        verb = "Rolling back" if rollback else "Deploying"
        self.reporter(Note(self.service, f"{verb} {self.service} to {release.short}."))
        if not wait:
            return release
        done = self._follow(release, follower, timeout)
        if on_stable is not None and done.outcome is Outcome.STABLE:
            on_stable(info)
        return done

    def _refuse_if_busy(
        self, info: StackInfo, ecs: EcsService | None, store: ReleaseHistory
    ) -> None:
        if info.state is StackState.FAILED:
            raise RollbackFailed(
                f"The stack of {self.service} is {info.status}; it cannot be updated.",
                hint=_recover_hint(self.stack.name, info.status),
            )
        primary = ecs.primary if ecs is not None else None
        rolling = ecs is not None and primary is not None and (
            rollout_state(primary, ecs.deployments) == IN_PROGRESS
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
        running = _running(releases)
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
            hint=f"Wait for it ({how('wait', self.service)}) or cancel it "
            f"({how('rollback', self.service)}).",
        )

    # -- following ---------------------------------------------------------------------------

    def wait_stable(self, *, timeout: float = DEFAULT_TIMEOUT) -> Release:
        """Follow the running deployment (or judge the last one) to its outcome."""
        info = self.stack.require()
        where = ServiceOutputs.from_info(info)
        store = self.store(where)
        releases = store.load()
        ecs = describe_service(self.aws, where.cluster, where.ecs_service)
        pending = _running(releases)
        primary = ecs.primary if ecs else None
        if ecs is not None and primary is not None and (
            rollout_state(primary, ecs.deployments) == IN_PROGRESS
        ):
            # With the stack settled, ECS runs a deployment CloudFormation did not start
            # (e.g. a forced new deployment): judge it by ECS alone.
            steady = info.state is not StackState.IN_PROGRESS
            follower = self._follower(where, ecs, deployment_id=primary.id,
                                      task_definition=primary.task_definition, steady=steady)
            return self._follow(pending if not steady else None, follower, timeout)
        if info.state is StackState.IN_PROGRESS:
            # CloudFormation has not reached the ECS service yet: follow the next deployment.
            return self._follow(pending, self._follower(where, ecs), timeout)
        if pending is not None:
            if info.parameters.get("Image") != pending.image:
                after = _Judged(Verdict(Kind.ROLLED_BACK, "the stack runs another image"), info)
                return self._conclude(pending, after, self._follower(where, ecs))
            store.update(pending.id, outcome=Outcome.STABLE, reason=None, finished_at=now())
        # Nothing running: make sure what serves is steady (running, healthy) and say what.
        follower = self._follower(
            where, ecs, steady=True, deployment_id=primary.id if primary else None,
            task_definition=primary.task_definition if primary else None,
        )
        judged = poll(follower.check, deadline=Deadline.after(self.clock, timeout),
                      interval=self.poll_interval)
        if judged is None or judged.verdict.kind is not Kind.STABLE:
            state = "still waiting" if judged is None else judged.verdict.reason
            raise DeploymentFailed(
                f"{self.service} is not steady ({state}) after {timeout:.0f} s.",
                events=follower.events,
                hint=f"See {how('status', self.service)} and {how('logs', self.service)}.",
            )
        found = self.serving(judged.info, store.load())
        if found is None:
            raise ImageNotFound(f"{self.service} runs no image yet.", resource=self.service,
                                hint=f"Deploy one: {how('deploy', self.service)}.")
        return found

    def _follow(self, release: Release | None, follower: _Follower, timeout: float) -> Release:
        deadline = Deadline.after(self.clock, timeout)
        judged = poll(follower.check, deadline=deadline, interval=self.poll_interval)
        if judged is None:
            return self._on_deadline(release, follower, timeout)
        return self._conclude(release, judged, follower)

    def _conclude(self, release: Release | None, judged: _Judged, follower: _Follower) -> Release:
        where = follower.where
        store = self.store(where)
        verdict, info = judged.verdict, judged.info
        name = release.short if release else "the running deployment"
        if verdict.kind is Kind.STABLE:
            if release is None:
                found = self.serving(info, store.load())
                assert found is not None  # a completed deployment runs an image
                return found
            done = store.update(release.id, outcome=Outcome.STABLE, reason=None,
                                finished_at=now())
            self.reporter(Note(self.service, f"{self.service} serves {name}."))
            return done or attrs.evolve(release, outcome=Outcome.STABLE, reason=None)
        if verdict.kind is Kind.FAILED:
            reasons = self._reasons(follower, release)
            self._record(store, release, Outcome.FAILED, verdict.reason)
            raise DeploymentFailed(
                f"The deployment of {name} to {self.service} did not serve: {verdict.reason}.",
                reasons=reasons, events=follower.events,
                hint=f"Check {how('status', self.service)}.",
            )
        reasons = self._reasons(follower, release)
        first = reasons[0] if reasons else None
        if verdict.kind is Kind.ROLLBACK_FAILED:
            self._record(store, release, Outcome.FAILED, first or info.reason)
            raise RollbackFailed(
                f"The deployment of {name} to {self.service} failed and CloudFormation could "
                f"not undo it: the stack is {info.status}"
                + (f" ({info.reason})." if info.reason else "."),
                reasons=reasons, events=follower.events,
                hint=_recover_hint(self.stack.name, info.status),
            )
        releases = self._record(store, release, Outcome.ROLLED_BACK, first or verdict.reason)
        serving = self.serving(self.stack.require(), releases)
        now_serving = f" {serving.short} serves again." if serving else ""
        raise RolledBack(
            f"The deployment of {name} to {self.service} was rolled back"
            + (f": {first}." if first else ".") + now_serving,
            reasons=reasons, events=follower.events, serving=serving,
            hint=f"Fix the image and deploy again; the container logs: "
            f"{how('logs', self.service)}.",
        )

    def _record(
        self, store: ReleaseHistory, release: Release | None, outcome: Outcome,
        reason: str | None,
    ) -> list[Release]:
        if release is None:
            return store.load()
        return store.change(mark(release.id, outcome, reason))

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
            # Nothing was cancelled and nothing ended: an unfinished release stays unknown.
            raise DeploymentFailed(
                f"{self.service}: {name} did not become steady within {timeout:.0f} s.",
                reasons=self._reasons(follower, release), events=follower.events,
                hint=f"See {how('status', self.service)} and {how('logs', self.service)}.",
            )
        self.reporter(Note(self.service,
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
                    judged = follower.check()
                    if judged is not None:
                        return self._conclude(release, judged, follower)
                self._record(self.store(follower.where), release, Outcome.FAILED,
                             f"timed out; cancelling failed: {exc.message}")
                raise RollbackFailed(
                    f"{name} did not finish within {timeout:.0f} s, and cancelling the stack "
                    f"update failed ({status}): {exc.message}",
                    events=follower.events,
                    hint=_recover_hint(self.stack.name, status),
                ) from exc
        judged = poll(
            follower.check,
            deadline=Deadline.after(self.clock, self.rollback_timeout),
            interval=self.poll_interval,
        )
        if judged is None:
            self._record(self.store(follower.where), release, Outcome.TIMED_OUT,
                         "timed out; still rolling back")
            raise DeploymentFailed(
                f"{name} timed out and was cancelled, but the rollback has not finished "
                f"within {self.rollback_timeout:.0f} s.",
                events=follower.events,
                hint=f"Follow it with {how('status', self.service)}.",
            )
        if judged.verdict.kind is not Kind.ROLLED_BACK:
            # The update completed (or failed to roll back) before the cancel took hold.
            return self._conclude(release, judged, follower)
        reasons = self._reasons(follower, release)
        releases = self._record(self.store(follower.where), release, Outcome.TIMED_OUT,
                                f"not stable within {timeout:.0f} s; cancelled")
        serving = self.serving(judged.info, releases)
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
        running = _running(releases)
        ecs = describe_service(self.aws, where.cluster, where.ecs_service)
        self.reporter(Note(self.service, f"Cancelling the running deployment of {self.service}."))
        self.stack.cancel_update()
        store = self.store(where)
        releases = self._record(store, running, Outcome.CANCELLED, "cancelled by rollback()")
        if not wait:
            return info, releases
        follower = self._follower(where, ecs)
        judged = poll(follower.check, deadline=Deadline.after(self.clock, self.rollback_timeout),
                      interval=self.poll_interval)
        if judged is None or judged.verdict.kind is Kind.ROLLBACK_FAILED:
            raise RollbackFailed(
                f"Cancelling the deployment of {self.service} did not finish cleanly.",
                events=follower.events,
                hint=_recover_hint(self.stack.name, judged.info.status if judged else "?"),
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
        found = self.look(info, releases=list(releases))  # compare with what ECS serves
        current, releases = found.serving, found.releases
        start = 0
        if current is not None and current.id:
            start = next((i + 1 for i, r in enumerate(releases) if r.id == current.id), 0)
        for r in releases[start:]:
            if r.outcome is Outcome.STABLE and (current is None or r.image != current.image):
                return ResolvedImage(r.image, r.digest, r.tags)
        raise ImageNotFound(
            f"{self.service} has no earlier stable release to roll back to.",
            resource=self.service,
            hint=f"Deploy a given image instead: {how('deploy', self.service)}.",
        )


def _running(releases: Sequence[Release]) -> Release | None:
    """The newest entry when it has no outcome yet (older ones were superseded)."""
    return releases[0] if releases and releases[0].outcome is Outcome.IN_PROGRESS else None


def _digest_of(image: str) -> str | None:
    return image.split("@", 1)[1] if "@" in image else None


def _recover_hint(stack: str, status: str) -> str:
    if status == "UPDATE_ROLLBACK_FAILED":
        return (
            "Fix what blocked the rollback (see the stack events), then run "
            f"`aws cloudformation continue-update-rollback --stack-name {stack}`."
        )
    return (
        f"Look at the stack events (`aws cloudformation describe-stack-events --stack-name "
        f"{stack}`); once it settles, deploy again or "
        f"{how('rollback', stack.removeprefix(STACK_PREFIX))}."
    )
