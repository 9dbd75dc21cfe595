"""The benchmark's query set at a tiny scale: DuckDB and the pandas baseline give the same answers, the
comparison notices when they do not, and the proposed roll-ups give today's answers. No timings are checked."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from benchmarks import proposal
from benchmarks.__main__ import compose
from benchmarks.baseline import PandasStore, patched_store
from benchmarks.compare import differences
from benchmarks.queries import PRIORITIES, query_set, scene
from benchmarks.run_queries import clear_caches, record, replay, run
from metrics import variation
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
def on_root(tiny_root, monkeypatch):
    monkeypatch.setenv("ICP_DATA_ROOT", tiny_root)
    clear_caches(cold=True)
    yield scene(tiny_root)
    clear_caches(cold=True)


def test_every_query_gives_the_baseline_answer(on_root):
    engine = PandasStore()
    for query in query_set():
        calls = record(query, on_root)
        assert calls, f"{query.name} asks the store nothing"
        ours, section_ours = replay(calls), query.run(on_root)
        with patched_store(engine):
            engine.reset()
            theirs, section_theirs = replay(calls), query.run(on_root)
        assert differences(ours, theirs, query.name) == []
        assert differences(section_ours, section_theirs, query.name) == []


def test_the_answers_compared_are_not_empty(on_root):
    queries = {q.name: q for q in query_set()}
    card, _ = queries["overview.scorecard"].run(on_root)
    assert set(_metrics_the_queries_read()) <= set(card["metric_id"])
    practices, nwl = queries["variation.ics"].run(on_root)
    assert len(practices) > 300 and nwl > 0
    assert len(queries["frailty.pcns_in_borough"].run(on_root)) >= 5


def test_a_wrong_baseline_answer_is_caught(on_root):
    engine = PandasStore()
    engine.load(on_root.root, on_root.snapshot)
    values = engine.values[(on_root.root, on_root.snapshot)]
    harrow_practice = next(code for code, pcn in on_root.practice_pcns.items() if pcn == on_root.pcn.name)
    values.loc[values["org_code"] == harrow_practice, "numerator"] += 1
    query = next(q for q in query_set() if q.name == "frailty.practices_in_pcn")
    calls = record(query, on_root)
    ours = replay(calls)
    with patched_store(engine):
        theirs = replay(calls)
    assert any("numerator" in d for d in differences(ours, theirs))


def test_differences_compares_values_not_representation():
    frame = pd.DataFrame({"a": ["x", None], "b": [1.0, float("nan")], "d": pd.to_datetime(["2026-01-01"] * 2)})
    same = frame.assign(a=pd.Series(["x", float("nan")], dtype=object), b=[1.0 + 1e-13, float("nan")],
                        d=frame["d"].astype("datetime64[s]"))
    assert differences(frame, same) == []
    assert differences(frame, frame.assign(b=[1.1, float("nan")]))
    assert differences((1, frame), (1, frame.iloc[:1]))
    assert differences({"k": 1.0}, {"k": 2.0}) == ["answer['k']: 1.0 != 2.0"]


def test_rollups_give_the_stores_answers(on_root):
    built = proposal.build_missing(on_root.root)
    assert len(built) == 3 and all(b["rows"] > 0 for b in built.values())
    with proposal.patched_store():
        for query in query_set():
            clear_caches(cold=False)
            calls = record(query, on_root)
            ours, section_ours = replay(calls), query.run(on_root)
            with proposal.original_store():
                clear_caches(cold=False)
                theirs, section_theirs = replay(calls), query.run(on_root)
            assert differences(ours, theirs, query.name) == []
            assert differences(section_ours, section_theirs, query.name) == []


def test_bench_json_has_the_fields_the_issue_asks_for(tiny_root, monkeypatch):
    monkeypatch.setenv("ICP_DATA_ROOT", tiny_root)  # run() points the library at the root it times
    part = {"size": "nwl", "generated": None,
            "queries": run(tiny_root, repeats=1, baseline_repeats=1, only=["overview.scorecard", "phm.trend"])}
    pages = {"first_run_ms": 1.0, "peak_rss_mb": 100.0,
             "pages": {"overview": {"uncached": {"median_ms": 2.0}, "cached": {"median_ms": 1.0}}}}
    result = compose([part | {"pages": pages}], started=0.0)
    assert result["rows"] == part["queries"]["rows"] > 0
    assert {"page_render_median_ms", "peak_rss_mb", "queries", "targets", "sizes"} <= set(result)
    for row in result["queries"]:
        assert {"name", "median_ms", "p95_ms", "baseline_median_ms", "speedup"} <= set(row)
        assert row["same_answer"], row["differences"]
    assert [q["name"] for q in result["queries"]] == ["overview.scorecard", "phm.trend"]
