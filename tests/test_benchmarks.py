"""The benchmark's query set at a tiny scale: the store as shipped (area roll-ups), the store with its roll-ups
switched off and the pandas baseline give the same answers; the comparison notices when they do not; roll-ups the
data lacks are built before measuring; bench.json and its report carry both columns. No timings are checked."""

from __future__ import annotations

import json
import resource
import shutil
from datetime import date

import pandas as pd
import pytest

from benchmarks import peak_rss_mb
from benchmarks.__main__ import compose, markdown
from benchmarks.baseline import PandasStore
from benchmarks.compare import differences
from benchmarks.queries import PRIORITIES, Scene, query_set, scene
from benchmarks.run_queries import clear_caches, prepare_rollups, record, replay, run
from benchmarks.run_queries import main as run_queries_main
from metrics import areas, layout, variation
from metrics.store import Store
from metrics.catalogue import catalogue
from metrics.demo import generate_demo


def _metrics_the_queries_read() -> set[str]:
    """Each page's first metric, the variation explorer's, the chart studio's and one borough-level metric."""
    borough_level = next(m.id for m in catalogue().metrics if m.lowest_level == "borough")
    return ({catalogue().for_page(p)[0].id for p in PRIORITIES} | {catalogue().practice_level()[0].id}
            | {variation.AGE_PROFILE_METRIC, catalogue().metrics[0].id, borough_level})


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("bench")
    generate_demo(root, metric_ids=_metrics_the_queries_read())
    return str(root)


@pytest.fixture()
def on_root(tiny_root) -> Scene:
    return scene(Store(tiny_root))


def _answers(query, s: Scene) -> tuple[list, object]:
    """The query's store calls replayed and its library call run, on the scene's store."""
    clear_caches(s.store, cold=False)
    calls = record(query, s)
    assert calls, f"{query.name} asks the store nothing"
    return replay(calls, s.store), query.run(s)


def test_every_query_agrees_with_and_without_rollups_and_with_pandas(on_root, tiny_root):
    snapshots = on_root.store.snapshots()
    assert snapshots and all(on_root.store.has_rollup(snap) for snap in snapshots)  # roll-ups are exercised
    plain = Scene(**{**on_root.__dict__, "store": Store(tiny_root, use_rollups=False)})
    pandas = Scene(**{**on_root.__dict__, "store": PandasStore(tiny_root)})
    assert not plain.store.has_rollup(on_root.view.snapshot)
    for query in query_set():
        shipped_calls, shipped_section = _answers(query, on_root)
        for label, other in (("without roll-ups", plain), ("pandas", pandas)):
            calls, section = _answers(query, other)
            assert differences(shipped_calls, calls, f"{query.name} vs {label}") == []
            assert differences(shipped_section, section, f"{query.name} vs {label}") == []


def test_the_switch_changes_where_area_figures_come_from(tiny_root, monkeypatch):
    sql_run: list[str] = []
    query_function = Store._query

    def spy(self, sql, params=None):
        sql_run.append(sql)
        return query_function(self, sql, params)

    monkeypatch.setattr(Store, "_query", spy)
    overview = next(q for q in query_set() if q.name == "overview.scorecard")
    _answers(overview, scene(Store(tiny_root)))
    assert any("FROM area_values" in sql for sql in sql_run)
    sql_run.clear()
    _answers(overview, scene(Store(tiny_root, use_rollups=False)))
    assert sql_run and not any("area_values" in sql for sql in sql_run)


def test_missing_rollups_are_built_before_measuring(tiny_root, tmp_path):
    root = tmp_path / "older"
    shutil.copytree(tiny_root, root)
    newest = sorted(root.glob("snapshot_date=*"))[-1]
    (newest / layout.ROLLUP_FILE).unlink()
    out = tmp_path / "prepared.json"
    assert run_queries_main(["--root", str(root), "--out", str(out), "--prepare", "nwl"]) == 0  # as __main__ runs it
    prepared = json.loads(out.read_text())
    assert prepared["generated"] is None  # the data was there: only the roll-up was missing
    built = prepared["rollups_built"]["rows"]
    assert list(built) == [newest.name] and built[newest.name] > 0
    assert Store(root).has_rollup(date.fromisoformat(newest.name.split("=")[1]))
    assert prepare_rollups(str(root))["rows"] == {}  # nothing left to build


