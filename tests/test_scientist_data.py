"""Data that scientists have, against moto's server: floats in and numbers out of a table,
many rows at once (put_items), and pandas DataFrames through the table and the bucket.

The pure conversions behind these are tested by tables in tests/test_numbers.py.
"""

from __future__ import annotations

import math
import sys
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import pytest
from boto3.dynamodb.conditions import Attr, Key

from fluoride.aws import Aws
from fluoride.errors import FluorideError, InvalidInput, StoreNotFound
from fluoride.stores.data import Bucket, Table

from .conftest import plain_aws

if TYPE_CHECKING:
    import pandas as pd

REGION: Final = "eu-west-1"


@pytest.fixture
def aws(moto_endpoint: str) -> Aws:
    return plain_aws(moto_endpoint, REGION)


@pytest.fixture
def table(aws: Aws) -> Table:
    """A table like a service's: partition key ``pk`` (a string), no sort key."""
    name = f"fluoride-t-{uuid.uuid4().hex[:10]}"
    arn = aws.client("dynamodb").create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    return Table(aws, name, arn)


@pytest.fixture
def bucket(aws: Aws) -> Bucket:
    name = f"fluoride-b-{uuid.uuid4().hex[:10]}"
    aws.client("s3").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return Bucket(aws, name, f"arn:aws:s3:::{name}")


def count_calls(table: Table) -> list[str]:
    """The names of the DynamoDB operations the table's resource sends from now on."""
    calls: list[str] = []
    table.resource.meta.client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )
    return calls


# --- numbers ------------------------------------------------------------------------------


def test_numbers_come_back_as_the_python_numbers_written(table: Table) -> None:
    table.put_item({"pk": "n", "half": 1.5, "three": 3, "tenth": 0.1, "whole": 2.0,
                    "avogadro": 6.02214076e23, "tiny": 1e-100, "neg": -0.0, "flag": True,
                    "scores": [0.5, 2, {"deep": 0.25}], "set": {1.5, 2}})
    item = table.get_item({"pk": "n"})
    assert item == {"pk": "n", "half": 1.5, "three": 3, "tenth": 0.1, "whole": 2,
                    "avogadro": 6.02214076e23, "tiny": 1e-100, "neg": 0, "flag": True,
                    "scores": [0.5, 2, {"deep": 0.25}], "set": {1.5, 2}}
    assert {k: type(v).__name__ for k, v in item.items()} == {
        "pk": "str", "half": "float", "three": "int", "tenth": "float", "whole": "int",
        "avogadro": "float", "tiny": "float", "neg": "int", "flag": "bool",
        "scores": "list", "set": "set"}
    assert [type(v) for v in item["scores"][:2]] == [float, int]
    # 0.1 is the float 0.1 (not 0.1000000000000000055511151231257827 read back as a Decimal)
    assert item["tenth"] == 0.1
    assert item["tenth"] + 0.2 == 0.1 + 0.2


def test_with_decimals_gives_what_is_stored(table: Table) -> None:
    table.put_item({"pk": "d", "x": 0.1, "n": 3, "l": [2.5]})
    exact = table.with_decimals()
    assert exact.decimals
    assert not table.decimals  # the handle it came from is unchanged
    assert exact.get_item({"pk": "d"}) == {"pk": "d", "x": Decimal("0.1"), "n": Decimal(3),
                                           "l": [Decimal("2.5")]}
    assert type(exact.get_item({"pk": "d"})["x"]) is Decimal  # type: ignore[index]  # found above
    assert [i["x"] for i in exact.scan()] == [Decimal("0.1")]
    assert [i["x"] for i in table.scan()] == [0.1]
    assert Table(table.aws, table.name, table.arn, decimals=True).get_item(
        {"pk": "d"}) == exact.get_item({"pk": "d"})
    assert exact.with_decimals(False).get_item({"pk": "d"}) == table.get_item({"pk": "d"})
    with pytest.raises(InvalidInput, match="decimals"):
        table.with_decimals("yes")  # type: ignore[arg-type]  # the bad input


def test_digits_beyond_a_float_stay_decimal(table: Table) -> None:
    precise = Decimal("0.12345678901234567890123")
    table.put_item({"pk": "p", "x": precise, "big": 10**37 + 1})
    item = table.get_item({"pk": "p"})
    assert item == {"pk": "p", "x": precise, "big": 10**37 + 1}
    assert type(item["x"]) is Decimal


