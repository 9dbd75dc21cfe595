"""What a user feels: each page timed in a real Chromium, from navigation until the page is idle and drawn.

Run as ``python -m benchmarks.browser --root DIR --out part.json --repeats N`` (``python -m benchmarks --browser``
does, once per data size). It starts ``streamlit run app.py`` on a free 127.0.0.1 port over ``DIR`` (headless, no
usage statistics, the project's own ``.streamlit/config.toml``), drives Debian's Chromium (``/usr/bin/chromium``)
with Playwright and stops the server at the end. Every view of ``benchmarks.pages.VIEWS`` is opened at its address
(``metrics/ui/navigation.py``) with ``?borough=Harrow`` (and ``&pcn=U89806`` for the drill-downs):

- ``first``: a fresh browser context (empty HTTP cache, a new Streamlit session), the first time the server
  renders that view (the views are visited in ``VIEWS`` order, after one warm-up load of the Load data page, which
  pays the server's first run: imports, DuckDB connection; reported as ``server_first_load_ms``).
- ``first_returning``: the first time the server renders the view for another borough (``RETURNING_TO``, and a
  PCN of it), in a browser whose HTTP cache holds the app's JavaScript from visiting every view for a third borough
  (``RETURNING_FROM``): a new Streamlit session per load, as a returning user's first visit of the day. Streamlit
  serves its hashed JavaScript to be kept for a year, so an empty cache is a browser's very first visit only.
- ``warm``: ``repeats`` full page loads per view in one context that has loaded every view once already (browser
  HTTP cache warm, server caches warm), the views interleaved; median and p95 (95th percentile, the next sample
  up: with fewer than 20 samples that is the slowest).
- ``switch`` (per page): in one session that has shown every page, the sidebar's link to the page clicked,
  ``repeats`` rounds over the pages, timed from the press until idle: moving around the app, which reloads nothing
  (the same websocket and JavaScript) and reruns the script for the new page.
- ``borough_change``: on the Frailty page, the sidebar's "Borough or place" box set to another borough, timed from
  the press on the option until idle: ``first`` to a borough the server has not drawn yet, then ``repeats`` changes
  back and forth.
- ``phone_overview``: the Overview at a 390 x 844 phone viewport (mobile, device scale factor 3): ``first`` in a
  fresh context (empty HTTP cache; the server has drawn the Overview before), then ``repeats`` reloads.

**Idle** (``IDLE``, checked by ``TRACKER_JS`` in the page every 10 ms and by this process on the websocket):

1. the server has finished the script run the action started: a ``script_finished`` message with status
   ``FINISHED_SUCCESSFULLY`` has arrived on the page's websocket since the action (decoded from the frames here);
2. in the page: the app is connected and its script state (``stApp``'s ``data-test-script-state``, what the
   running indicator shows) is ``notRunning``; no running status widget (``stStatusWidget``; one in its 200 ms
   fade-out after the run does not count); no ``.stSpinner``; no ``stSkeleton`` (a lazily loaded element, such as
   a chart component, still loading); no element marked stale from the previous run; and every chart (the
   dashboard's plot component, ``metrics/ui/plot.py``, a ``stBidiComponent…`` element, or a ``stPlotlyChart``)
   holds a drawn plot (``.js-plotly-plot .main-svg``) and every ``st.metric`` sparkline
   (``stMetricChart``, drawn by Vega) its ``svg`` or ``canvas``;
3. all of that, the number of charts and sparklines (and whether each is drawn) and the number of websocket
   messages received unchanged for 150 ms (``QUIET_MS``), so a chart still arriving or a second run is waited for.

Tables (``st.dataframe``) are counted (``tables``) but not waited for: an empty or hidden one never draws its canvas.

The time reported is the start of that quiet window, on the page's own clock (``performance.now()``: from the
navigation's start, or from the ``pointerdown`` of the option chosen). The page's script-state changes give the
split of that time: ``boot_ms`` (navigation or press until the script runs: HTML, JavaScript, websocket, and the
server starting the run), ``run_ms`` (running: the server's script with its elements streamed and drawn as they
arrive) and ``draw_ms`` (after the run until idle: what the browser still had to draw).

``wire_run_ms`` is the run as the network layer saw it: from the first websocket message of the action to its
``script_finished`` (Chrome's frame timestamps), so ``run_ms - wire_run_ms`` is roughly what the page's JavaScript
added on top of the server (handling and drawing the elements as they stream). ``server_cpu_ms`` is the CPU time
the server process used from the action until idle (all its threads, from ``/proc``, 10 ms steps): beside
``wire_run_ms`` it tells the server's own work from its waiting (for a CPU, on a busy machine). ``probe_ms`` is
what this module's own checks in the page cost during the action (they run on the page's main thread).

``busy_ms`` is the page's main thread in long tasks (50 ms or more, the Long Tasks API) from the action until idle:
JavaScript handling the streamed elements, React, Plotly and Vega drawing, style and layout. ``--js-profile N``
charges that JavaScript to its scripts (``js_profile``: Chrome DevTools' CPU profiler over N warm loads per view,
ms per load per script file: ``plotly-basic`` for plotly.js, ``react-dom``, ``embed`` for Vega, ``(program)`` for
V8's parsing, style, layout and paint, ``(garbage collector)``).

``server_idle_cpu_ms_per_s``: the server's CPU time per second while one session sits open doing nothing (Streamlit's
file watcher reacts to every file written anywhere under the app's folder, so it depends on what else writes
there). ``--streamlit-option server.fileWatcherType=none`` (any ``KEY=VALUE``) runs the server with such options.

**Bytes** per action: websocket message payloads received (protobuf, as the app reads them) and sent, split by
what they carry (``ws_bytes_by_kind``: Plotly figures, data frames, markdown, ...), and HTTP bytes on the wire
(Chrome DevTools ``encodedDataLength``, headers included; responses from the browser's cache count 0).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from benchmarks.pages import APP, BOROUGH, PCN, VIEWS
from metrics.ui.plot import PRELOAD_KEY
from benchmarks.server import free_port, stop, wait_until_serving
from metrics.settings import DATA_ROOT_ENV

PROJECT = Path(APP).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DESKTOP = {"viewport": {"width": 1440, "height": 1000}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
QUIET_MS = 150
POLL_MS = 50  # how often this process asks; the page's own clock times the idle point, to its 10 ms checks
TIMEOUT_MS = 180_000
IDLE_SECONDS = 3
WARMUP_PATH = "/load-data"
CHANGE_VIEW, OTHER_BOROUGH = "frailty", "Westminster"
# Returning visits: the browser's cache filled on one borough (and a PCN of it), first visits timed on another.
RETURNING_FROM, RETURNING_TO = ("Ealing", "U95154"), ("Hillingdon", "U35513")
BOROUGH_BOX = "Borough or place"
IDLE = ("server sent script_finished (FINISHED_SUCCESSFULLY) since the action; connected, script notRunning, no "
        "running status widget, no .stSpinner, no stSkeleton, no stale element, every chart (plot component or "
        "stPlotlyChart) drawn (.js-plotly-plot .main-svg), every stMetricChart sparkline drawn (svg or canvas); "
        "chart and sparkline "
        f"counts and websocket messages unchanged for {QUIET_MS} ms; time = start of that window")

# Installed in every document before the app's own scripts: counts websocket messages, watches the script state
# and the idle conditions (IDLE) every 10 ms, and remembers when the last press happened.
TRACKER_JS = """
(() => {
  const b = window.__icpBench = {messages: 0, signature: null, changedAt: 0, idleSince: null, counts: null,
                                 transitions: [], script: null, pressedAt: null, checkMs: 0};
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    socket.addEventListener('message', () => { b.messages += 1; check(); });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  document.addEventListener('pointerdown', (e) => { b.pressedAt = e.timeStamp; b.checkMs = 0; }, true);
  b.longTasks = [];  // the main thread's tasks of 50 ms or more: [start, duration] on the page's clock
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longTasks.push([e.startTime, e.duration]);
    }).observe({type: 'longtask', buffered: true});
  } catch (e) { /* no Long Tasks API: busy_ms stays 0 */ }
  function check() {
    const started = performance.now();
    const app = document.querySelector('[data-testid="stApp"]');
    const charts = document.querySelectorAll('[data-testid="stElementContainer"]:not(.st-key-__PRELOAD_KEY__) '
      + '[data-testid^="stBidiComponent"], [data-testid="stPlotlyChart"]');
    const sparklines = document.querySelectorAll('[data-testid="stMetricChart"]');
    let drawn = 0, sparklinesDrawn = 0;
    for (const chart of charts) if (chart.querySelector('.js-plotly-plot .main-svg')) drawn += 1;
    for (const line of sparklines) if (line.querySelector('svg, canvas')) sparklinesDrawn += 1;
    const s = {
      connection: app && app.getAttribute('data-test-connection-state'),
      script: app && app.getAttribute('data-test-script-state'),
      running: !!document.querySelector('[data-testid="stStatusWidget"]:not([class*="StatusWidget-exit"])'),
      spinner: !!document.querySelector('.stSpinner, [data-testid="stSpinner"]'),
      skeleton: !!document.querySelector('[data-testid="stSkeleton"]'),
      stale: !!document.querySelector('[data-stale="true"]'),
      charts: charts.length, drawn: drawn, sparklines: sparklines.length, sparklinesDrawn: sparklinesDrawn,
      messages: b.messages,
    };
    const now = performance.now();
    if (s.script !== b.script) { b.script = s.script; b.transitions.push([now, s.script]); }
    const signature = JSON.stringify(s);
    if (signature !== b.signature) { b.signature = signature; b.changedAt = now; }
    const idle = s.connection === 'CONNECTED' && s.script === 'notRunning' && !s.running && !s.spinner
      && !s.skeleton && !s.stale && s.drawn === s.charts && s.sparklinesDrawn === s.sparklines;
    b.idleSince = idle ? b.changedAt : null;
    b.counts = {charts: s.charts, sparklines: s.sparklines,
                tables: document.querySelectorAll('[data-testid="stDataFrame"]').length};
    b.checkMs += performance.now() - started;
  }
  setInterval(check, 10);
})();
""".replace("__PRELOAD_KEY__", PRELOAD_KEY)  # the hidden element that preloads the chart bundle is no chart
QUIET_JS = f"() => {{ const b = window.__icpBench; return !!b && b.idleSince !== null && " \
           f"performance.now() - b.idleSince >= {QUIET_MS}; }}"


# ------------------------------------------------------------------------------------------- the server
@contextlib.contextmanager
def serve(root: str, options: dict[str, str] | None = None, tree: Path = PROJECT
          ) -> Iterator[tuple[str, subprocess.Popen]]:
    """``streamlit run app.py`` over ``root`` on a free localhost port (headless), with any further Streamlit
    ``options`` (e.g. ``{"server.fileWatcherType": "none"}``); its base URL and process. ``tree``: another
    checkout of the app (its own code and config), for before-and-after runs."""
    port = free_port()
    env = {**os.environ, DATA_ROOT_ENV: root, "PYTHONPATH": str(tree), "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "streamlit", "run", str(Path(tree) / "app.py"), "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               *(arg for key, value in (options or {}).items() for arg in (f"--{key}", value))]
    with tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False) as log_file:
        log = Path(log_file.name)
        process = subprocess.Popen(command, cwd=tree, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(process, base, lambda: log.read_text(errors="replace")[-2000:])
        yield base, process
    finally:
        stop(process)
        log.unlink(missing_ok=True)


def process_cpu_ms(pid: int) -> float:
    """CPU time a process has used so far (user and system, all its threads), ms; 10 ms resolution."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def process_peak_rss_mb(pid: int) -> float | None:
    """Another process's peak resident set size (Linux ``VmHWM``), MB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


# ------------------------------------------------------------------------------------------- traffic
def message_kind(payload: bytes) -> tuple[str, bool]:
    """What a websocket message from the server carries (a delta's element type, else the message type), and
    whether it is a successful ``script_finished``."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    try:
        msg = ForwardMsg.FromString(payload)
    except Exception:  # noqa: BLE001 - not a ForwardMsg: count its bytes, name it so
        return "other", False
    kind = msg.WhichOneof("type") or "other"
    if kind == "delta":
        delta = msg.delta.WhichOneof("type") or "delta"
        element = msg.delta.new_element.WhichOneof("type") if delta == "new_element" else None
        kind = element or delta
    elif kind == "ref_hash":
        kind = "reference (already in the browser)"
    finished = kind == "script_finished" and msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY
    return kind, finished


def frame_bytes(event: dict) -> bytes:
    """A websocket frame's payload from a Chrome DevTools frame event (binary frames come base64-encoded)."""
    response = event["response"]
    data = response["payloadData"]
    return data.encode() if response["opcode"] == 1 else base64.b64decode(data)


@dataclass
class Traffic:
    """What went over the wire for one page, from Chrome DevTools' Network events: counted since ``reset``.

    Websocket frames carry the network's own timestamps, so ``wire_run_ms`` (the first message from the server
    after the action until its ``script_finished``) is the script run as the browser's network layer saw it
    stream, before the page's JavaScript handled it."""

    finished_runs: int = 0
    ws_received: int = 0
    ws_sent: int = 0
    http_bytes: int = 0
    http_requests: int = 0
    http_from_cache: int = 0
    first_frame_at: float | None = None
    finished_at: float | None = None
    by_kind: Counter = field(default_factory=Counter)

    def reset(self) -> None:
        """Start counting afresh (the finished-run counter keeps going)."""
        self.ws_received = self.ws_sent = self.http_bytes = self.http_requests = self.http_from_cache = 0
        self.first_frame_at = self.finished_at = None
        self.by_kind = Counter()

    def frame_received(self, event: dict) -> None:
        data = frame_bytes(event)
        kind, finished = message_kind(data)
        self.ws_received += len(data)
        self.by_kind[kind] += len(data)
        self.first_frame_at = event["timestamp"] if self.first_frame_at is None else self.first_frame_at
        if finished:
            self.finished_runs += 1
            self.finished_at = event["timestamp"]

    def frame_sent(self, event: dict) -> None:
        self.ws_sent += len(frame_bytes(event))

    def http_finished(self, event: dict) -> None:
        self.http_requests += 1
        self.http_bytes += int(event.get("encodedDataLength", 0))

    def served_from_cache(self, _event: dict) -> None:
        self.http_from_cache += 1

    def figures(self) -> dict:
        """Bytes sent to the browser (websocket and HTTP), the browser's few bytes back, and the run on the wire."""
        wire = None if self.finished_at is None else round((self.finished_at - self.first_frame_at) * 1000, 1)
        return {"wire_run_ms": wire, "bytes_to_browser": self.ws_received + self.http_bytes,
                "ws_bytes": self.ws_received, "http_bytes": self.http_bytes, "http_requests": self.http_requests,
                "http_from_cache": self.http_from_cache, "ws_bytes_sent": self.ws_sent,
                "ws_bytes_by_kind": dict(self.by_kind.most_common())}


def watch(context: BrowserContext, page: Page) -> Traffic:
    """Count the page's websocket messages and HTTP bytes (Chrome DevTools' Network domain, its own session)."""
    traffic = Traffic()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on("Network.webSocketFrameReceived", traffic.frame_received)
    cdp.on("Network.webSocketFrameSent", traffic.frame_sent)
    cdp.on("Network.loadingFinished", traffic.http_finished)
    cdp.on("Network.requestServedFromCache", traffic.served_from_cache)
    return traffic


# ------------------------------------------------------------------------------------------- one action
@dataclass
class Rig:
    """What is measured: the browser, and the ``streamlit run`` server at ``base``."""

    browser: Browser
    base: str
    server_pid: int

    def tab(self, device: dict) -> Tab:
        return Tab.open(self.browser, device, self.server_pid)


@dataclass
class Tab:
    """A browser context with one page, its tracker installed and its traffic counted (and the server's CPU)."""

    context: BrowserContext
    page: Page
    traffic: Traffic
    server_pid: int

    @classmethod
    def open(cls, browser: Browser, device: dict, server_pid: int) -> Tab:
        context = browser.new_context(**device)
        context.add_init_script(TRACKER_JS)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        return cls(context, page, watch(context, page), server_pid)

    def close(self) -> None:
        self.context.close()


def _wait_for_run(tab: Tab, runs_before: int) -> None:
    """Until the server has finished a script run since ``runs_before`` (websocket events arrive while waiting)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while tab.traffic.finished_runs <= runs_before:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no finished script run on {tab.page.url}")
        tab.page.wait_for_timeout(POLL_MS)


def wait_idle(tab: Tab, runs_before: int) -> dict:
    """Wait until idle (see ``IDLE``); the page's record: idle time, script-state changes and charts drawn."""
    _wait_for_run(tab, runs_before)
    try:
        tab.page.wait_for_function(QUIET_JS, timeout=TIMEOUT_MS, polling=POLL_MS)
    except PlaywrightTimeoutError as error:
        state = tab.page.evaluate("() => window.__icpBench && window.__icpBench.signature")
        raise TimeoutError(f"{tab.page.url} not idle after {TIMEOUT_MS} ms: {state}") from error
    record = tab.page.evaluate("() => { const b = window.__icpBench; return {idle: b.idleSince, counts: b.counts, "
                               "transitions: b.transitions, pressedAt: b.pressedAt, checkMs: b.checkMs, "
                               "longTasks: b.longTasks}; }")
    errors = tab.page.locator('[data-testid="stException"]').count()
    if errors:
        raise RuntimeError(f"{tab.page.url}: {errors} exception(s) on the page")
    return record


def phases(record: dict, start: float) -> dict:
    """From ``start`` (page clock) to idle, split at the script run: boot, run and draw, ms."""
    after = [(t, state) for t, state in record["transitions"] if t >= start]
    began = next((t for t, state in after if state not in ("notRunning", "initial", None)), None)
    ended = next((t for t, state in reversed(after) if state == "notRunning"), None)
    if began is None or ended is None or not start <= began <= ended <= record["idle"]:
        return {"boot_ms": None, "run_ms": None, "draw_ms": None}
    return {"boot_ms": round(began - start, 1), "run_ms": round(ended - began, 1),
            "draw_ms": round(record["idle"] - ended, 1)}


def busy(record: dict, start: float) -> dict:
    """The page's main thread between ``start`` and idle: time in long tasks (50 ms or more: JavaScript handling
    messages, React and Plotly drawing, style and layout), and how many."""
    tasks = [(t, d) for t, d in record.get("longTasks") or [] if start <= t < record["idle"]]
    return {"busy_ms": round(sum(min(d, record["idle"] - t) for t, d in tasks), 1), "long_tasks": len(tasks)}


def timed(tab: Tab, action: Callable[[], None], from_press: bool = False) -> dict:
    """Do ``action`` and wait until idle: the time from the navigation's start (or the press), its phases, what
    the page drew, the bytes, and the server's CPU time meanwhile."""
    tab.traffic.reset()
    runs, cpu = tab.traffic.finished_runs, process_cpu_ms(tab.server_pid)
    action()
    record = wait_idle(tab, runs)
    server_cpu = process_cpu_ms(tab.server_pid) - cpu
    start = record["pressedAt"] if from_press else 0.0
    return {"ms": round(record["idle"] - start, 1), **phases(record, start), **busy(record, start), **record["counts"],
            "server_cpu_ms": round(server_cpu), "probe_ms": round(record["checkMs"], 1), **tab.traffic.figures()}


def visit(tab: Tab, url: str) -> dict:
    """Open ``url`` in the tab and wait until idle (``timed``)."""
    return timed(tab, lambda: tab.page.goto(url, wait_until="commit", timeout=TIMEOUT_MS))


def change_borough(tab: Tab, borough: str) -> dict:
    """Choose ``borough`` in the sidebar's borough box and wait until idle (``timed`` from the press on the
    option)."""
    box = tab.page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text=BOROUGH_BOX)
    box.click()
    box.locator("input").fill(borough)  # the list is virtualised, and a first click may not open it: search
    option = tab.page.get_by_role("option", name=borough, exact=True)
    option.wait_for(state="visible")
    result = timed(tab, option.click, from_press=True)
    if f"borough={borough.replace(' ', '+')}" not in tab.page.url:
        raise RuntimeError(f"the borough did not change to {borough}: {tab.page.url}")
    return result


