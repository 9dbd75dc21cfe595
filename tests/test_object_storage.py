"""A data root on object storage (S3: moto's S3 server on 127.0.0.1; Azure Blob: Azurite on 127.0.0.1, where it is
installed) answers as the same data on local disk, the commands write to it, publication is atomic for readers (a
killed ingest leaves nothing visible and the next one succeeds), and the app renders from it. Nothing leaves
127.0.0.1: every AWS variable points at the local server, with fake credentials, and Azure's at Azurite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from metrics import layout, reports
from metrics.__main__ import main
from metrics.access import Scope
from metrics.areas import Area, home_ics
from metrics.audit import AuditLog, audit_dir
from metrics.demo import generate_demo
from metrics.ingest.snapshot_writer import PAUSE_ENV
from metrics.store import Store
from tests.ingest_fixtures import BASE_SNAPSHOT, FIXTURES, NEW_SNAPSHOT, make_root
from tests.azure_server import azurite_program, azurite_server, make_container
from tests.s3_server import aws_environment, make_bucket, s3_server

PROJECT = Path(__file__).resolve().parent.parent
APP = str(PROJECT / "app.py")
BUCKET = "icp-tests"
TIDY = "tidy_smoking_example.csv"
FLU = ("flu_uptake_65_plus",)
HARROW = "E09000015"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """The local S3 server, with this process's AWS environment pointed at it for the module's tests."""
    with s3_server() as url, pytest.MonkeyPatch.context() as patch:
        for name, value in aws_environment(url).items():
            patch.setenv(name, value)
        make_bucket(url, BUCKET)
        yield url


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """A real command-line process, with the module's AWS environment (pointing at the local server)."""
    return subprocess.run([sys.executable, "-m", "metrics", *args], cwd=PROJECT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


@pytest.fixture(scope="module")
def s3_demo(endpoint: str) -> str:
    """The NWL demo written straight to S3 by ``python -m metrics demo --root s3://...``."""
    root = f"s3://{BUCKET}/demo"
    done = run_cli("demo", "--root", root)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


@pytest.fixture(scope="module")
def local_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same demo (same seed) on local disk."""
    root = tmp_path_factory.mktemp("local-demo")
    generate_demo(root)
    return root


@pytest.fixture
def s3_ingest_root(endpoint: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The ingest tests' small data root, copied up to its own prefix."""
    root = f"s3://{BUCKET}/ingest-{request.node.name.replace('[', '-').rstrip(']')}"
    assert layout.copy_snapshots(make_root(tmp_path / "local"), root) == [BASE_SNAPSHOT]
    return root


def served(root: str) -> list[date]:
    return [day for day, _ in layout.snapshot_folders(root)]


# ------------------------------------------------------------------------------------------ the store's answers
def test_demo_command_publishes_every_snapshot_whole(s3_demo):
    listing = layout.listing(s3_demo)
    days = [day for day, _ in listing.snapshot_folders()]
    assert len(days) == 3 and listing.unpublished_folders() == []
    names = {path.rsplit("/", 1)[1] for path in listing.files}
    assert layout.COMPLETE_MARKER in names and layout.WRITER_MARKER not in names
    store = Store(s3_demo)
    assert store.snapshots() == days and all(store.has_rollup(day) for day in days)


def _questions(store: Store) -> dict[str, object]:
    """The store's questions the pages ask, at every level."""
    snap = store.snapshots()[-1]
    metrics = ("flu_uptake_65_plus", "emergency_admissions_65_plus", "smoking_prevalence")
    answers: dict[str, object] = {"snapshots": store.snapshots(), "orgs": store.orgs(snap),
                                  "pcns": store.orgs(snap, "pcn", parent_code=HARROW),
                                  "period_range": store.period_range(snap)}
    for level in ("practice", "pcn", "borough", "place", "ics"):
        answers[f"aggregate {level}"] = store.aggregate(snap, metrics, level, start=date(2025, 4, 1))
    answers["practices in a PCN"] = store.aggregate(snap, metrics, "practice", within=("pcn", "U89806"))
    answers["borough by sex"] = store.aggregate(snap, FLU, "borough", area_codes=(HARROW,), breakdown="sex")
    summary = store.snapshot_summary(snap)
    answers["snapshot_summary"] = {k: v for k, v in summary.items() if k != "written"}
    harrow = Area(HARROW, "Harrow", "borough")
    answers["scorecard"] = reports.scorecard(store, snap, harrow, home_ics(store, snap), "2026-09")
    return answers


def _assert_same(ours: dict[str, object], theirs: dict[str, object]) -> None:
    assert ours.keys() == theirs.keys()
    for name, answer in ours.items():
        if isinstance(answer, pd.DataFrame):
            assert not answer.empty, name
            pd.testing.assert_frame_equal(answer, theirs[name], check_exact=True, obj=name)
        else:
            assert answer == theirs[name], name


def test_the_store_answers_the_same_from_s3_as_from_local_disk(s3_demo, local_demo):
    _assert_same(_questions(Store(s3_demo)), _questions(Store(local_demo)))


def test_without_rollups_s3_answers_from_practice_rows_the_same(s3_demo, local_demo):
    snap = Store(s3_demo).snapshots()[-1]
    ours = Store(s3_demo, use_rollups=False).aggregate(snap, FLU, "borough", start=date(2025, 4, 1))
    theirs = Store(local_demo).aggregate(snap, FLU, "borough", start=date(2025, 4, 1))
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True)


