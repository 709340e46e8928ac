"""The deploy verdict as tables: which deployment is ours (:func:`pick`) and what a look
at the stack, ECS and the targets says about it (:func:`judge`); then the history's
bookkeeping (:func:`settle`, :func:`reconcile`). No AWS, no emulator: plain values.

The central promise: a service that is stable only because ECS (or CloudFormation) rolled
back is never success.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs
import pytest

from fluoride._release import Outcome, Release
from fluoride.infra.stack import StackState, reduce_status
from fluoride.releases.bookkeeping import OUTSIDE, Seen, mark, reconcile, same_image, settle
from fluoride.releases.observe import stack_phase
from fluoride.releases.verdict import (
    Before,
    EcsDeployment,
    Kind,
    Look,
    TargetHealth,
    judge,
    pick,
    rollout_state,
)

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
OLD_TD, NEW_TD, OTHER_TD = "td/web:1", "td/web:2", "td/web:3"
OLD, NEW, BACK, OTHER, FORCED = "ecs-svc/1", "ecs-svc/2", "ecs-svc/3", "ecs-svc/4", "ecs-svc/5"
BEFORE = Before(OLD_TD, frozenset({OLD}))
MISSING = None  # ECS left rolloutState out


def d(
    did: str, status: str, td: str, rollout: str | None, *, desired: int = 2,
    running: int = 2, pending: int = 0, failed: int = 0, minute: int | None = None,
    reason: str | None = None,
) -> EcsDeployment:
    return EcsDeployment(
        id=did, status=status, task_definition=td, rollout_state=rollout,
        rollout_reason=reason, desired=desired, running=running, pending=pending,
        failed=failed, created=None if minute is None else T0 + dt.timedelta(minutes=minute),
    )


# -- pick ------------------------------------------------------------------------------------

PICKS = [
    # (deployments, before, expected id)
    pytest.param([d(OLD, "PRIMARY", OLD_TD, "COMPLETED")], BEFORE, None,
                 id="nothing-new-yet"),
    pytest.param([d(NEW, "PRIMARY", NEW_TD, "IN_PROGRESS"),
                  d(OLD, "ACTIVE", OLD_TD, "COMPLETED")], BEFORE, NEW, id="the-new-primary"),
    pytest.param([d(BACK, "PRIMARY", OLD_TD, "IN_PROGRESS"),
                  d(NEW, "ACTIVE", NEW_TD, "FAILED")], BEFORE, NEW,
                 id="never-the-rollback-deployment"),
    pytest.param([d(BACK, "PRIMARY", OLD_TD, "COMPLETED")], BEFORE, None,
                 id="only-the-rollback-left"),
    pytest.param([d(OLD, "PRIMARY", NEW_TD, "COMPLETED")], BEFORE, None,
                 id="never-a-deployment-listed-before"),
    pytest.param([d(OTHER, "PRIMARY", OTHER_TD, "IN_PROGRESS", minute=2),
                  d(NEW, "ACTIVE", NEW_TD, "IN_PROGRESS", minute=1)], BEFORE, NEW,
                 id="ours-is-the-oldest-new-one"),
    pytest.param([d(NEW, "PRIMARY", NEW_TD, "IN_PROGRESS", minute=1),
                  d(OTHER, "ACTIVE", OTHER_TD, "IN_PROGRESS", minute=2)], BEFORE, NEW,
                 id="the-oldest-whatever-the-order"),
    pytest.param([d(OTHER, "PRIMARY", OTHER_TD, "IN_PROGRESS"),
                  d(NEW, "ACTIVE", NEW_TD, "IN_PROGRESS")], BEFORE, NEW,
                 id="without-times-the-last-listed"),
    pytest.param([d(OTHER, "PRIMARY", OTHER_TD, "IN_PROGRESS", minute=2),
                  d(NEW, "ACTIVE", NEW_TD, "IN_PROGRESS")], BEFORE, OTHER,
                 id="a-known-time-before-an-unknown-one"),
    pytest.param([d(NEW, "PRIMARY", NEW_TD, "IN_PROGRESS")], Before(), NEW,
                 id="a-first-deployment"),
]


@pytest.mark.parametrize(("deployments", "before", "expected"), PICKS)
def test_pick(deployments: list[EcsDeployment], before: Before, expected: str | None) -> None:
    found = pick(deployments, before)
    assert (found.id if found else None) == expected


# -- rolloutState, and what to do when ECS leaves it out -------------------------------------

ROLLOUTS = [
    pytest.param(d(NEW, "PRIMARY", NEW_TD, "IN_PROGRESS"), 1, "IN_PROGRESS", id="given"),
    pytest.param(d(NEW, "PRIMARY", NEW_TD, "FAILED"), 1, "FAILED", id="given-failed"),
    pytest.param(d(NEW, "PRIMARY", NEW_TD, MISSING), 1, "COMPLETED", id="missing-alone-full"),
    pytest.param(d(NEW, "PRIMARY", NEW_TD, MISSING), 2, "IN_PROGRESS",
                 id="missing-beside-another"),
    pytest.param(d(NEW, "PRIMARY", NEW_TD, MISSING, running=1), 1, "IN_PROGRESS",
                 id="missing-short-of-desired"),
    pytest.param(d(NEW, "PRIMARY", NEW_TD, MISSING, running=3), 1, "COMPLETED",
                 id="missing-above-desired"),
    pytest.param(d(NEW, "PRIMARY", NEW_TD, MISSING, pending=1), 1, "IN_PROGRESS",
                 id="missing-with-pending"),
    pytest.param(d(NEW, "ACTIVE", NEW_TD, MISSING), 1, "IN_PROGRESS",
                 id="missing-not-primary"),
]


@pytest.mark.parametrize(("deployment", "listed", "expected"), ROLLOUTS)
def test_rollout_state(deployment: EcsDeployment, listed: int, expected: str) -> None:
    others = [d(f"other{i}", "ACTIVE", OLD_TD, "COMPLETED") for i in range(listed - 1)]
    assert rollout_state(deployment, [deployment, *others]) == expected


# -- judge: the ECS side, under a completed stack ----------------------------------------------


@attrs.frozen
class Ecs:
    """An ECS picture: the deployments, the id we follow, and what a completed stack means.

    ``primary_done``: the PRIMARY deployment (whichever it is) has COMPLETED, so a stack
    rollback is over.
    """

    deployments: Sequence[EcsDeployment]
    on_complete: Kind
    primary_done: bool
    followed: str | None = NEW
    task_definition: str | None = NEW_TD
    rolled_back_by_ecs: bool = False  # the PRIMARY runs the task definition from before


ECS = {
    "ours-in-progress": Ecs([d(NEW, "PRIMARY", NEW_TD, "IN_PROGRESS", running=1),
                             d(OLD, "ACTIVE", OLD_TD, "COMPLETED")], Kind.WAIT, False),
    "ours-completed": Ecs([d(NEW, "PRIMARY", NEW_TD, "COMPLETED")], Kind.STABLE, True),
    "ours-completed-old-still-draining": Ecs(
        [d(NEW, "PRIMARY", NEW_TD, "COMPLETED"), d(OLD, "ACTIVE", OLD_TD, "COMPLETED",
                                                   running=1)], Kind.STABLE, True),
    "ours-completed-short-of-desired": Ecs([d(NEW, "PRIMARY", NEW_TD, "COMPLETED", running=1)],
                                           Kind.WAIT, True),
    "ours-failed-no-rollback": Ecs([d(NEW, "PRIMARY", NEW_TD, "FAILED", running=0, failed=3,
                                      reason="tasks failed to start")], Kind.FAILED, False),
    "ours-failed-no-rollback-no-reason": Ecs(
        [d(NEW, "PRIMARY", NEW_TD, "FAILED", running=0, failed=3)], Kind.FAILED, False),
    "ours-active-failed-rollback-in-progress": Ecs(
        [d(BACK, "PRIMARY", OLD_TD, "IN_PROGRESS", running=1),
         d(NEW, "ACTIVE", NEW_TD, "FAILED", running=0)], Kind.WAIT, False,
        rolled_back_by_ecs=True),
    "ours-active-failed-rollback-completed": Ecs(
        [d(BACK, "PRIMARY", OLD_TD, "COMPLETED"),
         d(NEW, "ACTIVE", NEW_TD, "FAILED", running=0, reason="circuit breaker")],
        Kind.ROLLED_BACK, True, rolled_back_by_ecs=True),
    "ours-inactive-rollback-completed": Ecs(
        [d(BACK, "PRIMARY", OLD_TD, "COMPLETED"), d(NEW, "INACTIVE", NEW_TD, "FAILED",
                                                    running=0)],
        Kind.ROLLED_BACK, True, rolled_back_by_ecs=True),
    "ours-vanished-rollback-completed": Ecs([d(BACK, "PRIMARY", OLD_TD, "COMPLETED")],
                                            Kind.ROLLED_BACK, True, rolled_back_by_ecs=True),
    "ours-vanished-rollback-in-progress": Ecs(
        [d(BACK, "PRIMARY", OLD_TD, "IN_PROGRESS", running=1)], Kind.WAIT, False,
        rolled_back_by_ecs=True),
    "ours-vanished-no-deployment-left": Ecs([], Kind.ROLLED_BACK, True),
    "ours-replaced-by-another-image": Ecs(
        [d(OTHER, "PRIMARY", OTHER_TD, "COMPLETED"), d(NEW, "ACTIVE", NEW_TD, "IN_PROGRESS",
                                                       running=0)], Kind.ROLLED_BACK, True),
    "ours-replaced-same-task-definition": Ecs(
        [d(FORCED, "PRIMARY", NEW_TD, "COMPLETED")], Kind.STABLE, True),
    "ours-replaced-same-task-definition-in-progress": Ecs(
        [d(FORCED, "PRIMARY", NEW_TD, "IN_PROGRESS", running=1)], Kind.WAIT, False),
    "missing-rollout-ours-alone-full": Ecs([d(NEW, "PRIMARY", NEW_TD, MISSING)], Kind.STABLE,
                                           True),
    "missing-rollout-ours-beside-old": Ecs(
        [d(NEW, "PRIMARY", NEW_TD, MISSING), d(OLD, "ACTIVE", OLD_TD, MISSING, running=1)],
        Kind.WAIT, False),
    "missing-rollout-ours-short": Ecs([d(NEW, "PRIMARY", NEW_TD, MISSING, running=1)],
                                      Kind.WAIT, False),
    "missing-rollout-ours-vanished-rollback-alone": Ecs(
        [d(BACK, "PRIMARY", OLD_TD, MISSING)], Kind.ROLLED_BACK, True,
        rolled_back_by_ecs=True),
    "missing-rollout-ours-active-beside-rollback": Ecs(
        [d(BACK, "PRIMARY", OLD_TD, MISSING), d(NEW, "ACTIVE", NEW_TD, MISSING, running=1)],
        Kind.WAIT, False, rolled_back_by_ecs=True),
    "none-appeared": Ecs([d(OLD, "PRIMARY", OLD_TD, "COMPLETED")], Kind.FAILED, True,
                         followed=None, task_definition=None),
    "none-appeared-old-rolling": Ecs([d(OLD, "PRIMARY", OLD_TD, "IN_PROGRESS")], Kind.FAILED,
                                     False, followed=None, task_definition=None),
}

#: Every status an update passes through.
STACKS = [
    "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_FAILED",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
    "UPDATE_COMPLETE",
    "REVIEW_IN_PROGRESS",
]


def expected_kind(stack: str, ecs: Ecs) -> Kind:
    """The rule, stack first: a failed rollback is failed, a running operation waits, a
    stack rollback is over once ECS's PRIMARY completes, a completed stack defers to ECS."""
    if stack == "UPDATE_ROLLBACK_FAILED":
        return Kind.ROLLBACK_FAILED
    if stack == "UPDATE_ROLLBACK_COMPLETE":
        return Kind.ROLLED_BACK if ecs.primary_done else Kind.WAIT
    if stack == "UPDATE_COMPLETE":
        return ecs.on_complete
    return Kind.WAIT


