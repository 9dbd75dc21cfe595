"""Page frames on the tiny store: scorecard, RAG, exceptions, comparisons and breakdowns."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from metrics import reports, variation
from metrics.catalogue import catalogue
from metrics.areas import Area
from metrics.store import Store
from metrics.stats import value_ci
from tests.conftest import SNAP_NEW

B1 = Area("B1", "Borough One", "borough")
ICS = Area("Q1", "Test ICS", "ics")
FLU = catalogue().metric("flu_uptake_65_plus")


@pytest.fixture
def store(tiny_root) -> Store:
    return Store(tiny_root)


def test_scorecard_has_latest_value_change_and_nwl(store):
    card = reports.scorecard(store, SNAP_NEW, B1, ICS, "2026-09").set_index("metric_id")
    flu = card.loc["flu_uptake_65_plus"]
    # Sep 2026, latest snapshot: P1 91, P2 21, P3 61 over 100 + 100 + 200; P4 41/50 outside B1.
    assert flu.numerator == 173 and flu.denominator == 400
    assert flu.value == pytest.approx(100 * 173 / 400)
    assert flu.nwl_value == pytest.approx(100 * (173 + 41) / 450)
    # September is the first month of the flu season: 43% is far below the 75% end-of-season target, but that
    # target applies in February. With no September last season to compare with, no judgement yet.
    assert flu.target == 75 and flu.rag == "grey" and "season in progress" in flu.rag_basis
    assert "target" not in flu.rag_text and flu.rag_text.startswith("No judgement")
    assert "discharged_usual_residence" in card.index


def _season(values: list[float], months: list[str]) -> pd.DataFrame:
    """A borough's flu history (1,000 people each month), as scorecard_row reads it."""
    starts = pd.to_datetime(months)
    frame = pd.DataFrame({"metric_id": FLU.id, "area_code": "B1", "period_start": starts,
                          "period_label": [f"{d:%b %Y}" for d in starts], "numerator": [10 * v for v in values],
                          "denominator": 1000.0})
    return reports.with_ci(frame)


@pytest.mark.parametrize("this_september, colour", [(30.0, "red"), (45.0, "green"), (41.0, "amber")])
def test_an_in_season_month_is_judged_against_the_same_point_last_season(this_september, colour):
    history = _season([41.0, 60.0, 73.0, 78.0, this_september],
                      ["2025-09-01", "2025-10-01", "2025-11-01", "2026-02-01", "2026-09-01"])
    row = reports.scorecard_row(FLU, history, history.iloc[:0])
    assert (row["rag"], row["rag_basis"]) == (colour, "same point last season")
    assert row["rag_text"] == f"{reports.RAG_LABELS[colour]} vs same point last season"
    assert row["previous_period"] == "Sep 2025"


def test_the_season_end_is_judged_against_the_target():
    history = _season([41.0, 60.0, 73.0, 74.0], ["2025-09-01", "2025-10-01", "2025-11-01", "2026-02-01"])
    row = reports.scorecard_row(FLU, history, history.iloc[:0])
    assert (row["rag"], row["rag_basis"], row["rag_text"]) == ("amber", "target", "Near vs target")


def test_rag_rules():
    assert reports.rag(FLU, 76, 75, "similar") == ("green", "target")
    assert reports.rag(FLU, 72, 75, "similar") == ("amber", "target")
    assert reports.rag(FLU, 60, 75, "better") == ("red", "target")
    no_target = catalogue().metric("emergency_admissions_65_plus")
    assert reports.rag(no_target, 10, None, "worse") == ("red", "NWL figure")
    assert reports.rag(catalogue().metric("wsic_stable"), 19, None, "worse")[0] == "grey"
    assert reports.rag(no_target, 10, None, "not_compared") == ("grey", "no NWL figure to compare with")


def test_lower_is_better_target_direction():
    care_home = catalogue().metric("care_home_admissions_65_plus")
    assert reports.rag(care_home, 400, 450, "similar")[0] == "green"
    assert reports.rag(care_home, 460, 450, "similar")[0] == "amber"


