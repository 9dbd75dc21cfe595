"""A real sign-in for tests: a local OpenID Connect provider, a Streamlit app configured for it, and a browser helper.

What Streamlit (1.67) needs for ``st.login`` -- found by reading streamlit/auth_util.py and
streamlit/web/server/starlette/starlette_auth_routes.py, and proved by tests/test_signin_harness.py:

* the ``streamlit[auth]`` extra: ``Authlib>=1.3.2`` (we pin 1.9.10; Streamlit uses Authlib's Starlette client,
  and ``joserfc``, an Authlib dependency, for its own short-lived provider token) and ``httpx`` (Authlib's async
  HTTP client; Authlib 1.9 warns that it prefers ``httpx2``, but Streamlit's extra names ``httpx`` and it
  works). Without them ``st.login`` raises StreamlitMissingAuthlibError.
* ``.streamlit/secrets.toml`` in the working directory or beside the script (Streamlit reads ~/.streamlit's,
  the working directory's and the script's, the script's last) with an ``[auth]`` section: ``redirect_uri``
  (must end ``/oauth2callback``; ``{port}`` may stand for the server port), ``cookie_secret`` (signs the
  cookies; at least 14 bytes or Streamlit warns), ``client_id``, ``client_secret``, ``server_metadata_url``
  (the provider's ``/.well-known/openid-configuration``). ``st.login()`` with no provider name uses these;
  ``[auth.<name>]`` sub-sections are for named providers.
* Streamlit asks for ``openid email profile`` and ``prompt=select_account``, and uses PKCE S256 if offered.
  It never calls the userinfo endpoint: ``st.user`` holds exactly the ID token's claims (plus ``is_logged_in``,
  ``origin``, ``provider``), so a ``roles`` claim must be in the ID token itself (Entra puts app roles there).
* After the callback it sets two signed, HttpOnly cookies, ``_streamlit_user`` (the claims) and
  ``_streamlit_user_tokens`` (the raw ID and access tokens), each split into ``<name>_<n>`` chunks past 4 KB.
  See metrics/access.py ("Very large tokens") for what breaks when they grow.

The provider is ``oidc-provider-mock`` (PyPI; 0.3.4 is the last release for Python 3.11, 0.4 needs 3.12): a
Flask app serving discovery, JWKS, authorize, token, userinfo and end-session, accepting any client id and
secret. Users with custom claims are registered through its users API, ``PUT /users/<sub>`` with the claims as
JSON (``add_user``); its authorization page is a form with a ``sub`` field and an "Authorize" button
(``sign_in`` fills it). Custom claims such as ``roles`` go into the ID token. It runs on a thread of the test
process, on 127.0.0.1 and a free port; Streamlit runs as a subprocess on 127.0.0.1 and another free port.
Nothing else on the network is used.

Use from a test (the fixtures are imported into the test module, as tests/test_signin_harness.py does)::

    from playwright.sync_api import expect
    from tests.oidc_support import chromium, oidc_provider, sign_in, signin_app  # noqa: F401 - fixtures

    def test_a_harrow_user(oidc_provider, signin_app, chromium):
        oidc_provider.add_user("ann", email="ann@nhs.net", roles=["Borough.Harrow"])
        page = chromium.new_context().new_page()
        page.goto(signin_app.url)
        sign_in(page, "ann")
        expect(page.get_by_text("Email: ann@nhs.net")).to_be_visible()

``signin_app`` runs tests/apps/signin_app.py; ``start_signin_app(script, provider, folder)`` runs any script the
same way, e.g. the dashboard: ``start_signin_app(PROJECT / "app.py", provider, folder, copy=False,
env={"ICP_DATA_ROOT": str(root)})``; ``sign_out`` signs out again; ``auth_cookie_sizes`` reads the auth cookies.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from benchmarks.server import free_port, stop, wait_until_serving

PROJECT = Path(__file__).resolve().parent.parent
SIGNIN_APP = PROJECT / "tests" / "apps" / "signin_app.py"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SIGNIN_TIMEOUT_MS = 60_000
CLIENT_ID = "icp-dashboard-test"
CLIENT_SECRET = "not-a-secret-test-only"


# --- the identity provider ---------------------------------------------------------------------------------------


@dataclass
class OidcProvider:
    """A running oidc-provider-mock: ``url`` is its issuer, ``add_user`` registers a user's claims."""

    url: str
    users: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def add_user(self, sub: str, **claims: Any) -> None:
        """Register (or replace) the user ``sub`` with these ID-token claims, e.g. ``email=..., roles=[...]``.

        The provider puts every non-standard claim (``roles``) in the ID token; standard ones only with their
        scope (``email`` with ``email``, ``name`` with ``profile``: Streamlit asks for both).
        """
        request = urllib.request.Request(f"{self.url}/users/{urllib.parse.quote(sub, safe='')}",
                                         data=json.dumps(claims).encode(), method="PUT",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204, f"the provider refused user {sub}: {response.status}"
        self.users[sub] = claims


@contextmanager
def run_oidc_provider() -> Iterator[OidcProvider]:
    """oidc-provider-mock on a thread, on 127.0.0.1 and a free port; stopped at the end."""
    import authlib.deprecate  # noqa: F401 - installs Authlib's "always" filter first, so ours below wins

    with warnings.catch_warnings():  # 0.3.4 imports Authlib modules that Authlib 1.9 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        import oidc_provider_mock
        import werkzeug.serving

    app = oidc_provider_mock.app(require_nonce=True)
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
                              name="oidc-provider-mock")
    thread.start()
    try:
        provider = OidcProvider(url=f"http://127.0.0.1:{server.server_port}")
        with urllib.request.urlopen(provider.metadata_url, timeout=10) as response:
            assert json.load(response)["issuer"] == provider.url
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- the app -------------------------------------------------------------------------------------------------------


