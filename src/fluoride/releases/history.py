"""Release history: which image was deployed, when, by whom, and how it ended.

The history is one small JSON document in the stack's access-log bucket
(``fluoride/releases.json``), so it lives in AWS, is owned by the stack (removed with it),
and every user of the service sees the same one. Writes are S3 conditional writes
(``If-Match`` on the ETag read, ``If-None-Match: *`` for the first one): two people
deploying at once never lose each other's entry; the loser reads again and retries.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import botocore.exceptions
import cattrs

from fluoride._release import Outcome, Release
from fluoride.aws import Aws, client_error_code, translate
from fluoride.errors import AwsError

__all__ = ["HISTORY_KEY", "HISTORY_LIMIT", "Outcome", "Release", "ReleaseHistory", "new_id"]

HISTORY_KEY = "fluoride/releases.json"
#: Entries kept; older ones are dropped on the next write.
HISTORY_LIMIT = 100
_FORMAT = 1
_WRITE_ATTEMPTS = 8
_CONFLICT = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


def new_id() -> str:
    """A fresh release id."""
    return uuid.uuid4().hex[:12]


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
    """

    aws: Aws = attrs.field(repr=False)
    bucket: str
    key: str = HISTORY_KEY
    limit: int = HISTORY_LIMIT
    #: what this handle last read or wrote, with its ETag: the next change tries a
    #: conditional write on it first and reads again only when someone else wrote since
    _known: tuple[list[Release], str] | None = attrs.field(default=None, init=False,
                                                          repr=False)

    @property
    def _where(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def load(self) -> list[Release]:
        """Every release, newest first (empty before the first deploy)."""
        return self._read()[0]

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

        Returns the history as written. Raises :class:`AwsError` when other writers win
        every attempt (which takes many people deploying the same service at once).
        """
        for _ in range(_WRITE_ATTEMPTS):
            releases, etag = self._known if self._known is not None else self._read()
            self._known = None
            wanted = edit(list(releases))[: self.limit]
            if self._write(wanted, etag):
                return wanted
        raise AwsError(
            f"Could not update the release history {self._where}: it kept changing.",
            operation="PutObject",
            resource=self._where,
            hint="Someone else is deploying this service right now; try again shortly.",
        )

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
