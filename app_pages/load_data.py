"""Load data: upload published files or a tidy extract, read the validation report, then add them as a snapshot.

The same pipeline as ``python -m metrics ingest``: nothing is written until the report has been read and the
button pressed, and then the snapshot appears in one step (or not at all).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from metrics import ui
from metrics.ui import auth
from metrics.ingest.formats import FORMATS
from metrics.ingest.load import Prepared, Source, commit, prepare
from metrics.ingest.model import MAX_LISTED_PROBLEMS, LoadOptions
from metrics.ingest.snapshot_writer import SnapshotError, base_snapshot

STATE_KEY, DONE_KEY = "ingest_prepared", "ingest_done"


def _default_snapshot() -> date:
    newest = base_snapshot(ui.data_root())
    return max(date.today(), newest[0] + timedelta(days=1)) if newest else date.today()


def _form() -> None:
    with st.form("load_data"):
        fmt = st.selectbox("Format", list(FORMATS), format_func=lambda name: FORMATS[name].label)
        snapshot = st.date_input("Snapshot date (the data as known on this date)", value=_default_snapshot())
        files = st.file_uploader("Files", accept_multiple_files=True, type=["csv", "xlsx", "parquet"])
        with st.expander("Options"):
            allow_partial = st.checkbox("Load the valid rows even if some rows are rejected (the rejected rows "
                                        "and reasons go to a side file)")
            rounded = st.checkbox("Counts are rounded to 5 (a count of 5 means 1-7 and is kept as suppressed)")
            as_of = st.date_input("Mapping date, for a practice mapping file without EXTRACT_DATE", value=None)
        if st.form_submit_button("Validate", type="primary"):
            if not files:
                st.warning("Choose at least one file.")
                return
            options = LoadOptions(format=fmt, snapshot=snapshot, allow_partial=allow_partial,
                                  counts_rounded_to_5=rounded, as_of=as_of)
            with st.spinner("Validating"):
                st.session_state[STATE_KEY] = prepare(options, [Source(f.name, f.getvalue()) for f in files],
                                                      ui.data_root())


def _report(prepared: Prepared) -> None:
    st.subheader("Validation report")
    for outcome in prepared.outcomes:
        parsed = outcome.parsed
        icon = {"accepted": ":material/check_circle:", "rejected": ":material/cancel:"}.get(
            outcome.status, ":material/info:")
        with st.container(border=True):
            st.markdown(f"{icon} **{parsed.file}**: {outcome.status} · {outcome.loaded:,} rows to load"
                        + (f" · {len(outcome.rejected_rows):,} rows rejected" if outcome.rejected_rows else ""))
            skipped = [f"{n:,} rows: {reason}" for reason, n in parsed.skipped.items() if n]
            if skipped or parsed.notes:
                st.caption("  \n".join([f"Skipped {s}" for s in skipped] + parsed.notes))
            if parsed.problems:
                shown = parsed.problems[:MAX_LISTED_PROBLEMS]
                st.dataframe(pd.DataFrame({
                    "Rows": [", ".join(map(str, p.rows[:10])) + (" ..." if len(p.rows) > 10 else "") or "whole file"
                             for p in shown],
                    "Columns": [", ".join(p.columns) for p in shown], "Problem": [p.message for p in shown],
                }), hide_index=True, width="stretch")
                if len(parsed.problems) > MAX_LISTED_PROBLEMS:
                    st.caption(f"... and {len(parsed.problems) - MAX_LISTED_PROBLEMS} more problem(s).")


def _commit(prepared: Prepared) -> None:
    snapshot = prepared.options.snapshot
    if not prepared.writable:
        st.error("Nothing can be added: " + ("fix the problems above and validate again, or allow partial loads."
                                             if prepared.rejected else "these files hold no rows to load."))
        return
    if prepared.rejected:
        st.warning("Some rows were rejected; only the valid rows will be added.")
    if st.button(f"Add as snapshot {snapshot}", type="primary"):
        if not auth.scope().can_load:  # checked again at the moment of writing
            st.stop()
        try:
            result, side_files = commit(prepared, ui.data_root())
        except SnapshotError as error:
            st.error(str(error))
            return
        del st.session_state[STATE_KEY]
        auth.audit(ui.data_root(), "load", "load-data", snapshot=str(result.snapshot), rows=int(result.rows),
                   format=prepared.options.format, file=", ".join(o.parsed.file for o in prepared.outcomes)[:200])
        st.session_state[DONE_KEY] = (
            f"Snapshot {result.snapshot} added: {result.summary()}. Choose it under *Data as at* in the sidebar."
            + "".join(f"  \nRejected rows and reasons: `{path}`" for path in side_files))
        st.rerun()


view = ui.current_view()
st.title("Load data")
st.caption("Add published files or a local extract as a new snapshot. Every file is checked first; nothing is "
           "written until you have read the report and chosen to add it. Earlier snapshots are never changed.")
if not auth.scope().can_load:
    st.warning("Loading data needs the Data.Load role, which your account does not have. Ask the ICS BI team "
               "if you should have it.", icon=":material/lock:")
    auth.audit(ui.data_root(), "refused", "load-data", view.query_params(), reason="no Data.Load role")
    st.stop()
if DONE_KEY in st.session_state:
    st.success(st.session_state.pop(DONE_KEY))
_form()
if STATE_KEY in st.session_state:
    _report(st.session_state[STATE_KEY])
    _commit(st.session_state[STATE_KEY])
