"""The load simulator (``python -m benchmarks load``) against a real server: ten simulated users, each a session
over Streamlit's websocket protocol opening the Overview, a priority page and the Variation explorer. No timing is
asserted (speed is measured in benchmarks/README.md, "Many users"): only that every session completed its runs
without an error, and that the simulator does see an error when there is one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import websockets

from benchmarks import load
from benchmarks.browser import serve
from metrics.demo import generate_demo

USERS = 10


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """``streamlit run app.py`` over the demo data (open local mode: no [auth] secrets); its URL and pid."""
    root = tmp_path_factory.mktemp("load_demo")
    generate_demo(root)
    with serve(str(root)) as (url, process):
        yield url, process.pid


def test_ten_sessions_complete_without_errors(server):
    url, pid = server
    result = asyncio.run(load.simulate(url, USERS, seconds=1.0, think=(0.2, 0.5), server_pids=[pid]))
    assert result["errors"] == 0, result["error_samples"]
    assert result["sessions"] >= USERS
    assert result["sessions_completed"] == result["sessions"]
    assert result["users_completing_runs"] == USERS
    assert result["runs"] == 3 * result["sessions"]
    assert set(result["per_page"]) == {"Overview", "priority page", "Variation explorer"}
    assert result["p50_s"] > 0 and result["p95_s"] >= result["p50_s"]
    assert result["server_peak_rss_mb"] > 100  # the app process with DuckDB and Plotly loaded


def test_the_server_found_by_its_port_is_the_app(server):
    url, pid = server
    assert load.server_pids(url, [], []) == [pid]


def test_a_page_that_does_not_exist_is_an_error(server):
    url, _ = server

    async def ask() -> None:
        async with websockets.connect(url.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit"],
                                      max_size=None) as websocket:
            await load._run(websocket, "no-such-page", "", timeout_s=60)

    with pytest.raises(load.RunFailed, match="page not found"):
        asyncio.run(ask())
