"""Typed handles on a service's own table, bucket and secret, built from its stack's outputs.

``svc.table``, ``svc.bucket`` and ``svc.secret`` are :class:`Table`, :class:`Bucket` and
:class:`Secret`. Each carries the store's ``name`` and ``arn``, offers the few calls a
notebook needs, and exposes the boto3 client (and for the table the boto3 ``Table``
resource) underneath for everything else. Clients come from the session the
:class:`~fluoride.client.Fluoride` client was given, so the same code works with a user's
own credentials, inside the service's container, and on the emulator.

AWS errors are turned into :class:`~fluoride.errors.FluorideError` subclasses by their
codes: a missing store or object is :class:`~fluoride.errors.StoreNotFound`, anything else
an :class:`~fluoride.errors.AwsError` naming the operation and the resource.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs
import boto3.exceptions
import botocore.exceptions

from fluoride._check import count_problems, flag_problems, refuse, type_problems
from fluoride._display import (
    Html,
    Preview,
    compact,
    console_url,
    dict_table,
    html_fields,
    html_link,
    html_table,
)
from fluoride.aws import Aws, client_error_code, translate
from fluoride.errors import (
    FieldError,
    FluorideError,
    InvalidInput,
    StoreNotFound,
    StoreNotProvisioned,
    how,
)
from fluoride.stores._inputs import (
    argument_problems,
    body_problems,
    capped,
    dynamo_key,
    dynamo_value,
    item_size_problems,
    items_for_writing,
    json_problems,
    key_problems,
    object_key_problems,
    path_problems,
    python_value,
    query_arguments,
)
from fluoride.stores.frames import (
    check_frame,
    frame_bytes,
    frame_format,
    frame_from_bytes,
    frame_from_items,
    require,
    rows_from_frame,
)

if TYPE_CHECKING:
    import pandas as pd
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import Table as DynamoTable
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient

__all__ = [
    "Bucket",
    "Items",
    "ObjectSummary",
    "Objects",
    "Secret",
    "StoreKind",
    "Table",
    "bucket_from_outputs",
    "secret_from_outputs",
    "secret_name_from_arn",
    "table_from_outputs",
]

StoreKind = Literal["table", "bucket", "secret"]

#: Codes that mean "the table, bucket or secret itself is not there".
_STORE_MISSING = frozenset({"ResourceNotFoundException", "NoSuchBucket"})
#: Codes that mean "the object is not in the bucket" (HeadObject answers a bare 404).
_OBJECT_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
#: Secrets Manager's hard limit on a secret value, in bytes.
SECRET_MAX_BYTES = 65_536


@contextmanager
def store_errors(
    operation: str, kind: StoreKind, name: str, key: str | None = None
) -> Iterator[None]:
    """Translate a store call's ``ClientError`` codes into Fluoride errors.

    A missing store or object becomes :class:`StoreNotFound`; every other failure goes
    through :func:`fluoride.aws.translate` (credentials, access denied, the rest).
    """
    resource = name if key is None else f"{name}/{key}"
    try:
        with translate(operation, resource):
            yield
    except botocore.exceptions.ParamValidationError as exc:
        # botocore checks the request before sending it: nothing reached AWS.
        report = str(exc.kwargs.get("report", exc))
        raise InvalidInput(
            f"{operation} on the {kind} {name!r} was refused before it was sent.",
            errors=[FieldError(operation, line.strip()) for line in report.splitlines()
                    if line.strip()],
        ) from exc
    except (boto3.exceptions.DynamoDBNeedsConditionError,
            boto3.exceptions.DynamoDBNeedsKeyConditionError,
            boto3.exceptions.DynamoDBOperationNotSupportedError) as exc:
        raise InvalidInput(
            f"{operation} on the {kind} {name!r} was refused before it was sent.",
            errors=[FieldError(operation, str(exc),
                               allowed="conditions built with boto3.dynamodb.conditions "
                               "Key(...) / Attr(...), or expression strings")],
        ) from exc
    except FluorideError as exc:
        cause = exc.__cause__
        code = client_error_code(cause) if cause is not None else None
        if code in _STORE_MISSING:
            raise StoreNotFound(
                f"The {kind} {name!r} does not exist ({operation} answered {code}).",
                operation=operation,
                resource=name,
                code=code,
                hint=f"The {kind} may have been deleted outside Fluoride; {how('status')} "
                "shows the service's stores.",
            ) from cause
        if key is not None and code in _OBJECT_MISSING:
            raise StoreNotFound(
                f"There is no object {key!r} in the {kind} {name!r}.",
                operation=operation,
                resource=resource,
                code=code,
                hint="Bucket.list(prefix) shows the keys that are there.",
            ) from cause
        raise


@attrs.define
class Table:
    """The service's DynamoDB table.

    Items are plain dicts. A float is stored exactly as written (``Decimal(str(x))``), and
    numbers come back as the ``int`` or ``float`` they equal exactly (``1.5`` -> ``1.5``,
    ``3`` -> ``3``, ``0.1`` -> ``0.1``), or as :class:`decimal.Decimal` when neither holds
    them (more than 17 significant digits). A handle with ``decimals=True``
    (:meth:`with_decimals`) gives every number back as the ``Decimal`` boto3 reads.

    Attributes:
        name: the table name.
        arn: the table ARN.
        decimals: numbers come back as ``Decimal`` (``True``) or as ``int``/``float``
            when exact (``False``, the default).

    Example::

        svc.table.put_item({"pk": "note#1", "text": "hello", "score": 1.5})
        svc.table.get_item({"pk": "note#1"})["score"]       # 1.5
        svc.table.with_decimals().get_item({"pk": "note#1"})["score"]  # Decimal('1.5')

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       Numbers come back as ``int``/``float`` when exact; ``decimals=True`` keeps
       ``Decimal``. Added :meth:`put_items`, :meth:`to_pandas` and :meth:`from_pandas`.
    """

    aws: Aws = attrs.field(repr=False)
    name: str
    arn: str
    decimals: bool = attrs.field(default=False, kw_only=True)
    _resource: DynamoTable | None = attrs.field(default=None, init=False, repr=False, eq=False)

    def with_decimals(self, decimals: bool = True) -> Table:
        """This table with numbers read back as :class:`decimal.Decimal` (or, with
        ``decimals=False``, as ``int``/``float`` when exact). The handle itself is left as
        it is."""
        refuse("with_decimals()", flag_problems(decimals, "decimals"))
        return Table(self.aws, self.name, self.arn, decimals=decimals)

    @property
    def resource(self) -> DynamoTable:
        """The boto3 ``Table`` resource, for batch writers, conditions and the rest."""
        if self._resource is None:
            self._resource = self.aws.dynamodb_resource().Table(self.name)
        return self._resource

    @property
    def client(self) -> DynamoDBClient:
        """The low-level boto3 DynamoDB client."""
        return self.aws.client("dynamodb")

    def __repr__(self) -> str:
        return _store_repr("Table", self.name, self.arn)

    def _repr_html_(self) -> str:
        """The table for notebooks: name, ARN, item count (DynamoDB's own, refreshed about
        every six hours: one DescribeTable call), a console link on AWS."""
        def count() -> str:
            with store_errors("DescribeTable", "table", self.name):
                found = self.client.describe_table(TableName=self.name)["Table"]
            return f"{found.get('ItemCount', 0):,} (DynamoDB updates it about every 6 hours)"

        return _store_html(self.aws, "table", self.name, self.arn, ("items", count),
                           "table.scan() shows the first items")

    def put_item(self, item: Mapping[str, Any]) -> None:
        """Write ``item``, replacing any item with the same key.

        A float is stored exactly as written, as ``Decimal(str(x))`` (it comes back as that
        float, or as that ``Decimal`` with ``decimals=True``). Raises
        :class:`InvalidInput`, before any AWS call, for what DynamoDB cannot hold (NaN,
        infinity, an empty set, another type), naming each bad part.
        """
        if not isinstance(item, Mapping) or not item:
            refuse("put_item()", [FieldError(
                "item", f"must be a non-empty dict of attributes, got {item!r:.60}",
                allowed="a dict with the table's key attributes, e.g. {'pk': 'note#1', ...}")])
        converted, problems = dynamo_value(item, "item")
        refuse("put_item()", problems or item_size_problems(converted, "item"))
        with store_errors("PutItem", "table", self.name):
            self.resource.put_item(Item=converted)

    def put_items(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Write many items at once through boto3's batch writer; returns how many rows
        were given (a later row with the same key as an earlier one replaces it, as with
        :meth:`put_item` in a loop).

        Every row is checked before the first write, as :meth:`put_item` checks an item,
        and then against the table's key (one ``DescribeTable`` call): a bad row anywhere
        raises :class:`InvalidInput` naming it (``rows[41]['x']: nan ...``) and nothing is
        written. Rows are sent 25 to a request (DynamoDB's ``BatchWriteItem``); items that
        DynamoDB leaves unprocessed (throttling) are sent again. It is not a transaction:
        if AWS fails part-way, the rows sent before the failure are written.

        Example::

            svc.table.put_items({"pk": f"run#{i}", "score": i / 7} for i in range(1000))
        """
        if type(rows).__name__ == "DataFrame":  # iterating one gives its column names
            refuse("put_items()", [FieldError(
                "rows", "is a DataFrame", allowed="a list (or any iterable) of dicts; for a "
                "DataFrame: table.from_pandas(df)")])
        if isinstance(rows, Mapping | str | bytes) or not isinstance(rows, Iterable):
            refuse("put_items()", [FieldError(
                "rows", f"must be an iterable of dicts, got {type(rows).__name__}",
                allowed="a list (or any iterable) of dicts, e.g. [{'pk': 'a', 'x': 1.5}]; "
                "one item: put_item(item)")])
        return self._write(list(rows), "put_items()", "rows")

    def _write(self, rows: Sequence[object], call: str, field: str) -> int:
        items, problems = items_for_writing(rows, field)
        refuse(call, capped(problems, field=field))
        if not items:
            return 0
        key_types = self._key_types()
        problems = key_problems(items, key_types, field)
        if problems:
            raise InvalidInput(f"{call} was refused: nothing was written (the table's key "
                               f"is {', '.join(key_types)}).",
                               errors=capped(problems, field=field))
        with store_errors("BatchWriteItem", "table", self.name), \
                self.resource.batch_writer(overwrite_by_pkeys=list(key_types)) as writer:
            for item in items:
                writer.put_item(Item=item)
        return len(items)

    def _key_types(self) -> dict[str, str]:
        """The key attributes and their DynamoDB types, partition key first (one
        ``DescribeTable`` call per handle; boto3's resource keeps the answer)."""
        with store_errors("DescribeTable", "table", self.name):
            schema = self.resource.key_schema
            definitions = self.resource.attribute_definitions
        types = {d["AttributeName"]: d["AttributeType"] for d in definitions}
        ordered = sorted(schema, key=lambda k: k["KeyType"] != "HASH")
        return {k["AttributeName"]: types.get(k["AttributeName"], "S") for k in ordered}

    def to_pandas(self, **kwargs: Any) -> pd.DataFrame:
        """Every item of the table (or of a filtered scan: ``kwargs`` as for :meth:`scan`)
        as a DataFrame, one row per item and one column per attribute, the key attributes
        first. Needs pandas (``pip install 'fluoride[pandas]'``).

        Numbers follow the handle's rule (``int``/``float`` when exact, or ``Decimal``
        with ``decimals=True``); an attribute an item lacks is a missing cell (NaN).
        """
        require("to_pandas()")
        items = list(self.scan(**kwargs))
        return frame_from_items(items, list(self._key_types()))

    def from_pandas(self, df: pd.DataFrame) -> int:
        """Write every row of ``df`` as an item (through :meth:`put_items`); returns the
        number of rows. Needs pandas (``pip install 'fluoride[pandas]'``).

        Column names are attribute names; the index is not written (``df.reset_index()``
        first to keep it). A missing cell (NaN, ``None``, ``pd.NA``, ``NaT``) is left out
        of its item: DynamoDB has no NaN, and a missing attribute reads back as a missing
        cell. Every row is checked before the first write; a bad cell raises
        :class:`InvalidInput` naming it, e.g. ``df.iloc[3]['when']``.
        """
        require("from_pandas()")
        refuse("from_pandas()", check_frame(df))
        rows, problems = rows_from_frame(df)
        refuse("from_pandas()", capped(problems, field="df"))
        return self._write(rows, "from_pandas()", "df.iloc")

    def get_item(
        self, key: Mapping[str, Any], *, consistent: bool = False
    ) -> dict[str, Any] | None:
        """The item with ``key``, or ``None`` when there is none."""
        converted, problems = dynamo_key(key)
        refuse("get_item()", problems + flag_problems(consistent, "consistent"))
        with store_errors("GetItem", "table", self.name):
            found = self.resource.get_item(Key=converted, ConsistentRead=consistent)
        item = found.get("Item")
        return self._read(item) if item is not None else None

    def delete_item(self, key: Mapping[str, Any]) -> None:
        """Delete the item with ``key``; deleting an absent item is not an error."""
        converted, problems = dynamo_key(key)
        refuse("delete_item()", problems)
        with store_errors("DeleteItem", "table", self.name):
            self.resource.delete_item(Key=converted)

    def query(self, **kwargs: Any) -> Items:
        """Every item matching a query, fetched page by page as you iterate (an
        :class:`Items`: a notebook shows the first 10 items, fetching only those).

        ``kwargs`` are boto3 ``Table.query`` arguments, e.g.
        ``KeyConditionExpression=Key("pk").eq("note#1")``. An unknown argument, or a
        ``Limit`` below 1, raises :class:`InvalidInput` at once.
        """
        self._check_arguments("Query", kwargs)
        return Items(self._paged("Query", self.resource.query, kwargs),
                     title=f"query of {self.name}")

    def scan(self, **kwargs: Any) -> Items:
        """Every item of the table (or of a filtered scan), page by page as you iterate
        (an :class:`Items`, shown in a notebook as its first 10 items).

        ``kwargs`` are boto3 ``Table.scan`` arguments; checked as for :meth:`query`."""
        self._check_arguments("Scan", kwargs)
        return Items(self._paged("Scan", self.resource.scan, kwargs),
                     title=f"scan of {self.name}")

    def _read(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return dict(python_value(item, decimals=self.decimals))

    def _check_arguments(self, operation: str, kwargs: Mapping[str, Any]) -> None:
        # The parameters come from botocore's service model, a local file: no AWS call.
        shape = self.client.meta.service_model.operation_model(operation).input_shape
        accepted = set(shape.members) if shape is not None else set()
        problems = argument_problems(kwargs, accepted, operation=operation,
                                     reserved=("TableName",))
        problems += query_arguments(kwargs)[1]
        refuse(f"{operation.lower()}()", problems)

    def _paged(self, operation: str, call: Any, kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
        args = query_arguments(kwargs)[0]  # floats made Decimal, conditions built
        while True:
            with store_errors(operation, "table", self.name):
                page = call(**args)
            for item in page.get("Items", []):
                yield self._read(item)
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            args["ExclusiveStartKey"] = last


class Items(Preview[dict[str, Any]]):
    """What :meth:`Table.scan` and :meth:`Table.query` return: an iterator of items (plain
    dicts) that fetches page by page as you iterate, exactly as before. Shown in a
    notebook (or by ``repr``), it fetches only its first items (``limit``, default 10) and
    shows them as a table, saying how many are shown; those items are kept, so iterating
    afterwards still yields them. ``head(n)`` peeks at the next ``n`` without consuming.

    .. versionadded:: 0.3
    """

    def _text_of(self, item: dict[str, Any]) -> str:
        return ", ".join(f"{k}={v}" for k, v in item.items())

    def _table(self, items: Sequence[dict[str, Any]]
               ) -> tuple[Sequence[str], list[Sequence[object]]]:
        columns, rows = dict_table(items)
        return columns, list(rows)


#: the most keys the bucket's display counts (one ListObjectsV2 call)
_COUNTED = 1000


def _store_repr(kind: str, name: str, arn: str) -> str:
    return compact(kind, f"{name} ({arn})" if arn else name)


def _store_html(
    aws: Aws, kind: StoreKind, name: str, arn: str,
    count: tuple[str, Callable[[], str]] | None, more: str,
) -> str:
    """A store handle's table: name, ARN, a count when ``count`` reads one (a failure
    is said, never raised), the console page on AWS, and what to call next."""
    counted: tuple[str, str | None] = ("", None)
    if count is not None:
        label, read = count
        try:
            counted = (label, read())
        except FluorideError as exc:
            counted = (label, f"not read ({type(exc).__name__}: {exc.message})")
    region = aws.session.region_name or ""
    link = console_url(kind, region=region, name=name, arn=arn,
                       on_aws=aws.endpoint_url is None)
    return html_fields((
        ("name", name),
        ("ARN", arn or None),
        counted,
        ("console", Html(html_link(link, "open in the AWS console")) if link else None),
        ("next", more),
    ), caption=f"{kind.capitalize()} {name}")


@attrs.frozen
class ObjectSummary:
    """One object of a bucket, as :meth:`Bucket.list` yields it.

    Attributes:
        key: the object key.
        size: its size in bytes.
        last_modified: when it was last written (timezone-aware).
        etag: its entity tag, without quotes.
    """

    key: str
    size: int
    last_modified: datetime.datetime
    etag: str

    def __repr__(self) -> str:
        return compact("ObjectSummary", f"{self.key}, {self.size:,} bytes, "
                                        f"{_modified(self.last_modified)}")

    def _repr_html_(self) -> str:
        """One row for notebooks."""
        return html_table(_OBJECT_COLUMNS, [_object_row(self)])


_OBJECT_COLUMNS = ("key", "bytes", "last modified (UTC)")


def _modified(moment: datetime.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _object_row(obj: ObjectSummary) -> tuple[str, str, str]:
    return (obj.key, f"{obj.size:,}", _modified(obj.last_modified))


class Objects(Preview[ObjectSummary]):
    """What :meth:`Bucket.list` returns: an iterator of :class:`ObjectSummary` that fetches
    page by page as you iterate, exactly as before; a notebook shows the first 10 objects
    as a table, fetching only those. ``head(n)`` peeks at ``n`` without consuming them.

    .. versionadded:: 0.3
    """

    noun = "object"

    def _text_of(self, item: ObjectSummary) -> str:
        return "  ".join(_object_row(item))

    def _table(self, items: Sequence[ObjectSummary]
               ) -> tuple[Sequence[str], list[Sequence[object]]]:
        return _OBJECT_COLUMNS, [_object_row(i) for i in items]


@attrs.define
class Bucket:
    """The service's S3 bucket (versioned: an overwritten object keeps its old versions).

    Attributes:
        name: the bucket name.
        arn: the bucket ARN.

    Example::

        svc.bucket.put_bytes("reports/today.csv", b"a,b\\n1,2\\n")
        [o.key for o in svc.bucket.list("reports/")]

    .. versionadded:: 0.1.0
    """

    aws: Aws = attrs.field(repr=False)
    name: str
    arn: str

    @property
    def client(self) -> S3Client:
        """The boto3 S3 client."""
        return self.aws.client("s3")

    def __repr__(self) -> str:
        return _store_repr("Bucket", self.name, self.arn)

    def _repr_html_(self) -> str:
        """The bucket for notebooks: name, ARN, how many objects (counted by one
        ListObjectsV2 call of at most 1,000 keys), a console link on AWS."""
        def count() -> str:
            with store_errors("ListObjectsV2", "bucket", self.name):
                page = self.client.list_objects_v2(Bucket=self.name, MaxKeys=_COUNTED)
            keys = int(page.get("KeyCount", len(page.get("Contents", []))))
            return f"{keys:,}+ (counted up to {_COUNTED:,})" if page.get("IsTruncated") \
                else f"{keys:,}"

        return _store_html(self.aws, "bucket", self.name, self.arn, ("objects", count),
                           "bucket.list(prefix) lists them")

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``. Raises :class:`InvalidInput` (before any AWS call)
        for an empty key or data that is not bytes."""
        refuse("put_bytes()", object_key_problems(key) + body_problems(data))
        with store_errors("PutObject", "bucket", self.name):
            self.client.put_object(Bucket=self.name, Key=key, Body=data)

    def get_bytes(self, key: str) -> bytes:
        """The content stored under ``key``; :class:`StoreNotFound` when there is none."""
        refuse("get_bytes()", object_key_problems(key))
        with store_errors("GetObject", "bucket", self.name, key):
            body = self.client.get_object(Bucket=self.name, Key=key)["Body"]
            try:
                return body.read()
            finally:
                body.close()

    # The format is spelled out (not the FrameFormat alias) so the API reference shows it.
    def put_dataframe(self, key: str, df: pd.DataFrame,
                      format: Literal["parquet", "csv"] | None = None) -> None:
        """Store ``df`` under ``key`` as parquet or CSV: ``format``, or the key's suffix
        (``.parquet``/``.pq``, ``.csv``) when it is not given. The index is not written
        (``df.reset_index()`` first to keep it).

        Needs pandas, and pyarrow for parquet (``pip install 'fluoride[pandas]'``).
        Raises :class:`InvalidInput` (before any AWS call) for a format it cannot tell.

        Example::

            svc.bucket.put_dataframe("runs/2024-06-01.parquet", df)
        """
        found, problems = frame_format(key, format) if isinstance(key, str) else (None, [])
        refuse("put_dataframe()", object_key_problems(key) + problems)
        assert found is not None  # refuse() raised otherwise
        require("put_dataframe()", parquet=found == "parquet")
        refuse("put_dataframe()", check_frame(df))
        self.put_bytes(key, frame_bytes(df, found))

    def get_dataframe(self, key: str, format: Literal["parquet", "csv"] | None = None
                      ) -> pd.DataFrame:
        """The DataFrame stored under ``key`` (parquet or CSV, from ``format`` or the key's
        suffix), as :meth:`put_dataframe` wrote it; :class:`StoreNotFound` when there is
        no such object. Needs pandas, and pyarrow for parquet."""
        found, problems = frame_format(key, format) if isinstance(key, str) else (None, [])
        refuse("get_dataframe()", object_key_problems(key) + problems)
        assert found is not None  # refuse() raised otherwise
        require("get_dataframe()", parquet=found == "parquet")
        return frame_from_bytes(self.get_bytes(key), found)

    def upload_file(self, path: str | os.PathLike[str], key: str | None = None) -> str:
        """Upload a local file (in parts when large); the key defaults to the file's name.

        Returns the key written. Raises :class:`InvalidInput` when ``path`` is no file.
        """
        refuse("upload_file()", path_problems(path, "path", must_exist="file")
               + ([] if key is None else object_key_problems(key)))
        key = Path(path).name if key is None else key
        with store_errors("UploadFile", "bucket", self.name):
            try:
                self.client.upload_file(os.fspath(path), self.name, key)
            except boto3.exceptions.S3UploadFailedError as exc:
                # boto3 wraps the ClientError (its code included) in this error's context.
                if isinstance(exc.__context__, botocore.exceptions.ClientError):
                    raise exc.__context__ from None
                raise
        return key

    def download_file(self, key: str, path: str | os.PathLike[str]) -> Path:
        """Download the object ``key`` to ``path``; returns the path written."""
        refuse("download_file()", object_key_problems(key) + path_problems(path, "path"))
        with store_errors("DownloadFile", "bucket", self.name, key):
            try:
                self.client.download_file(self.name, key, os.fspath(path))
            except boto3.exceptions.RetriesExceededError as exc:
                # The connection error behind it is what `translate` explains to the user.
                last = getattr(exc, "last_exception", None)
                if isinstance(last, botocore.exceptions.BotoCoreError):
                    raise last from exc
                raise
        return Path(path)

    def list(self, prefix: str = "", *, page_size: int = 1000) -> Objects:
        """Every object whose key starts with ``prefix``, fetched page by page as you iterate
        (an :class:`Objects`: a notebook shows the first 10, fetching only those).

        ``page_size`` (1 to 1000) is how many keys each request asks for.
        """
        refuse("list()", type_problems(prefix, "prefix", (str,), "a string, e.g. 'reports/'")
               + count_problems(page_size, "page_size", 1, 1000))
        return Objects(self._list(prefix, page_size),
                       title=f"{self.name}/{prefix}" if prefix else self.name)

    def _list(self, prefix: str, page_size: int) -> Iterator[ObjectSummary]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=prefix, PaginationConfig={"PageSize": page_size}
        )
        iterator = iter(pages)
        while True:
            with store_errors("ListObjectsV2", "bucket", self.name):
                page = next(iterator, None)
            if page is None:
                return
            for obj in page.get("Contents", []):
                yield ObjectSummary(
                    key=obj["Key"],
                    size=int(obj.get("Size", 0)),
                    last_modified=obj["LastModified"],
                    etag=obj.get("ETag", "").strip('"'),
                )

    def presigned_url(self, key: str, expires: int = 3600) -> str:
        """A URL that lets anyone holding it GET ``key`` for ``expires`` seconds.

        The URL is signed with your credentials, so it works only while they do (temporary
        credentials cap its lifetime). No AWS call is made.
        """
        refuse("presigned_url()", object_key_problems(key)
               + count_problems(expires, "expires", 1, 604_800))
        with store_errors("GeneratePresignedUrl", "bucket", self.name, key):
            return self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.name, "Key": key}, ExpiresIn=expires
            )


@attrs.define
class Secret:
    """The service's Secrets Manager secret, holding a JSON object of named values.

    Attributes:
        arn: the secret ARN (what the container receives as ``FLUORIDE_SECRET_ARN``).
        name: the secret name.

    Example::

        svc.secret.load_files("config/")      # each file becomes one key, merged in
        svc.secret.get_json()["db.password"]

    .. versionadded:: 0.1.0
    """

    aws: Aws = attrs.field(repr=False)
    arn: str
    name: str

    @property
    def client(self) -> SecretsManagerClient:
        """The boto3 Secrets Manager client."""
        return self.aws.client("secretsmanager")

    def __repr__(self) -> str:
        return _store_repr("Secret", self.name, self.arn)

    def _repr_html_(self) -> str:
        """The secret for notebooks: name, ARN and a console link on AWS; never its
        value (no AWS call)."""
        return _store_html(self.aws, "secret", self.name, self.arn, None,
                           "secret.get_json() reads the value (not shown here)")

    def get_string(self) -> str:
        """The current secret value as text."""
        with store_errors("GetSecretValue", "secret", self.name):
            value = self.client.get_secret_value(SecretId=self.arn)
        if "SecretString" in value:
            return value["SecretString"]
        return value.get("SecretBinary", b"").decode()

    def get_json(self) -> Any:
        """The current secret value parsed as JSON."""
        text = self.get_string()
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise FluorideError(
                f"The secret {self.name!r} does not hold JSON.",
                hint="Read it with get_string(), or replace it with put_json(...).",
            ) from exc

    def put_json(self, obj: Any) -> None:
        """Replace the secret value with ``obj`` serialised as JSON (a new version).

        Raises :class:`InvalidInput` (before any AWS call) naming every part that is no
        JSON value: a set, NaN, an object, a key that is not a string.
        """
        refuse("put_json()", json_problems(obj))
        self._put(json.dumps(obj, sort_keys=True, allow_nan=False))

    def load_files(self, folder: str | os.PathLike[str]) -> list[str]:
        """Store every file of ``folder`` (not recursive) as one key of the secret's JSON.

        The key is the file name, the value its UTF-8 text. Keys already in the secret
        and not among the files are kept (the folder is merged in, never replaces the
        secret). Returns the keys written, sorted. Raises :class:`FluorideError` when the
        folder is missing, a file is not UTF-8 text, the current value is not a JSON
        object, or the result exceeds the 64 KiB Secrets Manager limit.
        """
        refuse("load_files()", path_problems(folder, "folder", must_exist="folder"))
        root = Path(folder)
        files: dict[str, str] = {}
        for path in sorted(root.iterdir()):
            if not path.is_file():
                continue
            try:
                files[path.name] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise FluorideError(
                    f"{path} is not UTF-8 text; a secret holds text.",
                    hint="Store binary data base64-encoded, or in the bucket.",
                ) from exc
        current = self._current_object()
        current.update(files)
        self._put(json.dumps(current, sort_keys=True))
        return sorted(files)

    def _current_object(self) -> dict[str, Any]:
        try:
            text = self.get_string()
        except StoreNotFound as exc:
            # A secret that exists but has no value yet: only the value is missing.
            if exc.code == "ResourceNotFoundException" and self._exists():
                return {}
            raise
        if not text.strip():
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            raise FluorideError(
                f"The secret {self.name!r} does not hold a JSON object, so files cannot be "
                "merged into it.",
                hint="Replace it with put_json({...}) first (this loses its current value).",
            )
        return value

    def _exists(self) -> bool:
        try:
            with store_errors("DescribeSecret", "secret", self.name):
                self.client.describe_secret(SecretId=self.arn)
        except StoreNotFound:
            return False
        return True

    def _put(self, text: str) -> None:
        size = len(text.encode())
        if size > SECRET_MAX_BYTES:
            raise FluorideError(
                f"The secret value would be {size} bytes; Secrets Manager allows "
                f"{SECRET_MAX_BYTES}.",
                hint="Keep large files in the bucket and only their keys in the secret.",
            )
        with store_errors("PutSecretValue", "secret", self.name):
            self.client.put_secret_value(SecretId=self.arn, SecretString=text)


def secret_name_from_arn(arn: str) -> str:
    """The secret's name from its ARN (Secrets Manager appends ``-`` and 6 random characters).

    >>> secret_name_from_arn("arn:aws:secretsmanager:eu-west-1:1:secret:fluoride/notes-AbC123")
    'fluoride/notes'
    """
    name = arn.split(":secret:", 1)[-1]
    head, sep, tail = name.rpartition("-")
    return head if sep and len(tail) == 6 else name


# How the user turns each store on again, named in StoreNotProvisioned.
_TOGGLES: dict[StoreKind, str] = {
    "table": "stores.table = true",
    "bucket": "stores.bucket = true",
    "secret": "stores.secret = true",
}


def _not_provisioned(service: str, kind: StoreKind) -> StoreNotProvisioned:
    return StoreNotProvisioned(
        f"The service {service!r} has no {kind}: it is turned off in its spec.",
        hint=f"Set `{_TOGGLES[kind]}` under [stores] in fluoride.toml (or "
        f"ServiceSpec(stores=Stores({kind}=True))) and update the service.",
    )


def table_from_outputs(aws: Aws, service: str, outputs: Mapping[str, str]) -> Table:
    """The :class:`Table` named by the stack outputs ``TableName``/``TableArn``.

    Raises :class:`StoreNotProvisioned` when the spec turned the table off.
    """
    name = outputs.get("TableName", "")
    if not name:
        raise _not_provisioned(service, "table")
    return Table(aws, name, outputs.get("TableArn", ""))


def bucket_from_outputs(aws: Aws, service: str, outputs: Mapping[str, str]) -> Bucket:
    """The :class:`Bucket` named by the stack outputs ``BucketName``/``BucketArn``.

    Raises :class:`StoreNotProvisioned` when the spec turned the bucket off.
    """
    name = outputs.get("BucketName", "")
    if not name:
        raise _not_provisioned(service, "bucket")
    return Bucket(aws, name, outputs.get("BucketArn", "") or f"arn:aws:s3:::{name}")


def secret_from_outputs(aws: Aws, service: str, outputs: Mapping[str, str]) -> Secret:
    """The :class:`Secret` named by the stack output ``SecretArn``.

    Raises :class:`StoreNotProvisioned` when the spec turned the secret off.
    """
    arn = outputs.get("SecretArn", "")
    if not arn:
        raise _not_provisioned(service, "secret")
    return Secret(aws, arn, secret_name_from_arn(arn))