# ------------------------------------------------------------------------------------------- summaries
def view_paths(views: list[str] | None = None, borough: str = BOROUGH, pcn: str = PCN) -> dict[str, str]:
    """Each view's address: its page's url_path (navigation.page_specs), ``borough`` and the view's parameters
    (a drill-down's PCN ``pcn``, one of that borough's)."""
    from metrics.ui.navigation import page_specs

    paths = {spec.path: spec.url_path or "" for specs in page_specs().values() for spec in specs}
    return {name: f"/{paths[page]}?{urlencode({'borough': borough, **params, **({'pcn': pcn} if params else {})})}"
            for name, page, params in VIEWS if views is None or name in views}


def summarise(first: dict | None, warm: list[dict]) -> dict:
    """First visit as measured; warm visits as median and p95 of the time, medians of phases and bytes."""
    out = {"first": first} if first else {}
    if warm:
        times = [w["ms"] for w in warm]
        out |= {"warm_median_ms": round(statistics.median(times), 1),
                "warm_p95_ms": round(float(np.percentile(times, 95, method="higher")), 1),
                "warm_samples_ms": times, **{f"warm_{k}": warm[-1][k] for k in ("charts", "sparklines", "tables")}}
        for key in ("boot_ms", "run_ms", "draw_ms", "busy_ms", "wire_run_ms", "server_cpu_ms", "probe_ms",
                    "bytes_to_browser",
                    "ws_bytes", "http_bytes"):
            values = [w[key] for w in warm if w[key] is not None]
            out[f"warm_median_{key}"] = round(statistics.median(values), 1) if values else None
    return out


