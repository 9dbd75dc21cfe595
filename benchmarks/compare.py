"""Do two engines give the same answer? Frames, tuples, dicts and numbers compared to 1e-9 (relative).

Sums of the same float numbers in a different order can differ in the last bits, so numbers are compared
with a tolerance; everything else (codes, labels, dates, row order) must match exactly.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime

import numpy as np
import pandas as pd

RELATIVE_TOLERANCE = 1e-9


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """Same columns and dtypes families: datetimes to one unit, integers and floats as float."""
    out = frame.reset_index(drop=True).copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[column] = series.astype("datetime64[us]")
        elif pd.api.types.is_bool_dtype(series):
            out[column] = series.astype(object)
        elif pd.api.types.is_numeric_dtype(series):
            out[column] = pd.to_numeric(series).astype(float)
        else:  # text: one missing-value marker (DuckDB gives None, pandas NaN)
            out[column] = series.astype(object).where(series.notna(), None)
    return out


def differences(ours: object, theirs: object, where: str = "answer") -> list[str]:
    """Every place the two answers differ (empty when they agree)."""
    if isinstance(ours, pd.DataFrame) and isinstance(theirs, pd.DataFrame):
        return _frame_differences(ours, theirs, where)
    if dataclasses.is_dataclass(ours) and dataclasses.is_dataclass(theirs):
        return differences(dataclasses.asdict(ours), dataclasses.asdict(theirs), where)
    if isinstance(ours, np.ndarray) and isinstance(theirs, np.ndarray):  # an XmR result's per-point arrays
        return differences(ours.tolist(), theirs.tolist(), where)
    if isinstance(ours, dict) and isinstance(theirs, dict):
        if set(ours) != set(theirs):
            return [f"{where}: keys {sorted(map(str, ours))} != {sorted(map(str, theirs))}"]
        return [d for key in ours for d in differences(ours[key], theirs[key], f"{where}[{key!r}]")]
    if isinstance(ours, (list, tuple)) and isinstance(theirs, (list, tuple)):
        if len(ours) != len(theirs):
            return [f"{where}: length {len(ours)} != {len(theirs)}"]
        return [d for i, (a, b) in enumerate(zip(ours, theirs)) for d in differences(a, b, f"{where}[{i}]")]
    return [] if _same_scalar(ours, theirs) else [f"{where}: {ours!r} != {theirs!r}"]


def _same_scalar(a: object, b: object) -> bool:
    if isinstance(a, (datetime, date, pd.Timestamp)) or isinstance(b, (datetime, date, pd.Timestamp)):
        return pd.Timestamp(a) == pd.Timestamp(b)
    if _is_number(a) and _is_number(b):
        a, b = float(a), float(b)
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)
    if a is None or b is None or a is pd.NA or b is pd.NA:
        return (a is None or a is pd.NA or _is_nan(a)) and (b is None or b is pd.NA or _is_nan(b))
    return a == b


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _is_nan(x: object) -> bool:
    return _is_number(x) and math.isnan(float(x))


def _frame_differences(ours: pd.DataFrame, theirs: pd.DataFrame, where: str) -> list[str]:
    if list(ours.columns) != list(theirs.columns):
        return [f"{where}: columns {list(ours.columns)} != {list(theirs.columns)}"]
    if len(ours) != len(theirs):
        return [f"{where}: {len(ours)} rows != {len(theirs)} rows"]
    a, b = _normalised(ours), _normalised(theirs)
    problem = _frame_problem(a, b)
    if problem and _frame_problem(_by_every_column(a), _by_every_column(b)) is None:
        return []  # same rows; only ties of the SQL's ORDER BY (e.g. two practices of one name) came out swapped
    return [f"{where}: {problem}"] if problem else []


def _frame_problem(a: pd.DataFrame, b: pd.DataFrame) -> str | None:
    try:
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, rtol=RELATIVE_TOLERANCE,
                                      atol=1e-12)
    except AssertionError as error:
        return " ".join(str(error).split())[:400]
    return None


def _by_every_column(frame: pd.DataFrame) -> pd.DataFrame:
    keys = frame.map(lambda x: repr(x) if isinstance(x, list) else x).astype(str)
    return frame.loc[keys.sort_values(list(keys.columns), kind="stable").index].reset_index(drop=True)