def test_exceptions_follow_model_health_system_rules():
    base = {"period": "Sep 2026", "value": 50.0, "lower": 48.0, "upper": 52.0, "target": None, "rag": "amber", "variation": "common_cause",
            "assurance": None, "vs_nwl_998": "similar"}
    card = pd.DataFrame([
        {**base, "metric_id": "quiet", "metric": "Quiet"},
        {**base, "metric_id": "concern", "metric": "Concern", "variation": "concern_low"},
        {**base, "metric_id": "fail", "metric": "Fail", "assurance": "consistent_fail", "rag": "red"},
        {**base, "metric_id": "worse", "metric": "Worse", "vs_nwl_998": "worse"},
        {**base, "metric_id": "all3", "metric": "All", "variation": "concern_high",
         "assurance": "consistent_fail", "vs_nwl_998": "worse", "rag": "red"},
        {**base, "metric_id": "improving", "metric": "Improving", "variation": "improvement_high"},
    ])
    found = reports.exceptions(card).set_index("metric_id")["why"]
    assert list(found.index) == ["all3", "fail", "concern", "worse"]
    assert found["concern"] == "special cause of concern (falling)"
    assert found["fail"] == "consistently failing the target"
    assert found["worse"] == "significantly worse than NWL (99.8%)"
    assert found["all3"].count(";") == 2


def test_compare_within_ranks_children_against_parent(store):
    names = {"N1": "PCN One", "N2": "PCN Two"}
    frame = reports.compare_within(store, SNAP_NEW, FLU, B1, "pcn", "2026-09", names)
    assert list(frame.area_name) == ["PCN One", "PCN Two"]
    assert frame.benchmark.iloc[0] == pytest.approx(100 * 173 / 400)
    assert set(frame.vs_benchmark) <= {"better", "similar", "worse"}
    assert (frame.lower <= frame.value).all() and (frame.value <= frame.upper).all()


def test_breakdown_for_latest_period_with_data(store):
    frame = reports.breakdown(store, SNAP_NEW, FLU, B1, "sex", "2026-08")
    assert list(frame.breakdown_value) == ["Female", "Male"]
    assert frame.value.tolist() == pytest.approx([100.0, 75.0])
    # Each group against Borough One overall in August (81 + 11 + 51 of 400): both CIs lie above it.
    assert frame.benchmark.tolist() == pytest.approx([100 * 143 / 400] * 2)
    assert list(frame.vs_benchmark) == ["better", "better"] and list(frame.group) == ["Female", "Male"]


def test_breakdown_groups_are_named_ordered_and_compared_with_the_area(older_store):
    snap = older_store.snapshots()[-1]
    metric, harrow = catalogue().metric(OLDER[0]), Area("E09000015", "Harrow", "borough")
    frame = reports.breakdown(older_store, snap, metric, harrow, "age_band", "2026-09")
    assert list(frame.group) == ["Aged 65-69", "Aged 70-74", "Aged 75-79", "Aged 80-84", "Aged 85-89", "Aged 90+"]
    overall = reports.scorecard_value(older_store, snap, metric, harrow, "2026-09")
    assert (frame.benchmark == overall).all()
    # Admissions rise steeply with age: the youngest band is significantly lower (better), the oldest higher.
    assert frame.vs_benchmark.iloc[0] == "better" and frame.vs_benchmark.iloc[-1] == "worse"
    suppressed = frame.assign(lower=np.nan, upper=np.nan)
    assert set(reports.against_benchmark(suppressed, metric, overall).vs_benchmark) == {"not_compared"}


def previous_label(metric, history: pd.DataFrame, latest_start: str) -> str | None:
    """The label of the period a change is measured from (None when there is none)."""
    position = reports._previous(metric, history["period_start"].to_numpy(), pd.Timestamp(latest_start))
    return None if position is None else history["period_label"].iloc[position]


def test_seasonal_change_compares_with_same_month_last_season():
    history = pd.DataFrame({"period_start": pd.to_datetime(["2025-09-01", "2026-08-01", "2026-09-01"]),
                            "value": [40.0, 70.0, 45.0], "period_label": ["Sep 2025", "Aug 2026", "Sep 2026"]})
    assert previous_label(FLU, history, "2026-09-01") == "Sep 2025"


def test_with_ci_puts_value_inside_limits():
    frame = pd.DataFrame({"metric_id": ["flu_uptake_65_plus", "emergency_admissions_65_plus"],
                          "numerator": [30.0, 12.0], "denominator": [40.0, 1000.0]})
    out = reports.with_ci(frame)
    assert out.value.tolist() == pytest.approx([75.0, 1200.0])
    assert np.all(out.lower < out.value) and np.all(out.value < out.upper)