# ------------------------------------------------------------------------------------------- the run
def _first_visits(rig: Rig, paths: dict[str, str]) -> dict[str, dict]:
    """Each view once in a fresh context (empty HTTP cache), in VIEWS order."""
    firsts = {}
    for name, path in paths.items():
        tab = rig.tab(DESKTOP)
        firsts[name] = visit(tab, rig.base + path)
        tab.close()
        print(f"  first {name:20s} {firsts[name]['ms']:8.1f} ms  {firsts[name]['charts']:3d} charts  "
              f"{firsts[name]['bytes_to_browser'] / 1024:8.0f} KB", flush=True)
    return firsts


def _returning_visits(rig: Rig, views: list[str]) -> dict[str, dict]:
    """Each view the first time the server draws it (for ``RETURNING_TO``), in one browser whose HTTP cache holds
    the app's JavaScript from visiting every view for another borough (``RETURNING_FROM``): a returning user's
    first visit of the day, a new Streamlit session on each page load."""
    tab = rig.tab(DESKTOP)
    for path in view_paths(views, *RETURNING_FROM).values():
        visit(tab, rig.base + path)
    firsts = {}
    for name, path in view_paths(views, *RETURNING_TO).items():
        firsts[name] = {"path": path, **visit(tab, rig.base + path)}
        print(f"  returning first {name:10s} {firsts[name]['ms']:8.1f} ms  "
              f"{firsts[name]['bytes_to_browser'] / 1024:8.0f} KB", flush=True)
    tab.close()
    return firsts


