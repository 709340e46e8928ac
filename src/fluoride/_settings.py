"""Changing a running service's settings: read its spec back, plan an update, apply it.

The image stays; only :meth:`~fluoride.service.Service.deploy` changes it. An update that
makes a new task definition is followed like a deployment (the same verdict, recorded in
the release history as a ``settings`` entry); one that would replace or remove a data
store is refused before anything changes, unless the caller allows it.

:class:`~fluoride.service.Service` delegates ``spec()``, ``plan()`` and ``update()`` here.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from fluoride._release import Outcome, Release
from fluoride._version import version
from fluoride.errors import (
    ConfigError,
    DeploymentFailed,
    DeploymentInProgress,
    DeploymentTimeout,
    FieldError,
    FluorideError,
    RolledBack,
    StackFailed,
    how,
)
from fluoride.events import (
    Note,
    PlannedChange,
    PlanReady,
    ProgressEvent,
    Reporter,
    StackEventSeen,
)
from fluoride.infra.plan import (
    Plan,
    ProfileSwitch,
    StoreRisk,
    make_plan,
    profile_switch,
    store_risks,
)
from fluoride.infra.stack import (
    StackInfo,
    StackState,
    delete_change_set,
    prepare_change_set,
    stack_template,
)
from fluoride.infra.template import load_template
from fluoride.infra.upgrade import template_note
from fluoride.names import DEFAULT_TIMEOUT
from fluoride.releases.deployment import Deployments, ServiceOutputs
from fluoride.releases.ecs import EcsService, describe_service
from fluoride.releases.history import ReleaseHistory, new_id
from fluoride.spec import ServiceSpec
from fluoride.spec._readback import (
    from_parameters,
    read_environment,
    read_secret_environment,
    read_sidecars,
)
from fluoride.stores.retention import RetainedStores, default_store_names
from fluoride.waiting import Deadline

if TYPE_CHECKING:
    from fluoride.service import Service, ServiceStatus

__all__ = ["ComplianceSwitchRefused", "StoreReplacementRefused", "first_failure", "live_spec",
           "plan", "update"]


class StoreReplacementRefused(ConfigError):
    """An update would replace or remove a data store; nothing was changed.

    ``risks`` lists each store, the setting that causes it and the data at stake.
    """

    def __init__(self, message: str, *, risks: Sequence[StoreRisk], hint: str | None = None):
        self.risks = list(risks)
        super().__init__(message, hint=hint)


class ComplianceSwitchRefused(ConfigError):
    """An update would change ``compliance`` on a live service, which would replace its
    image repository (ECR cannot change a repository's encryption); nothing was changed.

    ``switch`` (a :class:`~fluoride.infra.plan.ProfileSwitch`) names the profiles and the
    repository. ``allow_replacement=True`` does not lift it: a repository of the same name
    cannot be made beside the old one, so the update could only fail.

    .. versionadded:: 0.3.0
    """

    def __init__(self, message: str, *, switch: ProfileSwitch, hint: str | None = None):
        self.switch = switch
        super().__init__(message, errors=[FieldError(
            "compliance", f"{switch.old!r} -> {switch.new!r} on a live service",
            allowed=f"{switch.old!r} (the profile it was created with)")], hint=hint)


def first_failure(events: Sequence[StackEventSeen]) -> tuple[str | None, str | None]:
    """The first resource that failed among ``events`` (one operation's, oldest first) and
    its reason; failures CloudFormation reports as the result of cancelling are skipped.

    >>> import datetime as dt
    >>> t = dt.datetime(2025, 1, 1)
    >>> first_failure([StackEventSeen("s", "Svc", "T", "UPDATE_FAILED", "boom", t)])
    ('Svc', 'boom')
    """
    for e in events:
        reason = e.reason or ""
        if e.status.endswith("_FAILED") and "cancelled" not in reason.lower() \
                and e.resource_type != "AWS::CloudFormation::Stack":
            return e.logical_id, reason or None
    return None, None


# -- reading the live spec -------------------------------------------------------------------


def _account(info: StackInfo) -> str:
    # arn:aws:cloudformation:<region>:<account>:stack/<name>/<id>: no STS call needed.
    return info.stack_id.split(":")[4]


def live_spec(svc: Service, info: StackInfo | None = None) -> ServiceSpec:
    """The spec the stack runs now: its parameters, tags and rendered environment."""
    info = info or svc.stack.require()
    body = stack_template(svc.stack)
    return from_parameters(
        info.parameters,
        environment=read_environment(body),
        secret_env=read_secret_environment(body),
        sidecars=read_sidecars(body),
        tags=info.tags,
        default_store_names=default_store_names(svc.name, _account(info), svc.aws.region),
    )


# -- planning --------------------------------------------------------------------------------


@attrs.frozen
class _Desired:
    parameters: Mapping[str, str]
    template_body: str
    tags: Mapping[str, str]


def _with_names(svc: Service, spec: ServiceSpec, info: StackInfo) -> ServiceSpec:
    st = spec.stores
    table, bucket, secret = default_store_names(svc.name, _account(info), svc.aws.region)
    return attrs.evolve(spec, stores=attrs.evolve(
        st, table_name=st.table_name or table, bucket_name=st.bucket_name or bucket,
        secret_name=st.secret_name or secret))


def _desired(svc: Service, spec: ServiceSpec, info: StackInfo) -> _Desired:
    """Parameters, template and tags for ``spec`` on the live stack: the image it runs,
    the stores it adopted (kept while their name stays), the current template."""
    live = info.parameters
    named = _with_names(svc, spec, info)
    params = dict(svc.parameters(named, image=live.get("Image") or None, kept=RetainedStores()))
    # Adoption is a fact about the live stack, not about the spec: keep it while the store
    # stays on under the same name. The repository is always the stack's to keep.
    params["AdoptRepository"] = live.get("AdoptRepository", "false")
    for store, switch, name in (("Table", "EnableTable", "TableName"),
                                ("Bucket", "EnableBucket", "BucketName"),
                                ("Secret", "EnableSecret", "SecretName")):
        same = params[switch] == "true" and params[name] == live.get(name)
        params[f"Adopt{store}"] = live.get(f"Adopt{store}", "false") if same else "false"
    params["AdoptedSecretArn"] = (live.get("AdoptedSecretArn", "")
                                  if params["AdoptSecret"] == "true" else "")
    return _Desired(params, svc.template_body(spec), svc.tags(spec))


def _notes(info: StackInfo) -> list[str]:
    note = template_note(info.tags, template=load_template(), version=version())
    return [f"Template upgrade: the stack was {note}."] if note else []


def _refuse_if_busy(svc: Service, info: StackInfo) -> EcsService | None:
    """Raise when the stack or a rollout is busy; return the ECS service as it is now."""
    if info.state is StackState.FAILED:
        raise StackFailed(
            f"The stack of {svc.name} is {info.status}; it cannot be updated.",
            status=info.status, resource=info.name,
            hint="Look at the stack events (`aws cloudformation describe-stack-events "
            f"--stack-name {info.name}`) and recover it first.",
        )
    cluster, ecs_name = info.outputs.get("ClusterName"), info.outputs.get("EcsServiceName")
    ecs = describe_service(svc.aws, cluster, ecs_name) if cluster and ecs_name else None
    rolling = ecs is not None and ecs.primary is not None and \
        ecs.primary.rollout_state == "IN_PROGRESS"
    if info.state in (StackState.IN_PROGRESS, StackState.REVIEW) or rolling:
        when = info.updated or info.created
        raise DeploymentInProgress(
            f"{svc.name} is busy ({info.status}"
            + (", a rollout is running" if rolling else "") + "); its settings cannot change "
            "until it settles.",
            started_at=when,
            hint=f"Wait for it ({how('wait', svc.name)}), then update.",
        )
    return ecs


def _refusal(svc: Service, risks: Sequence[StoreRisk]) -> StoreReplacementRefused:
    what = " ".join(r.sentence() for r in risks)
    return StoreReplacementRefused(
        f"Refused to update {svc.name}; nothing was changed. {what}",
        risks=risks,
        hint="Keep the store's settings as they are, or pass allow_replacement=True "
        "(`--allow-replacement`): the old store is then kept with its data (never deleted), "
        "outside the service.",
    )


def plan(svc: Service, spec: ServiceSpec) -> Plan:
    """See :meth:`Service.plan`: a change set made, read and deleted."""
    spec.validate()
    info = svc.stack.require()
    return _plan(svc, spec, info, _desired(svc, spec, info), keep=False)[0]


def _plan(
    svc: Service, spec: ServiceSpec, info: StackInfo, desired: _Desired, *, keep: bool
) -> tuple[Plan, str | None]:
    """The plan, and the change set's name when ``keep`` (else it is deleted)."""
    prepared = prepare_change_set(svc.stack, kind="settings", parameters=desired.parameters,
                                  template_body=desired.template_body, tags=desired.tags)
    raw: list[Mapping[str, object]] = []
    name = None
    if prepared is not None:
        name, raw = prepared
        if not keep:
            delete_change_set(svc.stack, name)
            name = None
    result = make_plan(
        svc.name, raw, old_spec=live_spec(svc, info), new_spec=spec,
        old_params=info.parameters, new_params=desired.parameters, outputs=info.outputs,
        notes=_notes(info),
    )
    return result, name


# -- updating --------------------------------------------------------------------------------


class _Capture:
    """A reporter that passes events on and keeps the stack events of one operation."""

    def __init__(self, inner: Reporter) -> None:
        self.inner = inner
        self.stack_events: list[StackEventSeen] = []

    def __call__(self, event: ProgressEvent) -> None:
        if isinstance(event, StackEventSeen):
            self.stack_events.append(event)
        self.inner(event)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def update(
    svc: Service,
    spec: ServiceSpec,
    *,
    wait: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    allow_replacement: bool = False,
) -> ServiceStatus:
    """See :meth:`Service.update`."""
    spec.validate()
    deadline = Deadline.after(svc.clock, timeout)
    info = svc.stack.require()
    ecs = _refuse_if_busy(svc, info)
    desired = _desired(svc, spec, info)
    # What the parameters show is refused before anything is made in AWS.
    switch = profile_switch(info.parameters, desired.parameters, info.outputs)
    if switch is not None:
        raise ComplianceSwitchRefused(
            f"Refused to update {svc.name}; nothing was changed. {switch.sentence()}",
            switch=switch,
            hint=f"Keep compliance={switch.old!r} in the spec, or create a new service with "
            f"compliance={switch.new!r} (docs: Operations and compliance).")
    early = store_risks(info.parameters, desired.parameters, info.outputs)
    if early and not allow_replacement:
        raise _refusal(svc, early)
    the_plan, change_set = _plan(svc, spec, info, desired, keep=True)
    if change_set is None or the_plan.empty:
        svc.reporter(Note(svc.name, f"{svc.name}: nothing to change."))
        return svc.status()
    if the_plan.risks and not allow_replacement:
        delete_change_set(svc.stack, change_set)
        raise _refusal(svc, the_plan.risks)
    svc.reporter(PlanReady(stack=svc.stack.name, changes=[
        PlannedChange(action=c.action.capitalize(), logical_id=c.logical_id,
                      resource_type=c.resource_type,
                      replacement={"yes": "True", "no": "False", "conditional": "Conditional"}
                      .get(c.replacement or ""))
        for c in the_plan.changes]))
    for text in the_plan.consequences:
        svc.reporter(Note(svc.name, f"{svc.name}: {text}"))
    deployments = svc.deployments  # one instance: its history store keeps the last ETag
    entry = _history_entry(deployments, svc, info, the_plan)
    seen = svc.stack.seen_events()
    try:
        svc.stack.execute(change_set)
    except FluorideError as exc:
        if entry is not None:
            entry[0].update(entry[1].id, outcome=Outcome.FAILED, reason=exc.message,
                            finished_at=_now())
        raise
    if the_plan.risks:
        svc.reporter(Note(svc.name, f"{svc.name}: kept, with their data, outside the service: "
                          + ", ".join(
            f"the old {r.store} {r.name}" for r in the_plan.risks if r.name)
            + " (Retain: CloudFormation does not delete them; reach them with boto3 by these "
            "names)."))
    if not wait:
        return svc.status()
    if the_plan.restarts_tasks and entry is not None:
        where = ServiceOutputs.from_info(info)  # the outputs a rollout needs never change,
        gateway = desired.parameters.get("Gateway") or None
        if gateway != where.gateway:  # but the target group does, between ALB and gateway
            where = attrs.evolve(where, gateway=gateway,
                                 target_group=None if gateway else where.target_group)
        _follow(svc, deployments, where, entry[1], ecs, the_plan, deadline)
    else:
        _wait_stack(svc, the_plan, seen, deadline, entry)
    return svc.status()


def _history_entry(
    deployments: Deployments, svc: Service, info: StackInfo, the_plan: Plan
) -> tuple[ReleaseHistory, Release] | None:
    """Record the change in the history (``settings``), beside the releases; ``None``
    before the first image (the history is of what served)."""
    image = info.parameters.get("Image")
    if not image:
        return None
    store = deployments.store(ServiceOutputs.from_info(info))
    releases = store.load()
    serving = deployments.serving(info, releases)
    entry = Release(
        id=new_id(), image=image, digest=serving.digest if serving else None,
        tags=serving.tags if serving else (), deployed_at=_now(),
        deployed_by=svc.aws.caller_arn(), outcome=Outcome.IN_PROGRESS, kind="settings",
        change=the_plan.summary,
    )
    store.change(lambda rs: [entry, *rs])
    return store, entry


def _follow(
    svc: Service, deployments: Deployments, where: ServiceOutputs, entry: Release,
    before: EcsService | None, the_plan: Plan, deadline: Deadline,
) -> None:
    """Follow the new task definition's rollout exactly as ``deploy()`` follows an image's:
    the deployment found by id (new since ``before``, on another task definition), the
    same verdict, the outcome written into ``entry``.

    ``before`` is the ECS service as it was before the change set ran: ``wait_stable()``
    cannot be used here, as its own snapshot may already hold the new deployment.
    """
    try:
        deployments.follow_from(entry, where, before, max(deadline.remaining(), 1.0))
    except (RolledBack, DeploymentTimeout) as exc:
        first = exc.reasons[0] if exc.reasons else None
        verb = "was rolled back" if isinstance(exc, RolledBack) else "timed out and was cancelled"
        raise type(exc)(
            f"The settings change to {svc.name} ({the_plan.summary}) {verb}"
            + (f": {first}." if first else ".") + " The previous settings serve again.",
            reasons=exc.reasons, events=exc.events, serving=exc.serving,
            hint=f"Fix the settings and update again; the container logs: "
            f"{how('logs', svc.name)}.",
        ) from exc


def _wait_stack(
    svc: Service, the_plan: Plan, seen: set[str], deadline: Deadline,
    entry: tuple[ReleaseHistory, Release] | None,
) -> None:
    capture = _Capture(svc.reporter)
    info = svc.stack.wait(reporter=capture, seen=seen, timeout=max(deadline.remaining(), 1.0))
    if info is not None and info.state is StackState.COMPLETE:
        if entry is not None:
            entry[0].update(entry[1].id, outcome=Outcome.STABLE, finished_at=_now())
        svc.reporter(Note(svc.name, f"{svc.name}: settings updated ({the_plan.summary})."))
        return
    logical_id, reason = first_failure(capture.stack_events)
    status = info.status if info is not None else "DELETED"
    if entry is not None:
        entry[0].update(entry[1].id, outcome=Outcome.ROLLED_BACK, reason=reason or status,
                        finished_at=_now())
    raise DeploymentFailed(
        f"Updating the settings of {svc.name} ({the_plan.summary}) failed"
        + (f" at {logical_id}: {reason}" if logical_id else f" ({status})")
        + "; CloudFormation rolled it back to the previous settings.",
        reasons=[reason] if reason else [],
        hint="Fix the setting named above and update again.",
    )
