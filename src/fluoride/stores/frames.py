"""pandas DataFrames in and out of a service's table and bucket (the ``pandas`` extra).

pandas (and pyarrow, for parquet) are optional: nothing here imports them until a
DataFrame call is made, and then a missing one is a :class:`~fluoride.errors.FluorideError`
that names the extra to install, ``pip install 'fluoride[pandas]'``.

The conversions are pure: :func:`rows_from_frame` turns a DataFrame into the rows
:meth:`fluoride.stores.data.Table.put_items` writes (a missing cell, NaN, ``None``,
``pd.NA`` or ``NaT``, becomes a missing attribute), :func:`frame_from_items` turns items into a
DataFrame (an attribute an item lacks is a missing cell), :func:`frame_format` picks
parquet or CSV from an object key, and :func:`frame_bytes` / :func:`frame_from_bytes`
serialise.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import datetime
import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

from fluoride.errors import FieldError, FluorideError

if TYPE_CHECKING:
    # Only for the annotations: pandas-stubs (the dev extra) types them for mypy. At run
    # time pandas is imported by the calls that need it, after require() checked it is there.
    import pandas as pd

__all__ = [
    "EXTRA",
    "FrameFormat",
    "check_frame",
    "frame_bytes",
    "frame_format",
    "frame_from_bytes",
    "frame_from_items",
    "require",
    "rows_from_frame",
]

FrameFormat = Literal["parquet", "csv"]

#: What a user runs to get the optional dependencies of the DataFrame calls.
EXTRA: Final = "pip install 'fluoride[pandas]'"

#: Object key suffixes and the format each means.
_SUFFIXES: Final[dict[str, FrameFormat]] = {
    ".parquet": "parquet", ".pq": "parquet", ".csv": "csv",
}


def require(call: str, *, parquet: bool = False) -> None:
    """Raise :class:`FluorideError`, naming the extra to install, when pandas (or, for
    ``parquet``, pyarrow) cannot be imported."""
    needed = ["pandas"] + (["pyarrow"] if parquet else [])
    for name in needed:
        try:
            __import__(name)
        except ImportError as exc:
            what = "pandas" if name == "pandas" else "pyarrow (it reads and writes parquet)"
            raise FluorideError(
                f"{call} needs {what}, which is not installed.",
                hint=f"Install the extra: {EXTRA}"
                + ("; or use format='csv', which needs pandas only" if name == "pyarrow"
                   else ""),
            ) from exc


def _missing(value: object) -> bool:
    """A DataFrame cell that holds no value: None, NaN, pandas' NA or NaT."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    # pd.NA and pd.NaT, recognised without importing pandas here.
    return type(value).__name__ in ("NAType", "NaTType")


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (``numpy.int64(3)`` -> ``3``), a numpy
    array as a list of them (a cell holding an array of readings)."""
    if type(value).__module__ != "numpy":
        return value
    convert = getattr(value, "item" if getattr(value, "ndim", None) == 0 else "tolist", None)
    return convert() if callable(convert) else value


_DATES: Final = (datetime.date, datetime.time, datetime.timedelta)


def rows_from_frame(df: pd.DataFrame) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """The rows of ``df`` as dicts for :meth:`~fluoride.stores.data.Table.put_items`, and
    the problems found (each named like ``df.iloc[3]['when']``, the cell's position).

    A missing cell (NaN, ``None``, ``pd.NA``, ``NaT``) is left out of its row, so it is a
    missing attribute in the table (DynamoDB has no NaN). The index is not written:
    ``df.reset_index()`` first to keep it as a column. Column names must be unique strings;
    dates and times are refused (turn them into strings or numbers first).
    """
    problems: list[FieldError] = []
    names = list(df.columns)
    for name in names:
        if not isinstance(name, str) or not name:
            problems.append(FieldError(f"df.columns[{names.index(name)}]",
                                       f"the column name {name!r} is not a non-empty string",
                                       allowed="str column names, e.g. df.columns = "
                                       "df.columns.map(str)"))
    repeated = sorted({str(n) for n in names if names.count(n) > 1})
    if repeated:
        problems.append(FieldError("df.columns", f"repeats {', '.join(repeated)}",
                                   allowed="unique column names"))
    if problems:
        return [], problems
    rows: list[dict[str, Any]] = []
    for i, record in enumerate(df.to_dict(orient="records")):
        row: dict[str, Any] = {}
        for column, cell in record.items():
            name = str(column)
            value = _plain(cell)
            if _missing(value):
                continue
            if isinstance(value, _DATES) or type(cell).__name__ in ("datetime64", "timedelta64"):
                problems.append(FieldError(
                    f"df.iloc[{i}][{name!r}]", f"{value!r} is a date or time, which "
                    "DynamoDB has no type for",
                    allowed=f"str or numbers: convert the column first, e.g. "
                    f"df[{name!r}] = df[{name!r}].astype(str) (ISO 8601 text) or "
                    f"df[{name!r}].astype('int64') // 10**9 (epoch seconds)"))
                continue
            row[name] = value
        rows.append(row)
    return rows, problems


def frame_from_items(items: Sequence[Mapping[str, Any]], key_names: Sequence[str] = ()
                     ) -> pd.DataFrame:
    """A DataFrame with one row per item and one column per attribute: the key attributes
    first, then the others sorted by name. An attribute an item lacks is a missing cell
    (NaN; a column of whole numbers with a gap becomes float)."""
    import pandas as pd

    others = sorted({name for item in items for name in item} - set(key_names))
    columns = [*key_names, *others]
    # Rows of Any values match several of pandas-stubs' overloads (so mypy infers Any):
    # the annotation says which one this is.
    frame: pd.DataFrame = pd.DataFrame([dict(item) for item in items], columns=columns)
    return frame


def frame_format(key: str, format: str | None) -> tuple[FrameFormat | None, list[FieldError]]:
    """The format to read or write ``key`` in: ``format`` when given, else the key's suffix
    (``.parquet``/``.pq`` or ``.csv``)."""
    allowed = ("format='parquet' or format='csv', or a key ending in .parquet, .pq or .csv")
    if format is not None:
        if format == "parquet":
            return "parquet", []
        if format == "csv":
            return "csv", []
        return None, [FieldError("format", f"{format!r} is not a format Fluoride reads or "
                                 "writes", allowed=allowed)]
    lowered = key.lower()
    for suffix, found in _SUFFIXES.items():
        if lowered.endswith(suffix):
            return found, []
    return None, [FieldError("format", f"none was given and the key {key!r} does not end "
                             "in a suffix that names one", allowed=allowed)]


def frame_bytes(df: pd.DataFrame, format: FrameFormat) -> bytes:
    """``df`` as parquet or CSV bytes, without its index."""
    if format == "parquet":
        return df.to_parquet(index=False)
    return df.to_csv(index=False).encode()


def frame_from_bytes(data: bytes, format: FrameFormat) -> pd.DataFrame:
    """The DataFrame that :func:`frame_bytes` wrote (or any parquet or CSV file)."""
    import pandas as pd

    if format == "parquet":
        return pd.read_parquet(io.BytesIO(data))
    return pd.read_csv(io.BytesIO(data))


def check_frame(df: object, field: str = "df") -> list[FieldError]:
    """Problems of a value that must be a DataFrame (pandas is already imported)."""
    import pandas as pd

    if isinstance(df, pd.DataFrame):
        return []
    return [FieldError(field, f"must be a pandas DataFrame, got {type(df).__name__}",
                       allowed="a pandas.DataFrame, e.g. pd.DataFrame(rows)")]

