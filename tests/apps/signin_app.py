"""A minimal app for the sign-in harness (tests/oidc_support.py): Streamlit's native st.login, nothing else.

Signed out, the page shows only a "Sign in" button that calls ``st.login()`` with no provider name (so the
``[auth]`` section of ``.streamlit/secrets.toml`` is the provider). Signed in, it shows the ID token's
email and ``roles`` claim exactly as ``st.user`` exposes them, and the scope ``metrics.access`` makes of
those claims, so a browser test can check both what Streamlit passed on and what the dashboard would allow,
and ``metrics.access.auth_cookie_bytes``'s estimate of the auth cookies, which the test compares with the
browser's.

Everything runs under ``if __name__ == "__main__"`` (Streamlit runs a script as ``__main__``), so pytest's
doctest collection can import this file without calling Streamlit.
"""

from __future__ import annotations

import json

import streamlit as st

MOCK_ACCESS_TOKEN_BYTES = 42  # oidc-provider-mock's access tokens are opaque 42-character strings


def main() -> None:
    st.title("Sign-in harness")
    if not st.user.is_logged_in:
        if st.button("Sign in"):
            st.login()
        return

    from metrics.access import Principal, Scope, auth_cookie_bytes

    claims = st.user.to_dict()
    principal = Principal.from_claims(claims)
    scope = Scope.from_principal(principal)
    st.markdown(f"Email: `{claims.get('email')}`")
    st.markdown(f"Roles: `{json.dumps(claims.get('roles'))}`")
    st.markdown(f"User: `{principal.user_id}`")
    st.markdown(f"Scope: `{scope.key}`")
    st.markdown(f"Cookie estimate: `{auth_cookie_bytes(claims, access_token_bytes=MOCK_ACCESS_TOKEN_BYTES)}`")
    if st.button("Sign out"):
        st.logout()


if __name__ == "__main__":
    main()
