"""What happens to a service's data stores around delete and create: purge, empty, find.

The template retains the table, bucket and secret when a stack is deleted, so nothing is
lost by accident. :func:`purge_table`, :func:`purge_bucket` and :func:`purge_secret`
remove them for ``delete(purge_data=True)``; :func:`empty_bucket` removes every object
version of a bucket (the access-log bucket is emptied so stack deletion never sticks);
:func:`find_retained` finds stores an earlier ``delete()`` kept, so ``create()`` can
adopt them, and tells them from stores some live stack uses, which it refuses clearly
instead of failing halfway on a name collision.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from fluoride.aws import Aws, client_error_code, translate
from fluoride.errors import AwsError, FluorideError, StoreNotFound, StoresRetained, how
from fluoride.names import (
    DEFAULT_RECOVERY_DAYS,
    SERVICE_TAG,
    secret_name,
    stack_name,
)
from fluoride.stores.data import StoreKind, secret_name_from_arn, store_errors

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

__all__ = [
    "RECOVERY_TAG",
    "ExistingStore",
    "Purged",
    "RetainedStores",
    "bucket_policy",
    "default_store_names",
    "empty_bucket",
    "find_retained",
    "purge_bucket",
    "purge_repository",
    "purge_secret",
    "purge_table",
]

#: S3 DeleteObjects takes at most this many keys per call.
_DELETE_BATCH = 1000


@attrs.frozen
class Purged:
    """A store that was removed.

    Attributes:
        kind: ``"table"``, ``"bucket"``, ``"secret"`` or ``"repository"``.
        name: its name.
        objects: for a bucket, how many object versions and delete markers were removed;
            for a repository, how many images.
        recovery_days: for a secret, the days it stays restorable (``None``: deleted at once).
    """

    kind: StoreKind | Literal["repository"]
    name: str
    objects: int = 0
    recovery_days: int | None = None


def purge_table(aws: Aws, name: str) -> Purged | None:
    """Delete the table ``name`` (turning deletion protection off first if it is on).

    Returns what was removed, or ``None`` when the table does not exist.
    """
    client = aws.client("dynamodb")
    try:
        with store_errors("DescribeTable", "table", name):
            table = client.describe_table(TableName=name)["Table"]
        if table.get("DeletionProtectionEnabled"):
            with store_errors("UpdateTable", "table", name):
                client.update_table(TableName=name, DeletionProtectionEnabled=False)
        with store_errors("DeleteTable", "table", name):
            client.delete_table(TableName=name)
    except StoreNotFound:
        return None
    return Purged("table", name)


def _versions(aws: Aws, name: str) -> Iterator[list[ObjectIdentifierTypeDef]]:
    """Batches of every object version and delete marker of the bucket."""
    pages = aws.client("s3").get_paginator("list_object_versions").paginate(Bucket=name)
    iterator = iter(pages)
    while True:
        with store_errors("ListObjectVersions", "bucket", name):
            page = next(iterator, None)
        if page is None:
            return
        batch: list[ObjectIdentifierTypeDef] = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        for start in range(0, len(batch), _DELETE_BATCH):
            yield batch[start : start + _DELETE_BATCH]


def empty_bucket(aws: Aws, name: str) -> int:
    """Remove every object version and delete marker of bucket ``name``; returns how many.

    Works on versioned and unversioned buckets. Raises :class:`StoreNotFound` when the
    bucket does not exist, and :class:`AwsError` when S3 refuses some of the objects.
    """
    client = aws.client("s3")
    removed = 0
    for batch in _versions(aws, name):
        with store_errors("DeleteObjects", "bucket", name):
            answer = client.delete_objects(Bucket=name, Delete={"Objects": batch, "Quiet": True})
        errors = answer.get("Errors", [])
        if errors:
            first = errors[0]
            raise AwsError(
                f"S3 refused to delete {len(errors)} object(s) of bucket {name!r}, e.g. "
                f"{first.get('Key')!r}: {first.get('Code')}.",
                operation="DeleteObjects",
                resource=name,
                code=first.get("Code"),
                hint="An object lock or a bucket policy may protect them.",
            )
        removed += len(batch)
    return removed


def purge_bucket(aws: Aws, name: str) -> Purged | None:
    """Empty bucket ``name`` (all versions) and delete it.

    Returns what was removed, or ``None`` when the bucket does not exist.
    """
    try:
        removed = empty_bucket(aws, name)
        with store_errors("DeleteBucket", "bucket", name):
            aws.client("s3").delete_bucket(Bucket=name)
    except StoreNotFound:
        return None
    return Purged("bucket", name, objects=removed)


#: The tag the template puts on the secret: the recovery window its spec asked for.
RECOVERY_TAG = "fluoride:recovery-days"
#: The window used when neither the caller nor the secret's tag says otherwise.


def purge_secret(
    aws: Aws, arn: str, recovery_days: int | Literal["tagged"] | None = "tagged"
) -> Purged | None:
    """Delete the secret ``arn`` (an ARN or a name).

    With ``recovery_days`` (7 to 30) the secret stays restorable for that many days
    (``aws secretsmanager restore-secret``) and its name stays taken until then; with
    ``None`` it is deleted at once, even when it is already scheduled for deletion (which
    frees its name for a new secret). ``"tagged"`` (the default) uses the window the
    service's spec chose, read from the secret's ``fluoride:recovery-days`` tag (30 days
    when it has none). Returns what was removed, or ``None`` when the secret does not
    exist, or is already scheduled for deletion and ``recovery_days`` is not ``None``.
    """
    if isinstance(recovery_days, int) and not 7 <= recovery_days <= 30:
        raise FluorideError(
            f"recovery_days={recovery_days} is out of range.",
            hint="Secrets Manager keeps a deleted secret 7 to 30 days; None deletes at once.",
        )
    client = aws.client("secretsmanager")
    name = secret_name_from_arn(arn)
    try:
        with store_errors("DescribeSecret", "secret", name):
            described = client.describe_secret(SecretId=arn)
        if described.get("DeletedDate") is not None and recovery_days is not None:
            return None
        days = _tagged_window(described) if recovery_days == "tagged" else recovery_days
        with store_errors("DeleteSecret", "secret", name):
            if days is None:
                client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
            else:
                client.delete_secret(SecretId=arn, RecoveryWindowInDays=days)
    except StoreNotFound:
        return None
    return Purged("secret", described.get("Name", name), recovery_days=days)


def _tagged_window(described: Mapping[str, Any]) -> int:
    tags = {t.get("Key"): t.get("Value") for t in described.get("Tags", [])}
    try:
        days = int(tags.get(RECOVERY_TAG) or DEFAULT_RECOVERY_DAYS)
    except ValueError:
        return DEFAULT_RECOVERY_DAYS
    return min(max(days, 7), 30)


def purge_repository(aws: Aws, name: str) -> Purged | None:
    """Delete the image repository ``name`` with every image in it.

    Returns what was removed, or ``None`` when the repository does not exist.
    """
    client = aws.client("ecr")
    try:
        with translate("DescribeImages", name):
            images = sum(
                len(page.get("imageDetails", []))
                for page in client.get_paginator("describe_images").paginate(repositoryName=name)
            )
        with translate("DeleteRepository", name):
            client.delete_repository(repositoryName=name, force=True)
    except AwsError as exc:
        if exc.code == "RepositoryNotFoundException":
            return None
        raise
    return Purged("repository", name, objects=images)


def bucket_policy(aws: Aws, name: str) -> str | None:
    """The policy document of bucket ``name``, or ``None`` when it has none.

    A stack cannot put its TLS-only policy on a kept bucket that has one: CloudFormation's
    ``AWS::S3::BucketPolicy`` fails with ``AlreadyExists`` then.
    """
    try:
        with store_errors("GetBucketPolicy", "bucket", name):
            return aws.client("s3").get_bucket_policy(Bucket=name)["Policy"]
    except AwsError as exc:
        if exc.code == "NoSuchBucketPolicy":
            return None
        raise


def default_store_names(service: str, account: str, region: str) -> tuple[str, str, str]:
    """The names ``create()`` gives the stores when the spec leaves them empty.

    They are deterministic, so a service created again finds what an earlier
    ``delete()`` kept: table ``fluoride-<service>``, bucket
    ``fluoride-<service>-<account>-<region>``, secret ``fluoride/<service>``.

    >>> default_store_names("notes", "123456789012", "eu-west-1")
    ('fluoride-notes', 'fluoride-notes-123456789012-eu-west-1', 'fluoride/notes')
    """
    return (
        stack_name(service),
        f"fluoride-{service}-{account}-{region}",
        secret_name(service),
    )


#: ``retained``: exists outside any live stack (kept by an earlier delete; ``create()``
#: adopts it); ``in-stack``: created or adopted by a live stack; ``pending-deletion``: a
#: secret deleted with a recovery window (its name is taken until the window ends);
#: ``other-account``: a bucket name taken elsewhere.
StoreState = Literal["retained", "in-stack", "pending-deletion", "other-account"]


@attrs.frozen
class ExistingStore:
    """A store that already exists under a name ``create()`` wants to use.

    Attributes:
        kind: ``"table"``, ``"bucket"`` or ``"secret"``.
        name: its name.
        state: see :data:`StoreState`.
        stack: for ``in-stack``, the name of the stack that owns it.
        arn: its ARN, when the lookup saw it (tables and secrets); a secret is adopted by it.
        partition_key: for a table, its partition key attribute.
    """

    kind: StoreKind
    name: str
    state: StoreState
    stack: str | None = None
    arn: str | None = attrs.field(default=None, eq=False)
    partition_key: str | None = attrs.field(default=None, eq=False)

    def describe(self) -> str:
        """One line for a message: ``table 'fluoride-notes' (retained)``."""
        owner = f" by stack {self.stack}" if self.stack else ""
        return f"{self.kind} {self.name!r} ({self.state}{owner})"


@attrs.frozen
class RetainedStores:
    """What :func:`find_retained` found: one entry per store name that is taken.

    Attributes:
        found: the stores that exist, in table, bucket, secret order.
    """

    found: tuple[ExistingStore, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.found)

    def get(self, kind: StoreKind) -> ExistingStore | None:
        """The entry for ``kind``, or ``None`` when that name is free."""
        return next((s for s in self.found if s.kind == kind), None)

    @property
    def adoptable(self) -> RetainedStores:
        """The stores kept by an earlier delete and used by no live stack."""
        return RetainedStores(tuple(s for s in self.found if s.state == "retained"))

    @property
    def blocking(self) -> RetainedStores:
        """The stores ``create()`` can neither create nor adopt."""
        return RetainedStores(tuple(s for s in self.found if s.state != "retained"))

    def error(self, service: str) -> StoresRetained:
        """The error ``create()`` raises: what is in the way and how to go on."""
        lines = ", ".join(s.describe() for s in self.found)
        states = {s.state for s in self.found}
        hints = []
        if "retained" in states:
            hints.append(
                f"to remove kept data: {how('purge', service)}"
            )
        for store in self.found:
            if store.state == "in-stack":
                hints.append(
                    f"the {store.kind} {store.name!r} belongs to the live stack {store.stack} "
                    "(a store serves one service): delete that service first"
                )
            if store.state == "other-account":
                hints.append(
                    f"bucket names are global and {store.name!r} belongs to another account"
                )
            if store.state == "pending-deletion":
                hints.append(
                    f"the deleted secret {store.name!r} keeps its name until its recovery "
                    "window ends: restore it (`aws secretsmanager restore-secret --secret-id "
                    f"{store.name}`) or free the name now, giving up the recovery "
                    f"(`aws secretsmanager delete-secret --secret-id {store.name} "
                    "--force-delete-without-recovery`)"
                )
        hints.append("or give the stores other names in the spec ([stores] in fluoride.toml)")
        return StoresRetained(
            f"Cannot create {service!r}: these stores already exist and cannot be adopted: "
            f"{lines}. Fluoride adopts only stores that an earlier delete kept and no live "
            "stack uses.",
            stores=[s.name for s in self.found],
            hint="; ".join(hints) + ".",
        )


def find_retained(
    aws: Aws,
    *,
    table_name: str | None,
    bucket_name: str | None,
    secret_name: str | None,
) -> RetainedStores:
    """Which of the given store names are taken, and by what (``None`` skips a store).

    A store is ``in-stack`` when it carries CloudFormation's ``aws:cloudformation:stack-id``
    tag of a stack that still exists, or when a live Fluoride stack names it in its
    outputs (a stack that adopted it: the tags still name the stack that created it);
    otherwise it is ``retained``.
    """
    found: list[ExistingStore] = []
    if table_name:
        table = _find_table(aws, table_name)
        if table is not None:
            found.append(table)
    if bucket_name:
        bucket = _find_bucket(aws, bucket_name)
        if bucket is not None:
            found.append(bucket)
    if secret_name:
        secret = _find_secret(aws, secret_name)
        if secret is not None:
            found.append(secret)
    if any(s.state == "retained" for s in found):
        claims = _claimed_by_live_stacks(aws)
        found = [
            attrs.evolve(s, state="in-stack", stack=claims[(s.kind, s.name)])
            if s.state == "retained" and (s.kind, s.name) in claims
            else s
            for s in found
        ]
    return RetainedStores(tuple(found))


#: The outputs through which a Fluoride stack names its stores.
_STORE_OUTPUTS: dict[str, StoreKind] = {
    "TableName": "table",
    "BucketName": "bucket",
    "SecretArn": "secret",
}


def _claimed_by_live_stacks(aws: Aws) -> dict[tuple[StoreKind, str], str]:
    """(kind, name) -> stack name, for every store a live Fluoride stack names in its outputs."""
    claims: dict[tuple[StoreKind, str], str] = {}
    pages = aws.client("cloudformation").get_paginator("describe_stacks").paginate()
    iterator = iter(pages)
    while True:
        with translate("DescribeStacks", "*"):
            page = next(iterator, None)
        if page is None:
            return claims
        for stack in page.get("Stacks", []):
            if stack["StackStatus"] == "DELETE_COMPLETE":
                continue
            if not any(t.get("Key") == SERVICE_TAG for t in stack.get("Tags", [])):
                continue
            for output in stack.get("Outputs", []):
                kind = _STORE_OUTPUTS.get(output.get("OutputKey", ""))
                value = output.get("OutputValue", "")
                if kind is None or not value:
                    continue
                name = secret_name_from_arn(value) if kind == "secret" else value
                claims[(kind, name)] = stack["StackName"]


def _owner(aws: Aws, tags: dict[str, str]) -> str | None:
    """The live stack named by CloudFormation's tags, or ``None`` when it is gone."""
    stack_id = tags.get("aws:cloudformation:stack-id")
    if not stack_id:
        return None
    try:
        with translate("DescribeStacks", stack_id):
            stacks = aws.client("cloudformation").describe_stacks(StackName=stack_id)["Stacks"]
    except AwsError as exc:
        if exc.code == "ValidationError":  # CloudFormation's code for "no such stack"
            return None
        raise
    live = [s for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]
    return live[0]["StackName"] if live else None