def _warm_visits(rig: Rig, paths: dict[str, str], repeats: int) -> dict[str, list[dict]]:
    """Every view loaded once to warm the browser's cache, then ``repeats`` rounds over all views."""
    tab = rig.tab(DESKTOP)
    for path in paths.values():
        visit(tab, rig.base + path)
    warm: dict[str, list[dict]] = {name: [] for name in paths}
    for _ in range(repeats):
        for name, path in paths.items():
            warm[name].append(visit(tab, rig.base + path))
    tab.close()
    return warm


def script_name(url: str, function: str) -> str:
    """Whom a JavaScript CPU-profile sample is charged to: the script file (its name without the build hash, e.g.
    ``react-dom``, ``embed`` for Vega; a version is dropped too: ``plotly-basic`` for plotly.js), or V8's own
    entries (``(program)``: parsing, compiling, style, layout and paint outside JavaScript; ``(garbage
    collector)``; ``(idle)``)."""
    if function.startswith("(") and function.endswith(")"):
        return function
    name = url.rsplit("/", 1)[-1].split("?")[0] if url else "(native)"
    return re.sub(r"-[\d]+$", "", name.split(".")[0]) if name.endswith(".js") else name or "(native)"


def js_profile(tab: Tab, url: str, repeats: int) -> dict[str, float]:
    """The page's JavaScript CPU profile (Chrome DevTools' Profiler, 200 µs sampling) over ``repeats`` warm loads
    of ``url``: ms per load charged to each script (``script_name``), largest first."""
    cdp = tab.context.new_cdp_session(tab.page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 200})
    charged: Counter = Counter()
    for _ in range(repeats):
        cdp.send("Profiler.start")
        visit(tab, url)
        profile = cdp.send("Profiler.stop")["profile"]
        nodes = {node["id"]: node["callFrame"] for node in profile["nodes"]}
        for sample, delta in zip(profile["samples"], profile["timeDeltas"]):
            frame = nodes[sample]
            charged[script_name(frame["url"], frame["functionName"])] += delta / 1000
    cdp.detach()
    return {name: round(ms / repeats, 1) for name, ms in charged.most_common()}