def test_nan_and_infinity_are_refused_before_any_call(table: Table) -> None:
    calls = count_calls(table)
    with pytest.raises(InvalidInput) as err:
        table.put_item({"pk": "x", "scores": [1.0, 2.0, math.nan]})
    (problem,) = err.value.errors
    assert problem.field == "item['scores'][2]"
    assert "nan" in problem.problem
    assert "finite" in (problem.allowed or "")
    with pytest.raises(InvalidInput, match=r"item\['m'\]\['x'\]: inf"):
        table.put_item({"pk": "x", "m": {"x": math.inf}})
    assert calls == []


def test_conditions_with_floats(aws: Aws) -> None:
    # boto3 alone raises TypeError: Float types are not supported, for Key("sk").gt(2.5).
    name = f"fluoride-t-{uuid.uuid4().hex[:10]}"
    aws.client("dynamodb").create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table = Table(aws, name, "")
    table.put_items([{"pk": "a", "sk": i / 2, "x": round(i * 0.1, 1)} for i in range(10)])
    found = table.query(KeyConditionExpression=Key("pk").eq("a") & Key("sk").gt(2.5))
    assert [i["sk"] for i in found] == [3, 3.5, 4, 4.5]
    found = table.query(KeyConditionExpression=Key("pk").eq("a"),
                        FilterExpression=Attr("x").between(0.2, 0.5), Limit=3)
    assert [i["x"] for i in found] == [0.2, 0.3, 0.4, 0.5]  # paged: the filter every page
    assert sorted(i["x"] for i in table.scan(FilterExpression=Attr("x").is_in([0.1, 0.9]))) \
        == [0.1, 0.9]
    calls = count_calls(table)
    with pytest.raises(InvalidInput, match=r"FilterExpression: nan"):
        table.scan(FilterExpression=Attr("x").eq(math.nan))
    assert calls == []


# --- put_items ----------------------------------------------------------------------------


def test_put_items_writes_a_thousand_rows_in_batches(table: Table) -> None:
    rows = [{"pk": f"run#{i:04}", "score": i / 7, "n": i, "tags": ["a", "b"]}
            for i in range(1000)]
    calls = count_calls(table)
    assert table.put_items(iter(rows)) == 1000  # any iterable: a generator here
    # One DescribeTable (the key, checked before the first write), then 25 rows a request.
    assert calls.count("DescribeTable") == 1
    assert calls.count("BatchWriteItem") == 40
    assert calls.index("DescribeTable") < calls.index("BatchWriteItem")
    got = sorted(table.scan(), key=lambda item: item["pk"])
    assert got == rows
    assert type(got[3]["score"]) is float
    assert type(got[3]["n"]) is int


def test_put_items_checks_every_row_before_writing_any(table: Table) -> None:
    rows: list[dict[str, Any]] = [{"pk": f"r{i}", "x": i + 0.5} for i in range(999)]
    rows.append({"pk": "last", "x": [1, math.nan]})
    calls = count_calls(table)
    with pytest.raises(InvalidInput) as err:
        table.put_items(rows)
    assert [p.field for p in err.value.errors] == ["rows[999]['x'][1]"]
    assert calls == []
    assert list(table.scan()) == []


def test_put_items_checks_the_key_then_writes_nothing(table: Table) -> None:
    calls = count_calls(table)
    with pytest.raises(InvalidInput) as err:
        table.put_items([{"pk": "a"}, {"text": "no key"}, {"pk": 7}])
    assert [p.field for p in err.value.errors] == ["rows[1]", "rows[2]['pk']"]
    assert "has no key attribute 'pk'" in err.value.errors[0].problem
    assert "7 is not a non-empty str" in err.value.errors[1].problem
    assert "nothing was written" in err.value.message
    assert calls == ["DescribeTable"]  # a read; no write was sent
    assert list(table.scan()) == []


def test_put_items_a_later_row_replaces_an_earlier_one(table: Table) -> None:
    # BatchWriteItem refuses two items with one key in a request; the writer keeps the last.
    assert table.put_items([{"pk": "a", "v": 1}, {"pk": "b", "v": 2}, {"pk": "a", "v": 3}]) == 3
    assert sorted((i["pk"], i["v"]) for i in table.scan()) == [("a", 3), ("b", 2)]


def test_put_items_of_nothing_makes_no_call(table: Table) -> None:
    calls = count_calls(table)
    assert table.put_items([]) == 0
    assert calls == []


def test_put_items_into_a_missing_table(aws: Aws) -> None:
    missing = Table(aws, "fluoride-nope", "")
    with pytest.raises(StoreNotFound) as err:
        missing.put_items([{"pk": "a"}])
    assert err.value.operation == "DescribeTable"


# --- pandas -------------------------------------------------------------------------------


