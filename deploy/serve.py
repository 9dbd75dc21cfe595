"""``python -m deploy.serve --processes N --port P``: N ``streamlit run app.py`` processes behind HAProxy.

One Streamlit process runs Python on about one core, so a machine with more cores serves more people with more
processes. Each app process listens on 127.0.0.1 (ports ``P+1`` to ``P+N`` unless ``--backend-port`` says
otherwise), HAProxy on ``--bind``:``P`` in front of them with sticky sessions (``deploy/haproxy.cfg.template``:
a cookie names each browser's process). Every process reads the same data root (``ICP_DATA_ROOT`` or
``--root``, a folder or an ``s3://`` / ``abfs://`` URL) and keeps its own caches. This command waits until
every process answers its health check, then until the balancer does, prints the address, and stops them all on
Ctrl-C or SIGTERM. ``--print-config`` prints the HAProxy configuration it would use, for a deployment where
something else (systemd, a container platform) runs the processes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.server import stop, wait_until_serving

PROJECT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).with_name("haproxy.cfg.template")
COOKIE = "ICP_BACKEND"


def haproxy_config(port: int, backend_ports: list[int], bind: str = "127.0.0.1") -> str:
    """The balancer's configuration: ``deploy/haproxy.cfg.template`` with one server line per app process (each
    named ``app1``, ``app2``..., the value the stickiness cookie carries)."""
    servers = "\n".join(f"    server app{number} 127.0.0.1:{backend} check cookie app{number}"
                        for number, backend in enumerate(backend_ports, start=1))
    return TEMPLATE.read_text().format(bind=bind, port=port, servers=servers)


def haproxy_binary() -> str:
    """Debian's haproxy (in /usr/sbin, which a non-root PATH may lack)."""
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if not found:
        raise RuntimeError("HAProxy is not installed: apt-get install haproxy (README, Set-up)")
    return found


def start_app(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    """One ``streamlit run app.py`` on 127.0.0.1:``port`` from the project folder (so its
    ``.streamlit/config.toml`` applies), in its own process group."""
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1"]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


@dataclass
class Cluster:
    """A running deployment: the balancer's address, its process and the app processes (with their ports)."""
    url: str
    balancer: subprocess.Popen
    apps: list[subprocess.Popen]
    app_ports: list[int]


@contextlib.contextmanager
def cluster(processes: int, port: int, backend_port: int | None = None, root: str | None = None,
            bind: str = "127.0.0.1", logs: Path | None = None) -> Iterator[Cluster]:
    """Start ``processes`` app processes and HAProxy in front; stop them all on leaving. Logs (one per process,
    and the balancer's) go to ``logs`` (default a temporary folder, removed at the end)."""
    ports = [(backend_port or port + 1) + number for number in range(processes)]
    env = {**os.environ, "PYTHONPATH": str(PROJECT), **({"ICP_DATA_ROOT": root} if root else {})}
    with contextlib.ExitStack() as stack:
        folder = logs or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="icp-deploy-")))
        apps: list[subprocess.Popen] = []
        stack.callback(lambda: [stop(app) for app in apps])
        for number, app_port in enumerate(ports, start=1):
            apps.append(start_app(app_port, env, folder / f"app{number}.log"))
        for number, (app, app_port) in enumerate(zip(apps, ports), start=1):
            log = folder / f"app{number}.log"
            wait_until_serving(app, f"http://127.0.0.1:{app_port}", lambda log=log: log.read_text()[-2000:])
        config = folder / "haproxy.cfg"
        config.write_text(haproxy_config(port, ports, bind))
        with (folder / "haproxy.log").open("wb") as out:  # -db: stay in the foreground, under this process
            balancer = subprocess.Popen([haproxy_binary(), "-db", "-f", str(config)], stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        stack.callback(stop, balancer)
        url = f"http://{'127.0.0.1' if bind in ('0.0.0.0', '*', '') else bind}:{port}"
        wait_until_serving(balancer, url, lambda: (folder / "haproxy.log").read_text()[-2000:], timeout_s=30)
        yield Cluster(url, balancer, apps, ports)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=max(1, os.cpu_count() or 1),
                        help="app processes (default: one per core)")
    parser.add_argument("--port", type=int, default=8501, help="the balancer's port")
    parser.add_argument("--bind", default="127.0.0.1", help="the balancer's address (0.0.0.0: every interface)")
    parser.add_argument("--backend-port", type=int, help="the first app process's port (default: --port + 1)")
    parser.add_argument("--root", help="the data root (default: $ICP_DATA_ROOT, else data/)")
    parser.add_argument("--logs", type=Path, help="keep each process's log in this folder")
    parser.add_argument("--print-config", action="store_true", help="print the HAProxy configuration and stop")
    args = parser.parse_args(argv)
    first = args.backend_port or args.port + 1
    if args.print_config:
        print(haproxy_config(args.port, list(range(first, first + args.processes)), args.bind), end="")
        return 0
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # leave the with-block: everything is stopped
    with cluster(args.processes, args.port, args.backend_port, args.root, args.bind, args.logs) as running:
        pids = ", ".join(f"app{n} pid {app.pid} on :{p}"
                         for n, (app, p) in enumerate(zip(running.apps, running.app_ports), start=1))
        print(f"Serving {running.url} ({args.processes} processes: {pids}; HAProxy pid {running.balancer.pid}). "
              "Ctrl-C stops them all.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            running.balancer.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