def test_scorecard_lines_follow_the_metrics_given_and_skip_metrics_without_data(store):
    discharged = catalogue().metric("discharged_usual_residence")
    smoking = catalogue().metric("smoking_prevalence")  # not in the tiny store at all
    card = reports.scorecard(store, SNAP_NEW, B1, ICS, "2026-09", [discharged, smoking, FLU])
    assert list(card.metric_id) == ["discharged_usual_residence", "flu_uptake_65_plus"]
    card = reports.scorecard(store, SNAP_NEW, B1, ICS, "2026-09", [FLU, discharged])
    assert list(card.metric_id) == ["flu_uptake_65_plus", "discharged_usual_residence"]
    # Discharge is published per borough only: a PCN has no line for it.
    pcn_card = reports.scorecard(store, SNAP_NEW, Area("N1", "PCN One", "pcn"), ICS, "2026-09")
    assert list(pcn_card.metric_id) == ["flu_uptake_65_plus"]
    assert pcn_card.numerator.iloc[0] == 91 + 21 and pcn_card.nwl_value.iloc[0] == pytest.approx(100 * 214 / 450)


def _as_records(card: pd.DataFrame) -> pd.DataFrame:
    """A card with missing values as None whatever the column's dtype (a one-line card's all-missing column
    is object, the same column among other lines is float or str)."""
    return card.astype(object).where(card.notna(), None)


def test_scorecard_line_is_the_same_alone_or_among_all_metrics(store):
    """Each line is built from its own metric's and area's rows only."""
    card = reports.scorecard(store, SNAP_NEW, B1, ICS, "2026-09")
    for metric_id in card.metric_id:
        alone = reports.scorecard(store, SNAP_NEW, B1, ICS, "2026-09", [catalogue().metric(metric_id)])
        pd.testing.assert_frame_equal(_as_records(alone),
                                      _as_records(card[card.metric_id == metric_id].reset_index(drop=True)))
    discharged = card.set_index("metric_id").loc["discharged_usual_residence"]
    assert discharged.previous_period == "Aug 2026" and discharged.change == 0  # 800/1000 both months
    flu = card.set_index("metric_id").loc["flu_uptake_65_plus"]
    assert flu.sparkline == [round(100 * 143 / 400, 2), round(100 * 173 / 400, 2)]  # Aug, Sep
    assert pd.isna(flu.previous_period)  # seasonal: compared with Sep 2025, which the tiny store lacks


def test_previous_non_seasonal_is_the_latest_earlier_period():
    metric = catalogue().metric("discharged_usual_residence")
    history = pd.DataFrame({"period_start": pd.to_datetime(["2026-06-01", "2026-07-01", "2026-09-01"]),
                            "value": [1.0, 2.0, 3.0], "period_label": ["Jun 2026", "Jul 2026", "Sep 2026"]})
    assert previous_label(metric, history, "2026-09-01") == "Jul 2026"
    assert previous_label(metric, history, "2026-06-01") is None
    assert previous_label(FLU, history, "2026-09-01") is None  # no Sep 2025


def test_period_labels_follow_each_metric_frequency():
    start = pd.Timestamp("2026-09-01")
    frame = pd.DataFrame({"metric_id": ["flu_uptake_65_plus", "smoking_prevalence", "breast_screening_coverage",
                                        "flu_uptake_65_plus", "smoking_prevalence"],
                          "period_start": [start, start, start, pd.Timestamp("2026-01-01"), start]})
    assert reports._period_labels(frame) == ["Sep 2026", "2026/27", "Q2 2026/27", "Jan 2026", "2026/27"]


def test_with_ci_matches_row_by_row_limits_in_any_row_order():
    ids = ["flu_uptake_65_plus", "emergency_admissions_65_plus", "flu_uptake_65_plus", "discharged_usual_residence",
           "emergency_admissions_65_plus"]
    frame = pd.DataFrame({"metric_id": ids, "numerator": [30.0, 12.0, 0.0, 5.0, 3.0],
                          "denominator": [40.0, 1000.0, 10.0, 0.0, 500.0]}, index=[10, 3, 7, 1, 5])
    out = reports.with_ci(frame)
    assert list(out.index) == [10, 3, 7, 1, 5] and list(out.metric_id) == ids
    for (_, row), metric_id in zip(out.iterrows(), ids):
        expected = value_ci(catalogue().metric(metric_id).unit, row.numerator, row.denominator)
        assert [row.value, row.lower, row.upper] == pytest.approx([float(v) for v in expected], nan_ok=True)
    assert np.isnan(out.value.iloc[3])  # a zero denominator gives no value