def test_peak_rss_is_this_process_own():
    inherited_or_own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert 10 < peak_rss_mb() <= inherited_or_own + 1


def test_the_answers_compared_are_not_empty(on_root):
    queries = {q.name: q for q in query_set()}
    card = queries["overview.scorecard"].run(on_root).card
    assert set(_metrics_the_queries_read()) <= set(card["metric_id"])
    shown = queries["variation.ics"].run(on_root)
    assert len(shown.practices) > 300 and shown.nwl > 0 and shown.spread.units > 300
    assert len(queries["frailty.pcns_in_borough"].run(on_root).frame) >= 5


def test_a_wrong_baseline_answer_is_caught(on_root, tiny_root):
    engine = PandasStore(tiny_root)
    snapshot = on_root.view.snapshot
    engine.load(snapshot)
    values = engine.values[snapshot]
    practices = areas.practice_pcn_names(on_root.store, snapshot)
    harrow_practice = next(code for code, pcn in practices.items() if pcn == on_root.pcn_view.pcn_name)
    values.loc[values["org_code"] == harrow_practice, "numerator"] += 1
    query = next(q for q in query_set() if q.name == "frailty.practices_in_pcn")
    calls = record(query, on_root)
    ours = replay(calls, on_root.store)
    theirs = replay(calls, engine)
    assert any("numerator" in d for d in differences(ours, theirs))


def test_differences_compares_values_not_representation():
    frame = pd.DataFrame({"a": ["x", None], "b": [1.0, float("nan")], "d": pd.to_datetime(["2026-01-01"] * 2)})
    same = frame.assign(a=pd.Series(["x", float("nan")], dtype=object), b=[1.0 + 1e-13, float("nan")],
                        d=frame["d"].astype("datetime64[s]"))
    assert differences(frame, same) == []
    assert differences(frame, frame.assign(b=[1.1, float("nan")]))
    assert differences((1, frame), (1, frame.iloc[:1]))
    assert differences({"k": 1.0}, {"k": 2.0}) == ["answer['k']: 1.0 != 2.0"]


def _pages(overview_ms: float, rss_mb: float) -> dict:
    return {"first_run_ms": 1.0, "peak_rss_mb": rss_mb,
            "pages": {"overview": {"uncached": {"median_ms": overview_ms}, "cached": {"median_ms": 1.0}}}}


def test_bench_json_has_both_engines_and_the_report_shows_them(tiny_root):
    only = ["overview.scorecard", "phm.trend"]
    part = {"size": "nwl", "generated": None, "rollups_built": {"rows": {}, "seconds": 0.0},
            "queries": run(tiny_root, repeats=1, baseline_repeats=1, only=only),
            "without_rollups_queries": run(tiny_root, repeats=1, baseline_repeats=1, only=only, with_rollups=False),
            "pages": _pages(2.0, 100.0), "without_rollups_pages": _pages(1500.0, 120.0)}
    result = compose([part], started=0.0)
    assert result["rows"] == part["queries"]["rows"] > 0
    assert {"page_render_median_ms", "peak_rss_mb", "queries", "targets", "sizes", "without_rollups"} <= set(result)
    for row in result["queries"]:
        assert {"name", "median_ms", "p95_ms", "baseline_median_ms", "speedup", "store_calls"} <= set(row)
        assert row["same_answer"], row["differences"]
    assert [q["name"] for q in result["queries"]] == only
    without = result["without_rollups"]
    assert without["engine"] != result["engine"] and without["all_same_answer"]
    for plain, shipped in zip(without["queries"], result["queries"]):
        assert plain["baseline_median_ms"] == shipped["baseline_median_ms"]  # one pandas timing for both
        assert plain["speedup"] == round(shipped["baseline_median_ms"] / plain["median_ms"], 1)
    assert without["peak_rss_mb"] == 120.0 and without["page_render_median_ms"] == {"overview": 1500.0}
    assert without["targets"]["page_render_under_1s"] == {"met": False, "missed_by": ["overview"]}
    assert result["sizes"][0]["without_rollups"]["peak_rss_mb"] == 120.0
    report = markdown(result)
    assert "with roll-ups (shipped)" in report and "without roll-ups" in report
    assert "| every page render median < 1 s | met (slowest: overview 2.0) | **not met**: 1 of 1 miss" in report