def look(stack: str, ecs: Ecs, health: TargetHealth | None = None, *,
         by_ecs_alone: bool = False) -> Look:
    return Look(stack=stack_phase(reduce_status(stack)), deployments=ecs.deployments,
                deployment_id=ecs.followed, task_definition=ecs.task_definition,
                health=health, by_ecs_alone=by_ecs_alone)


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("case", sorted(ECS))
def test_judge_every_stack_state_with_every_ecs_picture(stack: str, case: str) -> None:
    ecs = ECS[case]
    verdict = judge(look(stack, ecs))
    assert verdict.kind is expected_kind(stack, ecs), verdict.reason
    assert verdict.reason
    assert "None" not in verdict.reason
    assert verdict.done is (verdict.kind is not Kind.WAIT)
    # The verdict is about our deployment while ECS lists it, else about the one that
    # carries our task definition, else about none.
    ours = next((x for x in ecs.deployments if x.id == ecs.followed), None)
    if ours is not None:
        assert verdict.deployment == ours
    elif verdict.deployment is not None:
        assert verdict.deployment.task_definition == ecs.task_definition
    # ECS's own words on a failed rollout reach the reason.
    failed = [x for x in ecs.deployments if x.rollout_state == "FAILED" and x.rollout_reason]
    if verdict.kind in (Kind.FAILED, Kind.ROLLED_BACK) and stack == "UPDATE_COMPLETE":
        for x in failed:
            assert x.rollout_reason is not None
            assert x.rollout_reason in verdict.reason


