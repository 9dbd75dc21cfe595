"""Since last meeting, on the tiny store: last month's view from the older snapshot against this month's."""

from __future__ import annotations

from datetime import date

import pytest

from metrics.areas import Area, find_borough, home_ics
from metrics.demo import generate_demo
from metrics.meeting import default_previous_snapshot, since_last_meeting
from metrics.store import Store
from tests.conftest import SNAP_NEW, SNAP_OLD

B1, ICS = Area("B1", "Borough One", "borough"), Area("Q1", "Test ICS", "ics")


@pytest.fixture
def store(tiny_root) -> Store:
    return Store(tiny_root)


def test_the_snapshot_seen_last_time_is_the_one_before(store):
    assert default_previous_snapshot(store, SNAP_NEW) == SNAP_OLD
    assert default_previous_snapshot(store, SNAP_OLD) is None


def test_revisions_new_data_and_exceptions(store):
    changes = since_last_meeting(store, B1, ICS, "2026-09", SNAP_NEW)
    assert (changes.previous_month, changes.previous_snapshot) == ("2026-08", SNAP_OLD)
    # August flu uptake in B1 was 140 / 400 in the old snapshot; the new one revised each practice up by one.
    revised = changes.revisions.set_index("metric_id")
    assert list(revised.index) == ["flu_uptake_65_plus"]
    assert revised.loc["flu_uptake_65_plus", ["value_before", "value"]].tolist() == pytest.approx([35.0, 35.75])
    assert revised.loc["flu_uptake_65_plus", "period"] == "Aug 2026"
    # Both metrics report September now, which last month's view (August) did not have.
    assert changes.freshness.set_index("metric_id")["new_data"].to_dict() == {
        "flu_uptake_65_plus": True, "discharged_usual_residence": True}
    assert set(changes.new_exceptions["metric_id"]).isdisjoint(changes.resolved_exceptions["metric_id"])


def test_nothing_shown_last_time_makes_everything_new(store):
    again = since_last_meeting(store, B1, ICS, "2026-08", SNAP_NEW, previous_snapshot=SNAP_OLD)
    # July is not in the data: last month's view had nothing, so August is new for every metric.
    assert again.freshness["new_data"].all() and again.revisions.empty and again.rag_changes.empty


def test_an_annual_figure_repeats_while_a_monthly_one_is_new(tmp_path):
    generate_demo(tmp_path, metric_ids=["smoking_prevalence", "falls_admissions_65_plus"])
    demo = Store(tmp_path)
    harrow, nwl = find_borough(demo, date(2026, 10, 5), "Harrow"), home_ics(demo, date(2026, 10, 5))
    changes = since_last_meeting(demo, harrow, nwl, "2026-09", date(2026, 10, 5))
    assert changes.previous_snapshot == date(2026, 9, 5)
    fresh = changes.freshness.set_index("metric_id")
    assert fresh.loc["smoking_prevalence", "new_data"] == False  # noqa: E712 - the same 2025/26 figure
    assert fresh.loc["falls_admissions_65_plus", "new_data"] == True  # noqa: E712 - September is new


def test_rag_changes_compare_last_view_with_this_one(store):
    changes = since_last_meeting(store, B1, ICS, "2026-09", SNAP_NEW)
    for row in changes.rag_changes.itertuples():
        assert row.rag_before != row.rag


def test_nothing_to_compare_without_an_earlier_snapshot(store):
    changes = since_last_meeting(store, B1, ICS, "2026-09", SNAP_OLD)
    assert changes.empty and changes.revisions.empty and len(changes.freshness) == 2
