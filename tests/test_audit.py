"""metrics.audit: one JSON line per event, whole lines under concurrent writers, no metric values, the summary."""

from __future__ import annotations

import json
import multiprocessing
import sys
import types
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from metrics.access import Principal
from metrics.audit import ACTIONS, AuditError, AuditLog, audit_dir

REQUIRED = {"time", "user", "roles", "action", "page"}


class Clock:
    """A settable UTC clock for the log."""

    def __init__(self, when: datetime) -> None:
        self.when = when

    def __call__(self) -> datetime:
        return self.when


@pytest.fixture
def ann() -> Principal:
    return Principal.from_claims({"sub": "s1", "email": "Ann@NHS.net", "roles": ["Borough.Harrow", "Team.X"]})


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_view_is_one_json_line_in_a_daily_file(tmp_path, ann):
    clock = Clock(datetime(2026, 12, 1, 9, 30, 12, 345678, tzinfo=UTC))
    log = AuditLog(audit_dir(tmp_path), clock=clock)
    written = log.record(ann, "view", "frailty", {"borough": "Harrow", "pcn": "U89806", "period": "2026-09"},
                         rows=12, areas=["U89806"])
    path = tmp_path / "audit" / "audit-2026-12-01.jsonl"
    assert lines(path) == [written]
    assert written == {"time": "2026-12-01T09:30:12.345Z", "user": "ann@nhs.net", "roles": ["Borough.Harrow"],
                       "action": "view", "page": "frailty",
                       "params": {"borough": "Harrow", "pcn": "U89806", "period": "2026-09"},
                       "rows": 12, "areas": ["U89806"]}
    assert REQUIRED <= set(written)
    assert datetime.fromisoformat(written["time"].replace("Z", "+00:00")).utcoffset() == timedelta(0)


def test_time_is_utc_whatever_the_clock_zone(tmp_path):
    from zoneinfo import ZoneInfo

    late_evening_in_new_york = datetime(2026, 12, 1, 22, 0, tzinfo=ZoneInfo("America/New_York"))
    log = AuditLog(tmp_path, clock=Clock(late_evening_in_new_york))
    assert log.record("local", "view", "overview")["time"] == "2026-12-02T03:00:00.000Z"
    assert (tmp_path / "audit-2026-12-02.jsonl").exists()


def test_every_action_and_a_plain_user_label(tmp_path):
    log = AuditLog(tmp_path)
    for action in sorted(ACTIONS):
        entry = log.record("cli", action, "load", {})
        assert entry["user"] == "cli" and entry["roles"] == [] and entry["params"] == {}
    assert len(log.read(date.today() - timedelta(days=1))) == len(ACTIONS)


def test_exports_packs_loads_and_refusals_carry_their_detail(tmp_path, ann):
    log = AuditLog(tmp_path)
    assert log.record(ann, "export-csv", "frailty", {"metric": "falls_admissions_65_plus"}, rows=40,
                      file="frailty-harrow.csv", format="csv")["file"] == "frailty-harrow.csv"
    assert log.record(ann, "pack", "overview", {"borough": "Harrow"}, areas=9, format="pptx",
                      snapshot="2026-10-05")["areas"] == 9
    assert log.record(ann, "load", "load-data", {}, file="indicator-data.csv", snapshot="2026-11-01",
                      rows=1200)["rows"] == 1200
    refused = log.record(ann, "refused", "frailty", {"borough": "Brent", "pcn": "U12345"},
                         reason="PCN U12345 is outside the user's scope")
    assert refused["reason"].startswith("PCN U12345")


def test_repeated_url_parameters_and_area_sets(tmp_path, ann):
    entry = AuditLog(tmp_path).record(ann, "view", "chart-studio", {"metric": ["a_metric", "b_metric"]},
                                      areas={"U2", "U1"})
    assert entry["params"] == {"metric": ["a_metric", "b_metric"]} and entry["areas"] == ["U1", "U2"]


