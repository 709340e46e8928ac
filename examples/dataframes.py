"""Measurements into a service's table and bucket: floats, many rows at once, DataFrames.

Run it with ``python examples/dataframes.py``: no AWS account is needed (the embedded
emulator). The pandas part needs the extra, ``pip install 'fluoride[pandas]'``; without it
the example says so and skips that part. Against AWS, use ``Fluoride(profile="lab")`` and
an existing service instead of creating and deleting one.
"""

from __future__ import annotations

import importlib.util
import math

from fluoride import Fluoride, InvalidInput
from fluoride.stores.data import Bucket, Table


def main() -> None:
    with Fluoride.local() as fl:
        svc = fl.service("lab-results")
        svc.create()

        # [floats]
        table = svc.table
        table.put_item({"pk": "run#1", "temperature": 21.5, "samples": 3, "ratio": 0.1,
                        "readings": [0.25, 0.5, 1.0]})
        print(table.get_item({"pk": "run#1"}))  # 'ratio': 0.1, 'samples': 3 (float, int)
        exact = table.with_decimals()  # the same table, every number as Decimal
        print(exact.get_item({"pk": "run#1"}))  # 'ratio': Decimal('0.1'), ...
        try:
            table.put_item({"pk": "run#2", "readings": [0.25, math.nan]})
        except InvalidInput as err:
            print(err.errors[0].field)  # item['readings'][1]: NaN has no DynamoDB form
        # [/floats]

        # [put_items]
        rows = [{"pk": f"sample#{i:03}", "mass_g": round(0.1 * i, 3), "batch": i % 4}
                for i in range(200)]
        print(table.put_items(rows), "rows written")  # 25 a request, all checked first
        # [/put_items]

        if importlib.util.find_spec("pandas") is None:
            print("pandas is not installed: skipping the DataFrame part "
                  "(pip install 'fluoride[pandas]')")
        else:
            dataframes(svc.table, svc.bucket)

        svc.delete(purge_data=True)


def dataframes(table: Table, bucket: Bucket) -> None:
    """The DataFrame part: needs pandas (and pyarrow for parquet)."""
    # [pandas]
    df = table.to_pandas()  # every item, one column per attribute, the key first
    print(df.shape, list(df.columns)[:3])
    summary = df.groupby("batch", as_index=False).agg(mass_g=("mass_g", "mean"))
    summary["pk"] = "summary#" + summary["batch"].astype(str)
    print(table.from_pandas(summary), "summary rows written")  # NaN: a missing attribute

    bucket.put_dataframe("results/summary.csv", summary)
    back = bucket.get_dataframe("results/summary.csv")
    print(back.equals(summary))
    if importlib.util.find_spec("pyarrow") is not None:
        bucket.put_dataframe("results/samples.parquet", df)  # format from the suffix
        print(len(bucket.get_dataframe("results/samples.parquet")), "rows from parquet")
    # [/pandas]


if __name__ == "__main__":
    main()