def _frame() -> pd.DataFrame:
    pytest.importorskip("pandas")
    import pandas as pd

    frame: pd.DataFrame = pd.DataFrame({  # dict of Any lists: several overloads match
        "pk": [f"sample-{i}" for i in range(12)],
        "mass": [0.1 * i + 0.05 for i in range(12)],
        "count": list(range(12)),
        "ok": [i % 3 == 0 for i in range(12)],
        "site": ["north", "south", "east"] * 4,
    })
    return frame


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    ordered = df.sort_values("pk").reset_index(drop=True)
    columns: pd.DataFrame = ordered[sorted(str(c) for c in df.columns)]
    return columns


def test_dataframe_round_trips_through_the_table(table: Table) -> None:
    import pandas.testing

    df = _frame()
    assert table.from_pandas(df) == 12
    back = table.to_pandas()
    assert back.columns[0] == "pk"  # the key first
    pandas.testing.assert_frame_equal(_sorted(back), _sorted(df), check_exact=True)


def test_nan_in_a_dataframe_is_a_missing_attribute(table: Table) -> None:
    pd = pytest.importorskip("pandas")
    import pandas.testing

    df = pd.DataFrame({"pk": ["a", "b", "c"], "x": [1.5, float("nan"), 0.25],
                       "note": ["hi", None, "yo"]})
    assert table.from_pandas(df) == 3
    assert table.get_item({"pk": "b"}) == {"pk": "b"}  # no "x", no "note"
    pandas.testing.assert_frame_equal(_sorted(table.to_pandas()), _sorted(df),
                                      check_exact=True)


def test_from_pandas_refuses_a_bad_cell_before_writing(table: Table) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"pk": ["a", "b"], "x": [1.0, float("inf")],
                       "when": pd.to_datetime(["2024-06-01", "2024-06-02"])})
    calls = count_calls(table)
    with pytest.raises(InvalidInput) as err:
        table.from_pandas(df)
    fields = [p.field for p in err.value.errors]
    assert fields == ["df.iloc[0]['when']", "df.iloc[1]['when']"]
    assert "astype(str)" in (err.value.errors[0].allowed or "")
    with pytest.raises(InvalidInput, match=r"df.iloc\[1\]\['x'\]: inf"):
        table.from_pandas(df.drop(columns=["when"]))
    with pytest.raises(InvalidInput, match="must be a pandas DataFrame"):
        table.from_pandas([{"pk": "a"}])  # type: ignore[arg-type]  # the bad input
    with pytest.raises(InvalidInput, match=r"rows: is a DataFrame.*from_pandas\(df\)"):
        table.put_items(df)
    assert calls == []


def test_to_pandas_of_an_empty_table(table: Table) -> None:
    df = table.to_pandas()
    assert list(df.columns) == ["pk"]
    assert len(df) == 0


@pytest.mark.parametrize("key", ["runs/r1.csv", "runs/r1.parquet", "runs/r1.pq"])
def test_dataframe_round_trips_through_the_bucket(bucket: Bucket, key: str) -> None:
    import pandas.testing

    df = _frame()
    bucket.put_dataframe(key, df)
    pandas.testing.assert_frame_equal(bucket.get_dataframe(key), df, check_exact=True)
    data = bucket.get_bytes(key)
    assert data.startswith(b"PAR1") == (not key.endswith(".csv"))


def test_dataframe_format_argument_wins(bucket: Bucket) -> None:
    import pandas.testing

    df = _frame()
    bucket.put_dataframe("runs/latest", df, format="parquet")
    assert bucket.get_bytes("runs/latest").startswith(b"PAR1")
    pandas.testing.assert_frame_equal(bucket.get_dataframe("runs/latest", format="parquet"),
                                      df, check_exact=True)
    with pytest.raises(StoreNotFound):
        bucket.get_dataframe("runs/none.csv")


@pytest.mark.parametrize(("hidden", "call"), [
    ("pandas", lambda t, b: t.to_pandas()),
    ("pandas", lambda t, b: t.from_pandas(None)),
    ("pandas", lambda t, b: b.put_dataframe("a.csv", None)),
    ("pandas", lambda t, b: b.get_dataframe("a.parquet")),
    ("pyarrow", lambda t, b: b.put_dataframe("a.parquet", None)),
    ("pyarrow", lambda t, b: b.get_dataframe("a.pq")),
])
def test_without_pandas_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, table: Table, bucket: Bucket, hidden: str, call: Any
) -> None:
    monkeypatch.setitem(sys.modules, hidden, None)  # as if it were not installed
    calls = count_calls(table)
    with pytest.raises(FluorideError) as err:
        call(table, bucket)
    assert type(err.value) is FluorideError
    assert hidden in err.value.message
    assert "pip install 'fluoride[pandas]'" in (err.value.hint or "")
    assert calls == []
