"""core.setup_job and ui/setup.py: the setup started from a page, one run per server, for the host."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import core.setup
from core.setup import FAILED, MADE, Options, Outcome
from core.setup_job import SetupJob

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def held_flowers(monkeypatch):
    """The Oxford part replaced by one that works until released (what is tested is the job)."""
    release = threading.Event()

    def flowers(task, options: Options, log) -> Outcome:
        log("flowers: training")
        if not release.wait(30):
            raise RuntimeError("never released")
        return Outcome("flowers", MADE, "the page uses flowers.pkl")

    monkeypatch.setattr(core.setup, "setup_oxford", flowers)
    return release


def test_one_run_at_a_time_and_a_failing_part_does_not_stop_the_next(held_flowers, monkeypatch):
    def bikes(task, options, log):
        raise ConnectionError("no route to host\nand more")

    monkeypatch.setattr(core.setup, "setup_folders", bikes)
    job = SetupJob(Options())
    assert job.start(["bikes", "flowers"])
    assert not job.start(["stars"])  # the server's one run is busy
    held_flowers.set()
    job.join(30)
    state = job.state()
    assert not state.running and state.done == 2 and state.fraction == 1.0
    assert [(o.part, o.state) for o in state.outcomes] == [("bikes", FAILED), ("flowers", MADE)]
    assert state.outcomes[0].detail == "ConnectionError: no route to host"
    assert "flowers: training" in state.lines
    assert job.start(["flowers"])  # free again once finished
    job.join(30)
    assert [o.part for o in job.state().outcomes] == ["flowers"]


@pytest.fixture
def fresh_caches():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def flower_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60).run()
    return at.switch_page("pages/2_Flower_ID.py").run()


def test_the_host_starts_the_setup_from_the_page_and_sees_it_end(held_flowers, fresh_caches, giro_folders, monkeypatch):
    monkeypatch.setattr("ui.common.is_host", lambda: True)
    at = flower_page()
    [button] = [b for b in at.button if b.label == "Set up flowers now"]
    at = button.click().run()
    assert not at.exception
    assert not [b for b in at.button if b.label == "Set up flowers now"]  # running: no second start
    from ui.cache import setup_job

    assert setup_job().state().running
    held_flowers.set()
    setup_job().join(30)
    at = at.run()
    assert any("Setup of flowers finished." in s.value for s in at.success)


def test_a_guest_is_offered_no_setup(fresh_caches, giro_folders):
    at = flower_page()
    assert not at.exception and not [b for b in at.button if b.label.startswith("Set up")]


def test_nobody_may_start_it_when_the_setting_says_so(fresh_caches, giro_folders, monkeypatch):
    monkeypatch.setattr("ui.common.is_host", lambda: True)
    monkeypatch.setenv("GIRO_SETUP", "nobody")
    at = flower_page()
    assert not [b for b in at.button if b.label.startswith("Set up")]
    assert any("make models PARTS=flowers" in c.value for c in at.code)  # the command stays
