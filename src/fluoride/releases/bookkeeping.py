"""The release history's bookkeeping: what the history says after a look, as pure edits.

Nothing here reads AWS. :mod:`fluoride.releases.deployment` reads the stack and ECS,
asks these functions how the history should change, and writes it with
:meth:`~fluoride.releases.history.ReleaseHistory.change` (a conditional write).

Two rules:

* An outcome is written only when something was seen. A release nobody followed to the
  end stays ``IN_PROGRESS`` until a later look sees how it ended: the stack settled on
  its image (``STABLE``), the stack rolled back (``ROLLED_BACK``), or ECS serving it,
  COMPLETED (``STABLE``). A look older than the release says nothing about it.
* What ECS serves is the truth. An image set outside Fluoride (ecs-deploy, the console:
  a new task definition and ``UpdateService``) becomes an entry of its own,
  ``deployed_by=None``, with the time ECS started that deployment.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence

import attrs

from fluoride._release import Outcome, Release
from fluoride.releases.verdict import Phase

__all__ = [
    "OUTSIDE",
    "Seen",
    "mark",
    "now",
    "outside_release",
    "reconcile",
    "same_image",
    "settle",
]

#: The reason given to an entry found serving but never deployed by Fluoride.
OUTSIDE = "released outside Fluoride"


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def same_image(image: str, digest: str | None, other: str, other_digest: str | None) -> bool:
    """Whether two references name one image: the same text, or the same digest."""
    return image == other or (digest is not None and digest == other_digest)


@attrs.frozen
class Seen:
    """What ECS serves, settled (its PRIMARY deployment COMPLETED), and what the stack says.

    Attributes:
        image: the image of the serving task definition.
        digest: its digest, when known.
        since: when ECS started serving it (its deployment's creation).
        task_definition: the serving task definition.
        stack_image: the stack's ``Image`` parameter.
    """

    image: str
    digest: str | None
    since: dt.datetime | None
    task_definition: str
    stack_image: str | None


def outside_release(seen: Seen, release_id: str | None = None) -> Release:
    """The entry for an image set outside Fluoride."""
    family = seen.task_definition.rsplit("/", 1)[-1]
    return Release(
        id=release_id or uuid.uuid4().hex[:12], image=seen.image, digest=seen.digest, tags=(),
        deployed_at=seen.since or now(), deployed_by=None, outcome=Outcome.STABLE,
        reason=f"{OUTSIDE} (task definition {family})",
    )


def reconcile(releases: Sequence[Release], seen: Seen) -> list[Release] | None:
    """The history after seeing what ECS serves; ``None`` when it needs no change.

    The newest entry, unfinished and now serving, becomes ``STABLE``. An image that is
    neither the last stable release nor (before any stable release) the stack's own
    becomes an outside entry.
    """

    def serves(r: Release) -> bool:
        return same_image(r.image, r.digest, seen.image, seen.digest)

    if releases and releases[0].outcome is Outcome.IN_PROGRESS and serves(releases[0]):
        done = attrs.evolve(releases[0], outcome=Outcome.STABLE, reason=None,
                            finished_at=now())
        return [done, *releases[1:]]
    last_stable = next((r for r in releases if r.outcome is Outcome.STABLE), None)
    if last_stable is not None and serves(last_stable):
        return None
    if last_stable is None and seen.stack_image is not None and same_image(
        seen.image, seen.digest, seen.stack_image, None
    ):
        return None  # the stack's own image, from before the first deploy (create(image=))
    return [outside_release(seen), *releases]


def settle(
    releases: Sequence[Release], *, phase: Phase, image: str | None,
    updated: dt.datetime | None,
) -> list[Release]:
    """Judge the newest entry, left ``IN_PROGRESS`` (``deploy(wait=False)``), from a
    settled stack, before a new deployment is recorded above it.

    Only a stack update at or after the release's start says anything about it
    (``updated``: the stack's last update); otherwise, and when the stack completed on
    another image, its outcome stays unknown: ``IN_PROGRESS``.
    """
    out = list(releases)
    if not out or out[0].outcome is not Outcome.IN_PROGRESS:
        return out
    r = out[0]
    if updated is None or updated < r.deployed_at:
        return out  # this look predates the release
    if phase == "complete" and r.image == image:
        out[0] = attrs.evolve(r, outcome=Outcome.STABLE, reason=None, finished_at=now())
    elif phase == "rolled back":
        out[0] = attrs.evolve(r, outcome=Outcome.ROLLED_BACK, finished_at=now(),
                              reason="rolled back (found after the fact)")
    return out


def mark(
    release_id: str, outcome: Outcome, reason: str | None
) -> Callable[[list[Release]], list[Release]]:
    """An edit that gives the entry ``release_id`` its outcome and reason."""

    def edit(releases: list[Release]) -> list[Release]:
        return [
            attrs.evolve(r, outcome=outcome, reason=reason, finished_at=now())
            if r.id == release_id else r
            for r in releases
        ]

    return edit
