"""England-scale benchmark of the dashboard's queries and pages (``python -m benchmarks``; see README.md)."""

from __future__ import annotations

import contextlib
import logging
import resource
from collections.abc import Callable, Iterator
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


def _never(shipped: Callable) -> Callable:
    """A ``store.has_rollup`` that always says no; it remembers the real one so ``rollups(True)`` can nest."""
    def has_rollup(root: str, snapshot: object) -> bool:
        return False

    has_rollup.shipped = shipped  # type: ignore[attr-defined]
    return has_rollup


@contextlib.contextmanager
def rollups(enabled: bool = True) -> Iterator[None]:
    """The store as shipped (``enabled``), or without its area roll-ups: ``store.has_rollup`` says False, so every
    PCN, borough, place and ICS figure is summed from practice rows on each click, as before roll-ups. This is the
    only place the benchmark changes the store. ``st.cache_data`` is cleared on the way in and out so that no
    answer computed one way is served the other way; nesting ``rollups(True)`` inside ``rollups(False)`` gives the
    shipped store back (to check answers agree)."""
    import streamlit as st

    from metrics import store

    before = store.has_rollup
    shipped = getattr(before, "shipped", before)
    store.has_rollup = shipped if enabled else _never(shipped)
    st.cache_data.clear()
    try:
        yield
    finally:
        store.has_rollup = before
        st.cache_data.clear()


quiet_streamlit()
