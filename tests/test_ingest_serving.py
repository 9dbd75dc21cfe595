"""What the dashboard's store makes of ingested data: dated memberships, suppressed rows, places, broken files."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from metrics.store import Store
from metrics.hierarchy import BOROUGH_CODES
from metrics.ingest.load import Source, commit
from tests.ingest_fixtures import BASE_SNAPSHOT, NEW_SNAPSHOT, load, make_root

HEADER = "metric_id,period_start,period_end,org_code,breakdown,breakdown_value,numerator,denominator\n"


def ingest(root, rows: str, snapshot: date = NEW_SNAPSHOT) -> None:
    prepared = load(root, "tidy", Source("extract.csv", (HEADER + rows).encode()), snapshot=snapshot)
    assert prepared.writable, prepared.report()
    commit(prepared, root)


def test_values_count_under_the_membership_of_their_period(tmp_path):
    root = make_root(tmp_path)
    ingest(root, "flu_uptake_65_plus,2023-10-01,2023-10-31,E84002,all,,60,100\n"
                 "flu_uptake_65_plus,2024-10-01,2024-10-31,E84002,all,,70,100\n")
    frame = Store(root).aggregate(NEW_SNAPSHOT, ("flu_uptake_65_plus",), "pcn", area_codes=("U89375", "U11559"),
                            end=date(2024, 12, 31))
    by_pcn = {(r.area_code, r.period_start.year): r.numerator for r in frame.itertuples()}
    assert by_pcn == {("U89375", 2023): 60, ("U11559", 2024): 70}  # E84002 moved PCN in April 2024
    borough = Store(root).aggregate(NEW_SNAPSHOT, ("flu_uptake_65_plus",), "borough",
                              area_codes=(BOROUGH_CODES["Brent"],), end=date(2024, 12, 31))
    assert borough["n_orgs"].tolist() == [1, 1]  # one row per period: no double counting across memberships


def test_suppressed_rows_add_to_neither_numerator_nor_denominator(tmp_path):
    root = make_root(tmp_path)
    ingest(root, "flu_uptake_65_plus,2025-10-01,2025-10-31,E84006,all,,60,100\n"  # Brent West KWH PCN
                 "flu_uptake_65_plus,2025-10-01,2025-10-31,E84003,all,,*,40\n")
    row = Store(root).aggregate(NEW_SNAPSHOT, ("flu_uptake_65_plus",), "pcn", area_codes=("U78157",),
                          start=date(2025, 10, 1), end=date(2025, 10, 31)).iloc[0]
    assert (row.numerator, row.denominator, row.n_orgs) == (60, 100, 1)


def test_bi_borough_place_sums_its_boroughs(tmp_path):
    root = make_root(tmp_path)
    kc, wm = BOROUGH_CODES["Kensington & Chelsea"], BOROUGH_CODES["Westminster"]
    ingest(root, f"discharged_usual_residence,2026-09-01,2026-09-30,{kc},all,,90,100\n"
                 f"discharged_usual_residence,2026-09-01,2026-09-30,{wm},all,,180,200\n")
    places = Store(root).aggregate(NEW_SNAPSHOT, ("discharged_usual_residence",), "place")
    assert places.set_index("area_code").loc["PLACE_BI_BOROUGH", ["numerator", "denominator"]].tolist() == [270, 300]
    listed = Store(root).orgs(NEW_SNAPSHOT, "place")
    assert "Kensington & Chelsea and Westminster (Bi-borough)" in set(listed["org_name"])


def test_dated_snapshot_lists_each_organisation_once(tmp_path):
    root = make_root(tmp_path)
    ingest(root, "flu_uptake_65_plus,2025-10-01,2025-10-31,E84006,all,,60,100\n")
    practices = Store(root).orgs(NEW_SNAPSHOT, "practice")
    assert not practices["org_code"].duplicated().any()
    assert practices.set_index("org_code").loc["E84002", "pcn_code"] == "U11559"  # the newest membership


def test_old_files_without_dates_are_always_valid(tmp_path):
    root = make_root(tmp_path)  # the base snapshot's orgs (like the demo's) have no validity dates at all
    frame = Store(root).aggregate(BASE_SNAPSHOT, ("smoking_prevalence",), "pcn", area_codes=("U11559",))
    assert frame["numerator"].tolist() == [700]  # E84002 under its April 2024 PCN, undated


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_a_corrupt_file_is_named_and_the_rest_is_served(tmp_path, damage):
    root = make_root(tmp_path)
    ingest(root, "flu_uptake_65_plus,2025-10-01,2025-10-31,E84006,all,,60,100\n")
    broken = root / f"snapshot_date={NEW_SNAPSHOT}" / "metric_values.parquet"
    data = broken.read_bytes()
    broken.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"not parquet", "empty": b""}[damage])
    assert Store(root).snapshots() == [BASE_SNAPSHOT]
    assert [path for path, _ in Store(root).unreadable_files()] == [str(broken)]
    frame = Store(root).aggregate(BASE_SNAPSHOT, ("flu_uptake_65_plus",), "practice")
    assert frame["numerator"].tolist() == [80]


def test_a_new_snapshot_is_served_without_a_restart(tmp_path):
    root = make_root(tmp_path)
    served = Store(root)
    assert served.snapshots() == [BASE_SNAPSHOT]  # builds the connection and its views
    ingest(root, "flu_uptake_65_plus,2025-10-01,2025-10-31,E84006,all,,60,100\n")
    assert served.snapshots() == [BASE_SNAPSHOT, NEW_SNAPSHOT]
    frame = served.aggregate(NEW_SNAPSHOT, ("flu_uptake_65_plus",), "practice", area_codes=("E84006",))
    assert frame["numerator"].tolist() == [60]
    assert pd.notna(frame["denominator"]).all()