def test_a_scoped_reader_on_s3_sees_only_their_practices(s3_demo):
    store = Store(s3_demo)
    snap = store.snapshots()[-1]
    practices = store.scoped(Scope(boroughs=frozenset({"Harrow"}))).orgs(snap, "practice")
    assert len(practices) and set(practices["borough_code"]) == {HARROW}
    assert len(store.orgs(snap, "practice")) > len(practices)


def test_partitions_pruned_and_filters_pushed_down_on_s3(s3_demo):
    """EXPLAIN ANALYZE of a practice question: one snapshot's file of three is opened (hive partition pruning)
    and row groups are skipped by their statistics (filter pushdown), through the fsspec filesystem."""
    store = Store(s3_demo)
    snap = store.snapshots()[-1]
    store.period_range(snap)  # views made
    plan = store._connection().execute(
        "EXPLAIN ANALYZE SELECT sum(numerator) FROM metric_values WHERE snapshot_date = ? "
        "AND metric_id = 'flu_uptake_65_plus' AND org_code = 'E84002'", [snap]).fetchall()[0][1]
    assert "Scanning Files: 1/3" in plan
    assert "s3://" in plan and "snapshot_date=" in plan
    scanned = next(line for line in plan.splitlines() if "Row Groups Scanned:" in line)
    done, total = (int(n) for n in scanned.split(":")[1].strip(" │").split("/"))
    assert done < total


def test_a_repeated_question_asks_the_store_for_no_metadata(s3_demo, monkeypatch):
    """Sizes, times and existence come from the store's listing: questions asked again (their memoised answers
    forgotten) make no HEAD or list request, only reads of data DuckDB no longer holds."""
    import s3fs

    store = Store(s3_demo, relist_seconds=3600)  # no new listing in the middle, however slow the machine
    snap = store.snapshots()[-1]
    questions = [lambda: store.aggregate(snap, FLU, "borough", area_codes=(HARROW,)),
                 lambda: store.aggregate(snap, FLU, "practice", within=("pcn", "U89806"))]
    first = [ask() for ask in questions]
    store.clear_cache()
    requests: list[str] = []
    original = s3fs.S3FileSystem._call_s3

    async def counted(self, method, *args, **kwargs):
        requests.append(method)
        return await original(self, method, *args, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "_call_s3", counted)
    again = [ask() for ask in questions]
    assert "head_object" not in requests and "list_objects_v2" not in requests, requests
    for ours, theirs in zip(again, first):
        pd.testing.assert_frame_equal(ours, theirs)



