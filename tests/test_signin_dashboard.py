"""The dashboard behind a real sign-in: Chromium, st.login and a local OpenID Connect provider on 127.0.0.1.

Users with different roles sign in and each sees what their roles allow. Everything the server sends a browser
(every websocket frame) is scanned for the names of practices outside the user's scope: none may arrive, on any
page they open, nor before sign-in. Links to other areas' practices say "outside your access"; a user without a
role sees "no access"; Load data needs Data.Load; the audit log names each view and refusal.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from metrics.areas import org_names
from metrics.demo import generate_demo
from metrics.store import Store
from tests.oidc_support import (  # noqa: F401 - pytest fixtures
    SIGNIN_TIMEOUT_MS,
    chromium,
    oidc_provider,
    sign_in,
    start_signin_app,
    stop_app,
)

PROJECT = Path(__file__).resolve().parent.parent
SPHERE, HARROW, BRENT = "U89806", "E09000015", "E09000005"
USERS = {
    "ics": {"email": "ics@nhs.net", "roles": ["ICS.All"]},
    "harrow": {"email": "harrow@nhs.net", "roles": ["Borough.Harrow"]},
    "sphere": {"email": "sphere@nhs.net", "roles": [f"PCN.{SPHERE}", "Something.Else"]},
    "nobody": {"email": "nobody@nhs.net"},
}
METRICS = ["emergency_admissions_65_plus", "falls_admissions_65_plus", "flu_uptake_65_plus"]
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated.*:DeprecationWarning")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("signin_dashboard") / "data"
    generate_demo(root, metric_ids=METRICS)
    return root


@pytest.fixture(scope="module")
def practices(root) -> pd.DataFrame:
    """Every practice with its name, borough and PCN; the names checked are those no area's name contains."""
    store = Store(root)
    snapshot = store.snapshots()[-1]
    frame = store.orgs(snapshot, "practice")
    areas = " ".join(name for code, name in org_names(store, snapshot).items() if code not in set(frame["org_code"]))
    return frame[[len(n) > 8 and n not in areas for n in frame["org_name"]]]


@pytest.fixture(scope="module")
def dashboard(oidc_provider, root, tmp_path_factory) -> Iterator[str]:
    for sub, claims in USERS.items():
        oidc_provider.add_user(sub, **claims)
    folder = tmp_path_factory.mktemp("signin_dashboard_app")
    (folder / ".streamlit").mkdir()
    shutil.copy(PROJECT / ".streamlit" / "config.toml", folder / ".streamlit" / "config.toml")  # as deployed
    app = start_signin_app(PROJECT / "app.py", oidc_provider, folder, copy=False, env={"ICP_DATA_ROOT": str(root)})
    yield app.url
    stop_app(app)