@pytest.mark.parametrize("params, detail, message", [
    ({}, {"value": 73.2}, "detail 'value' is not one of"),
    ({}, {"numerator": 5}, "detail 'numerator'"),
    ({}, {"rows": 12.0}, "rows: expected a whole number"),
    ({}, {"rows": True}, "rows: expected a whole number"),
    ({}, {"rows": -1}, "rows: expected a whole number"),
    ({}, {"areas": 2.5}, "areas: expected a count or a list"),
    ({}, {"areas": [1.5]}, "areas: expected text"),
    ({}, {"reason": "73.2"}, "looks like a figure"),
    ({}, {"reason": "12.5%"}, "looks like a figure"),
    ({}, {"file": "1e3"}, "looks like a figure"),
    ({"value": 73.2}, {}, "params.value: expected text"),
    ({"value": "73.2"}, {}, "looks like a figure"),
    ({"value": "0,5"}, {}, "looks like a figure"),
    ({"rate": 7}, {}, "params.rate: expected text"),
    ({"bad key!": "x"}, {}, "not a URL parameter name"),
    ({"borough": "x" * 301}, {}, "longer than 300"),
    ([("borough", "Harrow")], {}, "params: expected a mapping"),
])
def test_values_that_look_like_figures_are_refused(tmp_path, ann, params, detail, message):
    log = AuditLog(tmp_path)
    with pytest.raises(AuditError, match=message):
        log.record(ann, "view", "frailty", params, **detail)
    assert not list(tmp_path.iterdir()), "nothing is written for a refused record"


def test_whole_numbers_and_dates_in_parameters_are_fine(tmp_path, ann):
    entry = AuditLog(tmp_path).record(ann, "view", "overview", {"seed": "7", "period": "2026-09",
                                                                "snapshot": "2026-10-05"})
    assert entry["params"]["seed"] == "7"


@pytest.mark.parametrize("user, action, page, message", [
    (None, "view", "overview", "user: expected"),
    ("  ", "view", "overview", "user: expected"),
    ("local", "delete", "overview", "action 'delete' is not one of"),
    ("local", "view", "", "page: expected"),
    ("local", "view", 3, "page: expected"),
])
def test_user_action_and_page_are_checked(tmp_path, user, action, page, message):
    with pytest.raises(AuditError, match=message):
        AuditLog(tmp_path).record(user, action, page, {})


