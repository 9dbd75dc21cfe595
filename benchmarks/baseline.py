"""The baseline: the store's questions answered the way a typical analyst would, with pandas.

Each snapshot's parquet is read into pandas once (``load_seconds`` records what that costs), then every
question is a boolean filter, a merge with the organisations and a ``groupby``. The baseline is given
every advantage that does not change what it is: the data is already in memory when a query is timed,
text columns are pandas categoricals (fast to compare, and small enough to hold England in memory), and
rows are filtered before the merge, not after. ``PandasStore`` has the methods of ``metrics.store.Store`` that
the pages use, so it can be handed to the very same library code (``metrics.reports``, ``metrics.variation``,
``metrics.pack``) in the store's place.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from metrics import layout

TEXT_COLUMNS = ["metric_id", "org_code", "breakdown", "breakdown_value"]
VALUE_COLUMNS = [*TEXT_COLUMNS, "period_start", "period_end", "numerator", "denominator"]
ORG_COLUMNS = ["org_code", "org_name", "org_type", "parent_code", "borough_code", "pcn_code", "place_code", "list_size",
               "imd_score", "imd_decile"]
LEVEL_COLUMN = {"practice": "org_code", "pcn": "pcn_code", "borough": "borough_code", "place": "place_code",
                "ics": "ics_code"}
GROUP_KEYS = ["metric_id", "area_code", "period_start", "period_end", "breakdown_value"]


def _timestamp(day: date | None) -> pd.Timestamp | None:
    return None if day is None else pd.Timestamp(day)


def _memoised(method: Callable) -> Callable:
    """Within one run, a repeated question is answered once, as the store's own memo does for the app."""
    @functools.wraps(method)
    def call(self: "PandasStore", *args, **kwargs):
        key = (method.__name__, args, tuple(sorted(kwargs.items())))
        if key not in self.memo:
            self.memo[key] = method(self, *args, **kwargs)
        answer = self.memo[key]
        return answer.copy() if isinstance(answer, pd.DataFrame) else answer
    return call