# ----------------------------------------------------------------------------------------- writing and publishing
def _ingest(root: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return run_cli("ingest", "--format", "tidy", "--snapshot", NEW_SNAPSHOT.isoformat(), "--root", root,
                   str(FIXTURES / TIDY), env=env)


def test_ingest_into_s3(s3_ingest_root):
    done = _ingest(s3_ingest_root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert served(s3_ingest_root) == [BASE_SNAPSHOT, NEW_SNAPSHOT]
    store = Store(s3_ingest_root)
    assert store.has_rollup(NEW_SNAPSHOT)
    smoking = store.aggregate(NEW_SNAPSHOT, ("smoking_prevalence",), "practice", area_codes=("E84002",))
    assert smoking.set_index("period_start").loc[pd.Timestamp(2022, 4, 1), "numerator"] == 740  # revised from 700
    files = layout.storage(s3_ingest_root)
    manifest = json.loads(files.read_bytes(files.join(layout.snapshot_folder(files, NEW_SNAPSHOT), "manifest.json")))
    assert manifest["base_snapshot"] == BASE_SNAPSHOT.isoformat() and manifest["rows"] == 7
    again = _ingest(s3_ingest_root)
    assert again.returncode == 2 and "already exists" in again.stderr


def _paused_ingest(root: str, step: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "metrics", "ingest", "--format", "tidy", "--snapshot", NEW_SNAPSHOT.isoformat(),
         "--root", root, str(FIXTURES / TIDY)],
        cwd=PROJECT, env={**os.environ, PAUSE_ENV: step}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    for line in proc.stdout:
        output.append(line)
        if line.strip() == f"INGEST PAUSED AT {step}":
            return proc
    proc.wait()
    pytest.fail(f"ingest never paused at {step}: {''.join(output)}")


@pytest.mark.parametrize("step", ["metric_values", "uploaded"])  # built locally; every file up but no marker
def test_a_killed_ingest_leaves_nothing_visible_and_the_next_one_succeeds(s3_ingest_root, step):
    before = Store(s3_ingest_root, relist_seconds=0)
    proc = _paused_ingest(s3_ingest_root, step)
    try:
        assert served(s3_ingest_root) == [BASE_SNAPSHOT] and before.snapshots() == [BASE_SNAPSHOT]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    listing = layout.listing(s3_ingest_root)
    assert [day for day, _ in listing.snapshot_folders()] == [BASE_SNAPSHOT] and before.snapshots() == [BASE_SNAPSHOT]
    left = listing.unpublished_folders()
    assert left == ([layout.snapshot_folder(s3_ingest_root, NEW_SNAPSHOT)] if step == "uploaded" else [])
    done = _ingest(s3_ingest_root)
    assert done.returncode == 0, done.stdout + done.stderr
    after = layout.listing(s3_ingest_root)
    assert [day for day, _ in after.snapshot_folders()] == [BASE_SNAPSHOT, NEW_SNAPSHOT]
    assert after.unpublished_folders() == [] and not any(p.endswith(layout.WRITER_MARKER) for p in after.files)
    assert before.snapshots() == [BASE_SNAPSHOT, NEW_SNAPSHOT]  # the open store sees it on its next listing


def test_a_live_writers_folder_is_left_alone(s3_ingest_root):
    files = layout.storage(s3_ingest_root)
    folder = layout.snapshot_folder(files, NEW_SNAPSHOT)
    files.write_bytes(files.join(folder, layout.WRITER_MARKER), json.dumps(layout.writer_id()).encode())
    files.write_bytes(files.join(folder, layout.ORGS_FILE), b"half")
    assert layout.remove_abandoned(files) == []  # this process is alive
    done = _ingest(s3_ingest_root)
    assert done.returncode == 2 and "another ingest is writing" in done.stderr
    assert served(s3_ingest_root) == [BASE_SNAPSHOT]


def test_rollups_command_builds_a_missing_rollup_on_s3(s3_ingest_root):
    assert not Store(s3_ingest_root).has_rollup(BASE_SNAPSHOT)  # the fixture's snapshot has none
    assert main(["rollups", "--root", s3_ingest_root]) == 0
    assert Store(s3_ingest_root).has_rollup(BASE_SNAPSHOT)
    assert main(["rollups", "--root", s3_ingest_root]) == 0  # up to date: the sizes it was summed from match


def test_copy_back_to_local_disk(s3_ingest_root, tmp_path):
    assert main(["copy", "--from", s3_ingest_root, "--root", str(tmp_path / "back")]) == 0
    assert served(str(tmp_path / "back")) == [BASE_SNAPSHOT]
    assert not [p for p in (tmp_path / "back").rglob("*") if p.name.startswith(".") or p.suffix == ".part"]


def test_audit_log_on_s3(s3_ingest_root, capsys):
    log = AuditLog(audit_dir(s3_ingest_root))
    for page in ("frailty", "frailty", "overview"):
        log.record("ann@nhs.net", "view", page, {"borough": "Harrow"})
    log.record("bob@nhs.net", "refused", "practices", {"pcn": "U89806"}, reason="practices of U89806")
    assert len(log.read(date(2020, 1, 1))) == 4
    assert main(["audit", "--since", "2020-01-01", "--root", s3_ingest_root]) == 0
    out = capsys.readouterr().out
    assert "4 events, 2 users" in out and "frailty" in out and "practices of U89806" in out
    assert served(s3_ingest_root) == [BASE_SNAPSHOT]  # the store's listing is not confused by the log


# ------------------------------------------------------------------------------------------------- the app
@pytest.mark.parametrize("page", ["app_pages/overview.py", "app_pages/frailty.py", "app_pages/definitions.py"])
def test_pages_render_from_s3(s3_demo, monkeypatch, page):
    monkeypatch.setenv("ICP_DATA_ROOT", s3_demo)
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(borough="Harrow")
    at.run()
    if page != "app_pages/overview.py":
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title


# ------------------------------------------------------------------------------------------ Azure Blob (abfs://)
@pytest.fixture(scope="module")
def azure() -> Iterator[str]:
    """Azurite on 127.0.0.1 (skipped where it is not installed), this process's Azure environment pointing at it."""
    program = azurite_program()
    if program is None:
        pytest.skip("Azurite is not installed (npm install azurite; .ci/run does): abfs:// untested in this run")
    with azurite_server(program) as connection, pytest.MonkeyPatch.context() as patch:
        patch.setenv("AZURE_STORAGE_CONNECTION_STRING", connection)
        make_container(connection, BUCKET)
        yield connection


@pytest.fixture
def abfs_root(azure: str, request: pytest.FixtureRequest) -> str:
    return f"abfs://{BUCKET}/{request.node.name.replace('[', '-').rstrip(']')}"


def test_abfs_answers_as_local_disk(abfs_root, tiny_rollup_root):
    from tests.conftest import SNAP_NEW

    assert layout.copy_snapshots(tiny_rollup_root, abfs_root)
    ours, theirs = Store(abfs_root), Store(tiny_rollup_root)
    assert ours.snapshots() == theirs.snapshots() and ours.has_rollup(SNAP_NEW)
    for level in ("practice", "pcn", "borough", "ics"):
        pd.testing.assert_frame_equal(ours.aggregate(SNAP_NEW, FLU, level), theirs.aggregate(SNAP_NEW, FLU, level))
    pd.testing.assert_frame_equal(ours.orgs(SNAP_NEW), theirs.orgs(SNAP_NEW))
    assert ours.period_range(SNAP_NEW) == theirs.period_range(SNAP_NEW)
    assert ({k: v for k, v in ours.snapshot_summary(SNAP_NEW).items() if k != "written"}
            == {k: v for k, v in theirs.snapshot_summary(SNAP_NEW).items() if k != "written"})
    plan = ours._connection().execute("EXPLAIN ANALYZE SELECT sum(numerator) FROM metric_values WHERE "
                                      "snapshot_date = ? AND org_code = 'P1'", [SNAP_NEW]).fetchall()[0][1]
    assert "Scanning Files: 1/2" in plan and "abfs://" in plan


def test_abfs_killed_ingest_leaves_nothing_visible_and_the_next_one_succeeds(abfs_root, tmp_path):
    assert layout.copy_snapshots(make_root(tmp_path / "local"), abfs_root) == [BASE_SNAPSHOT]
    proc = _paused_ingest(abfs_root, "uploaded")
    try:
        assert served(abfs_root) == [BASE_SNAPSHOT]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert served(abfs_root) == [BASE_SNAPSHOT]
    assert layout.listing(abfs_root).unpublished_folders() == [layout.snapshot_folder(abfs_root, NEW_SNAPSHOT)]
    done = _ingest(abfs_root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert served(abfs_root) == [BASE_SNAPSHOT, NEW_SNAPSHOT]
    assert layout.listing(abfs_root).unpublished_folders() == []
