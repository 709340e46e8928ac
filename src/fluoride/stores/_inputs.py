"""Pure checks and conversions of what users hand the data handles: items and keys,
object keys and bodies, JSON values, call arguments.

Nothing here calls AWS. Each function returns the :class:`FieldError` list of one value
(empty when it is fine); :func:`dynamo_value` also returns the value as DynamoDB stores
it, with every float turned into ``Decimal(str(x))`` so that what a scientist typed is
what is stored (``0.1`` is ``Decimal("0.1")``, not ``0.1000000000000000055...``).
:func:`python_value` is the way back: each stored number as the ``int`` or ``float`` it
equals exactly, or the ``Decimal`` when neither does (see :func:`python_number`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import boto3.exceptions
from boto3.dynamodb.conditions import ConditionBase, ConditionExpressionBuilder
from boto3.dynamodb.types import Binary

from fluoride._check import count_problems, shown
from fluoride.errors import FieldError

__all__ = [
    "argument_problems",
    "body_problems",
    "capped",
    "dynamo_key",
    "dynamo_value",
    "item_size_problems",
    "items_for_writing",
    "json_problems",
    "key_problems",
    "object_key_problems",
    "path_problems",
    "python_number",
    "python_value",
    "query_arguments",
]

#: DynamoDB numbers: up to 38 significant digits, magnitude 1E-130 to 9.9999...E+125.
_MAX_DIGITS: Final = 38
_MAX_EXPONENT: Final = 126
_MIN_EXPONENT: Final = -130
_NUMBER: Final = ("a number DynamoDB can hold: finite, at most 38 significant digits, "
                  "magnitude 1e-130 to 9.99e125")
_VALUE_TYPES: Final = ("str, int, float, Decimal, bool, None, bytes, a list, a dict with "
                       "str keys, or a non-empty set of str, numbers or bytes")


def _number(value: int | float | Decimal, field: str) -> tuple[Decimal | None,
                                                             list[FieldError]]:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None, [FieldError(field, f"{value} is not a number DynamoDB can store",
                                     allowed=_NUMBER + "; store None, or leave it out")]
        number = Decimal(str(value))  # what the user sees is what is stored
    elif isinstance(value, int):
        number = Decimal(value)
    else:
        number = value
        if not number.is_finite():
            return None, [FieldError(field, f"{shown(value)} is not a number DynamoDB can "
                                     "store", allowed=_NUMBER)]
    if number.is_zero():
        return number, []
    # Significant digits without the context's rounding (normalize() would round to 28).
    digits = len("".join(map(str, number.as_tuple().digits)).strip("0"))
    magnitude = number.adjusted()
    if digits > _MAX_DIGITS or not _MIN_EXPONENT <= magnitude < _MAX_EXPONENT:
        return None, [FieldError(field, f"{shown(value)} does not fit a DynamoDB number",
                                 allowed=_NUMBER)]
    return number, []


def dynamo_value(value: object, field: str) -> tuple[Any, list[FieldError]]:
    """``value`` as DynamoDB stores it (floats to ``Decimal(str(x))``, tuples to lists) and
    the problems of every part that DynamoDB cannot hold, each named by its path.

    >>> dynamo_value({"x": 0.1}, "item")
    ({'x': Decimal('0.1')}, [])
    >>> dynamo_value({"x": float("nan")}, "item")[1][0].field
    "item['x']"
    """
    if value is None or isinstance(value, bool | str | Binary):
        return value, []
    if isinstance(value, bytes | bytearray):
        return bytes(value), []
    if isinstance(value, int | float | Decimal):
        return _number(value, field)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        problems: list[FieldError] = []
        for key, item in value.items():
            where = f"{field}[{key!r}]"
            if not isinstance(key, str) or not key:
                problems.append(FieldError(where, f"the attribute name {shown(key)} is not a "
                                           "non-empty string", allowed="str names"))
                continue
            out[key], found = dynamo_value(item, where)
            problems += found
        return out, problems
    if isinstance(value, list | tuple):
        items: list[Any] = []
        problems = []
        for i, item in enumerate(value):
            converted, found = dynamo_value(item, f"{field}[{i}]")
            items.append(converted)
            problems += found
        return items, problems
    if isinstance(value, set | frozenset):
        return _dynamo_set(value, field)
    return None, [FieldError(field, f"{shown(value)} ({type(value).__name__}) cannot be "
                             "stored in DynamoDB", allowed=_VALUE_TYPES)]


#: Integers up to this magnitude are exactly a float too; below it an integral number comes
#: back as ``int`` (a count, an id, ``2.0``), above it as the float it was written as when
#: that float is exact (``6.02214076e23``), else as ``int``.
_EXACT_INT: Final = 2**53


def python_number(number: Decimal) -> int | float | Decimal:
    """A stored DynamoDB number as the Python number it equals exactly.

    - integral and at most 2**53 in magnitude: ``int`` (``Decimal("3")`` -> ``3``; a
      float written as ``2.0`` also comes back as ``2``, which equals it);
    - otherwise the ``float`` whose shortest repr is this number, when there is one
      (``Decimal("0.1")`` -> ``0.1``, ``Decimal("6.02214076E+23")`` -> ``6.02214076e23``);
    - otherwise an integral number as ``int`` (``10**30 + 1``), and anything else as the
      ``Decimal`` itself (more digits than a float holds: ``Decimal("0.1000000000000000001")``).

    >>> python_number(Decimal("1.5")), python_number(Decimal("3")), python_number(Decimal("0.1"))
    (1.5, 3, 0.1)
    """
    if not number.is_finite():  # DynamoDB never holds one; kept as it is if one comes
        return number
    integral = number == number.to_integral_value()
    if integral and abs(number) <= _EXACT_INT:
        return int(number)
    as_float = float(number)
    if math.isfinite(as_float) and Decimal(repr(as_float)) == number:
        return as_float
    return int(number) if integral else number


def python_value(value: Any, *, decimals: bool = False) -> Any:
    """An item (or any part of one) as read from DynamoDB, with every number as
    :func:`python_number` gives it, inside maps, lists and sets too; with ``decimals``
    every number stays the ``Decimal`` boto3 returns. Strings, bools, ``None`` and binary
    values are returned as they are.

    >>> python_value({"x": Decimal("0.5"), "n": [Decimal("2")], "ok": True})
    {'x': 0.5, 'n': [2], 'ok': True}
    """
    if decimals:
        return value
    if isinstance(value, Decimal):
        return python_number(value)
    if isinstance(value, Mapping):
        return {key: python_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [python_value(item) for item in value]
    if isinstance(value, set | frozenset):
        return {python_value(item) for item in value}
    return value


def _dynamo_set(value: Collection[object], field: str) -> tuple[Any, list[FieldError]]:
    allowed = "a non-empty set of only str, only numbers, or only bytes"
    if not value:
        return None, [FieldError(field, "is an empty set; DynamoDB cannot store one",
                                 allowed=allowed + "; store None, or leave it out")]
    kinds = {"str" if isinstance(v, str) else "bytes" if isinstance(v, bytes | bytearray)
             else "number" if isinstance(v, int | float | Decimal) and not isinstance(v, bool)
             else type(v).__name__ for v in value}
    if len(kinds) != 1 or not kinds <= {"str", "bytes", "number"}:
        return None, [FieldError(field, f"is a set of {', '.join(sorted(kinds))}",
                                 allowed=allowed)]
    out: set[Any] = set()
    problems: list[FieldError] = []
    for item in value:
        converted, found = dynamo_value(item, f"{field}{{{item!r}}}")
        problems += found
        if not found:
            out.add(converted)
    return out, problems


def dynamo_key(key: object, field: str = "key") -> tuple[dict[str, Any], list[FieldError]]:
    """A table key as DynamoDB takes it: a dict of one or two attributes (partition key,
    and sort key if the table has one), each a non-empty string, a number or bytes."""
    allowed = ("a dict of the table's key attributes, e.g. {'pk': 'note#1'}: each value a "
               "non-empty str, a number or bytes")
    if not isinstance(key, Mapping):
        return {}, [FieldError(field, f"must be a dict of key attributes, got {shown(key)}",
                               allowed=allowed)]
    if not 1 <= len(key) <= 2:
        return {}, [FieldError(field, f"{shown(key)} has {len(key)} attributes",
                               allowed="1 or 2 attributes: " + allowed)]
    converted, problems = dynamo_value(key, field)
    if problems:
        return {}, problems
    for name, value in converted.items():
        where = f"{field}[{name!r}]"
        if isinstance(value, str | bytes) and not value:
            problems.append(FieldError(where, "is empty; a key attribute cannot be",
                                       allowed=allowed))
        elif not isinstance(value, str | bytes | Decimal | Binary):
            problems.append(FieldError(where, f"{shown(key[name])} cannot be part of a key",
                                       allowed=allowed))
    return converted, problems


#: DynamoDB's largest item: 400 KB, attribute names included.
ITEM_MAX_BYTES: Final = 400 * 1024


def _least_size(value: object) -> int:
    """The fewest bytes DynamoDB can count for a stored value: the UTF-8 text of strings,
    binary lengths, 1 per number, bool or null, and map keys (its own overheads are more)."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, Binary):
        # Binary.__bytes__ returns its bytes (boto3-stubs says str, which has a len too);
        # bytes(value) would not type-check against that stub.
        return len(value.__bytes__())
    if isinstance(value, Mapping):
        return sum(len(str(k).encode("utf-8", "surrogatepass")) + _least_size(v)
                   for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return sum(_least_size(v) for v in value)
    return 1


def item_size_problems(item: Mapping[str, Any], field: str = "item") -> list[FieldError]:
    """The problem of an item that DynamoDB would refuse for its size (over 400 KB), found
    from a lower bound of its size, so an item that fits is never refused here.

    >>> item_size_problems({"pk": "a", "blob": "x" * 500_000})[0].problem
    'is at least 500,007 bytes; DynamoDB holds items of up to 409,600 bytes (400 KB)'
    """
    size = _least_size(item)
    if size <= ITEM_MAX_BYTES:
        return []
    return [FieldError(field, f"is at least {size:,} bytes; DynamoDB holds items of up to "
                       f"{ITEM_MAX_BYTES:,} bytes (400 KB)",
                       allowed="items up to 400 KB: keep large data in the bucket "
                       "(bucket.put_bytes, bucket.put_dataframe) and its key in the item")]


def items_for_writing(rows: Sequence[object], field: str = "rows") -> tuple[
    list[dict[str, Any]], list[FieldError]
]:
    """Every row of a batch as DynamoDB stores it (as :func:`dynamo_value` converts one
    item), and the problems of all of them, each named by its row: ``rows[2]['scores'][0]``.

    >>> items_for_writing([{"pk": "a", "x": 0.5}, {"pk": "b", "x": float("inf")}])[1][0].field
    "rows[1]['x']"
    """
    items: list[dict[str, Any]] = []
    problems: list[FieldError] = []
    for i, row in enumerate(rows):
        where = f"{field}[{i}]"
        if not isinstance(row, Mapping) or not row:
            problems.append(FieldError(where, f"must be a non-empty dict of attributes, got "
                                       f"{shown(row)}", allowed="dicts with the table's key "
                                       "attributes, e.g. {'pk': 'note#1', 'x': 1.5}"))
            continue
        item, found = dynamo_value(row, where)
        items.append(item)
        problems += found or item_size_problems(item, where)
    return items, problems


#: What each DynamoDB key attribute type holds, and how a message names it.
_KEY_TYPES: Final[dict[str, tuple[tuple[type, ...], str]]] = {
    "S": ((str,), "a non-empty str"),
    "N": ((Decimal,), "a number"),
    "B": ((bytes, Binary), "non-empty bytes"),
}


def key_problems(items: Sequence[Mapping[str, Any]], key_types: Mapping[str, str],
                 field: str = "rows") -> list[FieldError]:
    """Problems of the key attributes of converted ``items`` (as :func:`items_for_writing`
    returns them): each must have every attribute of ``key_types`` (name to DynamoDB type,
    ``"S"``, ``"N"`` or ``"B"``, from the table's description), of that type and not empty.

    >>> key_problems([{"pk": "a"}, {"x": 1}], {"pk": "S"})[0].problem
    "has no key attribute 'pk'"
    """
    names = ", ".join(repr(name) for name in key_types)
    problems: list[FieldError] = []
    for i, item in enumerate(items):
        where = f"{field}[{i}]"
        for name, kind in key_types.items():
            types, wanted = _KEY_TYPES.get(kind, ((str, Decimal, bytes, Binary), "a key value"))
            if name not in item:
                problems.append(FieldError(where, f"has no key attribute {name!r}",
                                           allowed=f"every row with the table's key "
                                           f"attributes {names}"))
                continue
            value = item[name]
            if isinstance(value, bool) or not isinstance(value, types) or value in ("", b""):
                problems.append(FieldError(
                    f"{where}[{name!r}]", f"{shown(python_value(value))} is not {wanted}, "
                    f"the type of the table's key attribute {name!r}", allowed=wanted))
    return problems


def capped(problems: Sequence[FieldError], limit: int = 20, field: str = "rows") -> list[
    FieldError
]:
    """The first ``limit`` problems and one line counting the rest, so that a batch of a
    million bad rows makes a readable error."""
    if len(problems) <= limit:
        return list(problems)
    rest = len(problems) - limit
    return [*problems[:limit], FieldError(field, f"... and {rest} more problems like these",
                                          allowed="fix the rows above and try again")]


#: The query/scan arguments that may hold a condition object, and whether it is a key one.
_CONDITIONS: Final = (("KeyConditionExpression", True), ("FilterExpression", False))


def query_arguments(arguments: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """boto3 ``query``/``scan`` arguments with every number as DynamoDB stores it (a float
    as ``Decimal(str(x))``, as :func:`dynamo_value` does), and the problems found.

    Floats can sit in ``ExpressionAttributeValues``, in ``ExclusiveStartKey`` and in the
    values of condition objects (``Key("sk").gt(2.5)``, ``Attr("x").between(0.1, 0.5)``),
    which boto3 would refuse with a ``TypeError``. A condition object is built into its
    expression string here, with boto3's own ``ConditionExpressionBuilder``, exactly as
    boto3 would do when sending it (its placeholders merged into
    ``ExpressionAttributeNames``/``ExpressionAttributeValues``), so its values can be
    converted like any other.

    >>> from boto3.dynamodb.conditions import Key
    >>> args, _ = query_arguments({"KeyConditionExpression": Key("sk").gt(2.5)})
    >>> args["KeyConditionExpression"], args["ExpressionAttributeValues"]
    ('#n0 > :v0', {':v0': Decimal('2.5')})
    """
    args = dict(arguments)
    problems: list[FieldError] = []
    for name in ("ExpressionAttributeValues", "ExclusiveStartKey"):
        if name in args:
            args[name], found = dynamo_value(args[name], name)
            problems += found
    conditions = [(name, is_key, args[name]) for name, is_key in _CONDITIONS
                  if isinstance(args.get(name), ConditionBase)]
    if not conditions:
        return args, problems
    names, values = args.get("ExpressionAttributeNames"), args.get("ExpressionAttributeValues")
    if not isinstance(names, Mapping | None) or not isinstance(values, Mapping | None):
        return args, problems  # botocore's own check names the bad argument
    names, values = dict(names or {}), dict(values or {})
    builder = ConditionExpressionBuilder()  # one per request, as boto3 uses
    for name, is_key, condition in conditions:
        try:
            built = builder.build_expression(condition, is_key_condition=is_key)
        except (boto3.exceptions.DynamoDBNeedsConditionError,
                boto3.exceptions.DynamoDBNeedsKeyConditionError,
                boto3.exceptions.DynamoDBOperationNotSupportedError) as exc:
            problems.append(FieldError(name, str(exc), allowed="Key(...) conditions for "
                                       "KeyConditionExpression, Attr(...) for "
                                       "FilterExpression, or expression strings"))
            continue
        args[name] = built.condition_expression
        names.update(built.attribute_name_placeholders)
        for placeholder, value in built.attribute_value_placeholders.items():
            values[placeholder], found = dynamo_value(value, name)
            problems += found
    if names:
        args["ExpressionAttributeNames"] = names
    if values:
        args["ExpressionAttributeValues"] = values
    return args, problems


def argument_problems(arguments: Mapping[str, object], accepted: Collection[str], *,
                      operation: str, reserved: Iterable[str] = ()) -> list[FieldError]:
    """Problems of the keyword arguments passed through to a boto3 call: each must be one
    of the operation's parameters, and not one the handle sets itself."""
    reserved = set(reserved)
    names = sorted(a for a in accepted if a not in reserved)
    problems = []
    for name in arguments:
        if name in reserved:
            problems.append(FieldError(name, f"is set by the handle ({name}="
                                       f"{shown(arguments[name])} was passed)",
                                       allowed=", ".join(names)))
        elif name not in accepted:
            problems.append(FieldError(name, f"is not a parameter of {operation} "
                                       f"({name}={shown(arguments[name])} was passed)",
                                       allowed=", ".join(names)))
    if "Limit" in arguments:
        problems += count_problems(arguments["Limit"], "Limit", 1)
    return problems


def object_key_problems(key: object, field: str = "key") -> list[FieldError]:
    """Problems of an S3 object key: a non-empty string of at most 1024 UTF-8 bytes."""
    allowed = "a non-empty str of at most 1024 UTF-8 bytes, e.g. 'reports/today.csv'"
    if not isinstance(key, str):
        return [FieldError(field, f"must be a string, got {shown(key)}", allowed=allowed)]
    if not key:
        return [FieldError(field, "is empty", allowed=allowed)]
    try:
        size = len(key.encode())
    except UnicodeEncodeError:
        return [FieldError(field, f"{shown(key)} is not valid text", allowed=allowed)]
    if size > 1024:
        return [FieldError(field, f"is {size} bytes long", allowed=allowed)]
    return []


def body_problems(data: object, field: str = "data") -> list[FieldError]:
    """Problems of an object's content: bytes (a str must be encoded first)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return []
    hint = "; encode text first: text.encode()" if isinstance(data, str) else ""
    return [FieldError(field, f"must be bytes, got {shown(data)} ({type(data).__name__})",
                       allowed="bytes, bytearray or memoryview" + hint)]


def path_problems(path: object, field: str, *, must_exist: str | None = None) -> list[
    FieldError
]:
    """Problems of a local path: a str or ``os.PathLike``; with ``must_exist`` ("file" or
    "folder") it must also be one (reads the file system, makes no AWS call)."""
    if not isinstance(path, str | os.PathLike) or path == "":
        return [FieldError(field, f"must be a path, got {shown(path)}",
                           allowed="a non-empty str or pathlib.Path")]
    if must_exist == "file" and not os.path.isfile(path):
        return [FieldError(field, f"{os.fspath(path)!r} is not a file",
                           allowed="the path of an existing file")]
    if must_exist == "folder" and not os.path.isdir(path):
        return [FieldError(field, f"{os.fspath(path)!r} is not a folder",
                           allowed="the path of an existing folder")]
    return []


def json_problems(value: object, field: str = "obj") -> list[FieldError]:
    """Problems of a value to store as JSON: every part that ``json.dumps`` would refuse
    or that JSON cannot hold (NaN, infinity), named by its path.

    >>> json_problems({"a": {1, 2}})[0].field
    "obj['a']"
    """
    allowed = ("JSON values: str, int, finite float, bool, None, lists, and dicts with str "
               "keys (a set: turn it into a sorted list)")
    if value is None or isinstance(value, bool | str | int):
        return []
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return [FieldError(field, f"{value} is not a JSON number", allowed=allowed)]
        return []
    if isinstance(value, Mapping):
        problems = []
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(FieldError(f"{field}[{key!r}]",
                                           f"the key {shown(key)} is not a string",
                                           allowed=allowed))
            problems += json_problems(item, f"{field}[{key!r}]")
        return problems
    if isinstance(value, list | tuple):
        return [p for i, item in enumerate(value) for p in json_problems(item, f"{field}[{i}]")]
    return [FieldError(field, f"{shown(value)} ({type(value).__name__}) is not a JSON value",
                       allowed=allowed)]
