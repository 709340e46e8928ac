"""A release: one deployment of an image to a service, and how it ended.

A plain value shared by the layers (history, deployment, errors), so it lives at the base.
"""

from __future__ import annotations

import datetime as dt
import enum

import attrs

__all__ = ["Outcome", "Release"]


class Outcome(enum.Enum):
    """How a release ended (or that it has not yet)."""

    IN_PROGRESS = "in progress"  #: the deployment is running (or nobody has followed it)
    STABLE = "stable"  #: it reached COMPLETED with its targets healthy, and served
    ROLLED_BACK = "rolled back"  #: ECS or CloudFormation undid it; the previous one serves
    TIMED_OUT = "timed out"  #: the deadline passed; Fluoride cancelled it
    CANCELLED = "cancelled"  #: ``rollback()`` cancelled it while it ran
    FAILED = "failed"  #: it could not start or could not be undone; see ``reason``


@attrs.frozen
class Release:
    """One deployment of an image to a service.

    Attributes:
        id: a unique id of this history entry.
        image: the full image reference deployed (``repo@sha256:...`` for ECR images).
        digest: the image digest (``sha256:...``), or ``None`` for another registry's tag.
        tags: the image's tags when it was deployed.
        deployed_at: when the deployment started (UTC).
        deployed_by: the ARN of the identity that started it, or ``None`` when unknown
            (an image set outside Fluoride).
        outcome: how it ended, see :class:`Outcome`.
        reason: why it failed or was rolled back.
        finished_at: when its outcome was decided.
        rollback: whether :meth:`Service.rollback` deployed it.
        kind: ``image`` (a deploy or rollback) or ``settings`` (an :meth:`Service.update`
            that restarted the tasks with the same image; ``change`` says what changed).
        change: for ``settings``: the changed settings, e.g. ``memory: 512 -> 1024``.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 ``kind`` and ``change``.
    """

    id: str
    image: str
    digest: str | None
    tags: tuple[str, ...]
    deployed_at: dt.datetime
    deployed_by: str | None
    outcome: Outcome
    reason: str | None = None
    finished_at: dt.datetime | None = None
    rollback: bool = False
    kind: str = "image"
    change: str | None = None

    @property
    def tag(self) -> str | None:
        """The first tag, for display."""
        return self.tags[0] if self.tags else None

    @property
    def short(self) -> str:
        """``tag (sha256:abcdef123456)``, or the reference when there is no digest."""
        if self.digest is None:
            return self.image
        short = self.digest[:19]
        return f"{self.tag} ({short})" if self.tag else short
