"""Many users at once: ``python -m benchmarks load --url http://127.0.0.1:PORT --users N --seconds S --out load.json``.

Simulated users speak Streamlit's own websocket protocol (``/_stcore/stream``, protobuf ``BackMsg`` up and
``ForwardMsg`` down, as the browser's JavaScript does), not browsers: a browser measures itself
(``benchmarks/browser.py``), and forty Chromiums would measure the machine running them. What the server does for
a simulated user is what it does for a real one: a session, a script run per page, every element serialised and
sent; only drawing is missing.

Each user, from a random start within the first think time, makes a **visit**, and more until ``--seconds`` have
passed: a new session (a fresh websocket: a link opened, a new tab) that opens the Overview, then one priority page,
then the Variation explorer, each after a think time drawn uniformly from ``--think MIN MAX`` seconds (default 5 to
15), then closes. A page is asked for as the browser asks for it: ``BackMsg.rerun_script`` with the page's address
(``page_name``: its ``url_path`` under ``st.navigation``, empty for the default page) and the query string (the
user's borough: user ``i`` has the ``i``-th of NWL's eight, so the server's caches see eight boroughs; the priority
page goes round the catalogue's priorities). A visit started before the end is finished, so every session either
completes its three runs or failed.

A **run** is timed from sending the request until the server's ``script_finished`` (``FINISHED_SUCCESSFULLY``;
a run the server ended early for another rerun is waited through). An **error** is a run that does not finish
within ``--run-timeout`` seconds, a failed or dropped connection, a script that finished with an error, a page
the server does not know, or an exception the page drew (``st.exception``, which includes an uncaught error in
the script); its message is kept in ``error_samples``. Nothing is retried.

``load.json``: ``users``, ``sessions`` (visits started), ``sessions_completed``, ``users_completing_runs`` (users
with at least one completed visit), ``errors``, ``runs`` (completed runs), ``p50_s`` and ``p95_s`` (request to
script run finished, all pages), ``max_s``, ``runs_per_s`` (completed runs over the wall time from the first
request to the last answer), ``per_page`` (the same per page), ``server_peak_rss_mb`` (the peak, sampled every
0.5 s, of the summed resident memory of the server processes and everything they started), ``server_cpu_s``
(their CPU time during the run), ``simulator_cpu_s`` (this process's), and how busy the machine was:
``machine.others_cpu_cores``, the cores every other process kept busy on average during the run (all CPU time
from ``/proc/stat`` less the servers' and the simulator's), and the load average before and after.

The server processes are ``--pid`` (repeatable), else those listening on ``--server-port`` (repeatable; default
the URL's port), found through ``/proc`` (Linux, as root or as the servers' user). Behind a load balancer, pass
each app process's port (``--server-port 8502 --server-port 8503``): the balancer's own memory is not the app's.
``run_log`` lists every completed run: [seconds from the start, page, seconds taken].
``--report a.json b.json ...`` prints earlier runs as the markdown table benchmarks/README.md quotes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode, urlsplit

# NWL's eight boroughs, as the app names them: user i asks for BOROUGHS[i % 8]
BOROUGHS = ("Brent", "Ealing", "Hammersmith & Fulham", "Harrow", "Hillingdon", "Hounslow",
            "Kensington & Chelsea", "Westminster")
THINK_S = (5.0, 15.0)
RUN_TIMEOUT_S = 120.0
SAMPLE_EVERY_S = 0.5


# ------------------------------------------------------------------------------------------- the pages
def visit_pages(priority: str) -> list[tuple[str, str]]:
    """One visit: (label, page_name) for the Overview, the priority page ``priority`` (its url_path) and the
    Variation explorer, as ``metrics/ui/navigation.py`` addresses them."""
    from metrics.ui.navigation import page_specs

    paths = {spec.title: spec.url_path or "" for specs in page_specs().values() for spec in specs}
    return [("Overview", paths["Overview"]), ("priority page", priority),
            ("Variation explorer", paths["Variation explorer"])]


def priority_paths() -> list[str]:
    """Every priority page's url_path, in catalogue order."""
    from metrics.catalogue import catalogue

    return [p.url_path for p in catalogue().priorities]


