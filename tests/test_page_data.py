"""Each page's data function on the demo: what the page renders from, with real content (one scorecard line per
metric, exceptions drawn from the scorecard, the snapshots compared, a PCN's practices and nobody else's, plain
funnel limits flagging more practices than adjusted ones, ...)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from metrics import areas, page_data
from metrics.access import Scope
from metrics.catalogue import catalogue
from metrics.demo import generate_demo
from metrics.filters import ViewState
from metrics.store import Store
from metrics.variation import SIMILAR_PRACTICES

SNAPSHOTS = (date(2026, 8, 5), date(2026, 9, 5), date(2026, 10, 5))
MONTH = "2026-09"
DIABETES, FLU, FRAILTY = "diabetes_8_care_processes", "flu_uptake_65_plus", "frail_top15_identified"
BOROUGH_ONLY = "discharged_usual_residence"
# What the pages below explore, the age profile that finds similar practices, and a borough-level metric.
METRICS = {DIABETES, FLU, FRAILTY, BOROUGH_ONLY, "emergency_admissions_65_plus", catalogue().metrics[0].id}
SPHERE = "U89806"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("page_data")
    generate_demo(root, metric_ids=METRICS)
    return Store(root)


@pytest.fixture(scope="module")
def harrow(store: Store) -> ViewState:
    found = areas.find_borough(store, SNAPSHOTS[-1], "Harrow")
    return ViewState(snapshot=SNAPSHOTS[-1], borough=found.name, borough_code=found.code, period=MONTH)


@pytest.fixture(scope="module")
def sphere(store: Store, harrow: ViewState) -> ViewState:
    return harrow.model_copy(update={"pcn": SPHERE, "pcn_name": areas.pcn(store, SNAPSHOTS[-1], SPHERE).name})


def test_the_focus_area_is_the_pcn_when_one_is_chosen(harrow, sphere):
    assert page_data.focus_area(harrow) == page_data.borough_area(harrow)
    assert (page_data.focus_area(harrow).level, page_data.focus_area(sphere).level) == ("borough", "pcn")
    assert page_data.focus_area(sphere).code == SPHERE and page_data.borough_area(sphere).name == "Harrow"


def test_overview_has_one_scorecard_line_per_metric_and_exceptions_from_it(store, harrow, sphere):
    data = page_data.overview(store, harrow)
    assert data.area.name == "Harrow"
    assert sorted(data.card["metric_id"]) == sorted(METRICS)  # every metric has Harrow data: one line each
    assert not data.exceptions.empty and set(data.exceptions["metric_id"]) <= set(data.card["metric_id"])
    assert data.exceptions["why"].str.len().gt(0).all()
    assert data.earlier_snapshots == list(SNAPSHOTS[:2])
    at_pcn = page_data.overview(store, sphere).card
    assert set(at_pcn["metric_id"]) == METRICS - {BOROUGH_ONLY}  # published for boroughs only


def test_since_last_meeting_compares_the_snapshot_chosen(store, harrow):
    card = page_data.overview(store, harrow).card
    default = page_data.since_last_meeting(store, harrow, SNAPSHOTS[1])
    assert (default.snapshot, default.previous_snapshot) == (SNAPSHOTS[2], SNAPSHOTS[1])
    assert (default.month, default.previous_month) == (MONTH, "2026-08")
    assert list(default.freshness["metric_id"]) == list(card["metric_id"])
    older = page_data.since_last_meeting(store, harrow, SNAPSHOTS[0])
    assert older.previous_snapshot == SNAPSHOTS[0] and older.previous_month == "2026-08"
    # the August snapshot knew less of August than September's did: some revisions differ
    assert len(default.revisions) + len(older.revisions) > 0


def test_priority_headline_is_the_scorecard_of_the_page_metrics(store, harrow):
    data = page_data.priority_headline(store, harrow, "diabetes")
    assert data.metrics == catalogue().for_page("diabetes")
    assert set(data.card["metric_id"]) == {DIABETES}  # the only diabetes metric in this demo
    whole = page_data.overview(store, harrow).card
    assert data.card.iloc[0]["value"] == whole.set_index("metric_id").at[DIABETES, "value"]


def test_priority_trend_and_spc_at_a_pcn(store, sphere):
    metric = catalogue().metric(FRAILTY)
    trend = page_data.priority_trend(store, sphere, metric)
    assert [a.name for a in trend.areas] == ["Sphere PCN", "Harrow", "NWL"]
    assert set(trend.series["area_code"]) == {a.code for a in trend.areas}
    assert (trend.mine["area_code"] == SPHERE).all() and trend.mine["period_start"].is_monotonic_increasing
    assert trend.mine["period_start"].max().strftime("%Y-%m") <= MONTH
    assert trend.spc_applies and len(trend.mine) >= 12
    assert trend.recalculation_months[0] == f"{trend.mine['period_start'].iloc[6]:%Y-%m}"
    one = page_data.priority_spc(store, sphere, trend, "none")
    assert one.changes == [] and len(one.rows) == len(trend.mine) and set(one.result.group) == {0}
    month = trend.recalculation_months[3]
    rebased = page_data.priority_spc(store, sphere, trend, month)
    assert rebased.changes == [date.fromisoformat(f"{month}-01")] and "chosen" in rebased.phases
    assert len(set(rebased.result.group)) == 2 and not np.allclose(rebased.result.mean, one.result.mean)


def test_seasonal_uptake_gets_no_spc(store, harrow):
    trend = page_data.priority_trend(store, harrow, catalogue().metric(FLU))
    assert not trend.mine.empty and not trend.spc_applies
    assert page_data.priority_spc(store, harrow, trend).result is None


def test_priority_comparison_pcns_in_the_borough_then_practices_of_the_pcn(store, harrow, sphere):
    metric = catalogue().metric(DIABETES)
    pcns = page_data.priority_comparison(store, harrow, metric)
    assert (pcns.parent.name, pcns.level) == ("Harrow", "pcn")
    assert set(pcns.frame["area_code"]) == set(pcns.pcns) and SPHERE in pcns.pcns
    assert pcns.frame["value"].is_monotonic_decreasing and pcns.frame["vs_benchmark"].notna().all()
    practices = page_data.priority_comparison(store, sphere, metric)
    assert (practices.parent.code, practices.level, practices.pcns) == (SPHERE, "practice", {})
    in_sphere = {code for code, pcn in areas.practice_pcn_names(store, SNAPSHOTS[-1]).items() if pcn == "Sphere PCN"}
    assert len(practices.frame) >= 3 and set(practices.frame["area_code"]) <= in_sphere


def test_priority_breakdowns_in_order_with_the_slope_index(store, harrow):
    metric = catalogue().metric(DIABETES)
    shown = page_data.priority_breakdowns(store, harrow, metric)
    assert [b.kind for b in shown] == ["ethnicity", "imd_quintile", "age_band", "sex"]
    card = page_data.overview(store, harrow).card.set_index("metric_id")
    for breakdown in shown:
        assert len(breakdown.frame) >= 2 and (breakdown.frame["breakdown"] == breakdown.kind).all()
        assert breakdown.overall == pytest.approx(card.at[DIABETES, "value"])
        assert (breakdown.sii is not None) == (breakdown.kind == "imd_quintile")
    assert page_data.priority_breakdown(store, harrow, metric, "sex").frame.equals(shown[3].frame)


def test_plain_limits_flag_more_practices_than_adjusted_ones(store, harrow):
    metric = catalogue().metric(DIABETES)
    adjusted = page_data.variation_explorer(store, harrow, metric, every_practice=True, adjusted=True)
    plain = page_data.variation_explorer(store, harrow, metric, every_practice=True, adjusted=False)
    assert adjusted.scope.name == plain.scope.name == "NWL" and len(plain.practices) > 300
    assert adjusted.spread.adjusted and not plain.spread.adjusted
    assert len(plain.outliers) > len(adjusted.outliers)
    assert set(adjusted.outliers["funnel"]) <= {"high_998", "low_998"}
    assert set(adjusted.outliers["area_code"]) <= set(adjusted.practices["area_code"])
    assert adjusted.period == plain.period and adjusted.limits is not None and len(adjusted.limits) == 200
    in_harrow = page_data.variation_explorer(store, harrow, metric)
    assert in_harrow.scope.name == "Harrow" and 0 < len(in_harrow.practices) < len(plain.practices)


def test_similar_practices_for_the_first_practice_shown(store, harrow):
    metric = catalogue().metric(DIABETES)
    shown = page_data.variation_explorer(store, harrow, metric)
    peers = page_data.peer_choices(store, harrow, shown)
    codes = list(peers.choices)
    assert set(codes) <= set(shown.practices["area_code"]) and len(codes) > 20
    assert list(peers.choices.values()) == sorted(peers.choices.values())
    chosen = codes[0]
    similar = page_data.similar_practices(store, harrow, shown, peers, chosen)
    assert len(similar.neighbours) == SIMILAR_PRACTICES and chosen not in set(similar.neighbours["org_code"])
    group = similar.group
    assert chosen in set(group["area_code"]) and set(group["area_code"]) <= {chosen, *similar.neighbours["org_code"]}
    pooled = group["numerator"].sum() / group["denominator"].sum() * metric.multiplier
    assert similar.peer_value == pytest.approx(pooled) and (group["benchmark"] == similar.peer_value).all()


def test_a_scoped_store_keeps_other_practices_out(store, harrow):
    metric = catalogue().metric(DIABETES)
    narrow = store.scoped(Scope(pcns=frozenset({SPHERE})))
    shown = page_data.variation_explorer(narrow, harrow, metric, every_practice=True)
    assert set(shown.practices["pcn_name"]) == {"Sphere PCN"}
    everyone = page_data.variation_explorer(store, harrow, metric, every_practice=True)
    assert shown.nwl == pytest.approx(everyone.nwl)  # NWL's own figure is an area figure: the same for everyone


def test_chart_studio_offers_and_draws(store, harrow):
    diabetes, frailty = catalogue().metric(DIABETES), catalogue().metric(FRAILTY)
    offered = page_data.studio_choices(store, harrow, diabetes)
    assert list(offered.kinds) == ["trend", "pcn_comparison", "breakdown"]
    assert "breakdown" not in page_data.studio_choices(store, harrow, frailty).kinds
    assert offered.months == sorted(offered.months) and MONTH in offered.months
    assert offered.default_start.endswith("-04") and offered.default_start < MONTH
    spec = page_data.studio_chart(store, harrow, diabetes, "trend", offered.default_start, MONTH, title="Mine")
    assert spec.kind == "trend" and spec.title == "Mine" and set(spec.data["area_name"]) == {"Harrow", "NWL"}
    assert spec.data["period_start"].min().strftime("%Y-%m") >= offered.default_start
    with pytest.raises(ValueError):
        page_data.studio_chart(store, harrow, diabetes, "breakdown", MONTH, MONTH, breakdown="no_such_breakdown")


def test_definitions_search_and_snapshots(store):
    everything = page_data.definitions(store)
    assert everything.metrics == len(everything.catalogue) == len(catalogue().metrics)
    found = page_data.definitions(store, "FLU")
    assert 0 < len(found.catalogue) < found.metrics
    assert found.catalogue.apply(lambda row: row.astype(str).str.contains("flu", case=False).any(), axis=1).all()
    assert list(everything.snapshots["Snapshot (data as at)"]) == list(SNAPSHOTS[::-1])
    assert (everything.snapshots["Rows"] > 0).all()