HEALTHS = [
    pytest.param(None, Kind.STABLE, id="no-load-balancer"),
    pytest.param(TargetHealth(healthy=2), Kind.STABLE, id="all-healthy"),
    pytest.param(TargetHealth(healthy=3), Kind.STABLE, id="more-healthy-than-desired"),
    pytest.param(TargetHealth(healthy=2, draining=2), Kind.STABLE, id="old-ones-draining"),
    pytest.param(TargetHealth(healthy=1, unhealthy=1), Kind.WAIT, id="one-unhealthy"),
    pytest.param(TargetHealth(healthy=1, initial=1), Kind.WAIT, id="one-starting"),
    pytest.param(TargetHealth(), Kind.WAIT, id="no-target-yet"),
    pytest.param(TargetHealth(unhealthy=2), Kind.WAIT, id="all-unhealthy"),
]


@pytest.mark.parametrize(("health", "expected"), HEALTHS)
@pytest.mark.parametrize("case", ["ours-completed", "ours-replaced-same-task-definition",
                                  "missing-rollout-ours-alone-full"])
def test_completed_needs_its_targets_healthy(
    case: str, health: TargetHealth | None, expected: Kind
) -> None:
    assert judge(look("UPDATE_COMPLETE", ECS[case], health)).kind is expected


