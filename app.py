"""ICP metrics dashboard: navigation, global filters and shared layout.

Run with ``streamlit run app.py``. On first run with an empty data root it generates the demo data.
"""

import streamlit as st

from metrics import ui
from metrics.ui import navigation

st.set_page_config(page_title="NWL ICP metrics", page_icon=":material/monitoring:", layout="wide")

page = st.navigation(navigation.pages())  # first, so Streamlit never falls back to listing pages/ on its own
ui.ensure_data()
ui.global_filters()
page.run()