# ------------------------------------------------------------------------------------------- one user
@dataclass
class Tally:
    """What every user adds to: timings per page, errors, sessions."""
    run_seconds: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    sessions: int = 0
    sessions_completed: int = 0
    completed_by_user: dict[int, int] = field(default_factory=dict)
    first_request: float | None = None
    last_answer: float | None = None
    log: list[tuple[float, str, float]] = field(default_factory=list)

    def run(self, label: str, started: float, seconds: float) -> None:
        self.run_seconds.setdefault(label, []).append(seconds)
        self.log.append((started, label, seconds))
        self.first_request = started if self.first_request is None else min(self.first_request, started)
        self.last_answer = max(self.last_answer or 0.0, started + seconds)


class RunFailed(Exception):
    """A run the server did not finish cleanly (the message says how)."""


def _rerun(page_name: str, query_string: str) -> bytes:
    """The BackMsg a browser sends to run a page (a link followed, the sidebar used)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    message = BackMsg()
    message.rerun_script.page_name = page_name
    message.rerun_script.query_string = query_string
    return message.SerializeToString()


def _problem(message) -> str | None:
    """What went wrong, if this ForwardMsg says something did."""
    kind = message.WhichOneof("type")
    if kind == "page_not_found":
        return f"page not found: {message.page_not_found.page_name!r}"
    if kind == "session_event" and message.session_event.WhichOneof("type") == "script_compilation_exception":
        return f"script did not compile: {message.session_event.script_compilation_exception.message}"
    if (kind == "delta" and message.delta.WhichOneof("type") == "new_element"
            and message.delta.new_element.WhichOneof("type") == "exception"):
        exception = message.delta.new_element.exception
        return f"exception on the page: {exception.type}: {exception.message}"[:300]
    return None


async def _run(websocket, page_name: str, query_string: str, timeout_s: float) -> float:
    """Ask for one page and wait for its run to finish; seconds from request to ``script_finished``."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    started = time.perf_counter()
    await websocket.send(_rerun(page_name, query_string))
    problem = None
    async with asyncio.timeout(timeout_s):
        while True:
            message = ForwardMsg.FromString(await websocket.recv())
            problem = problem or _problem(message)
            if message.WhichOneof("type") != "script_finished":
                continue
            if message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                break
            if message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                raise RunFailed(f"script finished with status {message.script_finished}")
    if problem:
        raise RunFailed(problem)
    return time.perf_counter() - started


async def _visit(url: str, pages: list[tuple[str, str]], query: str, think: tuple[float, float],
                 rng: random.Random, tally: Tally, timeout_s: float) -> bool:
    """One session: the visit's pages in turn, a think time before each after the first; True if all ran."""
    import websockets

    ws_url = url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
    tally.sessions += 1
    async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=timeout_s,
                                  ping_interval=None) as websocket:
        for number, (label, page_name) in enumerate(pages):
            if number:
                await asyncio.sleep(rng.uniform(*think))
            started = time.perf_counter()
            tally.run(label, started, await _run(websocket, page_name, query, timeout_s))
    return True


async def user(number: int, url: str, until: float, think: tuple[float, float], tally: Tally,
               visits_by_priority: list[list[tuple[str, str]]], seed: int, timeout_s: float) -> None:
    """One simulated user: visits, a think time apart, until ``until`` (a visit begun is finished)."""
    rng = random.Random(seed * 1000 + number)
    query = urlencode({"borough": BOROUGHS[number % len(BOROUGHS)]})
    await asyncio.sleep(rng.uniform(0, think[1]))
    visits = 0
    while not visits or time.perf_counter() < until:  # every user makes at least one visit
        pages = visits_by_priority[(number + visits) % len(visits_by_priority)]
        visits += 1
        try:
            await _visit(url, pages, query, think, rng, tally, timeout_s)
        except Exception as error:  # noqa: BLE001 - every failure counts: connection, timeout, RunFailed
            tally.errors.append(f"user {number}: {type(error).__name__}: {error}"[:300])
        else:
            tally.sessions_completed += 1
            tally.completed_by_user[number] = tally.completed_by_user.get(number, 0) + 1
        await asyncio.sleep(rng.uniform(*think))


# ------------------------------------------------------------------------------------------- the server's memory
def listening_pids(ports: Iterable[int]) -> list[int]:
    """The processes listening on these TCP ports (from ``/proc/net/tcp*`` and each process's open sockets)."""
    wanted, inodes = {int(port) for port in ports}, set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) in wanted:  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    return sorted(int(fd_dir.parent.name) for fd_dir in Path("/proc").glob("[0-9]*/fd")
                  if any(_link(fd) in inodes for fd in _entries(fd_dir)))