class Browser:
    """One user's browser: a page, and the text of every websocket frame the server sent it."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base, self.received = page, base, []
        page.on("websocket", lambda ws: ws.on("framereceived", self._keep))

    def _keep(self, payload) -> None:
        self.received.append(payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload)

    def open(self, path: str, expect_text: str) -> str:
        self.page.goto(f"{self.base}{path}")
        expect(self.page.get_by_test_id("stMain")).to_contain_text(expect_text, timeout=SIGNIN_TIMEOUT_MS)
        self.settle()
        return self.page.get_by_test_id("stMain").inner_text()

    def settle(self) -> None:
        """Until the run that drew the page has finished (its text is there, so it has started): the app's script
        state, not only the running widget, which Streamlit shows a moment after a run starts."""
        expect(self.page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning",
                                                                   timeout=SIGNIN_TIMEOUT_MS)
        expect(self.page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=SIGNIN_TIMEOUT_MS)

    def sent(self) -> str:
        return "\n".join(self.received)


@pytest.fixture
def browser(chromium, dashboard) -> Iterator[Browser]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    yield Browser(context.new_page(), dashboard)
    context.close()


def signed_in(browser: Browser, sub: str) -> Browser:
    browser.page.goto(browser.base)
    sign_in(browser.page, sub)
    return browser


def names_outside(practices: pd.DataFrame, borough: str | None = None, pcn: str | None = None) -> list[str]:
    keep = pd.Series(True, index=practices.index)
    if borough:
        keep &= practices["borough_code"] != borough
    if pcn:
        keep &= practices["pcn_code"] != pcn
    allowed = " | ".join(practices.loc[~keep, "org_name"])
    return [name for name in practices.loc[keep, "org_name"] if name not in allowed]  # 'Medical Centre' is in many


def test_signed_out_browser_gets_the_sign_in_screen_and_nothing_else(browser, practices):
    browser.page.goto(browser.base)
    expect(browser.page.get_by_role("button", name="Sign in")).to_be_visible(timeout=SIGNIN_TIMEOUT_MS)
    sent = browser.sent()
    assert "frailty" not in sent.lower() and "overview" not in sent.lower()  # not even the page list
    assert not [name for name in practices["org_name"] if name in sent]


def test_pcn_director_sees_their_practices_and_no_one_elses(browser, practices):
    signed_in(browser, "sphere")
    browser.open(f"/frailty?borough=Harrow&pcn={SPHERE}&metric=falls_admissions_65_plus", "Practices in")
    mine = practices.loc[practices["pcn_code"] == SPHERE, "org_name"]
    assert any(name in browser.sent() for name in mine), "their own practices are sent"
    other_pcn = practices.loc[(practices["borough_code"] == HARROW) & (practices["pcn_code"] != SPHERE),
                              "pcn_code"].iloc[0]
    browser.open(f"/frailty?borough=Harrow&pcn={other_pcn}&metric=falls_admissions_65_plus", "outside your access")
    browser.open("/variation?borough=Harrow&metric=falls_admissions_65_plus", "Funnel plot")
    browser.page.get_by_text("Show every NWL practice").click()
    expect(browser.page).to_have_url(re.compile("practices=nwl"), timeout=SIGNIN_TIMEOUT_MS)  # the run is done
    expect(browser.page.get_by_test_id("stMain")).to_contain_text("Funnel plot", timeout=SIGNIN_TIMEOUT_MS)
    browser.settle()
    browser.open("/chart-studio?borough=Harrow", "Chart studio")
    leaked = [name for name in names_outside(practices, pcn=SPHERE) if name in browser.sent()]
    assert leaked == [], f"out-of-scope practices reached the browser: {leaked[:5]}"


def test_borough_user_sees_the_borough_and_other_areas_only_as_areas(browser, practices):
    signed_in(browser, "harrow")
    brent_pcn = practices.loc[practices["borough_code"] == BRENT, "pcn_code"].iloc[0]
    text = browser.open(f"/frailty?borough=Brent&pcn={brent_pcn}&metric=falls_admissions_65_plus",
                        "outside your access")
    assert "Trend" in text  # the PCN's own figures are shown: area figures are for everyone
    browser.open("/variation?borough=Harrow&metric=falls_admissions_65_plus", "Funnel plot")
    leaked = [name for name in names_outside(practices, borough=HARROW) if name in browser.sent()]
    assert leaked == [], f"out-of-scope practices reached the browser: {leaked[:5]}"
    browser.open("/load-data", "Data.Load role")


def test_ics_user_sees_every_borough_practices(browser, practices):
    signed_in(browser, "ics")
    brent_pcn = practices.loc[practices["borough_code"] == BRENT, "pcn_code"].iloc[0]
    text = browser.open(f"/frailty?borough=Brent&pcn={brent_pcn}&metric=falls_admissions_65_plus", "Practices in")
    assert "outside your access" not in text
    assert any(name in browser.sent() for name in practices.loc[practices["pcn_code"] == brent_pcn, "org_name"])


def test_user_without_a_role_sees_no_access_and_no_data(browser, practices, root):
    signed_in(browser, "nobody")
    expect(browser.page.get_by_test_id("stMain")).to_contain_text("no access", timeout=SIGNIN_TIMEOUT_MS)
    browser.page.goto(f"{browser.base}/frailty?borough=Harrow")
    expect(browser.page.get_by_test_id("stMain")).to_contain_text("no access", timeout=SIGNIN_TIMEOUT_MS)
    assert not [name for name in practices["org_name"] if name in browser.sent()]
    lines = [json.loads(line) for path in (root / "audit").glob("*.jsonl") for line in path.read_text().splitlines()]
    assert any(line["user"] == "nobody@nhs.net" and line["action"] == "refused" for line in lines)


def test_audit_log_names_views_and_refusals(root, dashboard):
    lines = [json.loads(line) for path in (root / "audit").glob("*.jsonl") for line in path.read_text().splitlines()]
    actions = {(line["user"], line["action"]) for line in lines}
    assert ("sphere@nhs.net", "view") in actions and ("sphere@nhs.net", "refused") in actions
    assert ("harrow@nhs.net", "refused") in actions  # the Brent PCN's practices and Load data
    variation_views = [line["params"] for line in lines
                       if line["user"] == "sphere@nhs.net" and line["action"] == "view"
                       and line["page"] == "Variation explorer"]
    # the view is audited with the page's own controls: every NWL practice shown after the toggle
    assert {v.get("practices") for v in variation_views} == {"area", "nwl"}, variation_views
    assert all(v.get("limits") == "adjusted" and v.get("metric") for v in variation_views)
    for line in lines:
        assert {"time", "user", "roles", "action", "page"} <= set(line)
