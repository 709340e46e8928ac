"""A release: one deployment of an image to a service, and how it ended.

A plain value shared by the layers (history, deployment, errors), so it lives at the base.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import SupportsIndex, overload

import attrs

from fluoride._display import compact, fit, html_fields, html_table, plural, truncate

__all__ = ["Outcome", "Release", "ReleaseList"]


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

    @property
    def what(self) -> str:
        """What was deployed, in words: the image (``short``), or for a settings change
        the change."""
        if self.kind == "settings":
            return f"settings: {self.change}" if self.change else "settings"
        return self.short + (" (rollback)" if self.rollback else "")

    def __repr__(self) -> str:
        return compact("Release", fit((
            self.what, self.outcome.value, _when(self.deployed_at),
            truncate(self.reason, 50) if self.reason else None)))

    def _repr_html_(self) -> str:
        """A small table for notebooks (Jupyter calls this to show the value)."""
        return html_fields((
            ("outcome", self.outcome.value),
            ("image", self.image),
            ("tags", ", ".join(self.tags) or None),
            ("digest", self.digest),
            ("change", self.change),
            ("deployed", _when(self.deployed_at)),
            ("finished", _when(self.finished_at) if self.finished_at else None),
            ("by", self.deployed_by),
            ("reason", self.reason),
            ("rollback", "yes" if self.rollback else None),
            ("id", self.id),
        ), caption=f"Release {self.what}")


def _when(moment: dt.datetime | None) -> str:
    """``2026-12-01 02:30:05 UTC`` (or as given when naive)."""
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class ReleaseList(list[Release]):
    """A service's releases, newest first (what :meth:`Service.history` returns): a list
    that a notebook shows as a table.

    .. versionadded:: 0.3
    """

    def __init__(self, releases: Iterable[Release] = ()) -> None:
        super().__init__(releases)

    @overload
    def __getitem__(self, index: SupportsIndex) -> Release: ...
    @overload
    def __getitem__(self, index: slice) -> ReleaseList: ...
    def __getitem__(self, index: SupportsIndex | slice) -> Release | ReleaseList:
        """A release, or for a slice (``history[:5]``) a :class:`ReleaseList` again."""
        if isinstance(index, slice):
            return ReleaseList(super().__getitem__(index))
        return super().__getitem__(index)

    @property
    def serving(self) -> Release | None:
        """The newest stable release (the one serving, as the history knows it)."""
        return next((r for r in self if r.outcome is Outcome.STABLE), None)

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """One row per release: deployed, what, outcome, by, reason."""
        return [(_when(r.deployed_at), r.what, r.outcome.value,
                 (r.deployed_by or "").rsplit("/", 1)[-1], r.reason or "") for r in self]

    def __repr__(self) -> str:
        if not self:
            return "<ReleaseList: no releases yet>"
        serving = self.serving
        newest = self[0]
        return compact("ReleaseList", fit((
            plural(len(self), "release"),
            f"serving {serving.what}" if serving is not None else "none serving",
            None if newest is serving else f"newest {newest.what} {newest.outcome.value}",
        )))

    def _repr_html_(self) -> str:
        """A table for notebooks, newest first."""
        caption = plural(len(self), "release") + ", newest first"
        return html_table(("deployed", "release", "outcome", "by", "reason"), self.rows(),
                          caption=caption)
