"""core.settings: every setting checked once, one line naming its variable; app.py refuses to
start on any of them, and a valid setting that a preset exceeds leaves the page working."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core import settings
from ui.common import as_text

ROOT = Path(__file__).resolve().parent.parent


def test_no_problem_by_default():
    assert settings.problems() == []


@pytest.mark.parametrize("variable, value, line", [
    ("GIRO_DREAM_MAX_FRAMES", "abc", "GIRO_DREAM_MAX_FRAMES must be a whole number of at least 1, got 'abc'"),
    ("GIRO_DREAM_RENDERS_PER_SESSION", "abc", "GIRO_DREAM_RENDERS_PER_SESSION must be a whole number of at least 1, got 'abc'"),
    ("GIRO_DREAM_RENDERS_PER_SESSION", "0", "GIRO_DREAM_RENDERS_PER_SESSION must be a whole number of at least 1, got '0'"),
    ("GIRO_COMPILE", "maybe", "GIRO_COMPILE must be 1 or 0, got 'maybe'"),
    ("GIRO_LIVE_LOST_SECONDS", "abc", "GIRO_LIVE_LOST_SECONDS must be a whole number of at least 1, got 'abc'"),
    ("GIRO_LIVE_IDLE_SECONDS", "-5", "GIRO_LIVE_IDLE_SECONDS must be a whole number of at least 1, got '-5'"),
    ("GIRO_ADD_STARS", "everyone", "GIRO_ADD_STARS must be host, anyone, nobody, got 'everyone'"),
    ("GIRO_SETUP", "root", "GIRO_SETUP must be host, anyone, nobody, got 'root'"),
    ("GIRO_DEVICE", "tpu", "GIRO_DEVICE='tpu' is not a device: use cuda, mps or cpu"),
])
def test_each_wrong_setting_is_one_line_naming_it(monkeypatch, variable, value, line):
    monkeypatch.setenv(variable, value)
    assert settings.problems() == [line]


def refused(env: dict[str, str]) -> list[str]:
    """The error lines of a server started with `env` that must refuse to start."""
    done = subprocess.run([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", "0"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    return [line for line in done.stderr.splitlines() if line.startswith("error: ")]


def test_the_server_refuses_to_start_with_one_line_each(tmp_path):
    assert refused({"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "FORWARDED_ALLOW_IPS": "",
                    "GIRO_COMPILE": "maybe", "GIRO_LIVE_IDLE_SECONDS": "-5"}) == [
        "error: GIRO_COMPILE must be 1 or 0, got 'maybe'",
        "error: GIRO_LIVE_IDLE_SECONDS must be a whole number of at least 1, got '-5'"]


def test_the_server_refuses_to_believe_forwarded_addresses_by_default(tmp_path):
    """uvicorn would take X-Forwarded-For from any loopback client unless told otherwise before it
    starts: the app cannot change that once it is imported, so it refuses to start instead."""
    assert refused({"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}) == [
        "error: FORWARDED_ALLOW_IPS is not set, so a browser on this machine could pose as a guest through "
        "X-Forwarded-For: start with `make run`, or `FORWARDED_ALLOW_IPS= streamlit run app.py` "
        "(behind a proxy, see README.md)"]


def test_a_cap_under_the_presets_leaves_the_page_working(giro_folders, monkeypatch):
    """GIRO_DREAM_MAX_FRAMES=100 is valid; the Giro preset (275 frames) is over it: the page opens,
    the Stage tab says what to change in one line, and a shorter stage renders."""
    monkeypatch.setenv("GIRO_DREAM_MAX_FRAMES", "100")
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60).run()
    at.switch_page("pages/1_Dream_a_Stage.py").run()
    assert not at.exception
    assert [e.value for e in at.error] == [as_text("the stage has 275 frames, over the cap of 100 (GIRO_DREAM_MAX_FRAMES)")]
