"""Small Streamlit helpers used by more than one page."""

from __future__ import annotations

import html
import ipaddress
import re
from collections.abc import Callable

import streamlit as st

from core.errors import GiroError


def is_host() -> bool:
    """A browser on the machine that serves the app: the connection's own peer is a loopback
    address (app.py has the server ignore X-Forwarded-For). Behind a proxy on this machine every
    guest would be the host: README.md says how to run behind one."""
    address = st.context.ip_address  # None for 127.0.0.1 and ::1
    if address is None:
        return True
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    return peer.is_loopback or bool(getattr(peer, "ipv4_mapped", None) and peer.ipv4_mapped.is_loopback)


def allowed(rule: Callable[[], str]) -> bool:
    """Whether this browser may do what a who-may setting governs (`host`, `anyone`, `nobody`:
    core.settings' GIRO_ADD_STARS, GIRO_SETUP); a malformed setting says so and allows nothing."""
    try:
        who = rule()
    except GiroError as error:
        st.error(str(error))
        return False
    return who == "anyone" or (who == "host" and is_host())


def this_tab_connected() -> Callable[[], bool] | None:
    """A check, safe from any thread, of whether this browser tab is still connected to the
    server; None where no server runs (AppTest)."""
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    if context is None or not runtime.exists():
        return None
    server, session = runtime.get_instance(), context.session_id
    return lambda: server.is_active_session(session)


# On a phone the page's answer must come into view: less empty space above the title, and a
# title that does not take three lines of the screen.
PHONE_CSS = """<style>
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] {padding-top: 3rem;}
  h1 {font-size: 2rem !important;}
}
</style>"""


def page_header_ui(title: str, icon: str, what: str) -> None:
    st.set_page_config(page_title=f"{title} · Giro Dreams", page_icon=icon, layout="wide")
    st.html(PHONE_CSS)
    st.title(f"{icon} {title}")
    st.write(what)


# What makes markdown out of text: links and images, autolinks (scheme://, www., e-mail), emphasis,
# code, HTML, LaTeX, tables, headings, and Streamlit's :colour[...] and :emoji: directives.
_MARKUP = re.compile(r"([\\`*_\[\]<>~$|!#]|:(?=//)|(?<=:)/|\bwww(?=\.)|@|:(?=[a-z_-]+[:\[]))")


def as_text(text: str) -> str:
    """User text (a prompt, a file name, a value from an uploaded stage) for anything Streamlit
    reads as markdown: labels, alerts, captions, expanders. Shown as typed, never as a link.

    Escapes stop markdown's own links, but the browser's renderer also turns bare addresses
    into links (GFM autolinks: scheme://, www., e-mail) after unescaping: an invisible space
    before the scheme's colon, after "www" and before "@" leaves them plain text."""
    return _MARKUP.sub(_unmarked, text)


def _unmarked(match: re.Match) -> str:
    mark = match.group(0)
    if mark == "www":
        return "www\u200b"
    return ("\u200b\\" if mark in ":@" else "\\") + mark


def plot_text(text: str) -> str:
    """User text for a plotly label, which reads a few HTML tags (links among them)."""
    return html.escape(text)
