"""England-scale benchmark of the dashboard's queries and pages (``python -m benchmarks``; see README.md)."""

import logging


def quiet_streamlit() -> None:
    """Cached functions called outside ``streamlit run`` log "No runtime found" once per cache; silence that."""
    import streamlit.runtime.caching.cache_data_api  # noqa: F401 - creates the loggers to quieten

    for name in list(logging.root.manager.loggerDict):
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)


quiet_streamlit()
