"""``python -m metrics fetch fingertips`` against a Fingertips API of our own on 127.0.0.1 (http.server in a thread,
on a free port) that serves the real NWL exports (tests/data/ingest, from ../shared/reference): a fetch writes a
snapshot holding exactly the published figures, with the request in its manifest; a flaky server is retried with
back-off; a server that is down gives a clear message and writes nothing; ``--all`` asks for every mapped
indicator. Nothing may leave 127.0.0.1: every connection the tests open is checked."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from metrics.__main__ import build_parser, main
from metrics.catalogue import catalogue
from metrics.ingest.fetch import Client, FetchError, FingertipsRequest, default_opener, fetch_all, mapped_indicators
from metrics.ingest.load import commit, prepare
from metrics.ingest.model import LoadOptions
from tests.ingest_fixtures import BASE_SNAPSHOT, FIXTURES, NEW_SNAPSHOT, make_root

EXPORTS = {91547: "fingertips_91547_smoking_prev_qof_gp_nwl.csv",
           93930: "fingertips_93930_ae_attendances_0to4_gp_pcn_nwl.csv",
           93553: "fingertips_93553_imd2019_gp_nwl.csv"}
ENDPOINT = "/api/all_data/csv/by_indicator_id"


class FakeFingertips(ThreadingHTTPServer):
    """The Fingertips API's CSV endpoint on 127.0.0.1: the real exports, failures on demand, every request kept."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, list[str]]] = []
        self.fail_first = 0  # this many requests fail before any succeeds
        self.failure = "503"  # "503", or "drop": close the connection without an answer
        self.always_fail: set[int] = set()  # indicators whose every request fails

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/api"


class _Handler(BaseHTTPRequestHandler):
    server: FakeFingertips

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        self.server.requests.append(query)
        indicator = int(query.get("indicator_ids", ["0"])[0])
        if self.server.fail_first > 0 or indicator in self.server.always_fail:
            self.server.fail_first -= 1
            if self.server.failure == "drop":
                self.close_connection = True  # no status line at all: the client sees the connection drop
            else:
                self.send_error(503, "Service Unavailable")
            return
        if parts.path != ENDPOINT or indicator not in EXPORTS:
            self.send_error(404, "Not Found")
            return
        body = (FIXTURES / EXPORTS[indicator]).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to anywhere but this machine fails the test (http.client connects through this)."""
    real = socket.create_connection

    def guarded(address, *args, **kwargs):
        assert address[0] in ("127.0.0.1", "localhost"), f"a test tried to reach {address}"
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)


@pytest.fixture
def fingertips() -> Iterator[FakeFingertips]:
    server = FakeFingertips()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_root(tmp_path / "data")


def run_fetch(root: Path, base_url: str, *options: str, slept: list[float] | None = None) -> int:
    """The command line's fetch with a client whose sleep only records (back-off without waiting)."""
    args = build_parser().parse_args(["fetch", "fingertips", "--snapshot", NEW_SNAPSHOT.isoformat(), "--root",
                                      str(root), "--base-url", base_url, *options])
    sleep = (slept if slept is not None else []).append
    return args.func(args, root, client=Client(timeout=5, sleep=sleep, opener=default_opener({})))


