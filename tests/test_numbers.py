"""The pure conversions between what a scientist has and what a table holds, by tables:
numbers both ways (fluoride.stores._inputs), batches of rows and their keys, and
DataFrames (fluoride.stores.frames). No AWS, no emulator."""

from __future__ import annotations

import math
import random
import sys
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import Binary

from fluoride.errors import FluorideError
from fluoride.stores._inputs import (
    ITEM_MAX_BYTES,
    capped,
    dynamo_value,
    item_size_problems,
    items_for_writing,
    key_problems,
    python_number,
    python_value,
    query_arguments,
)
from fluoride.stores.frames import (
    EXTRA,
    frame_format,
    frame_from_items,
    require,
    rows_from_frame,
)

# --- numbers read back ------------------------------------------------------------------


@pytest.mark.parametrize(("stored", "expected"), [
    (Decimal("3"), 3),
    (Decimal("-7"), -7),
    (Decimal("0"), 0),
    (Decimal("-0.0"), 0),                          # -0.0 is stored as written, reads as 0
    (Decimal("2.0"), 2),                           # a float written as 2.0 equals 2
    (Decimal("1E+2"), 100),
    (Decimal(2**53), 2**53),
    (Decimal(2**53 + 1), 2**53 + 1),               # no float is exactly this: int
    (Decimal(10**37 + 1), 10**37 + 1),             # not a float's shortest repr: int
    (Decimal(10**37), 1e37),                       # 1e37 is: a float, as 6.02214076e23
    (Decimal("1.5"), 1.5),
    (Decimal("0.1"), 0.1),                         # 0.1 is the float whose repr is 0.1
    (Decimal("0.3333333333333333"), 1 / 3),
    (Decimal("6.02214076E+23"), 6.02214076e23),    # not int 602214076000000000000000
    (Decimal("1E+20"), 1e20),
    (Decimal("1E-130"), 1e-130),                   # the smallest DynamoDB number
    (Decimal("9.9999E+125"), 9.9999e125),
    (Decimal("-2.5E-7"), -2.5e-7),
    (Decimal("0.1000000000000000001"), Decimal("0.1000000000000000001")),  # 19 digits
    (Decimal("1.23456789012345678"), Decimal("1.23456789012345678")),
    (Decimal("12345678901234567890.5"), Decimal("12345678901234567890.5")),
])
def test_python_number(stored: Decimal, expected: int | float | Decimal) -> None:
    got = python_number(stored)
    assert type(got) is type(expected)
    assert got == expected
    # Whatever comes back is exactly the stored number: nothing is rounded.
    assert Decimal(repr(got)) == stored if isinstance(got, float) else Decimal(got) == stored


@pytest.mark.parametrize(("stored", "decimals", "expected"), [
    ({"x": Decimal("1.5"), "n": Decimal("3")}, False, {"x": 1.5, "n": 3}),
    ({"m": {"deep": [Decimal("0.1"), {"k": Decimal("2")}]}}, False,
     {"m": {"deep": [0.1, {"k": 2}]}}),
    ({"s": {Decimal("0.25"), Decimal("3")}}, False, {"s": {0.25, 3}}),
    ({"ok": True, "no": False, "none": None, "t": "1.5"}, False,
     {"ok": True, "no": False, "none": None, "t": "1.5"}),
    ({"b": Binary(b"\x00\x01"), "bs": {Binary(b"a")}}, False,
     {"b": Binary(b"\x00\x01"), "bs": {Binary(b"a")}}),
    ({"x": Decimal("1.5"), "l": [Decimal("2")]}, True,
     {"x": Decimal("1.5"), "l": [Decimal("2")]}),
    ([], False, []),
    ({}, False, {}),
])
def test_python_value(stored: Any, decimals: bool, expected: Any) -> None:
    got = python_value(stored, decimals=decimals)
    assert got == expected
    assert _types(got) == _types(expected)