@pytest.mark.parametrize("health", [None, TargetHealth(healthy=2), TargetHealth(healthy=9)])
@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("by_ecs_alone", [False, True])
@pytest.mark.parametrize("case", sorted(c for c in ECS if ECS[c].rolled_back_by_ecs))
def test_stable_only_because_rolled_back_is_never_success(
    case: str, stack: str, health: TargetHealth | None, by_ecs_alone: bool
) -> None:
    """Steady, healthy, on a COMPLETED PRIMARY deployment: ECS's rollback. Whatever the
    stack says, however healthy the targets, whichever way it is judged."""
    verdict = judge(look(stack, ECS[case], health, by_ecs_alone=by_ecs_alone))
    assert verdict.kind is not Kind.STABLE


def test_a_stack_that_completes_while_ecs_rolled_back() -> None:
    ecs = ECS["ours-active-failed-rollback-completed"]
    verdict = judge(look("UPDATE_COMPLETE", ecs, TargetHealth(healthy=2)))
    assert verdict.kind is Kind.ROLLED_BACK
    assert verdict.deployment is not None
    assert verdict.deployment.id == NEW
    assert "circuit breaker" in verdict.reason
    assert BACK in verdict.reason  # says what serves instead


REASONS = [
    # What the user reads: the whole reason, and the deployment it names. Each row is one
    # branch of judge(); ECS's own words (rollout_reason) appear only when ECS gave some.
    ("UPDATE_ROLLBACK_FAILED", "ours-completed", None,
     "CloudFormation could not roll the update back", NEW),
    ("UPDATE_IN_PROGRESS", "ours-completed", None, "the stack update is still running", NEW),
    ("UPDATE_ROLLBACK_COMPLETE", "ours-active-failed-rollback-in-progress", None,
     "the previous release is rolling out again", NEW),
    ("UPDATE_ROLLBACK_COMPLETE", "ours-completed", None,
     "CloudFormation rolled the update back", NEW),
    ("UPDATE_COMPLETE", "none-appeared", None,
     "the update finished, but ECS started no new deployment", None),
    ("UPDATE_COMPLETE", "ours-inactive-rollback-completed", None,
     f"the deployment {NEW} failed; ECS runs {OLD_TD} ({BACK})", NEW),
    ("UPDATE_COMPLETE", "ours-active-failed-rollback-completed", None,
     f"the deployment {NEW} failed (circuit breaker); ECS runs {OLD_TD} ({BACK})", NEW),
    ("UPDATE_COMPLETE", "ours-vanished-rollback-in-progress", None,
     f"the deployment {NEW} vanished; ECS runs {OLD_TD} ({BACK}) and is still rolling it out",
     None),
    ("UPDATE_COMPLETE", "ours-replaced-by-another-image", None,
     f"the deployment {NEW} was replaced; ECS runs {OTHER_TD} ({OTHER})", NEW),
    ("UPDATE_COMPLETE", "ours-failed-no-rollback", None,
     f"the deployment {NEW} failed and nothing rolled it back (tasks failed to start)", NEW),
    ("UPDATE_COMPLETE", "ours-failed-no-rollback-no-reason", None,
     f"the deployment {NEW} failed and nothing rolled it back", NEW),
    ("UPDATE_COMPLETE", "ours-in-progress", None,
     f"the deployment {NEW} is IN_PROGRESS (1 of 2 running)", NEW),
    ("UPDATE_COMPLETE", "ours-completed-short-of-desired", None,
     f"the deployment {NEW} is COMPLETED with 1 of 2 running", NEW),
    ("UPDATE_COMPLETE", "ours-completed", TargetHealth(healthy=1, unhealthy=1),
     "1 of 2 targets healthy", NEW),
    ("UPDATE_COMPLETE", "ours-replaced-same-task-definition", TargetHealth(healthy=1),
     "1 of 2 targets healthy", FORCED),
    ("UPDATE_COMPLETE", "ours-completed", None,
     f"the deployment {NEW} is COMPLETED (2 of 2 running)", NEW),
]


