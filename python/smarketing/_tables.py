"""DataFrames to and from the column form the native module reads and writes.

Columns cross as numpy arrays without copying where pandas allows it; text
crosses as arrays of str objects (read in C++ through their UTF-8 buffers) or
as categorical codes with their categories, so nothing is done per row in
Python.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import pandas as pd

from .errors import ColumnError, Problem

if TYPE_CHECKING:
    import pyarrow as pa

ColumnSpec = tuple[str, str, Any, Any, Any]

# Leads or events: a pandas DataFrame, or an Arrow table or record batch
# (pyarrow is optional: `pip install 'smarketing[arrow]'`).
Frame = Union[pd.DataFrame, "pa.Table", "pa.RecordBatch"]

Now = Union[str, _dt.datetime, pd.Timestamp, np.datetime64]


def column_error(table: str, column: str, message: str) -> ColumnError:
    path = f"{table}.{column}"
    return ColumnError(f"{path}: {message}", [Problem(path, message)], "INVALID_ARGUMENT")


def to_nanos(now: Now, what: str = "now") -> int:
    """Nanoseconds since the Unix epoch; a time without time zone is taken as UTC."""
    if now is None:
        raise TypeError(f"{what} is required: scoring never reads the clock, give the time to score at")
    try:
        ts = pd.Timestamp(now)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{what}: not a time: {now!r} ({error})") from None
    if ts is pd.NaT:
        raise ValueError(f"{what}: not a time: {now!r}")
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.tz_convert("UTC").as_unit("ns").value)


_NAT = np.iinfo(np.int64).min  # NaT, in every unit
_TICKS_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _present(mask: np.ndarray) -> np.ndarray | None:
    """The 'present' array the core reads: None when nothing is missing."""
    if not mask.any():
        return None
    return np.ascontiguousarray(~mask, dtype=np.uint8)


def _contiguous(values: np.ndarray) -> np.ndarray:
    # A DataFrame's column is contiguous unless the frame is a strided view;
    # then, and only then, this copies.
    return np.ascontiguousarray(values)


def _first_value(values: np.ndarray) -> Any:
    """The first value that is not missing among the first thousand (None
    when there is none)."""
    for value in values[:1000]:
        if value is not None and value is not pd.NA and not (isinstance(value, float) and value != value):
            return value
    return None


def column_spec(table: str, name: Any, series: pd.Series) -> ColumnSpec:
    """One column in the form the native module reads, checked for its dtype.

    Arrays cross without a copy where pandas keeps them in a form the core
    reads (numpy int64, float64 and bool, datetimes in any unit, categorical
    codes of any width, text as str objects); only other forms are
    converted.
    """
    if not isinstance(name, str):
        raise column_error(table, str(name), "column names must be text")
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categorical = series.array
        codes = categorical.codes  # int8, int16 or int32 as pandas chose: read as is
        if codes.dtype.itemsize > 4:
            codes = codes.astype(np.int32)
        categories = categorical.categories.to_numpy(dtype=object)
        return ("codes", name, _contiguous(codes), _contiguous(categories), None)
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        # Time-zone-aware datetimes are kept as UTC ticks, and naive ones are
        # taken as UTC: either way the ticks are what the core reads, in
        # whichever unit they come.
        times = series.array
        if times.unit not in _TICKS_PER_SECOND:
            times = times.as_unit("ns")
        ticks = _contiguous(times.asi8)
        return ("time", name, ticks, _TICKS_PER_SECOND[times.unit], _present(ticks == _NAT))
    if pd.api.types.is_bool_dtype(dtype):
        if isinstance(dtype, np.dtype):  # numpy bools are bytes of 0 or 1, never missing
            return ("bool", name, _contiguous(series.to_numpy()).view(np.uint8), None, None)
        missing = np.asarray(series.isna())
        values = series.to_numpy(dtype=bool, na_value=False)
        return ("bool", name, _contiguous(values).view(np.uint8), None, _present(missing))
    if pd.api.types.is_integer_dtype(dtype):
        if dtype == np.int64:  # numpy int64: as is, never missing
            return ("int", name, _contiguous(series.to_numpy()), None, None)
        nullable = not isinstance(dtype, np.dtype)
        values = series.to_numpy(dtype=np.float64 if dtype == np.uint64 else np.int64, na_value=0)
        if dtype == np.uint64:
            if (values > np.iinfo(np.int64).max).any():
                raise column_error(table, name, "values beyond 2**63 - 1 cannot be read")
            values = values.astype(np.int64)
        present = _present(np.asarray(series.isna())) if nullable else None
        return ("int", name, np.ascontiguousarray(values, dtype=np.int64), None, present)
    if pd.api.types.is_float_dtype(dtype):
        if dtype == np.float64:
            values = _contiguous(series.to_numpy())
        else:
            values = np.ascontiguousarray(series.to_numpy(dtype=np.float64, na_value=np.nan))
        return ("double", name, values, None, _present(np.isnan(values)))
    if isinstance(dtype, pd.StringDtype):
        objects = getattr(series.array, "_ndarray", None)  # python storage: str objects already
        if not isinstance(objects, np.ndarray) or objects.dtype != object:
            objects = series.to_numpy(dtype=object, na_value=None)  # pyarrow storage: converted
        return ("objects", name, _contiguous(objects), None, None)
    if dtype == object:  # noqa: E721 (a numpy dtype equals the type it holds)
        # Object columns hold what pandas could not type: text (the usual
        # case: the core reads None, NaN and pd.NA as missing and refuses,
        # naming the row, anything else that is not text), or booleans,
        # numbers or datetimes with None among them. An attribute or a
        # property may also hold lists, dicts, or values of several types,
        # as leads read from JSON do.
        values = series.to_numpy()
        if name.startswith(("attributes.", "properties.")) and \
                pd.api.types.infer_dtype(series, skipna=True) in ("mixed", "mixed-integer"):
            return _value_spec(table, name, values)
        if isinstance(_first_value(values), str):
            return ("objects", name, _contiguous(values), None, None)
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "boolean":
            return column_spec(table, name, series.astype("boolean"))
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
            return column_spec(table, name, pd.to_numeric(series))
        if inferred in ("datetime", "datetime64", "date"):
            return column_spec(table, name, pd.to_datetime(series, utc=True))
        return ("objects", name, _contiguous(values), None, None)
    raise column_error(table, name, f"unsupported dtype {dtype}; use text, numbers, booleans, "
                                    "datetimes or categories")


def _value_spec(table: str, name: str, values: np.ndarray) -> ColumnSpec:
    """An attribute or property column whose values change JSON type from
    row to row: a kind per row (as Column::ValueKind in
    core/batch/lead_table.h), lists and dicts as JSON."""
    rows = len(values)
    kinds = np.zeros(rows, dtype=np.uint8)
    numbers = np.zeros(rows, dtype=np.float64)
    bools = np.zeros(rows, dtype=np.uint8)
    texts = np.full(rows, None, dtype=object)
    for row, value in enumerate(values):
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            continue
        if isinstance(value, (bool, np.bool_)):
            kinds[row], bools[row] = _BOOL, value
        elif isinstance(value, (int, float, np.integer, np.floating)):
            kinds[row], numbers[row] = _NUMBER, value
        elif isinstance(value, str):
            kinds[row], texts[row] = _TEXT, value
        elif isinstance(value, (list, tuple, dict)):
            kinds[row], texts[row] = _JSON, json.dumps(value, allow_nan=False)
        else:
            raise column_error(table, name, f"row {row}: expected text, a number, a boolean, a list or a dict, "
                                            f"found {type(value).__name__}")
    return ("value", name, kinds, (numbers, bools, texts), _present(kinds == 0))


_NUMBER, _BOOL, _TEXT, _JSON = 1, 2, 3, 4


def is_arrow(frame: Any) -> bool:
    """Whether `frame` is a pyarrow Table or RecordBatch (pyarrow is optional)."""
    module = type(frame).__module__
    return module.startswith("pyarrow") and hasattr(frame, "schema") and hasattr(frame, "column")


def _arrow_present(column: Any) -> np.ndarray | None:
    if column.null_count == 0:
        return None
    return np.ascontiguousarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=np.uint8)


def arrow_column_spec(table: str, name: str, column: Any) -> ColumnSpec:
    """One Arrow column in the form the native module reads.

    Numbers and timestamps without missing values cross without a copy (a
    view of Arrow's buffer); missing values add a 'present' array. Text is
    dictionary-encoded by Arrow into codes and a dictionary, so no Python
    object is made per value. Booleans, bit-packed in Arrow, are unpacked.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    kind = column.type
    if pa.types.is_dictionary(kind) and (pa.types.is_string(kind.value_type)
                                        or pa.types.is_large_string(kind.value_type)):
        codes = column.indices.fill_null(-1).cast(pa.int32()).to_numpy(zero_copy_only=False)
        categories = column.dictionary.to_numpy(zero_copy_only=False).astype(object)
        return ("codes", name, _contiguous(codes), _contiguous(categories), None)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return arrow_column_spec(table, name, pc.dictionary_encode(column))
    if pa.types.is_timestamp(kind):
        if kind.unit not in _TICKS_PER_SECOND:
            raise column_error(table, name, f"unsupported timestamp unit {kind.unit}")
        ticks = column.cast(pa.int64()).fill_null(_NAT).to_numpy(zero_copy_only=False)
        return ("time", name, _contiguous(ticks), _TICKS_PER_SECOND[kind.unit], _arrow_present(column))
    if pa.types.is_boolean(kind):
        values = column.fill_null(False).to_numpy(zero_copy_only=False)
        return ("bool", name, _contiguous(values).view(np.uint8), None, _arrow_present(column))
    if pa.types.is_integer(kind):
        if pa.types.is_uint64(kind) and column.null_count < len(column) and \
                pc.max(column).as_py() > np.iinfo(np.int64).max:
            raise column_error(table, name, "values beyond 2**63 - 1 cannot be read")
        values = column.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        return ("int", name, _contiguous(values), None, _arrow_present(column))
    if pa.types.is_floating(kind):
        values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return ("double", name, _contiguous(values), None, _present(np.isnan(values)))
    if pa.types.is_null(kind):
        return ("double", name, np.full(len(column), np.nan), None, np.zeros(len(column), np.uint8))
    raise column_error(table, name, f"unsupported Arrow type {kind}; use text, numbers, booleans, "
                                    "timestamps or dictionaries of text")


def table_specs(table: str, frame: Any) -> list[ColumnSpec]:
    """Every column of a leads or events DataFrame (or Arrow table), in the native form."""
    if frame is None:
        return []
    if is_arrow(frame):
        names = frame.schema.names
        if len(set(names)) != len(names):
            duplicated = next(n for n in names if names.count(n) > 1)
            raise column_error(table, duplicated, "appears twice")
        return [arrow_column_spec(table, name, frame.column(i)) for i, name in enumerate(names)]
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{table} must be a pandas DataFrame, found {type(frame).__name__}")
    if frame.columns.has_duplicates:
        duplicated = frame.columns[frame.columns.duplicated()][0]
        raise column_error(table, str(duplicated), "appears twice")
    return [column_spec(table, name, frame[name]) for name in frame.columns]


def leads_specs(leads: Any, events: Any) -> tuple[list[ColumnSpec], list[ColumnSpec]]:
    """Leads and events (DataFrames or Arrow tables) in the native form."""
    if is_arrow(leads):
        columns, rows = leads.schema.names, leads.num_rows
    elif isinstance(leads, pd.DataFrame):
        columns, rows = list(leads.columns), len(leads)
    else:
        raise TypeError(f"leads must be a pandas DataFrame or an Arrow table, found {type(leads).__name__}")
    if "id" not in columns:
        raise column_error("leads", "id", "the id column is required")
    if rows == 0:
        raise column_error("leads", "id", "the leads table is empty: there is nothing to score")
    if events is not None and len(events.schema.names if is_arrow(events) else events.columns) == 0:
        events = None
    return table_specs("leads", leads), table_specs("events", events)


def lead_ids_and_index(leads: Any) -> tuple[np.ndarray, pd.Index]:
    """The id column and the index results take: the DataFrame's own, or
    row numbers for an Arrow table."""
    if is_arrow(leads):
        ids = leads.column("id").to_numpy(zero_copy_only=False)
        return ids, pd.RangeIndex(leads.num_rows)
    return leads["id"].to_numpy(), leads.index


# --- From the native column form to DataFrames. ------------------------------

def _text(spec: tuple) -> Any:
    if spec[0] == "objects":
        return pd.Series(spec[1], dtype=object)
    codes, dictionary = spec[1], spec[2]
    return pd.Categorical.from_codes(codes, categories=pd.Index(dictionary, dtype=object))


def _value(kinds: np.ndarray, numbers: np.ndarray, bools: np.ndarray, text: tuple) -> Any:
    """An attribute or property column with the narrowest dtype its values allow."""
    present = kinds != 0
    found = set(np.unique(kinds[present]).tolist())
    if found <= {_NUMBER}:
        return np.where(present, numbers, np.nan)
    if found == {_BOOL} and present.all():
        return bools.astype(bool)
    if found == {_TEXT}:
        return _text(text)
    # A copy: pandas may hand out read-only arrays.
    values = np.array(pd.Series(_text(text), dtype=object).to_numpy(), dtype=object)
    values[kinds == _NUMBER] = numbers[kinds == _NUMBER]
    values[kinds == _BOOL] = bools[kinds == _BOOL].astype(bool)
    for row in np.flatnonzero(kinds == _JSON):
        values[row] = json.loads(values[row])
    values[kinds == 0] = None
    return values


def frame_from_native(columns: dict) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for name, spec in columns.items():
        if name == "__rows__":
            continue
        kind = spec[0]
        if kind in ("objects", "codes"):
            data[name] = _text(spec)
        elif kind == "time":
            ticks, present = spec[1], spec[2].astype(bool)
            unit = next(u for u, n in _TICKS_PER_SECOND.items() if n == spec[3])
            values = ticks.view(f"M8[{unit}]").copy()
            values[~present] = np.datetime64("NaT")
            data[name] = pd.DatetimeIndex(values).tz_localize("UTC")
        elif kind == "value":
            data[name] = _value(spec[1], spec[2], spec[3], spec[4])
        elif kind == "bool":
            data[name] = spec[1].astype(bool)
        else:
            data[name] = spec[1]
    return pd.DataFrame(data, index=pd.RangeIndex(columns["__rows__"]))