def _types(value: Any) -> Any:
    """The value's shape with each leaf's type, so 1 and 1.0 and Decimal(1) differ."""
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(type(v).__name__ for v in value)
    return type(value).__name__


def test_bools_stay_bools_both_ways() -> None:
    stored, problems = dynamo_value({"flag": True, "n": 1}, "item")
    assert problems == []
    assert stored["flag"] is True
    assert type(stored["n"]) is Decimal
    back = python_value(stored)
    assert back["flag"] is True
    assert type(back["n"]) is int


def test_every_float_round_trips_exactly() -> None:
    # Stored as Decimal(str(x)) and read back: the same float, bit for bit, or an int equal
    # to it (a whole number up to 2**53). Random floats across DynamoDB's whole range.
    rng = random.Random(10)
    floats = [rng.choice((1, -1)) * rng.uniform(0.1, 1) * 10.0 ** rng.randint(-128, 124)
              for _ in range(5000)]
    floats += [0.1, 0.2, 0.30000000000000004, 1 / 3, 2.0, 1e15, 2.0**53, 2.0**53 * 4,
               1.5e-130, 9.99e125, -0.0, 0.0]
    for x in floats:
        stored, problems = dynamo_value(x, "x")
        assert problems == [], x
        back = python_number(stored)
        assert back == x, (x, stored, back)
        if isinstance(back, float):
            assert math.copysign(1, back) == math.copysign(1, x) or x == 0
        else:
            assert isinstance(back, int), (x, back)
            assert x == int(x)
            assert abs(x) <= 2**53


def test_ints_round_trip_as_ints_whatever_their_size() -> None:
    for n in (0, 1, -1, 2**53, 2**53 + 1, 10**20, 10**20 + 7, -(10**37) - 3, 10**38 - 1):
        stored, problems = dynamo_value(n, "n")
        assert problems == []
        back = python_number(stored)
        # A whole number beyond 2**53 that is some float's shortest repr comes back as
        # that float (10**20 as 1e20, which is exactly it); every other int as int.
        if type(back) is float:
            assert abs(n) > 2**53
            assert Decimal(repr(back)) == Decimal(n)
        else:
            assert back == n


# --- rows for put_items -----------------------------------------------------------------


@pytest.mark.parametrize(("rows", "fields", "problems"), [
    ([{"pk": "a", "x": 1.5}, {"pk": "b"}], [], []),
    ([{"pk": "a"}, {"pk": "b", "scores": [1, 2, math.nan]}], ["rows[1]['scores'][2]"],
     ["nan is not a number"]),
    ([{"pk": "a", "x": math.inf}, {"pk": "b", "y": -math.inf}],
     ["rows[0]['x']", "rows[1]['y']"], ["inf is not a number", "-inf is not a number"]),
    ([{"pk": "a"}, {}], ["rows[1]"], ["must be a non-empty dict"]),
    (["pk=a"], ["rows[0]"], ["must be a non-empty dict"]),
    ([{"pk": "a", "s": set()}], ["rows[0]['s']"], ["empty set"]),
    ([{"pk": "a", "o": object()}], ["rows[0]['o']"], ["cannot be stored"]),
])
def test_items_for_writing(rows: list[Any], fields: list[str], problems: list[str]) -> None:
    items, found = items_for_writing(rows)
    assert [p.field for p in found] == fields
    for problem, text in zip(found, problems, strict=True):
        assert text in problem.problem
        assert problem.allowed
    if not found:
        assert items == [dynamo_value(r, "r")[0] for r in rows]


