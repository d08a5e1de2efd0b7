"""The Live tab's state and the LiveSettings it describes, mapped in one place from the dataclass
fields, as `ui.dream.state` maps the stage.

Every live setting with a widget of its own is kept under `live_<field>` in `st.session_state`;
the few drawn differently (the prompt's choice or typed text, the vanishing point's two sliders,
the A/B choice and its values, the stage's seed) are mapped by hand below. A new field of
`LiveSettings` reaches the state and the stream through here alone.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, get_type_hints

import streamlit as st

from core.dream.live import COMPARABLE, LIVE_RANGES, LiveSettings
from core.dream.presets import MODEL_PRESETS
from core.dream.stage import Stage
from core.errors import GiroError
from ui.dream.point_picker import set_point
from ui.dream.state import model_id, vae_id

_MAPPED_BY_HAND = {"prompt", "vanishing_point", "seed", "compare", "values"}
WIDGET_FIELDS = tuple(f.name for f in fields(LiveSettings) if f.name not in _MAPPED_BY_HAND)
_TYPES = get_type_hints(LiveSettings)
TYPED = "Type a prompt..."
# Where a comparison starts: values a first look at each setting would try.
COMPARE_FROM = {"strength": "0.3, 0.5, 0.7, 0.9", "guidance": "0, 1.5, 3, 7.5", "steps": "2, 4",
                "zoom_px": "0.5, 1.5, 3, 6"}


def key(name: str) -> str:
    """The session-state key of live setting `name`."""
    return f"live_{name}"


def init_live_state(stage: Stage) -> None:
    """The live settings start at LiveSettings' defaults, the fast preset's sampling and the stage's
    motion (its zoom at the live size, its vanishing point, its first prompt)."""
    state = st.session_state
    if key("strength") in state:
        return
    defaults = {f.name: f.default for f in fields(LiveSettings) if f.name in WIDGET_FIELDS}
    state.update({key(name): value for name, value in defaults.items()})
    state.update(live_model="fast", live_prompt_choice=stage.segments[0].prompt, live_prompt="",
                 live_compare="off", live_values="", live_negative_prompt=stage.render.negative_prompt)
    set_point("live_vp", stage.render.vanishing_point)
    put(**MODEL_PRESETS["fast"].sampling(), zoom_px=stage.render.zoom_px * defaults["size"] / stage.render.width)


def put(**values: float) -> None:
    """Set live widgets, each value put on its slider's grid within its range (a stage's 50 steps
    become the live 20): no value can break a widget."""
    for name, value in values.items():
        if name in LIVE_RANGES:
            low, high, step = LIVE_RANGES[name]
            value = min(high, max(low, round(round(value / step) * step, 4)))
        st.session_state[key(name)] = _TYPES[name](value)


def live_model() -> tuple[str, str]:
    """(model, vae) of the live choice: the fast preset's, or the Stage tab's."""
    if st.session_state.live_model == "fast":
        fast = MODEL_PRESETS["fast"]
        return fast.model(), fast.vae()
    return model_id(), vae_id()


def prompt_choices(stage: Stage) -> list[str]:
    """The segments' prompts, and typing one's own."""
    return list(dict.fromkeys(s.prompt for s in stage.segments)) + [TYPED]


def settings_from_state() -> LiveSettings:
    """The settings the widgets describe; GiroError in one line when they are not valid."""
    state = st.session_state
    compare = "" if state.live_compare == "off" else state.live_compare
    prompt = state.live_prompt if state.live_prompt_choice == TYPED else state.live_prompt_choice
    widgets: dict[str, Any] = {name: _TYPES[name](state[key(name)]) for name in WIDGET_FIELDS}
    return LiveSettings(
        prompt=prompt or "", vanishing_point=(float(state.live_vp_x), float(state.live_vp_y)),
        seed=int(state.seed), compare=compare, values=compared_values(compare, state.live_values) if compare else (),
        **widgets,
    )


def compared_values(name: str, text: str) -> tuple[float, ...]:
    """The typed values of a comparison, each put on its slider's grid; GiroError in one line."""
    low, high, step = LIVE_RANGES[name]
    try:
        values = tuple(float(part) for part in text.replace(";", ",").split(",") if part.strip())
    except ValueError:
        raise GiroError(f"{text!r} is not a list of numbers: type two or four, like {COMPARE_FROM[name]}") from None
    outside = [v for v in values if not low <= v <= high]
    if outside:
        raise GiroError(f"{COMPARABLE[name]} {outside[0]:g} is outside {low:g}-{high:g}")
    return tuple(round(round(v / step) * step, 4) for v in values)