@pytest.mark.parametrize(("stack", "case", "health", "reason", "deployment"), REASONS)
def test_the_reason_says_what_happened(stack: str, case: str, health: TargetHealth | None,
                                       reason: str, deployment: str | None) -> None:
    verdict = judge(look(stack, ECS[case], health))
    assert verdict.reason == reason
    assert (verdict.deployment.id if verdict.deployment else None) == deployment


BY_ECS_ALONE = [
    # A stack rolled back by some earlier update says nothing about a deployment that no
    # stack update started: judge it by ECS.
    pytest.param("ours-completed", Kind.STABLE, id="completed"),
    pytest.param("ours-in-progress", Kind.WAIT, id="in-progress"),
    pytest.param("ours-active-failed-rollback-completed", Kind.ROLLED_BACK,
                 id="rolled-back-by-ecs"),
    pytest.param("ours-failed-no-rollback", Kind.FAILED, id="failed"),
]


@pytest.mark.parametrize(("case", "expected"), BY_ECS_ALONE)
def test_judged_by_ecs_alone_under_a_rolled_back_stack(case: str, expected: Kind) -> None:
    assert judge(look("UPDATE_ROLLBACK_COMPLETE", ECS[case], by_ecs_alone=True)).kind \
        is expected


@pytest.mark.parametrize("case", sorted(ECS))
def test_a_verdict_names_the_deployment_it_judged(case: str) -> None:
    ecs = ECS[case]
    verdict = judge(look("UPDATE_COMPLETE", ecs))
    ids = {dep.id for dep in ecs.deployments}
    if verdict.deployment is not None:
        assert verdict.deployment.id in ids
        assert verdict.deployment.task_definition == ecs.task_definition
    if verdict.kind is Kind.STABLE:
        assert verdict.deployment is not None
        assert verdict.deployment.status == "PRIMARY"