@pytest.mark.parametrize(("item", "size"), [
    ({"pk": "a"}, None),
    ({"pk": "a", "s": "x" * (ITEM_MAX_BYTES - 4)}, None),           # 2 + 1 + 1 + ... = max
    ({"pk": "a", "s": "x" * (ITEM_MAX_BYTES - 3)}, "409,601"),
    ({"pk": "a", "s": "é" * 250_000}, "500,004"),                     # UTF-8 bytes count
    ({"pk": "a", "b": b"\0" * 500_000}, "500,004"),
    ({"pk": "a", "b": Binary(b"\0" * 500_000)}, "500,004"),           # as boto3 reads it
    ({"pk": "a", "l": ["x" * 1000] * 500}, "500,004"),
    ({"pk": "a", "m": {"k" * 10: "v" * 10} | {f"k{i}": 1 for i in range(100_000)}},
     "688,914"),  # 3 + 1 + 20 + 588,890 (the keys k0..k99999) + 100,000 (numbers)
    ({"pk": "a", "n": [Decimal(1)] * 400_000}, None),                # a lower bound: fits
])
def test_item_size_problems(item: dict[str, Any], size: str | None) -> None:
    found = item_size_problems(item)
    if size is None:
        assert found == []
    else:
        (problem,) = found
        assert f"at least {size} bytes" in problem.problem
        assert "bucket" in (problem.allowed or "")


def test_items_for_writing_refuses_a_row_over_400_kb() -> None:
    _, found = items_for_writing([{"pk": "a"}, {"pk": "b", "s": "x" * 500_000}])
    assert [p.field for p in found] == ["rows[1]"]


def test_items_for_writing_converts_floats_as_put_item_does() -> None:
    items, found = items_for_writing([{"pk": "a", "x": 0.1, "m": {"l": [2.5e-7]}}])
    assert found == []
    assert items == [{"pk": "a", "x": Decimal("0.1"), "m": {"l": [Decimal("2.5E-7")]}}]


@pytest.mark.parametrize(("items", "key_types", "fields", "problems"), [
    ([{"pk": "a"}, {"pk": "b", "x": Decimal(1)}], {"pk": "S"}, [], []),
    ([{"pk": "a", "sk": Decimal(1)}], {"pk": "S", "sk": "N"}, [], []),
    ([{"x": Decimal(1)}], {"pk": "S"}, ["rows[0]"], ["has no key attribute 'pk'"]),
    ([{"pk": ""}], {"pk": "S"}, ["rows[0]['pk']"], ["'' is not a non-empty str"]),
    ([{"pk": Decimal("3")}], {"pk": "S"}, ["rows[0]['pk']"], ["3 is not a non-empty str"]),
    ([{"pk": "a", "sk": "1"}], {"pk": "S", "sk": "N"}, ["rows[0]['sk']"],
     ["'1' is not a number"]),
    ([{"pk": "a", "sk": True}], {"pk": "S", "sk": "N"}, ["rows[0]['sk']"],
     ["True is not a number"]),                                     # a bool is no number
    ([{"pk": b"x"}, {"pk": Binary(b"y")}, {"pk": b""}], {"pk": "B"}, ["rows[2]['pk']"],
     ["b'' is not non-empty bytes"]),
    ([{"pk": "a"}], {}, [], []),
])
def test_key_problems(items: list[dict[str, Any]], key_types: dict[str, str],
                      fields: list[str], problems: list[str]) -> None:
    found = key_problems(items, key_types)
    assert [p.field for p in found] == fields
    for problem, text in zip(found, problems, strict=True):
        assert text in problem.problem


def test_capped_keeps_a_readable_number_of_problems() -> None:
    _, found = items_for_writing([{"pk": str(i), "x": math.nan} for i in range(1000)])
    assert len(found) == 1000
    shown = capped(found)
    assert len(shown) == 21
    assert shown[:20] == found[:20]
    assert "980 more problems" in shown[-1].problem
    assert capped(found[:3]) == found[:3]