def _js_profiles(rig: Rig, paths: dict[str, str], repeats: int) -> dict[str, dict[str, float]]:
    """Each view's JavaScript CPU profile over ``repeats`` warm loads (browser and server warm)."""
    tab = rig.tab(DESKTOP)
    for path in paths.values():
        visit(tab, rig.base + path)
    profiles = {name: js_profile(tab, rig.base + path, repeats) for name, path in paths.items()}
    tab.close()
    return profiles


def switch_page(tab: Tab, path: str) -> dict:
    """Click the sidebar's link to the page at ``path`` (its address without the query) and wait until idle
    (``timed`` from the press): Streamlit switches page over the open websocket, without reloading anything."""
    link = tab.page.locator(f'[data-testid="stSidebarNav"] a[href$="{path.split("?")[0]}"]')
    return timed(tab, link.click, from_press=True)


def _page_switches(rig: Rig, paths: dict[str, str], repeats: int) -> dict[str, list[dict]]:
    """The sidebar's pages (views without extra parameters) in turn, ``repeats`` rounds, in one session that
    has shown each once: what moving around the app costs, as against a full load."""
    pages = {name: path for name, path in paths.items() if path.count("=") == 1}  # just ?borough=
    tab = rig.tab(DESKTOP)
    visit(tab, rig.base + next(iter(pages.values())))
    for path in pages.values():
        switch_page(tab, path)
    switches: dict[str, list[dict]] = {name: [] for name in pages}
    for _ in range(repeats):
        for name, path in pages.items():
            switches[name].append(switch_page(tab, path))
    tab.close()
    return switches