@pytest.mark.parametrize("state", list(StackState))
def test_every_stack_state_has_a_phase(state: StackState) -> None:
    assert stack_phase(state) == state.value


def test_pick_then_judge_over_a_whole_rollout() -> None:
    """A circuit-breaker rollout as ECS shows it, look by look: never STABLE."""
    looks = [
        ("UPDATE_IN_PROGRESS", [d(OLD, "PRIMARY", OLD_TD, "COMPLETED")]),
        ("UPDATE_IN_PROGRESS", [d(NEW, "PRIMARY", NEW_TD, "IN_PROGRESS", running=0),
                                d(OLD, "ACTIVE", OLD_TD, "COMPLETED")]),
        ("UPDATE_IN_PROGRESS", [d(BACK, "PRIMARY", OLD_TD, "IN_PROGRESS", running=1),
                                d(NEW, "ACTIVE", NEW_TD, "FAILED", running=0)]),
        ("UPDATE_ROLLBACK_IN_PROGRESS", [d(BACK, "PRIMARY", OLD_TD, "COMPLETED")]),
        ("UPDATE_ROLLBACK_COMPLETE", [d(BACK, "PRIMARY", OLD_TD, "COMPLETED")]),
    ]
    followed: str | None = None
    task_definition: str | None = None
    kinds = []
    for stack, deployments in looks:
        if followed is None:
            found = pick(deployments, BEFORE)
            if found is not None:
                followed, task_definition = found.id, found.task_definition
        verdict = judge(Look(stack_phase(reduce_status(stack)), deployments, followed,
                             task_definition, TargetHealth(healthy=2)))
        kinds.append(verdict.kind)
    assert followed == NEW
    assert kinds == [Kind.WAIT] * 4 + [Kind.ROLLED_BACK]


# -- bookkeeping: settle ---------------------------------------------------------------------

IMG1, IMG2, IMG3 = "repo@sha256:" + "1" * 64, "repo@sha256:" + "2" * 64, "repo@sha256:" + "3" * 64


def rel(rid: str, image: str, outcome: Outcome, *, minute: int = 0,
        reason: str | None = None) -> Release:
    return Release(id=rid, image=image, digest=image.split("@")[1] if "@" in image else None,
                   tags=(), deployed_at=T0 + dt.timedelta(minutes=minute), deployed_by="arn",
                   outcome=outcome, reason=reason)


P = Outcome.IN_PROGRESS
SETTLES = [
    # (newest entry's image, the stack's phase and image, minutes from release to the
    #  stack's last update (None: unknown), expected outcome)
    pytest.param("complete", IMG2, 1, Outcome.STABLE, id="completed-on-its-image"),
    pytest.param("complete", IMG2, 0, Outcome.STABLE, id="updated-the-same-second"),
    pytest.param("complete", IMG1, 1, P, id="completed-on-another-image-unknown"),
    pytest.param("rolled back", IMG1, 1, Outcome.ROLLED_BACK, id="rolled-back"),
    pytest.param("complete", IMG2, -1, P, id="a-look-older-than-the-release"),
    pytest.param("rolled back", IMG1, -1, P, id="an-older-rollback-says-nothing"),
    pytest.param("complete", IMG2, None, P, id="never-updated"),
    pytest.param("failed", IMG1, 1, P, id="failed-stack-unknown"),
]