def test_a_restart_appends_to_the_same_file(tmp_path, ann):
    clock = Clock(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    AuditLog(tmp_path, clock=clock).record(ann, "view", "overview", {})
    AuditLog(tmp_path, clock=clock).record(ann, "view", "frailty", {})   # a new process, the same day
    assert [e["page"] for e in lines(tmp_path / "audit-2026-12-01.jsonl")] == ["overview", "frailty"]


def test_read_since_spans_daily_files_and_skips_bad_lines(tmp_path, ann):
    clock = Clock(datetime(2026, 11, 29, 23, 59, tzinfo=UTC))
    log = AuditLog(tmp_path, clock=clock)
    for day in range(4):
        clock.when = datetime(2026, 11, 29, 12, tzinfo=UTC) + timedelta(days=day)
        log.record(ann, "view", f"page-{day}", {})
    with open(tmp_path / "audit-2026-12-01.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"time": "2026-12-01T13:00:00.000Z", "user": "x", "act\n')   # a torn line from elsewhere
    (tmp_path / "audit-notes.jsonl").write_text("not a daily file\n", encoding="utf-8")

    assert [r["page"] for r in log.read(date(2026, 11, 30))] == ["page-1", "page-2", "page-3"]
    assert [r["page"] for r in log.read(date(2026, 11, 30), until=date(2026, 11, 30))] == ["page-1"]
    assert log.read(date(2027, 1, 1)) == []
    records, problems = log.read_with_errors(date(2026, 11, 1))
    assert len(records) == 4 and len(problems) == 1 and problems[0].startswith("audit-2026-12-01.jsonl:2:")
    assert AuditLog(tmp_path / "never-written").read(date(2026, 1, 1)) == []


def test_summary_counts_by_user_action_and_page_and_lists_refusals(tmp_path, ann):
    clock = Clock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    log = AuditLog(tmp_path, clock=clock)
    bob = Principal.from_claims({"sub": "bob-sub", "roles": ["PCN.U89806"]})
    for _ in range(3):
        log.record(ann, "view", "frailty", {"borough": "Harrow"})
    log.record(ann, "export-csv", "frailty", {}, rows=10, format="csv")
    log.record(bob, "view", "overview", {})
    clock.when += timedelta(minutes=5)
    log.record(bob, "refused", "frailty", {"borough": "Harrow"}, reason="borough outside scope")

    text = log.summary(date(2026, 12, 1))
    assert text.splitlines()[0].startswith("Audit log since 2026-12-01") and "6 events, 2 users" in text
    section = lambda title: text.split(title + ":\n")[1].split("\n", 3)[:2]  # noqa: E731
    assert [line.split() for line in section("By user")] == [["ann@nhs.net", "4"], ["bob-sub", "2"]]
    assert [line.split() for line in section("By action")] == [["view", "4"], ["export-csv", "1"]]
    assert "frailty" in section("By page")[0] and "5" in section("By page")[0]
    assert ("Refusals (1):\n"
            "  2026-12-01T09:05:00.000Z  bob-sub  frailty - borough outside scope  [borough=Harrow]") in text
    assert "No events." in log.summary(date(2027, 1, 1)) and "Refusals: none" in log.summary(date(2027, 1, 1))


# --- many writers at once ------------------------------------------------------------------------------------------

PROCESSES, THREADS, LINES_PER_THREAD = 4, 3, 400


def _writer(directory: str, process: int) -> None:
    """One process: THREADS threads appending LINES_PER_THREAD lines each, some of them ~10 KB long."""
    log = AuditLog(Path(directory))
    principal = Principal.from_claims({"sub": f"p{process}", "roles": ["ICS.All"]})

    errors: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            for n in range(LINES_PER_THREAD):
                areas = [f"E{process}{thread}-AREA-{i:06d}" for i in range(500 if n % 10 == 0 else 3)]
                log.record(principal, "view", "overview", {"writer": f"{process}-{thread}", "n": str(n)},
                           rows=n, areas=areas)
        except BaseException as error:  # noqa: BLE001 - re-raised below, so the process fails
            errors.append(error)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_processes_and_threads_never_interleave_lines(tmp_path, monkeypatch):
    # A spawned child re-runs __main__; after an AppTest in this process that is app.py, so give it an empty one.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(tmp_path), p)) for p in range(PROCESSES)]
    for worker in workers:
        worker.start()
    _writer(str(tmp_path), PROCESSES)   # and this process too, at the same time
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0

    raw = b"".join(path.read_bytes() for path in sorted(tmp_path.glob("audit-*.jsonl")))
    assert raw.endswith(b"\n")
    records = [json.loads(line) for line in raw.decode("utf-8").splitlines()]   # every line parses
    writers = PROCESSES + 1
    assert len(records) == writers * THREADS * LINES_PER_THREAD
    assert max(len(line) for line in raw.splitlines()) > 8192, "some lines are longer than a pipe buffer"
    seen: dict[str, list[int]] = {}
    for record in records:
        assert REQUIRED <= set(record)
        seen.setdefault(record["params"]["writer"], []).append(int(record["params"]["n"]))
        assert len(record["areas"]) in (3, 500)
    assert len(seen) == writers * THREADS
    assert all(numbers == list(range(LINES_PER_THREAD)) for numbers in seen.values()), "each writer's order kept"