def _borough_changes(rig: Rig, path: str, repeats: int) -> dict:
    """Harrow to another borough (first), then back and forth ``repeats`` times."""
    tab = rig.tab(DESKTOP)
    visit(tab, rig.base + path)
    first = change_borough(tab, OTHER_BOROUGH)
    warm = [change_borough(tab, BOROUGH if i % 2 == 0 else OTHER_BOROUGH) for i in range(repeats)]
    tab.close()
    return {"view": CHANGE_VIEW, "from": BOROUGH, "to": OTHER_BOROUGH, **summarise(first, warm)}


def _phone_overview(rig: Rig, path: str, repeats: int) -> dict:
    """The Overview at a phone viewport: first load in a fresh context, then ``repeats`` reloads."""
    tab = rig.tab(PHONE)
    first = visit(tab, rig.base + path)
    warm = [visit(tab, rig.base + path) for _ in range(repeats)]
    tab.close()
    return {"viewport": PHONE["viewport"], "device_scale_factor": PHONE["device_scale_factor"],
            **summarise(first, warm)}


def _server_first_load(rig: Rig) -> float:
    """The server's first page load (imports, DuckDB connection, the sidebar's queries), on a page not measured."""
    tab = rig.tab(DESKTOP)
    ms = visit(tab, rig.base + WARMUP_PATH)["ms"]
    tab.close()
    return ms