def _entries(folder: Path) -> list[Path]:
    """A /proc folder's entries; none if the process is gone or not ours to read."""
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def _link(path: Path) -> str | None:
    """Where an open file descriptor points; None if it was closed meanwhile (a busy server opens and closes
    files all the time: one closed descriptor must not hide the process)."""
    try:
        return os.readlink(path)
    except OSError:
        return None


def _children() -> dict[int, list[int]]:
    """Every process's children, from each ``/proc/PID/stat``'s parent field."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    return children


def process_tree(pids: Iterable[int]) -> set[int]:
    """These processes and everything they started (a chart renderer's Chromium, say)."""
    children, found, todo = _children(), set(), list(pids)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def rss_and_cpu(pids: Iterable[int]) -> tuple[float, float]:
    """Summed resident memory (MB) and CPU time used so far (s) of these processes."""
    rss_kb, ticks = 0, 0
    for pid in pids:
        try:
            rss_kb += next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                           if line.startswith("VmRSS:"))
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, StopIteration):  # gone between listing and reading
            continue
    return rss_kb / 1024, ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU time every process on the machine has used since boot (all cores, user + system + irq), seconds."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """This process's CPU time so far (the simulated users themselves), seconds."""
    times = os.times()
    return times.user + times.system


async def watch_memory(roots: list[int], peaks: dict[str, float], stop: asyncio.Event) -> None:
    """Sample the servers' summed RSS every ``SAMPLE_EVERY_S`` until ``stop``; keep the peak."""
    while not stop.is_set():
        rss, _ = rss_and_cpu(process_tree(roots))
        peaks["rss_mb"] = max(peaks.get("rss_mb", 0.0), rss)
        try:
            await asyncio.wait_for(stop.wait(), SAMPLE_EVERY_S)
        except TimeoutError:
            pass


# ------------------------------------------------------------------------------------------- the run
def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (the next sample up), as the other benchmarks report p95."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * share) - 1)]


def _figures(values: list[float]) -> dict:
    return {"runs": len(values), "p50_s": _round(statistics.median(values) if values else None),
            "p95_s": _round(percentile(values, 0.95)), "max_s": _round(max(values) if values else None)}


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class Meter:
    """CPU clocks read at the start of a run: the servers', this process's and the whole machine's."""
    roots: list[int]
    started: float = field(default_factory=time.perf_counter)
    load_before: tuple[float, float, float] = field(default_factory=os.getloadavg)
    server_cpu: float = 0.0
    own_cpu: float = field(default_factory=own_cpu_s)
    machine: float = field(default_factory=machine_busy_s)

    def __post_init__(self) -> None:
        self.server_cpu = rss_and_cpu(process_tree(self.roots))[1]

    def figures(self, peak_rss_mb: float | None) -> dict:
        """The servers' peak memory and CPU, the simulator's CPU, and what every other process used."""
        elapsed = time.perf_counter() - self.started
        server = rss_and_cpu(process_tree(self.roots))[1] - self.server_cpu
        own = own_cpu_s() - self.own_cpu
        others = machine_busy_s() - self.machine - own - server
        measured = bool(self.roots)
        return {"elapsed_s": _round(elapsed, 1), "server_pids": self.roots,
                "server_peak_rss_mb": _round(peak_rss_mb, 1) if measured else None,
                "server_cpu_s": _round(server, 1) if measured else None, "simulator_cpu_s": _round(own, 1),
                "machine": {"cpus": os.cpu_count(),
                            "others_cpu_cores": _round(others / elapsed, 2) if measured else None,
                            "load_average_before": self.load_before, "load_average_after": os.getloadavg(),
                            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}}


