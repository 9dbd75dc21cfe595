"""England-scale benchmark of the dashboard's queries and pages (``python -m benchmarks``; see README.md)."""

from __future__ import annotations

import contextlib
import logging
import resource
from collections.abc import Iterator
from pathlib import Path


def quiet_streamlit() -> None:
    """Cached functions called outside ``streamlit run`` log "No runtime found" once per cache; silence that."""
    import streamlit.runtime.caching.cache_data_api  # noqa: F401 - creates the loggers to quieten

    for name in list(logging.root.manager.loggerDict):
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)


def peak_rss_mb() -> float:
    """This process's peak resident set size, MB. Linux's ``VmHWM`` (the high-water mark of this program's own
    memory), not ``ru_maxrss``: that one carries over a parent's peak through fork and exec, so a part started by
    a parent that had generated data would report the parent's peak."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # kB on Linux


@contextlib.contextmanager
def app_rollups(enabled: bool = True) -> Iterator[None]:
    """Run the app in this process (AppTest) on a store as shipped (``enabled``) or without its area roll-ups:
    every PCN, borough, place and ICS figure then summed from practice rows on each click, as before roll-ups.
    The app's one store is made by ``metrics.ui._store``; this swaps what it makes, and nothing else."""
    from metrics import ui
    from metrics.store import Store

    before, made = ui._store, {}

    def one_store_per_root(root: str) -> Store:  # as st.cache_resource keeps the app's one store
        return made.setdefault(root, Store(root, use_rollups=enabled))

    ui._store = one_store_per_root  # type: ignore[assignment]
    try:
        yield
    finally:
        ui._store = before


quiet_streamlit()