# --- DataFrames -------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "format", "expected", "problem"), [
    ("runs/a.parquet", None, "parquet", None),
    ("runs/a.PQ", None, "parquet", None),
    ("runs/a.csv", None, "csv", None),
    ("runs/a.csv", "parquet", "parquet", None),     # the argument wins over the suffix
    ("runs/a", "csv", "csv", None),
    ("runs/a.txt", None, None, "does not end in a suffix"),
    ("runs/a.csv", "xlsx", None, "'xlsx' is not a format"),
])
def test_frame_format(key: str, format: str | None, expected: str | None,
                      problem: str | None) -> None:
    found, problems = frame_format(key, format)
    assert found == expected
    if problem is None:
        assert problems == []
    else:
        (error,) = problems
        assert error.field == "format"
        assert problem in error.problem
        assert ".parquet" in (error.allowed or "")


@pytest.mark.parametrize(("call", "parquet", "hidden"), [
    ("to_pandas()", False, "pandas"),
    ("put_dataframe()", True, "pandas"),
    ("put_dataframe()", True, "pyarrow"),
])
def test_require_names_the_extra(monkeypatch: pytest.MonkeyPatch, call: str, parquet: bool,
                                 hidden: str) -> None:
    monkeypatch.setitem(sys.modules, hidden, None)  # `import <hidden>` raises ImportError
    with pytest.raises(FluorideError, match=hidden) as err:
        require(call, parquet=parquet)
    assert call in err.value.message
    assert err.value.hint is not None
    assert EXTRA in err.value.hint
    assert EXTRA == "pip install 'fluoride[pandas]'"


def test_require_passes_when_installed() -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    require("to_pandas()", parquet=True)


def test_rows_from_frame_leaves_missing_cells_out() -> None:
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    df = pd.DataFrame({
        "pk": ["a", "b", "c"],
        "x": [1.5, np.nan, 0.1],
        "n": pd.array([1, None, 3], dtype="Int64"),
        "flag": [True, False, True],
        "note": ["hi", None, "there"],
    })
    rows, problems = rows_from_frame(df)
    assert problems == []
    assert rows == [
        {"pk": "a", "x": 1.5, "n": 1, "flag": True, "note": "hi"},
        {"pk": "b", "flag": False},
        {"pk": "c", "x": 0.1, "n": 3, "flag": True, "note": "there"},
    ]
    assert [type(v) for v in rows[0].values()] == [str, float, int, bool, str]


def test_rows_from_frame_turns_numpy_values_into_python_ones() -> None:
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    df = pd.DataFrame({"pk": ["a"], "readings": [np.array([0.5, 1.5])],
                       "n": [np.int64(3)], "f": [np.float32(0.5)]}, dtype=object)
    rows, problems = rows_from_frame(df)
    assert problems == []
    assert rows == [{"pk": "a", "readings": [0.5, 1.5], "n": 3, "f": 0.5}]
    assert [type(v) for v in rows[0].values()] == [str, list, int, float]
    assert dynamo_value(rows[0], "row")[1] == []


@pytest.mark.parametrize(("make", "field", "problem"), [
    (lambda pd: pd.DataFrame({"pk": ["a"], "t": pd.to_datetime(["2024-06-01"])}),
     "df.iloc[0]['t']", "is a date or time"),
    (lambda pd: pd.DataFrame({"pk": ["a"], "t": [pd.Timestamp(0).to_datetime64()]},
                             dtype=object), "df.iloc[0]['t']", "is a date or time"),
    (lambda pd: pd.DataFrame({"pk": ["a"], "d": pd.to_timedelta(["1s"])}),
     "df.iloc[0]['d']", "is a date or time"),
    (lambda pd: pd.DataFrame({0: ["a"], "x": [1]}), "df.columns[0]", "not a non-empty string"),
    (lambda pd: pd.DataFrame([["a", 1, 2]], columns=["pk", "x", "x"]), "df.columns",
     "repeats x"),
])
def test_rows_from_frame_refuses(make: Any, field: str, problem: str) -> None:
    pd = pytest.importorskip("pandas")
    rows, problems = rows_from_frame(make(pd))
    assert rows == [] or problems
    assert [p.field for p in problems] == [field]
    assert problem in problems[0].problem
    assert problems[0].allowed