class PandasStore:
    """Snapshots held as pandas frames; the store's questions re-done with filter, merge and groupby."""

    def __init__(self, root: str) -> None:
        self.root = str(root)
        self.storage = layout.storage(root)  # where manifests are read from (provenance), as the store's
        self.values: dict[date, pd.DataFrame] = {}
        self.org_frames: dict[date, pd.DataFrame] = {}
        self.load_seconds: dict[str, float] = {}
        self.memo: dict[tuple, object] = {}

    def clear_cache(self) -> None:
        """Forget answers (not data): the counterpart of clearing the store's memo between runs."""
        self.memo.clear()

    # ------------------------------------------------------------------------------------------ loading
    def load(self, snapshot: date) -> None:
        """Read one snapshot's two files into memory (the analyst's ``pd.read_parquet``, text as categories)."""
        if snapshot in self.values:
            return
        started = time.perf_counter()
        files = layout.storage(self.root)
        folder = layout.snapshot_folder(files, snapshot)
        with files.open(files.join(folder, layout.METRIC_VALUES_FILE)) as handle:
            table = pq.read_table(handle, columns=VALUE_COLUMNS, read_dictionary=TEXT_COLUMNS)
        values = table.to_pandas(date_as_object=False)
        for column in ("period_start", "period_end"):
            values[column] = values[column].astype("datetime64[us]")
        with files.open(files.join(folder, layout.ORGS_FILE)) as handle:
            orgs = pd.read_parquet(handle)
        for column, default in (("valid_from", pd.NaT), ("valid_to", pd.NaT), ("place_code", None)):
            if column not in orgs:
                orgs[column] = default
        orgs["valid_from"] = pd.to_datetime(orgs["valid_from"]).astype("datetime64[us]")
        orgs["valid_to"] = pd.to_datetime(orgs["valid_to"]).astype("datetime64[us]")
        self.values[snapshot], self.org_frames[snapshot] = values, orgs
        self.load_seconds[snapshot.isoformat()] = round(time.perf_counter() - started, 3)

    def _values(self, snapshot: date) -> pd.DataFrame:
        self.load(snapshot)
        return self.values[snapshot]

    def _orgs(self, snapshot: date) -> pd.DataFrame:
        self.load(snapshot)
        return self.org_frames[snapshot]

    # ---------------------------------------------------------------------------------- the questions
    @_memoised
    def snapshots(self) -> list[date]:
        return [day for day, _ in layout.snapshot_folders(self.root)]

    @_memoised
    def orgs(self, snapshot: date, org_type: str | None = None, parent_code: str | None = None) -> pd.DataFrame:
        frame = self._orgs(snapshot)
        if org_type is not None:
            frame = frame[frame["org_type"] == org_type]
        if parent_code is not None:
            frame = frame[frame["parent_code"] == parent_code]
        newest = frame.sort_values("valid_from", ascending=False, na_position="last", kind="stable")
        newest = newest.drop_duplicates("org_code")
        return newest.sort_values("org_name", kind="stable")[ORG_COLUMNS].reset_index(drop=True)

    @_memoised
    def aggregate(self, snapshot: date, metric_ids: tuple[str, ...], level: str,
                  area_codes: tuple[str, ...] | None = None, within: tuple[str, str] | None = None,
                  breakdown: str = "all", start: date | None = None, end: date | None = None) -> pd.DataFrame:
        values = self._values(snapshot)
        keep = (values["breakdown"] == breakdown) & values["metric_id"].isin(metric_ids)
        if start is not None:
            keep &= values["period_start"] >= _timestamp(start)
        if end is not None:
            keep &= values["period_end"] <= _timestamp(end)
        rows = values[keep]
        column = LEVEL_COLUMN[level]
        orgs = self._orgs(snapshot)
        needed = dict.fromkeys(["org_code", "valid_from", "valid_to", *([LEVEL_COLUMN[within[0]]] if within else [])])
        rows = rows.merge(orgs[list(needed)].assign(area_code=orgs[column]), on="org_code")
        valid = ((rows["valid_from"].isna() | (rows["valid_from"] <= rows["period_start"]))
                 & (rows["valid_to"].isna() | (rows["period_start"] <= rows["valid_to"])))
        valid &= rows["area_code"].notna()
        if area_codes is not None:
            valid &= rows["area_code"].isin(area_codes)
        if within is not None:
            valid &= rows[LEVEL_COLUMN[within[0]]] == within[1]
        return self._sums(rows[valid])

    @staticmethod
    def _sums(rows: pd.DataFrame) -> pd.DataFrame:
        """Numerators and denominators summed; a suppressed (null) numerator adds to neither."""
        counted = rows.assign(denominator=rows["denominator"].where(rows["numerator"].notna()),
                              breakdown_value=rows["breakdown_value"].astype(str),
                              metric_id=rows["metric_id"].astype(str), area_code=rows["area_code"].astype(str))
        grouped = counted.groupby(GROUP_KEYS, observed=True, sort=True)
        out = pd.DataFrame({
            "numerator": grouped["numerator"].sum(min_count=1),
            "denominator": grouped["denominator"].sum(min_count=1),
            "n_orgs": grouped["numerator"].count().astype(np.int64),
        })
        return out.reset_index()[[*GROUP_KEYS, "numerator", "denominator", "n_orgs"]]

    @_memoised
    def practice_counts(self, snapshot: date, metric_id: str, ics_code: str, start: date, end: date) -> pd.DataFrame:
        rows = self.aggregate(snapshot, (metric_id,), "practice", within=("ics", ics_code), start=start, end=end)
        rows = rows[["period_start", "numerator", "denominator"]]
        return rows.sort_values(["period_start", "numerator", "denominator"], kind="stable").reset_index(drop=True)

    @_memoised
    def period_range(self, snapshot: date) -> tuple[date, date]:
        values = self._values(snapshot)
        rows = values[values["breakdown"] == "all"]
        monthly = rows[rows["period_end"] == rows["period_start"] + pd.offsets.MonthEnd(0)]
        monthly = monthly if len(monthly) else rows  # no monthly metric: the span of every period, as the store
        return monthly["period_start"].min().date(), monthly["period_end"].max().date()

    @_memoised
    def snapshot_summary(self, snapshot: date) -> dict:
        values = self._values(snapshot)
        files = layout.storage(self.root)
        written = files.info(files.join(layout.snapshot_folder(files, snapshot), layout.METRIC_VALUES_FILE)).modified
        return {"rows": len(values), "metrics": values["metric_id"].nunique(),
                "first_period": values["period_start"].min(), "last_period_end": values["period_end"].max(),
                "written": pd.Timestamp(written, unit="s")}

    def unreadable_files(self) -> list[tuple[str, str]]:
        return []
