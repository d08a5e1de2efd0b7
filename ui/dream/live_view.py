"""The Live tab's frames: the latest one, what it was made with, and the last few; A/B's pictures
side by side with a Keep button each for the steering session.

Shown in a fragment that polls twice a second, or ten times a second while the stream makes
frames faster than that (a GPU), so the viewer sees the road move.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image

from core.dream.live import COMPARABLE, LiveFrame
from ui.cache import live_hall
from ui.common import as_text, this_tab_connected
from ui.dream.live_state import key

STRIP = 6  # frames in the history strip
THUMB, GAP = 96, 4  # its thumbnails' side and the gap between pictures side by side, in pixels
SLOW_POLL, FAST_POLL = 0.5, 0.1  # seconds between looks at the stream
# Frames a second at which the fragment polls fast, and under which it slows again: apart, so a
# stream near one rate does not switch back and forth (each switch reruns the whole page).
FAST_FROM, SLOW_UNDER = 4.0, 2.0


def live_view_fragment(owner: str) -> None:
    """The frames, polled while a stream runs (see `poll_seconds`); without one, nothing polls."""
    stream = live_hall().current()
    if stream is None:
        _live_view_ui(owner)
    else:
        state = st.session_state
        state.live_poll = poll_seconds(stream.state, stream.fps, state.get("live_poll", SLOW_POLL))
        st.fragment(run_every=state.live_poll)(_live_view_ui)(owner)


def poll_seconds(stream_state: str, fps: float, now: float) -> float:
    """How often to look for a new frame, from the stream's state and frames a second and the pace
    `now`: fast while frames come faster than a slow look shows them, slow when they come slowly
    or not at all (paused, waiting for a render)."""
    if stream_state in ("paused", "waiting"):
        return SLOW_POLL
    if fps >= FAST_FROM:
        return FAST_POLL
    return SLOW_POLL if fps < SLOW_UNDER else now


def _live_view_ui(owner: str) -> None:
    """The latest frame, what it was made with, and the last few frames."""
    if st.session_state.pop("live_rerun", False):
        st.rerun()  # a variant was kept: the sliders outside this fragment, and the stream, take it
    stream = live_hall().current()
    if stream is None:
        st.caption(as_text(live_hall().last_message) or "Not streaming: press Start.")
        return
    if stream.owner == owner:
        stream.heartbeat(this_tab_connected())
    frames = stream.frames()
    if not frames:
        st.caption("Starting: drawing the first frame...")
        return
    fps, pace = stream.fps, st.session_state.get("live_poll", SLOW_POLL)  # fps read once: each read copies the frames
    if poll_seconds(stream.state, fps, pace) != pace:
        st.rerun()  # the fragment's pace is set when the whole page runs
    frame, s = frames[-1], frames[-1].settings
    state = {"paused": "paused", "waiting": "waiting: a render has the GPU"}.get(stream.state, "")
    made = {"strength": f"strength {s.strength:g}", "guidance": f"guidance {s.guidance:g}",
            "steps": f"steps {s.steps}", "zoom_px": f"zoom {s.zoom_px:g} px"}
    if frame.variants:
        compared = COMPARABLE[s.compare]
        made[s.compare] = f"the compared {compared}"
        st.image(_side_by_side(frame.variants), width="stretch", output_format="JPEG")
        st.caption(f"Left to right, {compared} " + " · ".join(f"{v:g}" for v in s.values))
        if stream.owner == owner:
            keep_ui(frame)
    else:
        st.image(frame.image, width="stretch", output_format="JPEG")
    # A compiled GPU stream outruns the page's looks: say so rather than let the rate promise more.
    shown = f" (the page shows {1 / FAST_POLL:.0f})" if fps > 1 / FAST_POLL else ""
    st.caption(
        f"Frame {frame.index} · {fps:.1f} frames a second{shown}{' · ' + state if state else ''} · "
        f"made with {', '.join(made.values())} "
        f"about ({s.vanishing_point[0]:.2f}, {s.vanishing_point[1]:.2f}), "
        f"cadence {s.cadence}: {as_text(s.prompt)}"
    )
    strip = frames[-STRIP * 2::2][-STRIP:]  # the last seconds, every other frame
    # One image, not columns: columns stack on a phone and each thumbnail would fill the screen.
    st.image(_strip(strip), width="stretch", caption="The last seconds: " + ", ".join(
        f"frame {past.index} (strength {past.settings.strength:g})" for past in strip))


def keep_ui(frame: LiveFrame) -> None:
    """One button per variant: its value goes to the slider and the comparison ends; the stream
    goes on from that variant's picture."""
    s = frame.settings
    for place, (column, variant) in enumerate(zip(st.columns(len(s.values)), s.variants())):
        value = getattr(variant, s.compare)  # typed as the setting is (steps: int)
        # Keyed by place: equal values ("0.5, 0.5") are two buttons all the same.
        column.button(f"Keep {value:g}", key=f"live_keep_{place}", on_click=_keep, args=(s.compare, value),
                      width="stretch")


def _keep(name: str, value: float) -> None:
    state = st.session_state
    state[key(name)] = value
    state.live_compare = "off"
    state.live_rerun = True  # the sliders live outside this fragment: the whole page must see it


def _strip(frames) -> np.ndarray:
    """Thumbnails side by side, oldest first, with a small gap between them, in room for STRIP of
    them (the rest transparent), so the strip keeps its size while the first frames come in."""
    row = _side_by_side([f.image for f in frames], side=THUMB)
    strip = np.zeros((THUMB, STRIP * (THUMB + GAP) - GAP, 4), np.uint8)
    strip[:, :row.shape[1], :3], strip[:, :row.shape[1], 3] = row, 255
    return strip


def _side_by_side(pictures, side: int | None = None) -> np.ndarray:
    """Pictures in a row (shrunk to `side` px), with a small white gap between them: one image,
    which scales to a phone's width where columns would stack."""
    if side is not None:
        pictures = [np.asarray(Image.fromarray(p).resize((side, side))) for p in pictures]
    gap = np.full((pictures[0].shape[0], GAP, 3), 255, np.uint8)
    return np.hstack([part for picture in pictures for part in (picture, gap)][:-1])
