"""Giro Dreams: the landing page. A card per page, and what this machine has."""

import streamlit as st

from core.errors import GiroError
from core.lan import phone_url, qr_code
from core.pages import all_pages
from core.status import ModelStatus, all_status
from ui import common
from ui.cache import device_info
from ui.setup import setup_ui

st.set_page_config(page_title="Giro Dreams", page_icon="🚴", layout="wide")

PER_ROW = 2


def page_cards_ui(statuses: list[ModelStatus]) -> None:
    """A card per page with its state, so a guest sees at a glance which pages answer; what a
    missing model is (files, sizes) is the host's to read."""
    host = common.is_host()
    every = list(zip(all_pages(), statuses))
    for start in range(0, len(every), PER_ROW):
        for column, (page, status) in zip(st.columns(PER_ROW), every[start : start + PER_ROW]):
            with column.container(border=True):
                st.subheader(f"{page.icon} {page.title}")
                st.write(page.summary)
                if status.available:
                    st.badge("Ready", icon=":material/check:", color="green")
                else:
                    st.badge("Needs setup", icon=":material/build:", color="orange")
                    st.caption(page.needs if host else "Not ready on this server yet: the host of this app can set it up.")
                st.page_link(page.script, label=f"Open {page.title}", icon="➡️")


def status_ui(statuses: list[ModelStatus]) -> None:
    """The host's view of this machine: the device, each model's folder and the command for a
    missing one. Guests see the device only: server paths and commands are not theirs."""
    st.subheader("This machine")
    try:
        info = device_info()
    except GiroError as error:
        st.error(str(error))
    else:
        memory = f", {info.memory_gb:.0f} GB" if info.memory_gb else ""
        st.write(f"**Device:** `{info.device}` ({info.name}{memory}), {info.dtype}")
        if info.device == "cpu":
            st.caption("No GPU: classifiers are quick, but a dream takes minutes per frame.")
    if not common.is_host():
        return
    for status in statuses:
        if status.available:
            st.success(f"**{status.page}:** ready, using `{status.where}`", icon="✅")
        else:
            st.warning(f"**{status.page}:** no model yet. Get one with:", icon="📦")
            st.code(status.get_command, language="bash")
    missing = [s.setup_part for s in statuses if not s.available and s.setup_part]
    if missing:
        st.caption("`make models` gets them all; or here, with the progress on this page:")
    setup_ui(missing, key="home")


def phone_ui() -> None:
    """At a meetup (`make serve`): a QR code that opens the app on a phone."""
    port = st.get_option("server.port")
    if st.get_option("server.sslCertFile"):
        url = phone_url(port)
        with st.expander("📱 Open on your phone", expanded=True):
            st.image(qr_code(url), width=200)
            st.write(f"Scan, or type `{url}`. Accept the certificate warning once: the camera needs HTTPS.")
    elif common.is_host():  # how the server is started is the host's business
        st.caption("To use the camera from phones on the same Wi-Fi, start the app with `make serve`.")


st.html(common.PHONE_CSS)
st.title("🚴 Giro Dreams")
st.write(
    "Four deep-learning projects of a cycling data scientist, in the browser: "
    "dream a stage of the Giro d'Italia, and name flowers, bikes and film-star lookalikes "
    "from a phone photo."
)
statuses = all_status()
page_cards_ui(statuses)
phone_ui()
status_ui(statuses)
