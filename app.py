"""ICP metrics dashboard: navigation, global filters and shared layout.

Run with ``streamlit run app.py``. On first run with an empty data root it generates the demo data.
"""

import streamlit as st

from metrics import ui

st.set_page_config(page_title="NWL ICP metrics", page_icon=":material/monitoring:", layout="wide")

PAGES = {
    "System oversight": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    ],
    "Priorities": [
        st.Page("pages/population_health.py", title="Population health & inequalities",
                icon=":material/diversity_3:", url_path="population-health"),
        st.Page("pages/frailty.py", title="Frailty & care settings", icon=":material/elderly:",
                url_path="frailty"),
        st.Page("pages/diabetes.py", title="Diabetes", icon=":material/glucose:", url_path="diabetes"),
        st.Page("pages/mental_health.py", title="Mental health & learning disability",
                icon=":material/psychology:", url_path="mental-health"),
        st.Page("pages/vaccination.py", title="Vaccination", icon=":material/vaccines:", url_path="vaccination"),
    ],
    "Explore": [
        st.Page("pages/variation.py", title="Variation explorer", icon=":material/scatter_plot:",
                url_path="variation"),
        st.Page("pages/chart_studio.py", title="Chart studio", icon=":material/palette:", url_path="chart-studio"),
        st.Page("pages/definitions.py", title="Data & definitions", icon=":material/menu_book:",
                url_path="definitions"),
        st.Page("pages/load_data.py", title="Load data", icon=":material/upload_file:", url_path="load-data"),
    ],
}

page = st.navigation(PAGES)  # first, so Streamlit never falls back to listing pages/ on its own
ui.ensure_data()
ui.global_filters()
page.run()