def _idle_server_cpu(rig: Rig, path: str) -> float:
    """The server's CPU time per second while one session sits open and idle (``IDLE_SECONDS``), ms."""
    tab = rig.tab(DESKTOP)
    visit(tab, rig.base + path)
    before = process_cpu_ms(rig.server_pid)
    tab.page.wait_for_timeout(IDLE_SECONDS * 1000)
    rate = (process_cpu_ms(rig.server_pid) - before) / IDLE_SECONDS
    tab.close()
    return round(rate)


def measure(root: str, repeats: int, views: list[str] | None = None, options: dict[str, str] | None = None,
            profile_repeats: int = 0) -> dict:
    """Every measurement on one data root, against one ``streamlit run`` of the app (with Streamlit
    ``options``); with ``profile_repeats``, each view's JavaScript CPU profile too (``js_profile``)."""
    paths, extra = view_paths(views), view_paths([CHANGE_VIEW, "overview"])
    load_before = os.getloadavg()  # the machine's load (1, 5, 15 min), to say how busy it was
    with serve(root, options) as (base, server), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        rig = Rig(browser, base, server.pid)
        server_first = _server_first_load(rig)
        firsts = _first_visits(rig, paths)
        returning = _returning_visits(rig, list(paths))
        warm = _warm_visits(rig, paths, repeats)
        switches = _page_switches(rig, paths, repeats)
        change = _borough_changes(rig, extra[CHANGE_VIEW], repeats)
        phone = _phone_overview(rig, extra["overview"], repeats)
        idle_cpu = _idle_server_cpu(rig, extra[CHANGE_VIEW])
        profiles = _js_profiles(rig, paths, profile_repeats) if profile_repeats else None
        version = browser.version
        browser.close()
        server_rss = process_peak_rss_mb(server.pid)
    pages = {name: {"path": path, **summarise(firsts[name], warm[name]), "first_returning": returning[name],
                    **({"switch": summarise(None, switches[name])} if name in switches else {})}
             for name, path in paths.items()}
    return {"idle": IDLE, "repeats": repeats, "chromium": version, "viewport": DESKTOP["viewport"],
            "streamlit_options": options or {}, "load_average": {"start": load_before, "end": os.getloadavg()},
            "server_first_load_ms": server_first,
            "server_peak_rss_mb": server_rss, "server_idle_cpu_ms_per_s": idle_cpu,
            "pages": pages, "borough_change": change, "phone_overview": phone,
            **({"js_profile_ms_per_load": profiles, "js_profile_repeats": profile_repeats} if profiles else {})}


