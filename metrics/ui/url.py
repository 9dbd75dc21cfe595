"""The URL is the state: every control that changes what a page shows is mirrored in the query string.

Controls are mirrored by hand rather than with Streamlit's ``bind="query-params"``: in Streamlit 1.67 a bound
widget ignores query parameters that ``st.page_link(..., query_params=...)`` brings in during in-session
navigation (which would break drill-down links), and a bound parameter cannot be rewritten through
``st.query_params``. The rule here: when the URL changed from outside since we last wrote it (a link was
followed or pasted, or the browser's back or forward button was pressed) the URL wins; otherwise (a control
was used, or the sidebar switched page) the session's value stands. Each run collects the value of every
control it drew and writes them to the URL once, at the end (``published``), so one view is one history entry
and back and forward step through views.

A value that is malformed (``UrlParams``) or names nothing that exists (``borough=Hamersmith``) is replaced
by the default, with a message naming the bad value and what is shown instead; the URL is then corrected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import streamlit as st

from metrics.filters import url_problem

T = TypeVar("T")
_LAST = "_url_last"          # the parameters we last wrote to the URL
_CHOSEN = "_url_chosen"      # the parameters this run's controls chose so far
_EXTERNAL = "_url_external"  # whether the URL changed from outside since we last wrote it
_PROBLEMS = "_url_problems"  # messages about bad values held back until the main area is drawn
STREAMLIT_PARAMS = frozenset({"embed", "embed_options"})  # Streamlit's own, outside the app's vocabulary


def begin_run() -> dict[str, str]:
    """Start of every run: decide whether the URL changed from outside, and start collecting choices.

    Sidebar navigation arrives with no parameters at all (Streamlit drops them on a page switch): the session's
    values stand then. Links, pasted URLs and history steps always carry some.
    """
    current = st.query_params.to_dict()
    st.session_state[_EXTERNAL] = bool(current) and current != st.session_state.get(_LAST)
    st.session_state[_CHOSEN] = {}
    st.session_state[_PROBLEMS] = []
    if st.session_state[_EXTERNAL]:
        for key, value in current.items():
            if (problem := url_problem(key, value)) and key not in STREAMLIT_PARAMS:
                _complain(f"The link's `{key}={value}` was ignored: {problem}.")
    return current


def remember(key: str, value: str | None) -> None:
    """Record this run's choice for ``key`` (None or blank: not in the URL)."""
    chosen = st.session_state.setdefault(_CHOSEN, {})
    if value:
        chosen[key] = value
    else:
        chosen.pop(key, None)


def chosen() -> dict[str, str]:
    """The parameters this run has chosen so far."""
    return dict(st.session_state.get(_CHOSEN, {}))


@contextmanager
def published() -> Iterator[None]:
    """Run a page, then write every choice it made to the URL in one go (also when the page stops early)."""
    try:
        yield
    finally:
        params = chosen()
        if params != st.query_params.to_dict():
            st.query_params.from_dict(params)
        st.session_state[_LAST] = params


def _complain(message: str) -> None:
    st.session_state.setdefault(_PROBLEMS, []).append(message)


def show_problems() -> None:
    """Say, in the main area, which values of the link were bad and what is shown instead."""
    for message in st.session_state.get(_PROBLEMS, []):
        st.warning(message, icon=":material/link_off:")
    st.session_state[_PROBLEMS] = []


def _from_url(key: str, by_url: dict[str, T], default: T, what: str, describe: Callable[[T], str],
              aliases: dict[str, str] | None) -> T:
    raw = st.query_params.get(key)
    if raw is None:
        return default
    value = aliases.get(raw.lower(), raw) if aliases else raw
    if value in by_url:
        return by_url[value]
    problem = url_problem(key, raw)
    reason = problem if problem else f"it is not {what}"
    _complain(f"The link asked for `{key}={raw}`, but {reason}: showing **{describe(default)}** instead.")
    return default


def _sync(key: str, options: Sequence[T], default: T, to_url: Callable[[T], str], what: str,
          describe: Callable[[T], str], aliases: dict[str, str] | None = None) -> None:
    """Put the value the control should show into the session before it is drawn."""
    by_url = {to_url(option): option for option in options}
    if st.session_state.get(_EXTERNAL) or key not in st.session_state:
        st.session_state[key] = _from_url(key, by_url, default, what, describe, aliases)
    elif st.session_state[key] not in options:
        st.session_state[key] = default


def select(label: str, options: Sequence[T], key: str, default: T, *, what: str,
           to_url: Callable[[T], str] = str, format_func: Callable[[T], Any] = str,
           aliases: dict[str, str] | None = None, widget: Callable[..., T] | None = None, **kwargs: Any) -> T:
    """A choice among ``options`` kept in the URL as ``key`` (a selectbox unless ``widget`` is another
    single-choice widget such as ``st.radio``). ``what`` completes "it is not ..." when a link names a value
    that is not among the options."""
    _sync(key, options, default, to_url, what, lambda v: str(format_func(v)), aliases)
    value = (widget or st.selectbox)(label, options, key=key, format_func=format_func, **kwargs)
    remember(key, to_url(value))
    return value


def toggle(label: str, key: str, *, on: str, off: str, default: bool = False, **kwargs: Any) -> bool:
    """A toggle kept in the URL as ``key=on`` or ``key=off``."""
    words = {True: on, False: off}
    _sync(key, (False, True), default, words.__getitem__, f"`{on}` or `{off}`", words.__getitem__)
    value = st.toggle(label, key=key, **kwargs)
    remember(key, words[value])
    return value


def tabs(labels: Sequence[str], key: str, url_values: Sequence[str], default: str) -> dict[str, Any]:
    """Tabs whose open tab is kept in the URL (``key=<url value>``); only the open tab's content need be drawn
    (each container's ``.open``). Returns the containers by label."""
    to_url = dict(zip(labels, url_values))
    _sync(key, labels, default, to_url.__getitem__, " or ".join(f"`{v}`" for v in url_values), str)
    containers = st.tabs(labels, key=key, on_change="rerun")
    remember(key, to_url[st.session_state[key]])
    return dict(zip(labels, containers))


def text(label: str, key: str, *, max_chars: int, **kwargs: Any) -> str:
    """Free text kept in the URL (blank: left out of it)."""
    if st.session_state.get(_EXTERNAL) or key not in st.session_state:
        raw = st.query_params.get(key, "")
        if problem := url_problem(key, raw) if raw else None:
            _complain(f"The link's `{key}` was ignored: {problem}.")
            raw = ""
        st.session_state[key] = raw
    value = st.text_input(label, key=key, max_chars=max_chars, **kwargs)
    remember(key, value.strip())
    return value.strip()


def month_range(label: str, months: Sequence[str], keys: tuple[str, str], default: tuple[str, str],
                format_func: Callable[[str], str]) -> tuple[str, str]:
    """A range of months kept in the URL as two parameters (``start`` and ``end``)."""
    slider_key = "_".join(keys)
    if st.session_state.get(_EXTERNAL) or slider_key not in st.session_state:
        by_url = {m: m for m in months}
        ends = [_from_url(k, by_url, d, "a month with data in this snapshot", format_func, None)
                for k, d in zip(keys, default)]
        st.session_state[slider_key] = tuple(sorted(ends, key=list(months).index))
    elif any(m not in months for m in st.session_state[slider_key]):
        st.session_state[slider_key] = default
    start, end = st.select_slider(label, months, key=slider_key, format_func=format_func)
    for key, month in zip(keys, (start, end)):
        remember(key, month)
    return start, end
