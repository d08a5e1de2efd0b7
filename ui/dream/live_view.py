"""The Live tab's frames: the stream's own socket (ui/routes.py) feeds a view in the page
(`live_view.js`), which draws each frame as it comes, what it was made with under it, and a strip
of the last seconds. The page is drawn once per change of a control, never per frame: every
watcher's frames are the stream's one encoding of each, at the stream's own rate. A socket that
drops is opened again; when the stream ends, the view says why and the page runs again.

For A/B the pictures come side by side, and the steering session gets a Keep button for each.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.dream.live import LiveStream
from ui.cache import live_hall
from ui.common import as_text, this_tab_connected
from ui.dream.live_state import key
from ui.routes import live_url

HTML = """<div class="giro-live">
  <canvas class="giro-frame"></canvas>
  <p class="giro-compare"></p>
  <p class="giro-caption">Starting: drawing the first frame...</p>
  <canvas class="giro-strip" height="96"></canvas>
  <p class="giro-strip-caption">The last seconds.</p>
</div>"""
CSS = """
.giro-live .giro-frame {width: 100%; height: auto; display: block; background: #f3e7ee; border-radius: 0.5rem;}
.giro-live .giro-strip {max-width: 100%; height: auto; display: block;}
.giro-live p {font-size: 0.875rem; color: rgba(31, 27, 36, 0.6); margin: 0.25rem 0 0.5rem;}
.giro-live .giro-compare:empty {display: none;}
"""
_view = st.components.v2.component("giro_live_view", html=HTML, css=CSS, isolate_styles=False,
                                   js=(Path(__file__).with_name("live_view.js")).read_text())


def live_view_ui(owner: str, can_start: bool = True) -> None:
    """The stream's frames as they come, or why there are none (`can_start`: whether Start is
    there to press)."""
    stream = live_hall().current()
    if stream is None:
        idle = as_text(live_hall().last_message) or ("Not streaming: press Start." if can_start else "")
        if idle:
            st.caption(idle)
        return
    steering = stream.owner == owner
    if steering:
        stream.heartbeat(this_tab_connected())
    # The view asks for a run of the page when the stream ends ("ended"): it then shows why, and
    # Start to whoever may press it, without a reload.
    _view(data={"socket": live_url(stream, steering)}, key=f"live_view_{stream.id}", on_ended_change=lambda: None)
    settings = stream.settings
    if steering and settings.compare:
        keep_ui(stream)


def keep_ui(stream: LiveStream) -> None:
    """One button per variant: its value goes to the slider and the comparison ends; the stream
    goes on from that variant's picture."""
    s = stream.settings
    for place, (column, variant) in enumerate(zip(st.columns(len(s.values)), s.variants())):
        value = getattr(variant, s.compare)  # typed as the setting is (steps: int)
        # Keyed by place: equal values ("0.5, 0.5") are two buttons all the same.
        column.button(f"Keep {value:g}", key=f"live_keep_{place}", on_click=_keep, args=(s.compare, value),
                      width="stretch")


def _keep(name: str, value: float) -> None:
    state = st.session_state
    state[key(name)] = value
    state.live_compare = "off"