def _stepped_series() -> pd.DataFrame:
    """42 months of an admissions rate that steps down by a fifth in month 25 (as Harrow's did in April 2025)."""
    starts = pd.date_range("2023-04-01", periods=42, freq="MS")
    wobble = np.tile([3.0, -2.0, 1.0, -3.0, 2.0, -1.0], 7)
    values = np.where(np.arange(42) < 24, 2000.0, 1600.0) + 10 * wobble
    return pd.DataFrame({"metric_id": "emergency_admissions_65_plus", "area_code": "B1", "period_start": starts,
                         "period_label": [f"{s:%b %Y}" for s in starts], "value": values, "lower": values - 50,
                         "upper": values + 50, "numerator": values, "denominator": 100_000.0})


def test_spc_limits_are_recalculated_from_a_declared_change():
    metric = catalogue().metric("emergency_admissions_65_plus")
    rows = _stepped_series()
    one_process = reports.scorecard_row(metric, rows, rows.iloc[:0])
    two_phases = reports.scorecard_row(metric, rows, rows.iloc[:0], changes=[pd.Timestamp("2025-04-01").date()])
    assert one_process["variation"] == "improvement_low"  # every recent point far below the old mean
    assert two_phases["variation"] == "common_cause"  # the new process is stable around its own mean
    spc_rows, result = reports.with_spc(metric, rows, None, changes=[pd.Timestamp("2025-04-01").date()])
    assert spc_rows["mean"].iloc[0] == pytest.approx(2000) and spc_rows["mean"].iloc[-1] == pytest.approx(1600)


def test_rebase_positions_start_at_the_first_period_on_or_after_a_change():
    starts = pd.date_range("2025-01-01", periods=6, freq="MS").to_numpy()
    day = pd.Timestamp
    assert reports.rebase_positions(starts, [day("2025-03-01").date()]) == [2]
    assert reports.rebase_positions(starts, [day("2025-02-15").date()]) == [2]
    assert reports.rebase_positions(starts, [day("2024-01-01").date(), day("2026-01-01").date()]) == []


def test_declared_changes_apply_to_the_area_and_those_inside_it():
    metric = catalogue().metric("emergency_admissions_65_plus")
    assert [c.date.isoformat() for c in metric.spc_changes_for({"U89806", "E09000015", "QRV"})] == ["2025-04-01"]
    assert metric.spc_changes_for({"E09000005", "QRV"}) == ()


# --- age-standardised comparisons (emergency and falls admissions 65+) ------------------------------------------

OLDER = ("emergency_admissions_65_plus", "falls_admissions_65_plus")


@pytest.fixture(scope="module")
def older_store(tmp_path_factory) -> Store:
    from metrics.demo import generate_demo

    root = tmp_path_factory.mktemp("older_demo")
    generate_demo(root, snapshots=(date(2026, 10, 5),), metric_ids=OLDER)
    return Store(root)


def _harrow_pcn(store: Store, snap) -> Area:
    from metrics import areas

    code, name = sorted(areas.pcns_in(store, snap, Area("E09000015", "Harrow", "borough")).items())[0]
    return Area(code, name, "pcn")


