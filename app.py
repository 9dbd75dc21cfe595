"""ICP metrics dashboard: navigation, global filters and shared layout.

Run with ``streamlit run app.py``. On first run with an empty data root it generates the demo data.
"""

import streamlit as st

from metrics import ui
from metrics.ui import auth, navigation, url

st.set_page_config(page_title="NWL ICP metrics", page_icon=":material/monitoring:", layout="wide")

auth.require_access(ui.data_root())  # signed out: the sign-in screen and nothing else; no role: "no access"
page = st.navigation(navigation.pages())  # before anything else is drawn, so Streamlit never lists app_pages/ itself
auth.banner()
ui.ensure_data()
with url.published():  # every control the page draws is written to the URL once, when the run ends
    ui.global_filters()
    try:
        page.run()
    finally:
        ui.audit_view(page.title)  # the view as the URL holds it: filters and the page's own controls