def write_auth_secrets(app_dir: Path, provider: OidcProvider, port: int, *, cookie_secret: str | None = None,
                       extra: Mapping[str, str] | None = None) -> Path:
    """Write ``app_dir/.streamlit/secrets.toml`` with the ``[auth]`` section for this provider and app port."""
    values = {
        "redirect_uri": f"http://127.0.0.1:{port}/oauth2callback",
        "cookie_secret": cookie_secret or secrets.token_urlsafe(32),
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "server_metadata_url": provider.metadata_url,
        **(extra or {}),
    }
    folder = app_dir / ".streamlit"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secrets.toml"
    path.write_text("[auth]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items()),
                    encoding="utf-8")
    return path


@dataclass
class StreamlitApp:
    url: str
    process: subprocess.Popen
    folder: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def start_signin_app(script: Path, provider: OidcProvider, folder: Path, *, env: Mapping[str, str] | None = None,
                     copy: bool = True) -> StreamlitApp:
    """Write ``folder/.streamlit/secrets.toml`` for ``provider`` and ``streamlit run`` the script on 127.0.0.1.

    With ``copy`` (the default) the script is copied into ``folder`` first, so no ``.streamlit/`` beside the
    original can override the test's secrets. A multipage app (the dashboard's app.py with its pages/) runs
    in place with ``copy=False``, from ``folder`` as working directory: then a ``.streamlit/secrets.toml`` next
    to the script, if a developer has one, would win over the test's (Streamlit reads the global, the working
    directory's and the script's, the script's last). Returns once ``/_stcore/health`` answers. The server
    runs in its own process group (``stop_app`` ends it and anything it started); its output goes to
    ``folder/streamlit.log``. PYTHONPATH includes the project, so the script can import ``metrics``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / script.name if copy else script
    if copy:
        shutil.copy(script, target)
    port = free_port()
    write_auth_secrets(folder, provider, port)
    log_path = folder / "streamlit.log"
    environment = {**os.environ, "PYTHONPATH": str(PROJECT), **(env or {})}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(target), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    app = StreamlitApp(url=f"http://127.0.0.1:{port}", process=process, folder=folder, log_path=log_path)
    wait_until_serving(process, app.url, app.log)
    return app


def stop_app(app: StreamlitApp) -> None:
    """Stop the server's whole process group (SIGTERM, then SIGKILL after 15 s)."""
    stop(app.process)


# --- the browser ---------------------------------------------------------------------------------------------------


def sign_in(page, sub: str, *, button: str = "Sign in", timeout_ms: int = SIGNIN_TIMEOUT_MS) -> None:
    """On a signed-out app page: press ``button``, authorise as ``sub`` on the provider's page, come back.

    Returns when the browser is back on the app (after ``/oauth2callback``); the caller waits for content.
    """
    from playwright.sync_api import expect

    app_origin = page.url.split("/", 3)[:3]
    page.get_by_role("button", name=button).click(timeout=timeout_ms)
    page.wait_for_url("**/oauth2/authorize**", timeout=timeout_ms)
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize", exact=True).click()
    page.wait_for_url(lambda url: url.split("/", 3)[:3] == app_origin and "/oauth2callback" not in url,
                      timeout=timeout_ms)
    expect(page.get_by_test_id("stApp")).to_be_visible(timeout=timeout_ms)


def sign_out(page, *, button: str = "Sign out", timeout_ms: int = SIGNIN_TIMEOUT_MS) -> None:
    """Press ``button`` (which calls ``st.logout()``) and confirm on the provider's end-session page.

    Streamlit clears its cookies and sends the browser to the provider's ``end_session_endpoint``, whose page
    (in oidc-provider-mock) asks for confirmation, then comes back through ``/oauth2callback`` to the app.
    """
    from playwright.sync_api import expect

    page.get_by_role("button", name=button).click(timeout=timeout_ms)
    page.get_by_role("button", name="End session").click(timeout=timeout_ms)
    expect(page.get_by_test_id("stApp")).to_be_visible(timeout=timeout_ms)


def auth_cookie_sizes(context) -> dict[str, int]:
    """The size (``name=value`` bytes) of each Streamlit auth cookie in a browser context, chunks included."""
    return {c["name"]: len(c["name"]) + 1 + len(c["value"]) for c in context.cookies()
            if c["name"].startswith("_streamlit_user")}


# --- pytest fixtures (import them into a test module) --------------------------------------------------------------


@pytest.fixture(scope="module")
def oidc_provider() -> Iterator[OidcProvider]:
    with run_oidc_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def signin_app(oidc_provider, tmp_path_factory) -> Iterator[StreamlitApp]:
    """tests/apps/signin_app.py behind ``oidc_provider``, stopped at the end of the module."""
    app = start_signin_app(SIGNIN_APP, oidc_provider, tmp_path_factory.mktemp("signin_app"))
    yield app
    stop_app(app)


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium under Playwright (Playwright's own browser download does not work here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