def test_frame_from_items_puts_keys_first_and_fills_gaps() -> None:
    pd = pytest.importorskip("pandas")
    df = frame_from_items([{"z": 1, "pk": "a", "b": 0.5}, {"pk": "b", "z": 2}], ["pk"])
    assert list(df.columns) == ["pk", "b", "z"]
    assert df["z"].tolist() == [1, 2]
    assert df["b"].isna().tolist() == [False, True]
    empty = frame_from_items([], ["pk", "sk"])
    assert list(empty.columns) == ["pk", "sk"]
    assert len(empty) == 0
    assert isinstance(empty, pd.DataFrame)


# --- query and scan arguments -------------------------------------------------------------


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"Limit": 5}, {"Limit": 5}),
    ({"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": "a", ":x": 0.1}},
     {"KeyConditionExpression": "pk = :p",
      "ExpressionAttributeValues": {":p": "a", ":x": Decimal("0.1")}}),
    ({"ExclusiveStartKey": {"pk": "a", "sk": 2.5}},
     {"ExclusiveStartKey": {"pk": "a", "sk": Decimal("2.5")}}),
    ({"KeyConditionExpression": Key("pk").eq("a") & Key("sk").gt(2.5)},
     {"KeyConditionExpression": "(#n0 = :v0 AND #n1 > :v1)",
      "ExpressionAttributeNames": {"#n0": "pk", "#n1": "sk"},
      "ExpressionAttributeValues": {":v0": "a", ":v1": Decimal("2.5")}}),
    # one builder for the request: the filter's placeholders follow the key condition's
    ({"KeyConditionExpression": Key("pk").eq("a"),
      "FilterExpression": Attr("x").between(0.1, 0.5) | Attr("tags").contains("b")},
     {"KeyConditionExpression": "#n0 = :v0",
      "FilterExpression": "(#n1 BETWEEN :v1 AND :v2 OR contains(#n2, :v3))",
      "ExpressionAttributeNames": {"#n0": "pk", "#n1": "x", "#n2": "tags"},
      "ExpressionAttributeValues": {":v0": "a", ":v1": Decimal("0.1"), ":v2": Decimal("0.5"),
                                    ":v3": "b"}}),
    ({"FilterExpression": Attr("x").is_in([0.25, 1]), "ExpressionAttributeNames": {"#a": "a"}},
     {"FilterExpression": "#n0 IN (:v0, :v1)",
      "ExpressionAttributeNames": {"#a": "a", "#n0": "x"},
      "ExpressionAttributeValues": {":v0": Decimal("0.25"), ":v1": Decimal(1)}}),
])
def test_query_arguments(arguments: dict[str, Any], expected: dict[str, Any]) -> None:
    args, problems = query_arguments(arguments)
    assert problems == []
    assert args == expected
    assert _types(args) == _types(expected)


@pytest.mark.parametrize(("arguments", "field", "problem"), [
    ({"FilterExpression": Attr("x").eq(math.nan)}, "FilterExpression", "nan"),
    ({"KeyConditionExpression": Key("pk").eq("a") & Key("sk").lt(math.inf)},
     "KeyConditionExpression", "inf"),
    ({"KeyConditionExpression": Attr("x").eq(1)}, "KeyConditionExpression", "Attr"),
    ({"ExpressionAttributeValues": {":x": math.nan}}, "ExpressionAttributeValues[':x']", "nan"),
    ({"ExclusiveStartKey": {"pk": math.nan}}, "ExclusiveStartKey['pk']", "nan"),
])
def test_query_arguments_problems(arguments: dict[str, Any], field: str, problem: str) -> None:
    _, problems = query_arguments(arguments)
    assert [p.field for p in problems] == [field]
    assert problem in problems[0].problem
