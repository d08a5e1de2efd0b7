"""Hostile user text through every element that reads markdown, shown the way the app shows user
text (`ui.common.as_text`): run by tests/browser/test_markup.py through `streamlit run`."""

from __future__ import annotations

import streamlit as st

from ui.common import as_text

HOSTILE = ("[link](http://evil.example/a) <a href='http://evil.example/b'>b</a> http://evil.example/c "
           "HTTPS://evil.example/d www.evil.example/e someone@evil.example ![x](https://evil.example/f.png) "
           "<img src='https://evil.example/g.png'> <https://evil.example/h> :red[hi] **bold**")

text = as_text(HOSTILE)
st.title("Markup")
st.markdown(text)
st.caption(text)
st.write(text)
st.info(text)
st.warning(text)
st.error(text)
st.success(text)
with st.expander(text, expanded=True):
    st.write(text)
st.button(text)
st.checkbox(text)
st.radio(text, ["one"])
st.text_input(text)
st.slider(text, 0, 1)
st.subheader(text)