@pytest.mark.parametrize(("phase", "image", "after", "expected"), SETTLES)
def test_settle(phase: str, image: str, after: int | None, expected: Outcome) -> None:
    releases = [rel("r2", IMG2, P, minute=10), rel("r1", IMG1, Outcome.STABLE)]
    updated = None if after is None else T0 + dt.timedelta(minutes=10 + after)
    out = settle(releases, phase=phase, image=image, updated=updated)  # type: ignore[arg-type]
    assert [r.outcome for r in out] == [expected, Outcome.STABLE]
    assert out[1] == releases[1]
    if expected is P:
        assert out[0] == releases[0]  # untouched: no "outcome unknown" written
    else:
        assert out[0].finished_at is not None
    if expected is Outcome.STABLE:
        assert out[0].reason is None


def test_settle_touches_only_the_newest_entry() -> None:
    releases = [rel("r3", IMG3, Outcome.STABLE, minute=20), rel("r2", IMG2, P, minute=10)]
    later = T0 + dt.timedelta(hours=1)
    assert settle(releases, phase="complete", image=IMG2, updated=later) == releases
    assert settle([], phase="complete", image=IMG2, updated=later) == []


def test_mark_changes_only_its_entry() -> None:
    releases = [rel("r2", IMG2, P), rel("r1", IMG1, Outcome.STABLE)]
    out = mark("r2", Outcome.ROLLED_BACK, "why")(releases)
    assert (out[0].outcome, out[0].reason) == (Outcome.ROLLED_BACK, "why")
    assert out[0].finished_at is not None
    assert out[1] == releases[1]


# -- bookkeeping: reconcile with what ECS serves ---------------------------------------------

TD = "arn:aws:ecs:eu-west-1:1:task-definition/web:7"
TAGGED = "repo:v2"  # how ecs-deploy names an image


def seen(image: str, digest: str | None, stack_image: str | None = IMG1) -> Seen:
    return Seen(image=image, digest=digest, since=T0, task_definition=TD,
                stack_image=stack_image)


D2 = IMG2.split("@")[1]
RECONCILES = [
    # (history, what serves, expected (outcome, image) of each entry, or None: no change)
    pytest.param([rel("r1", IMG1, Outcome.STABLE)], seen(IMG1, None), None,
                 id="the-stable-one-serves"),
    pytest.param([rel("r2", IMG2, P), rel("r1", IMG1, Outcome.STABLE)], seen(IMG2, D2),
                 [(Outcome.STABLE, IMG2), (Outcome.STABLE, IMG1)],
                 id="an-unfollowed-release-now-serving"),
    pytest.param([rel("r2", IMG2, P), rel("r1", IMG1, Outcome.STABLE)], seen(IMG1, None),
                 None, id="an-unfollowed-release-not-serving-stays-unknown"),
    pytest.param([rel("r1", IMG1, Outcome.STABLE)], seen(TAGGED, D2),
                 [(Outcome.STABLE, TAGGED), (Outcome.STABLE, IMG1)],
                 id="an-outside-release"),
    pytest.param([rel("r2", IMG2, Outcome.STABLE)], seen(TAGGED, D2), None,
                 id="the-same-digest-by-tag"),
    pytest.param([rel("r2", IMG2, Outcome.ROLLED_BACK), rel("r1", IMG1, Outcome.STABLE)],
                 seen(IMG1, None), None, id="after-a-rollback"),
    pytest.param([rel("r2", IMG2, Outcome.ROLLED_BACK), rel("r1", IMG1, Outcome.STABLE)],
                 seen(IMG2, D2), [(Outcome.STABLE, IMG2), (Outcome.ROLLED_BACK, IMG2),
                                  (Outcome.STABLE, IMG1)],
                 id="a-rolled-back-image-set-again-outside"),
    pytest.param([], seen(IMG1, None, stack_image=IMG1), None,
                 id="the-stacks-own-image-before-any-deploy"),
    pytest.param([], seen(IMG2, D2, stack_image=IMG1), [(Outcome.STABLE, IMG2)],
                 id="an-outside-image-before-any-deploy"),
    pytest.param([], seen(IMG2, D2, stack_image=None), [(Outcome.STABLE, IMG2)],
                 id="an-outside-image-on-a-stack-without-one"),
    pytest.param([rel("r1", IMG1, Outcome.STABLE)], seen(IMG1, None, stack_image=IMG2),
                 None, id="the-stack-drifted-but-history-knows"),
]


