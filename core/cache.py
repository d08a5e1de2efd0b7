"""The one place where core/ meets Streamlit: process-wide caches of heavy, thread-safe objects.

`st.cache_resource` is shared by every session (browser tab). Whatever is cached here must be
safe to use from many threads at once; each cached object documents how it is.
"""

from __future__ import annotations

import streamlit as st

from core.device import DeviceInfo, describe_device


@st.cache_resource(show_spinner=False)
def device_info() -> DeviceInfo:
    """Immutable; querying CUDA properties once is enough for the life of the server."""
    return describe_device()


@st.cache_resource(show_spinner=False)
def render_queue() -> "RenderQueue":  # noqa: F821
    """One queue and one worker per server: renders take turns on the GPU."""
    from core.device import pick_device, pick_dtype
    from core.dream.pipelines import cached_pipelines
    from core.dream.queue import RenderQueue

    device = pick_device()
    return RenderQueue(lambda model: cached_pipelines(model, device, pick_dtype(device)))
