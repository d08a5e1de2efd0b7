"""`streamlit run bench/live_page_app.py`: the Live bench's page (bench/live_page.py) with the
app's own routes, the live stream's socket among them, as app.py serves Giro Dreams."""

import streamlit as st

from ui.routes import ROUTES

app = st.App("live_page.py", routes=ROUTES)
