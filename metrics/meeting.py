"""Since last meeting: what moved between the view the Executive saw last month and this month's.

Last month's view is rebuilt exactly as it was shown: last month's scorecard from the snapshot the Executive saw
then (by default the newest snapshot before this one, the previous monthly extract). Against this month's view
from this month's snapshot, the comparison lists metrics whose RAG changed, exceptions that are new or resolved,
which metrics have new data this month and which repeat a quarterly or annual figure, and figures revised between
the two snapshots (the same period, a different value). The Overview and the pack both show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from metrics import reports
from metrics.areas import Area
from metrics.periods import month_end, months_before
from metrics.store import Store

SHOWN_DECIMALS = 1  # values are shown to one decimal: a revision nobody can see on the page is not listed


@dataclass(frozen=True)
class SinceLastMeeting:
    """The comparison, each part a frame with one row per metric (empty when nothing applies)."""

    month: str
    previous_month: str
    snapshot: date
    previous_snapshot: date | None
    rag_changes: pd.DataFrame  # metric_id, metric, period_before, rag_before, period, rag
    new_exceptions: pd.DataFrame  # metric_id, metric, period, why
    resolved_exceptions: pd.DataFrame  # metric_id, metric, period, why (as flagged last time)
    freshness: pd.DataFrame  # metric_id, metric, period, new_data (True: a period not reported last time)
    revisions: pd.DataFrame  # metric_id, metric, period, value_before, value

    @property
    def empty(self) -> bool:
        return self.previous_snapshot is None


def default_previous_snapshot(store: Store, snapshot: date) -> date | None:
    """The snapshot the Executive most likely saw last month: the newest one before this one."""
    earlier = [s for s in store.snapshots() if s < snapshot]
    return earlier[-1] if earlier else None


def since_last_meeting(store: Store, area: Area, nwl: Area, month: str, snapshot: date,
                       previous_snapshot: date | None = None) -> SinceLastMeeting:
    """This month's view (``month`` from ``snapshot``) against last month's (the month before, from
    ``previous_snapshot``, default ``default_previous_snapshot``)."""
    previous_month = months_before(month, 1)
    before_snapshot = previous_snapshot or default_previous_snapshot(store, snapshot)
    now = reports.scorecard(store, snapshot, area, nwl, month)
    if before_snapshot is None or now.empty:
        empty = pd.DataFrame()
        return SinceLastMeeting(month, previous_month, snapshot, before_snapshot, empty, empty, empty,
                                _freshness(now, pd.DataFrame(columns=["metric_id", "period_start"])), empty)
    before = reports.scorecard(store, before_snapshot, area, nwl, previous_month)
    if before.empty:  # nothing was shown last time: every exception is new, every figure new data
        before = now.iloc[:0]
    return SinceLastMeeting(
        month, previous_month, snapshot, before_snapshot,
        rag_changes=_rag_changes(before, now),
        new_exceptions=_exceptions_only_in(reports.exceptions(now), reports.exceptions(before)),
        resolved_exceptions=_exceptions_only_in(reports.exceptions(before), reports.exceptions(now)),
        freshness=_freshness(now, before),
        revisions=_revisions(store, snapshot, area, before, previous_month))


def _rag_changes(before: pd.DataFrame, now: pd.DataFrame) -> pd.DataFrame:
    both = before[["metric_id", "period", "rag"]].merge(now[["metric_id", "metric", "period", "rag"]],
                                                        on="metric_id", suffixes=("_before", ""))
    changed = both[both["rag_before"] != both["rag"]]
    return changed[["metric_id", "metric", "period_before", "rag_before", "period", "rag"]].reset_index(drop=True)


def _exceptions_only_in(these: pd.DataFrame, those: pd.DataFrame) -> pd.DataFrame:
    return these.loc[~these["metric_id"].isin(those["metric_id"]),
                     ["metric_id", "metric", "period", "why"]].reset_index(drop=True)


def _freshness(now: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """Each metric this month, and whether its period is one last month's view did not have yet."""
    if now.empty:
        return pd.DataFrame(columns=["metric_id", "metric", "period", "new_data"])
    last = dict(zip(before["metric_id"], before["period_start"]))
    new = [metric_id not in last or start > last[metric_id]
           for metric_id, start in zip(now["metric_id"], now["period_start"])]
    return now[["metric_id", "metric", "period"]].assign(new_data=new).reset_index(drop=True)


def _revisions(store: Store, snapshot: date, area: Area, before: pd.DataFrame, previous_month: str) -> pd.DataFrame:
    """Last month's figures as this month's snapshot now has them for the same periods, where they differ."""
    if before.empty:
        return pd.DataFrame(columns=["metric_id", "metric", "period", "value_before", "value"])
    again = reports.series(store, snapshot, list(before["metric_id"]), [area], end=month_end(previous_month))
    again = again[again["area_code"] == area.code][["metric_id", "period_start", "value"]]
    both = before[["metric_id", "metric", "period", "period_start", "value"]].merge(
        again, on=["metric_id", "period_start"], how="left", suffixes=("_before", ""))
    moved = both["value"].round(SHOWN_DECIMALS) != both["value_before"].round(SHOWN_DECIMALS)
    moved &= both["value"].notna() & both["value_before"].notna()
    return both.loc[moved, ["metric_id", "metric", "period", "value_before", "value"]].reset_index(drop=True)
