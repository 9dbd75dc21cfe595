"""Azurite, Microsoft's Azure Blob Storage emulator (an npm package), on 127.0.0.1 for the abfs:// tests, when it is
installed: ``$ICP_AZURITE_BLOB`` names its ``azurite-blob`` program, else it is looked for on the PATH
(``.ci/run`` installs it with npm when Node is there). The account is the emulator's own published development
account, not a credential."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

AZURITE_ENV = "ICP_AZURITE_BLOB"
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="  # Azurite's own


def azurite_program() -> str | None:
    """The azurite-blob program, or None when it is not installed."""
    named = os.environ.get(AZURITE_ENV)
    return named if named and os.access(named, os.X_OK) else shutil.which("azurite-blob")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def connection_string(port: int) -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{DEV_ACCOUNT};")


@contextmanager
def azurite_server(program: str) -> Iterator[str]:
    """Start Azurite's blob service on a free port of 127.0.0.1 with its data in a temporary folder; yields the
    connection string, stops it afterwards."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="icp-azurite-") as data:
        proc = subprocess.Popen([program, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", data,
                                 "--skipApiVersionCheck", "--loose", "--silent"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for(port, proc)
            yield connection_string(port)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # it waits for idle keep-alive connections to close
                proc.kill()
                proc.wait()


def _wait_for(port: int, proc: subprocess.Popen, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"azurite exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("azurite did not start")


def make_container(connection: str, name: str) -> None:
    from azure.storage.blob import BlobServiceClient

    BlobServiceClient.from_connection_string(connection).create_container(name)
