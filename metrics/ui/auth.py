"""Sign-in, the reader's scope and the audit trail, for the app.

Sign-in is on exactly when the project's ``.streamlit/secrets.toml`` has an ``[auth]`` section (Streamlit's
native ``st.login``, OpenID Connect; Microsoft Entra ID in production, see README). Then nothing but the
sign-in screen is drawn until the user has signed in, and a user whose ID token carries no recognised role
sees only a "no access" page. Without it the app runs in open local mode: every practice, loading allowed,
and a banner saying so.

The reader's ``Scope`` (from ``metrics.access``) goes into the store handle the pages get, so the SQL filters
every practice row; this module only decides who the reader is. Every signed-in page view, export, pack, load
and refusal is written to the audit log under ``<data root>/audit/`` (``metrics.audit``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from metrics.access import AccessError, Principal, Scope, load_role_map, no_access_message
from metrics.audit import AuditLog, audit_dir

ROLE_MAP_ENV = "ICP_ROLE_MAP"  # optional: a TOML or YAML file mapping other role or group names to ours
SIGN_IN_LABEL = "Sign in"
OUTSIDE_ACCESS = "outside your access"
OPEN_MODE_NOTE = ("**Open local mode**: no sign-in, every practice visible to anyone who can reach this server. "
                  "Configure sign-in before sharing it (README).")


def sign_in_configured() -> bool:
    """True when the project's secrets have an ``[auth]`` section."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return False


@st.cache_resource(show_spinner=False)
def _role_map(path: str | None):
    return load_role_map(path) if path else None


def principal() -> Principal | None:
    """The signed-in reader (None in open local mode). Malformed claims are a refusal, not a crash."""
    if not sign_in_configured() or not st.user.is_logged_in:
        return None
    try:
        return Principal.from_claims(st.user.to_dict(), _role_map(os.environ.get(ROLE_MAP_ENV)))
    except AccessError as error:
        st.error(f"Your sign-in could not be read: {error}")
        st.stop()


def scope() -> Scope:
    """What this reader may see: everything in open local mode, else the scope of their roles."""
    reader = principal()
    return Scope.everything() if reader is None else reader.scope


def _sign_in_screen() -> None:
    st.title("NWL ICP metrics")
    st.write("Sign in with your NHS account to see the dashboard.")
    if st.button(SIGN_IN_LABEL, type="primary", icon=":material/login:"):
        st.login()


def require_access(data_root: Path) -> None:
    """Stop the run unless the reader may see data: the sign-in screen, or the no-access page (audited).

    Called before navigation is declared, so a signed-out browser is sent the sign-in screen and nothing else
    (no page list, no names).
    """
    if not sign_in_configured():
        return
    if not st.user.is_logged_in:
        st.navigation([st.Page(_sign_in_screen, title="Sign in")], position="hidden").run()
        st.stop()
    reader = principal()
    if not reader.scope.has_access:
        audit(data_root, "refused", "no-access", reason="no recognised role")
        st.title("No access")
        st.warning(no_access_message(reader))
        if st.button("Sign out"):
            st.logout()
        st.stop()


def banner() -> None:
    """Who is signed in and what they may see, or the open-mode warning, at the top of the sidebar."""
    reader = principal()
    with st.sidebar:
        if reader is None:
            st.warning(OPEN_MODE_NOTE, icon=":material/lock_open:")
            return
        st.caption(f"Signed in as **{reader.email or reader.user_id}** · practice data: {reader.scope.label}")
        if st.button("Sign out", key="sign_out", icon=":material/logout:"):
            st.logout()


def audit(data_root: Path, action: str, page: str, params: dict | None = None, **detail) -> None:
    """Append one line to the audit log for a signed-in reader (open local mode has no one to name)."""
    reader = principal()
    if reader is not None:
        AuditLog(audit_dir(data_root)).record(reader, action, page, params or {}, **detail)


def audited(data_root: Path, action: str, page: str, params: dict, make: Callable[[], bytes], **detail
            ) -> Callable[[], bytes]:
    """A download's file maker that writes the audit line when the file is made (downloads are made on click)."""
    reader = principal()

    def made() -> bytes:
        data = make()
        if reader is not None:
            AuditLog(audit_dir(data_root)).record(reader, action, page, params, **detail)
        return data
    return made
