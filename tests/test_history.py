"""The release history store on the emulator's S3: order, bound, conditional writes."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import threading
from typing import Any

import boto3
import botocore.exceptions
import pytest

from fluoride import Fluoride
from fluoride.aws import Aws
from fluoride.errors import AwsError
from fluoride.releases.history import (
    HISTORY_KEY,
    WRITE_ATTEMPTS,
    Outcome,
    Release,
    ReleaseHistory,
)

_buckets = itertools.count()


def release(n: int, outcome: Outcome = Outcome.STABLE) -> Release:
    digest = "sha256:" + f"{n:x}" * 64
    return Release(
        id=f"r{n}", image=f"repo@{digest[:71]}", digest=digest[:71], tags=(f"v{n}",),
        deployed_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=n),
        deployed_by="arn:aws:iam::123456789012:user/alice", outcome=outcome,
    )


def add(store: ReleaseHistory, new: Release) -> None:
    """Record ``new`` as the newest entry, as a deployment does (through ``change``)."""
    store.change(lambda releases: [new, *releases])


@pytest.fixture
def bucket(fl: Any) -> str:
    name = f"history-{next(_buckets)}"
    fl.aws.client("s3").create_bucket(Bucket=name)
    return str(name)


@pytest.fixture
def store(fl: Any, bucket: str) -> ReleaseHistory:
    return ReleaseHistory(fl.aws, bucket)


def other_client(fl: Fluoride) -> Aws:
    """A second user: another session (own credentials and connection pool)."""
    session = boto3.Session(aws_access_key_id="bob", aws_secret_access_key="bob",
                            region_name=fl.region)
    return Aws(session=session, endpoint_url=fl.endpoint_url)


def test_empty_before_the_first_deploy(store: ReleaseHistory) -> None:
    assert store.load() == []


def test_newest_first_and_round_trips(store: ReleaseHistory) -> None:
    add(store, release(1))
    add(store, release(2, Outcome.ROLLED_BACK))
    loaded = store.load()
    assert loaded == [release(2, Outcome.ROLLED_BACK), release(1)]
    assert loaded[0].deployed_at.tzinfo is not None


def test_bounded(fl: Any, bucket: str) -> None:
    store = ReleaseHistory(fl.aws, bucket, limit=3)
    for n in range(5):
        add(store, release(n))
    assert [r.id for r in store.load()] == ["r4", "r3", "r2"]


def test_update_changes_one_entry(store: ReleaseHistory) -> None:
    add(store, release(1, Outcome.IN_PROGRESS))
    add(store, release(2, Outcome.IN_PROGRESS))
    done = store.update("r1", outcome=Outcome.TIMED_OUT, reason="slow")
    assert done is not None
    assert (done.outcome, done.reason) == (Outcome.TIMED_OUT, "slow")
    assert [r.outcome for r in store.load()] == [Outcome.IN_PROGRESS, Outcome.TIMED_OUT]
    assert store.update("nope", outcome=Outcome.STABLE) is None


def test_two_users_see_one_history(fl: Any, bucket: str) -> None:
    alice = ReleaseHistory(fl.aws, bucket)
    bob = ReleaseHistory(other_client(fl), bucket)
    add(alice, release(1))
    add(bob, release(2))
    assert [r.id for r in alice.load()] == ["r2", "r1"]
    assert alice.load() == bob.load()


def test_a_concurrent_write_is_not_lost(fl: Any, bucket: str) -> None:
    alice = ReleaseHistory(fl.aws, bucket)
    bob = ReleaseHistory(other_client(fl), bucket)
    add(alice, release(1))
    attempts = []

    def edit(releases: list[Release]) -> list[Release]:
        attempts.append(len(releases))
        if len(attempts) == 1:
            add(bob, release(2))  # lands between alice's read and her write
        return [release(3), *releases]

    written = alice.change(edit)
    assert attempts == [1, 2]  # the first write was refused and she read again
    assert [r.id for r in written] == ["r3", "r2", "r1"]
    assert store_ids(alice) == ["r3", "r2", "r1"]


def test_the_first_write_is_conditional_too(fl: Any, bucket: str) -> None:
    alice = ReleaseHistory(fl.aws, bucket)
    bob = ReleaseHistory(other_client(fl), bucket)
    first: list[int] = []

    def edit(releases: list[Release]) -> list[Release]:
        if not first:
            first.append(1)
            add(bob, release(2))  # bob creates the object after alice found none
        return [release(1), *releases]

    alice.change(edit)
    assert store_ids(alice) == ["r1", "r2"]


def store_ids(store: ReleaseHistory) -> list[str]:
    return [r.id for r in store.load()]


def test_an_unreadable_history_is_a_clear_error(fl: Any, store: ReleaseHistory) -> None:
    fl.aws.client("s3").put_object(Bucket=store.bucket, Key=HISTORY_KEY, Body=b"{not json")
    with pytest.raises(AwsError, match="cannot be read") as err:
        store.load()
    assert "delete the object" in (err.value.hint or "")


def test_a_newer_format_is_not_overwritten(fl: Any, store: ReleaseHistory) -> None:
    fl.aws.client("s3").put_object(Bucket=store.bucket, Key=HISTORY_KEY,
                                   Body=b'{"format": 2, "releases": []}')
    with pytest.raises(AwsError, match="unknown format 2"):
        add(store, release(1))


def test_three_clients_writing_at_once_lose_nothing(fl: Any, bucket: str) -> None:
    stores = [ReleaseHistory(fl.aws, bucket), ReleaseHistory(other_client(fl), bucket),
              ReleaseHistory(other_client(fl), bucket)]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def write(k: int, store: ReleaseHistory) -> None:
        barrier.wait()
        try:
            for n in range(8):
                add(store, release(10 * k + n))
        except BaseException as exc:  # reported below; a thread must not die silently
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k, s)) for k, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    ids = store_ids(stores[0])
    assert sorted(ids) == sorted(f"r{10 * k + n}" for k in range(3) for n in range(8))
    for k in range(3):  # each writer's entries keep their order
        own = [i for i in ids if int(i[1:]) // 10 == k]
        assert own == sorted(own, key=lambda i: -int(i[1:]))


class _AlwaysConflicting:
    """An S3 stand-in whose conditional writes always lose (someone else always wrote)."""

    def __init__(self) -> None:
        self.puts = 0

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        body = json.dumps({"format": 1, "releases": []}).encode()
        return {"Body": io.BytesIO(body), "ETag": '"e"'}

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        self.puts += 1
        raise botocore.exceptions.ClientError(
            {"Error": {"Code": "PreconditionFailed", "Message": "no"}}, "PutObject")


class _FakeAws:
    def __init__(self, s3: object) -> None:
        self.s3 = s3

    def client(self, name: str) -> object:
        return self.s3


def test_conflicts_back_off_with_jitter_and_give_up_after_the_bound() -> None:
    s3 = _AlwaysConflicting()
    sleeps: list[float] = []
    store = ReleaseHistory(_FakeAws(s3), "b", sleep=sleeps.append,  # type: ignore[arg-type]
                           rng=lambda: 0.5)
    with pytest.raises(AwsError, match="kept changing"):
        add(store, release(1))
    assert s3.puts == WRITE_ATTEMPTS
    # Half (the injected jitter) of 0.05 s doubling per attempt, capped at 2 s.
    assert sleeps == [0.5 * min(2.0, 0.05 * 2**n) for n in range(WRITE_ATTEMPTS - 1)]


def test_the_jitter_is_random_not_lock_step() -> None:
    s3 = _AlwaysConflicting()
    sleeps: list[float] = []
    draws = iter([0.0, 1.0, 0.25] * 10)
    store = ReleaseHistory(_FakeAws(s3), "b", sleep=sleeps.append,  # type: ignore[arg-type]
                           rng=lambda: next(draws))
    with pytest.raises(AwsError):
        add(store, release(1))
    assert sleeps[:3] == [0.0, 0.1, 0.05]


class _LostAnswer(_AlwaysConflicting):
    """The first write lands but its answer is lost; later reads see it."""

    def __init__(self) -> None:
        super().__init__()
        self.body = json.dumps({"format": 1, "releases": []}).encode()

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.body), "ETag": f'"{self.puts}"'}

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        self.puts += 1
        if kwargs.get("IfMatch") != f'"{self.puts - 1}"':
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "PreconditionFailed", "Message": "no"}}, "PutObject")
        self.body = kwargs["Body"]
        if self.puts == 1:
            raise botocore.exceptions.ConnectionClosedError(endpoint_url="https://s3")
        return {"ETag": f'"{self.puts}"'}


def test_a_write_whose_answer_was_lost_is_not_doubled() -> None:
    s3 = _LostAnswer()
    store = ReleaseHistory(_FakeAws(s3), "b", sleep=lambda s: None)  # type: ignore[arg-type]
    add(store, release(1))
    assert [r.id for r in store.load()] == ["r1"]


@pytest.mark.parametrize(("kind", "change", "reason", "note"), [
    ("image", None, None, ""),
    ("image", None, "health checks failed", "health checks failed"),
    ("settings", "memory: 512 -> 1024", None, "memory: 512 -> 1024"),
    ("settings", "cpu: 256 -> 512", "rolled back by ECS", "cpu: 256 -> 512; rolled back by ECS"),
    ("image", "ignored for an image release", None, ""),
])
def test_the_history_table_notes_what_changed_and_why(
    kind: str, change: str | None, reason: str | None, note: str
) -> None:
    from fluoride._release import Outcome, Release
    from fluoride.cli.render import release_note

    release = Release(id="r", image="repo@sha256:" + "0" * 64, digest="sha256:" + "0" * 64,
                      tags=("v1",), deployed_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
                      deployed_by=None, outcome=Outcome.STABLE, reason=reason, kind=kind,
                      change=change)
    assert release_note(release) == note