@pytest.mark.parametrize("metric_id", OLDER)
def test_practices_are_compared_as_indirectly_age_standardised_rates(older_store, metric_id):
    from metrics import areas
    from metrics.stats import indirectly_standardised_rate

    metric, snap = catalogue().metric(metric_id), older_store.snapshots()[-1]
    pcn, nwl = _harrow_pcn(older_store, snap), areas.home_ics(older_store, snap)
    frame = reports.compare_within(older_store, snap, metric, pcn, "practice", "2026-09", {}).set_index("area_code")
    assert (frame["standardisation"] == metric.standardisation_label).all() and "age-standardised" in \
        metric.standardisation_label
    start = frame["period_start"].iloc[0].date()
    bands = older_store.aggregate(snap, (metric_id,), "practice", within=("pcn", pcn.code), breakdown="age_band",
                                  start=start, end=start.replace(day=30))
    ref = older_store.aggregate(snap, (metric_id,), "ics", area_codes=(nwl.code,), breakdown="age_band",
                                start=start, end=start.replace(day=30)).set_index("breakdown_value")
    assert list(ref.index) == ["65-69", "70-74", "75-79", "80-84", "85-89", "90+"]
    for code, rows in bands.groupby("area_code"):
        rows = rows.set_index("breakdown_value").loc[ref.index]
        want = indirectly_standardised_rate(rows["numerator"], rows["denominator"], ref["numerator"],
                                            ref["denominator"], multiplier=100_000)
        assert frame.loc[code, ["value", "lower", "upper"]].tolist() == pytest.approx(list(want))
        assert frame.loc[code, "numerator"] == rows["numerator"].sum()
        assert frame.loc[code, "crude_value"] == pytest.approx(1e5 * rows["numerator"].sum() / rows["denominator"].sum())
    # The benchmark is the PCN's own standardised rate; NWL's standardised rate is its crude rate.
    own = reports.standardised_rows(older_store, snap, metric, "pcn", frame["period_start"].iloc[0], "2026-09",
                                    area_codes=(pcn.code,))
    assert frame["benchmark"].iloc[0] == pytest.approx(own["value"].iloc[0])
    whole = reports.standardised_rows(older_store, snap, metric, "ics", frame["period_start"].iloc[0], "2026-09",
                                      area_codes=(nwl.code,))
    assert whole["value"].iloc[0] == pytest.approx(1e5 * ref["numerator"].sum() / ref["denominator"].sum())
    practices, average, spread = variation.practices_against_nwl(older_store, snap, metric, pcn, "2026-09", {}, {})
    assert average == pytest.approx(whole["value"].iloc[0]) and spread.standardisation
    assert practices.set_index("area_code")["value"].to_dict() == pytest.approx(frame["value"].to_dict())


def test_an_older_list_has_a_higher_crude_than_standardised_rate(older_store):
    """In the demo, admission rates rise with age within 65+: practices whose over-65s are older have crude rates
    above their standardised rates, which is what standardisation removes."""
    from metrics import areas

    metric, snap = catalogue().metric(OLDER[0]), older_store.snapshots()[-1]
    nwl = areas.home_ics(older_store, snap)
    frame = reports.compare_within(older_store, snap, metric, nwl, "practice", "2026-09", {})
    start = frame["period_start"].iloc[0].date()
    bands = older_store.aggregate(snap, (metric.id,), "practice", breakdown="age_band", start=start,
                                  end=start.replace(day=30))
    old = bands[bands["breakdown_value"].isin(["85-89", "90+"])].groupby("area_code")["denominator"].sum() / \
        bands.groupby("area_code")["denominator"].sum()
    ratio = (frame.set_index("area_code")["crude_value"] / frame.set_index("area_code")["value"]).dropna()
    assert np.corrcoef(old.reindex(ratio.index), ratio)[0, 1] > 0.9
    assert ratio.max() > 1.1 and ratio.min() < 0.85  # age mix alone moves crude rates by 10% or more


def test_every_practices_expected_events_leave_without_codes_and_only_with_access(older_store):
    from metrics import areas
    from metrics.access import Scope

    snap = older_store.snapshots()[-1]
    nwl = areas.home_ics(older_store, snap)
    counts = older_store.practice_expected_counts(snap, OLDER[0], nwl.code, date(2026, 9, 1), date(2026, 9, 30))
    assert list(counts.columns) == ["period_start", "numerator", "denominator", "expected"]
    assert len(counts) == len(older_store.orgs(snap, "practice"))
    assert counts["expected"].sum() == pytest.approx(counts["numerator"].sum())  # NWL's own rates
    narrow = older_store.scoped(Scope(pcns=frozenset({_harrow_pcn(older_store, snap).code})))
    pd.testing.assert_frame_equal(narrow.practice_expected_counts(snap, OLDER[0], nwl.code, date(2026, 9, 1),
                                                                  date(2026, 9, 30)), counts)
    assert older_store.scoped(Scope.nothing()).practice_expected_counts(
        snap, OLDER[0], nwl.code, date(2026, 9, 1), date(2026, 9, 30)).empty