async def simulate(url: str, users: int, seconds: float, think: tuple[float, float] = THINK_S,
                   server_pids: list[int] | None = None, seed: int = 1,
                   run_timeout_s: float = RUN_TIMEOUT_S) -> dict:
    """``users`` simulated users against ``url`` for ``seconds``; the figures ``load.json`` holds."""
    roots = server_pids or []
    visits = [visit_pages(priority) for priority in priority_paths()]
    tally, peaks, stop, meter = Tally(), {}, asyncio.Event(), Meter(roots)
    watcher = asyncio.create_task(watch_memory(roots, peaks, stop))
    await asyncio.gather(*(user(number, url, meter.started + seconds, think, tally, visits, seed, run_timeout_s)
                           for number in range(users)))
    stop.set()
    await watcher
    every = [s for values in tally.run_seconds.values() for s in values]
    wall = (tally.last_answer - tally.first_request) if every else None
    return {
        "url": url, "users": users, "seconds": seconds, "think_s": list(think), "sessions": tally.sessions,
        "sessions_completed": tally.sessions_completed, "users_completing_runs": len(tally.completed_by_user),
        "errors": len(tally.errors), "error_samples": sorted(set(tally.errors))[:10], **_figures(every),
        "runs_per_s": _round(len(every) / wall if wall else None),
        "per_page": {label: _figures(values) for label, values in tally.run_seconds.items()},
        **meter.figures(peaks.get("rss_mb")),
        "run_log": [[_round(at - meter.started, 2), label, _round(seconds)]
                    for at, label, seconds in sorted(tally.log)],
    }


def server_pids(url: str, pids: list[int], ports: list[int]) -> list[int]:
    """The app processes to watch: ``pids``, else those listening on ``ports`` (default the URL's port)."""
    if pids:
        return pids
    split = urlsplit(url)
    return listening_pids(ports or [split.port or (443 if split.scheme == "https" else 80)])


def _cell(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(results: list[dict], names: list[str]) -> str:
    """A markdown table of several load.json files (benchmarks/README.md, "Many users")."""
    lines = ["| run | users | think s | sessions (completed) | errors | runs | p50 s | p95 s | runs/s | "
             "Overview p50 / p95 s | server peak RSS MB | server CPU s | other processes' cores busy |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in zip(names, results):
        overview = r["per_page"].get("Overview", {})
        cells = [str(r["users"]), "-".join(f"{t:g}" for t in r["think_s"]),
                 f"{r['sessions']} ({r['sessions_completed']})",
                 str(r["errors"]), str(r["runs"]), _cell(r["p50_s"], 2), _cell(r["p95_s"], 2),
                 _cell(r["runs_per_s"], 2), f"{_cell(overview.get('p50_s'), 2)} / {_cell(overview.get('p95_s'), 2)}",
                 _cell(r["server_peak_rss_mb"], 0), _cell(r["server_cpu_s"], 0),
                 _cell(r["machine"]["others_cpu_cores"], 2)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="the dashboard's address (an app process or a balancer)")
    parser.add_argument("--users", type=int, default=10, help="simulated users at once")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long users keep starting visits")
    parser.add_argument("--think", type=float, nargs=2, default=THINK_S, metavar=("MIN", "MAX"),
                        help="think time before each page, uniform between MIN and MAX seconds")
    parser.add_argument("--pid", type=int, action="append", default=[],
                        help="an app process to measure (repeatable); default: those on --server-port")
    parser.add_argument("--server-port", type=int, action="append", default=[],
                        help="a port an app process listens on (repeatable); default: the URL's")
    parser.add_argument("--run-timeout", type=float, default=RUN_TIMEOUT_S, help="seconds before a run is an error")
    parser.add_argument("--seed", type=int, default=1, help="seeds the think times and start offsets")
    parser.add_argument("--out", default="load.json")
    parser.add_argument("--report", nargs="+", metavar="LOAD_JSON",
                        help="print these runs as a markdown table, and stop")
    args = parser.parse_args(argv)
    if args.report:
        print(report([json.loads(Path(name).read_text()) for name in args.report],
                     [Path(name).stem for name in args.report]))
        return 0
    if not args.url:
        parser.error("--url is required")
    pids = server_pids(args.url, args.pid, args.server_port)
    if not pids:
        print("No server process found to measure (give --pid or --server-port): memory and CPU not measured.")
    result = asyncio.run(simulate(args.url, args.users, args.seconds, tuple(args.think), pids, args.seed,
                                  args.run_timeout))
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(f"{result['users']} users, {result['sessions']} sessions ({result['sessions_completed']} completed), "
          f"{result['runs']} runs, {result['errors']} errors; p50 {result['p50_s']} s, p95 {result['p95_s']} s, "
          f"{result['runs_per_s']} runs/s; server peak RSS {result['server_peak_rss_mb']} MB, CPU "
          f"{result['server_cpu_s']} s (pids {pids}); other processes kept "
          f"{result['machine']['others_cpu_cores']} cores busy; wrote {args.out}")
    for sample in result["error_samples"]:
        print(f"  error: {sample}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