def snapshot_folders(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


def published_gp_rows(indicator: int) -> pd.DataFrame:
    frame = pd.read_csv(FIXTURES / EXPORTS[indicator], dtype=str, keep_default_na=False)
    return frame[frame["Area Type"].str.startswith("GP") & (frame["Category Type"] == "")]


def new_values(root: Path, metric_id: str) -> pd.DataFrame:
    values = pd.read_parquet(root / f"snapshot_date={NEW_SNAPSHOT}" / "metric_values.parquet")
    return values[values["metric_id"] == metric_id]


def test_the_request_is_the_fingertips_csv_endpoint_for_gp_practices_by_pcn():
    assert FingertipsRequest(indicator_id=91547).url == (
        "https://fingertips.phe.org.uk/api/all_data/csv/by_indicator_id?indicator_ids=91547&child_area_type_id=7"
        "&parent_area_type_id=204&include_sortable_time_periods=yes")
    with pytest.raises(ValueError, match="not an http"):
        FingertipsRequest(indicator_id=91547, base_url="ftp://example.org")


def test_a_fetch_writes_a_snapshot_holding_the_published_nwl_figures(fingertips, root, capsys):
    assert run_fetch(root, fingertips.base_url, "--indicator", "91547") == 0
    assert "ACCEPTED - 685 rows to load" in capsys.readouterr().out
    assert fingertips.requests == [{"indicator_ids": ["91547"], "child_area_type_id": ["7"],
                                    "parent_area_type_id": ["204"], "include_sortable_time_periods": ["yes"]}]
    published = published_gp_rows(91547)
    loaded = new_values(root, "smoking_prevalence").set_index(["org_code", "period_start"])
    assert len(published) == 685 and len(loaded) == 686  # and one 2021/22 base row not in the export
    for code, period, count, denominator, value in published[
            ["Area Code", "Time period", "Count", "Denominator", "Value"]].itertuples(index=False):
        got = loaded.loc[(code, date(int(period[:4]), 4, 1))]  # a financial year, e.g. 2022/23
        assert (got["numerator"], got["denominator"]) == (float(count), float(denominator))
        assert got["value"] == pytest.approx(float(value), abs=5e-8)


def test_the_manifest_records_the_request(fingertips, root):
    before = datetime.now().astimezone()
    assert run_fetch(root, fingertips.base_url, "--indicator", "91547") == 0
    manifest = json.loads((root / f"snapshot_date={NEW_SNAPSHOT}" / "manifest.json").read_text())
    entry = manifest["files"][0]
    body = (FIXTURES / EXPORTS[91547]).read_bytes()
    assert entry["name"] == "fingertips_91547_area7_parent204.csv" and entry["status"] == "accepted"
    assert entry["sha256"] == hashlib.sha256(body).hexdigest()  # the existing keys are unchanged
    source = entry["source"]
    assert source["url"] == FingertipsRequest(indicator_id=91547, base_url=fingertips.base_url).url
    assert source["sha256"] == entry["sha256"] and source["bytes"] == len(body)
    assert source["http_status"] == 200 and source["attempts"] == 1
    assert datetime.fromisoformat(source["received_at"]) >= before.replace(microsecond=0)


@pytest.mark.parametrize("failure", ["503", "drop"])
def test_a_server_that_fails_twice_then_succeeds_is_retried(fingertips, root, failure):
    fingertips.fail_first, fingertips.failure = 2, failure
    slept: list[float] = []
    assert run_fetch(root, fingertips.base_url, "--indicator", "93930", slept=slept) == 0
    assert len(fingertips.requests) == 3 and slept == [1.0, 2.0]
    manifest = json.loads((root / f"snapshot_date={NEW_SNAPSHOT}" / "manifest.json").read_text())
    assert manifest["files"][0]["source"]["attempts"] == 3
    assert len(new_values(root, "ae_attendances_0_4")) == 338


def test_a_server_that_is_down_gives_a_clear_message_and_writes_nothing(root, capsys):
    with socket.socket() as probe:  # a free port with nothing listening once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    slept: list[float] = []
    before = snapshot_folders(root)
    assert run_fetch(root, f"http://127.0.0.1:{port}/api", "--indicator", "91547", slept=slept) == 2
    error = capsys.readouterr().err
    assert "cannot fetch from Fingertips" in error and "attempt 4: cannot connect" in error
    assert "Nothing was written" in error and "ingest --format fingertips" in error
    assert slept == [1.0, 2.0, 4.0]  # 4 attempts, backing off 1, 2 and 4 seconds
    assert snapshot_folders(root) == before and not list(root.parent.glob(".*ingest-*"))


def test_one_indicator_failing_for_good_loads_none(fingertips, root, capsys):
    fingertips.always_fail = {93930}
    assert run_fetch(root, fingertips.base_url, "--indicator", "91547", "--indicator", "93930") == 2
    assert "HTTP 503" in capsys.readouterr().err
    assert snapshot_folders(root) == [f"snapshot_date={BASE_SNAPSHOT}"]


def test_an_answer_retrying_cannot_change_is_not_retried(fingertips, root, capsys):
    fingertips_url = fingertips.base_url.replace("/api", "/no-such-api")
    slept: list[float] = []
    assert run_fetch(root, fingertips_url, "--indicator", "91547", slept=slept) == 2
    assert "attempt 1: HTTP 404" in capsys.readouterr().err and slept == [] and len(fingertips.requests) == 1


def test_all_asks_for_every_mapped_indicator(fingertips, root):
    assert run_fetch(root, fingertips.base_url, "--all") == 0
    asked = [int(q["indicator_ids"][0]) for q in fingertips.requests]
    assert asked == mapped_indicators(catalogue()) and set(asked) == {91547, 93930}
    assert len(new_values(root, "smoking_prevalence")) == 686 and len(new_values(root, "ae_attendances_0_4")) == 338


def test_the_imd_score_export_updates_the_practices(fingertips, root):
    assert run_fetch(root, fingertips.base_url, "--indicator", "93553") == 0
    orgs = pd.read_parquet(root / f"snapshot_date={NEW_SNAPSHOT}" / "orgs.parquet")
    practices = orgs[orgs["org_type"] == "practice"].drop_duplicates("org_code").set_index("org_code")
    published = published_gp_rows(93553).set_index("Area Code")["Value"].astype(float)
    assert practices.loc[published.index, "imd_score"].to_numpy() == pytest.approx(published.to_numpy(), abs=1e-9)


def test_unmapped_indicators_and_stale_dates_stop_before_any_request(fingertips, root, capsys):
    assert run_fetch(root, fingertips.base_url, "--indicator", "12345") == 2
    assert "12345 is not mapped" in capsys.readouterr().err
    args = ["fetch", "fingertips", "--indicator", "91547", "--snapshot", BASE_SNAPSHOT.isoformat(), "--root",
            str(root), "--base-url", fingertips.base_url]
    assert main(args) == 2  # the real command line, to the point where it would fetch
    assert "is not after the newest snapshot" in capsys.readouterr().err
    assert fingertips.requests == []


def test_the_library_fetch_loads_like_a_downloaded_file(fingertips, root):
    """fetch_all's sources go through prepare / commit exactly as ingest's files do."""
    sources = fetch_all([FingertipsRequest(indicator_id=93930, base_url=fingertips.base_url)],
                        Client(sleep=lambda _: None, opener=default_opener({})))
    prepared = prepare(LoadOptions(format="fingertips", snapshot=NEW_SNAPSHOT), sources, root)
    assert prepared.outcomes[0].status == "accepted" and prepared.provenance[sources[0].name]["attempts"] == 1
    result, _ = commit(prepared, root)
    assert result.new_rows == 338
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_all([FingertipsRequest(indicator_id=1, base_url=fingertips.base_url)],
                  Client(sleep=lambda _: None, opener=default_opener({})))
