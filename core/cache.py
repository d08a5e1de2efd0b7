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
