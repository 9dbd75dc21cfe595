"""A real ``streamlit run`` for the browser benchmark and the browser tests: a free port on 127.0.0.1, waiting until
the server answers its health check, and stopping it with everything it started (its own process group)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable

STARTUP_TIMEOUT_S = 120


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(process: subprocess.Popen, base: str, log: Callable[[], str],
                       timeout_s: float = STARTUP_TIMEOUT_S) -> None:
    """Poll ``base``'s health check until it answers 200; if the server exits or never answers, stop it and raise
    with ``log()`` (its output) in the message."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited: {log()}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    stop(process)
    raise RuntimeError(f"streamlit did not answer on {base} within {timeout_s:.0f} s: {log()}")


def stop(process: subprocess.Popen) -> None:
    """Stop the server and anything it started (a renderer's Chromium): SIGTERM to its process group, then SIGKILL
    after 15 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