def _classify(
    aws: Aws,
    kind: StoreKind,
    name: str,
    tags: dict[str, str],
    *,
    arn: str | None = None,
    partition_key: str | None = None,
) -> ExistingStore:
    stack = _owner(aws, tags)
    state: StoreState = "retained" if stack is None else "in-stack"
    return ExistingStore(kind, name, state, stack, arn=arn, partition_key=partition_key)


def _find_table(aws: Aws, name: str) -> ExistingStore | None:
    client = aws.client("dynamodb")
    try:
        with store_errors("DescribeTable", "table", name):
            table = client.describe_table(TableName=name)["Table"]
        arn = table["TableArn"]
        with store_errors("ListTagsOfResource", "table", name):
            listed = client.list_tags_of_resource(ResourceArn=arn).get("Tags", [])
    except StoreNotFound:
        return None
    key = next((k["AttributeName"] for k in table.get("KeySchema", []) if k["KeyType"] == "HASH"),
               None)
    return _classify(aws, "table", name, {t["Key"]: t["Value"] for t in listed}, arn=arn,
                     partition_key=key)


def _find_bucket(aws: Aws, name: str) -> ExistingStore | None:
    client = aws.client("s3")
    try:
        with store_errors("HeadBucket", "bucket", name):
            client.head_bucket(Bucket=name)
    except AwsError as exc:
        code = client_error_code(exc.__cause__) if exc.__cause__ else None
        if code in {"404", "NoSuchBucket", "NotFound"}:
            return None
        if code in {"403", "AccessDenied", "Forbidden"}:
            return ExistingStore("bucket", name, "other-account")
        raise
    try:
        with store_errors("GetBucketTagging", "bucket", name):
            tag_set = client.get_bucket_tagging(Bucket=name).get("TagSet", [])
    except AwsError as exc:
        if exc.code != "NoSuchTagSet":
            raise
        tag_set = []
    return _classify(aws, "bucket", name, {t["Key"]: t["Value"] for t in tag_set})


def _find_secret(aws: Aws, name: str) -> ExistingStore | None:
    try:
        with store_errors("DescribeSecret", "secret", name):
            described = aws.client("secretsmanager").describe_secret(SecretId=name)
    except StoreNotFound:
        return None
    if described.get("DeletedDate") is not None:
        return ExistingStore("secret", name, "pending-deletion")
    tags = {t["Key"]: t["Value"] for t in described.get("Tags", []) if "Key" in t and "Value" in t}
    return _classify(aws, "secret", name, tags, arn=described.get("ARN"))