@pytest.mark.parametrize(("history", "what", "expected"), RECONCILES)
def test_reconcile(history: list[Release], what: Seen,
                   expected: list[tuple[Outcome, str]] | None) -> None:
    out = reconcile(history, what)
    if expected is None:
        assert out is None
        return
    assert out is not None
    assert [(r.outcome, r.image) for r in out] == expected
    added = [r for r in out if r.id not in {h.id for h in history}]
    for r in added:  # an outside entry: no one known, ECS's time, the digest
        assert r.deployed_by is None
        assert r.deployed_at == T0
        assert r.digest == what.digest
        assert r.reason is not None
        assert OUTSIDE in r.reason
        assert "web:7" in r.reason
    for r in out:
        if r.outcome is Outcome.STABLE and r.id in {h.id for h in history}:
            assert r.reason is None


def test_reconcile_is_idempotent() -> None:
    history = [rel("r1", IMG1, Outcome.STABLE)]
    once = reconcile(history, seen(TAGGED, D2))
    assert once is not None
    assert reconcile(once, seen(TAGGED, D2)) is None


@pytest.mark.parametrize(("a", "b", "same"), [
    ((IMG1, None), (IMG1, None), True),
    ((IMG1, D2), (TAGGED, D2), True),
    ((TAGGED, None), ("repo:v3", None), False),
    ((TAGGED, None), (IMG2, D2), False),
    ((IMG1, "x"), (IMG2, None), False),
])
def test_same_image(a: tuple[str, str | None], b: tuple[str, str | None], same: bool) -> None:
    assert same_image(*a, *b) is same
    assert same_image(*b, *a) is same


def test_tables_cover_the_state_tables() -> None:
    """Each rolloutState (and its absence), each deployment status, a rollback deployment
    and a vanished one appear in the ECS pictures; every update status in the stack list."""
    rollouts = {dep.rollout_state for e in ECS.values() for dep in e.deployments}
    statuses = {dep.status for e in ECS.values() for dep in e.deployments}
    assert rollouts == {"IN_PROGRESS", "COMPLETED", "FAILED", None}
    assert statuses == {"PRIMARY", "ACTIVE", "INACTIVE"}
    assert any(e.rolled_back_by_ecs for e in ECS.values())
    assert any(e.followed not in {dep.id for dep in e.deployments} and e.followed
               for e in ECS.values())
    states = {reduce_status(s) for s in STACKS}
    assert states == set(StackState)


FROM_API = [
    pytest.param({"id": NEW, "status": "PRIMARY", "taskDefinition": NEW_TD,
                  "rolloutState": "FAILED", "rolloutStateReason": "breaker",
                  "desiredCount": 2, "runningCount": 1, "pendingCount": 1, "failedTasks": 3,
                  "createdAt": T0},
                 EcsDeployment(NEW, "PRIMARY", NEW_TD, "FAILED", "breaker", 2, 1, 1, 3, T0),
                 id="every-field"),
    pytest.param({"id": NEW},
                 EcsDeployment(NEW, "", "", None, None, 0, 0, 0, 0, None),
                 id="a-missing-rollout-state-stays-missing"),
]


@pytest.mark.parametrize(("raw", "expected"), FROM_API)
def test_a_deployment_from_the_api(raw: dict[str, object], expected: EcsDeployment) -> None:
    assert EcsDeployment.from_api(raw) == expected