def report_lines(result: dict) -> list[str]:
    """A few console lines: per view first (empty cache, and returning), warm median and p95, bytes, charts."""
    lines = [f"  {'view':20s}{'first':>9s}{'return':>9s}{'warm':>9s}{'p95':>9s}{'KB first':>10s}{'KB warm':>9s}"
             f"{'charts':>8s}{'switch':>9s}"]
    rows = {**result["pages"], "borough change": result["borough_change"], "phone overview": result["phone_overview"]}
    for name, row in rows.items():
        switch = row.get("switch", {}).get("warm_median_ms")
        returning = row.get("first_returning", {}).get("ms")
        lines.append(f"  {name:20s}{row['first']['ms']:9.0f}{'-' if returning is None else f'{returning:.0f}':>9s}"
                     f"{row['warm_median_ms']:9.0f}{row['warm_p95_ms']:9.0f}"
                     f"{row['first']['bytes_to_browser'] / 1024:10.0f}{row['warm_median_bytes_to_browser'] / 1024:9.0f}"
                     f"{row['warm_charts']:8d}{'-' if switch is None else f'{switch:.0f}':>9s}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.browser", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--repeats", type=int, default=10, help="warm visits per view, and borough changes")
    parser.add_argument("--views", nargs="*", help="view names from benchmarks.pages.VIEWS (default: all)")
    parser.add_argument("--streamlit-option", action="append", default=[], metavar="KEY=VALUE",
                        help="a further option for streamlit run, e.g. server.fileWatcherType=none (repeatable)")
    parser.add_argument("--js-profile", type=int, default=0, metavar="N",
                        help="also profile each view's JavaScript over N warm loads (ms per script per load)")
    args = parser.parse_args(argv)
    options = dict(option.split("=", 1) for option in args.streamlit_option)
    from benchmarks.run_queries import prepare_rollups

    built = prepare_rollups(args.root)
    result = measure(args.root, args.repeats, args.views, options, args.js_profile) | {"rollups_built": built}
    Path(args.out).write_text(json.dumps(result, indent=1))
    print("\n".join(report_lines(result)))
    print(f"  server: first load {result['server_first_load_ms']} ms, peak RSS {result['server_peak_rss_mb']} MB, "
          f"idle with a session open {result['server_idle_cpu_ms_per_s']} ms CPU per s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
