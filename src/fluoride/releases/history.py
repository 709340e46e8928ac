"""Release history: which image was deployed, when, by whom, and how it ended.

The history is one small JSON document in the stack's access-log bucket
(``fluoride/releases.json``), so it lives in AWS, is owned by the stack (removed with it),
and every user of the service sees the same one. Writes are S3 conditional writes
(``If-Match`` on the ETag read, ``If-None-Match: *`` for the first one): two people
deploying at once never lose each other's entry; the loser reads again and retries after
a jittered backoff (so writers that collided once do not collide again in lock step), a
bounded number of times. A write whose answer was lost (a dropped connection) is retried
the same way: every edit is applied to what is read again, and entries are unique by id,
so repeating one never duplicates an entry.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import botocore.exceptions
import cattrs

from fluoride._release import Outcome, Release
from fluoride.aws import Aws, client_error_code, translate
from fluoride.errors import AwsError
from fluoride.waiting import describe_fault, is_transient, jittered_backoff

__all__ = ["HISTORY_KEY", "HISTORY_LIMIT", "Outcome", "Release", "ReleaseHistory", "new_id"]

HISTORY_KEY = "fluoride/releases.json"
#: Entries kept; older ones are dropped on the next write.
HISTORY_LIMIT = 100
_FORMAT = 1
#: Attempts at one change before giving up (conflicts and transient faults together).
WRITE_ATTEMPTS = 10
#: Backoff between attempts: a random share of 0.05 s, 0.1 s, 0.2 s, ... up to 2 s.
_BACKOFF_BASE, _BACKOFF_CAP = 0.05, 2.0
#: Someone else wrote since we read (``NoSuchKey``: the object was deleted since).
_CONFLICT = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409", "NoSuchKey"}


def new_id() -> str:
    """A fresh release id."""
    return uuid.uuid4().hex[:12]


def _unique(releases: Sequence[Release]) -> list[Release]:
    seen: set[str] = set()
    out = []
    for r in releases:
        if r.id and r.id in seen:
            continue
        seen.add(r.id)
        out.append(r)
    return out


def _converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    conv.register_unstructure_hook(dt.datetime, lambda d: d.isoformat())
    conv.register_structure_hook(dt.datetime, lambda s, _: dt.datetime.fromisoformat(s))
    return conv


_CONVERTER = _converter()


@attrs.define
class ReleaseHistory:
    """The release history of one service, newest first, at most ``limit`` entries.

    Attributes:
        aws: the AWS seam.
        bucket: the stack's access-log bucket (output ``AccessLogBucketName``).
        key: the object holding the history.
        limit: how many entries are kept.
        sleep, rng: how a retry waits and draws its jitter (tests inject both).
    """

    aws: Aws = attrs.field(repr=False)
    bucket: str
    key: str = HISTORY_KEY
    limit: int = HISTORY_LIMIT
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, repr=False)
    rng: Callable[[], float] = attrs.field(default=random.random, repr=False)
    #: what this handle last read or wrote, with its ETag: the next change tries a
    #: conditional write on it first and reads again only when someone else wrote since
    _known: tuple[list[Release], str] | None = attrs.field(default=None, init=False,
                                                          repr=False)

    @property
    def _where(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def load(self) -> list[Release]:
        """Every release, newest first (empty before the first deploy).

        A read is safe to repeat: a transient fault is retried like a conflicting write.
        """
        delays = jittered_backoff(_BACKOFF_BASE, _BACKOFF_CAP, rng=self.rng)
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return self._read()[0]
            except Exception as exc:  # only transient faults are retried; the rest re-raised
                if not is_transient(exc) or attempt == WRITE_ATTEMPTS - 1:
                    raise
                self.sleep(next(delays))
        raise AssertionError("unreachable")  # pragma: no cover

    def remove(self, release_id: str) -> None:
        """Drop the entry ``release_id`` (a deployment that never started); no-op when gone."""
        self.change(lambda releases: [r for r in releases if r.id != release_id])

    def update(self, release_id: str, **changes: Any) -> Release | None:
        """Change fields of the entry ``release_id``; returns it, or ``None`` when gone."""
        updated: list[Release] = []

        def apply(releases: list[Release]) -> list[Release]:
            updated.clear()
            out = []
            for r in releases:
                if r.id == release_id:
                    r = attrs.evolve(r, **changes)
                    updated.append(r)
                out.append(r)
            return out

        self.change(apply)
        return updated[0] if updated else None

    def change(self, edit: Callable[[list[Release]], list[Release]]) -> list[Release]:
        """Read, ``edit`` and write back with a conditional write, retrying on a conflict.

        ``edit`` may run more than once (on what was read again), so it must be a function
        of what it is given. Entries are kept unique by id (the first one wins). Returns the
        history as written. Raises :class:`AwsError` when other writers or faults win every
        one of :data:`WRITE_ATTEMPTS` attempts.
        """
        delays = jittered_backoff(_BACKOFF_BASE, _BACKOFF_CAP, rng=self.rng)
        last: BaseException | None = None
        for attempt in range(WRITE_ATTEMPTS):
            if attempt:
                self.sleep(next(delays))
            try:
                releases, etag = self._known if self._known is not None else self._read()
                self._known = None
                wanted = _unique(edit(list(releases)))[: self.limit]
                if self._write(wanted, etag):
                    return wanted
            except Exception as exc:  # only transient faults are retried; the rest re-raised
                if not is_transient(exc):
                    raise
                self._known = None  # the write may have landed: read again
                last = exc
        raise AwsError(
            f"Could not update the release history {self._where}: it kept changing"
            + (f" or failing ({describe_fault(last)})." if last is not None else "."),
            operation="PutObject",
            resource=self._where,
            hint="Someone else is deploying this service right now; try again shortly.",
        ) from last

    def _read(self) -> tuple[list[Release], str | None]:
        s3 = self.aws.client("s3")
        with translate("GetObject", self._where):
            try:
                got = s3.get_object(Bucket=self.bucket, Key=self.key)
            except botocore.exceptions.ClientError as exc:
                if client_error_code(exc) in ("NoSuchKey", "404"):
                    return [], None
                raise
            body = got["Body"].read()
        releases, etag = self._decode(body), got.get("ETag")
        if etag:
            self._known = (releases, etag)
        return releases, etag

    def _decode(self, body: bytes) -> list[Release]:
        try:
            doc = json.loads(body)
            if doc.get("format") != _FORMAT:
                raise ValueError(f"unknown format {doc.get('format')!r}")
            return _CONVERTER.structure(doc["releases"], list[Release])
        except (ValueError, KeyError, TypeError, AttributeError, cattrs.BaseValidationError) as exc:
            raise AwsError(
                f"The release history {self._where} cannot be read: {exc}",
                resource=self._where,
                hint="Upgrade fluoride if another version wrote it; otherwise delete the object "
                "(the history starts again).",
            ) from exc

    def _write(self, releases: Sequence[Release], etag: str | None) -> bool:
        doc = {"format": _FORMAT, "releases": _CONVERTER.unstructure(list(releases))}
        body = json.dumps(doc, indent=1).encode()
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        with translate("PutObject", self._where):
            try:
                put = self.aws.client("s3").put_object(
                    Bucket=self.bucket,
                    Key=self.key,
                    Body=body,
                    ContentType="application/json",
                    **condition,  # type: ignore[arg-type]  # one of two typed keys
                )
            except botocore.exceptions.ClientError as exc:
                if client_error_code(exc) in _CONFLICT:
                    return False
                raise
        if put.get("ETag"):
            self._known = (list(releases), put["ETag"])
        return True
