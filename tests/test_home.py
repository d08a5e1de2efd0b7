"""AppTest: the landing page and every page render with no model present."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_resource.clear()
    st.cache_data.clear()
    yield


def run_home() -> AppTest:
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    return at.run()


@pytest.fixture
def host(monkeypatch):
    """The browser on the serving machine (AppTest's client has a stand-in address: a guest)."""
    monkeypatch.setattr("ui.common.is_host", lambda: True)


def badges(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if "-badge[" in m.value]


def test_home_shows_device_and_how_to_get_each_model(giro_folders, host):
    at = run_home()
    assert not at.exception
    assert "Giro Dreams" in at.title[0].value
    text = " ".join(m.value for m in at.markdown)
    assert "Device:" in text and "`cpu`" in text
    commands = [c.value for c in at.code]
    assert "make models PARTS=dream" in commands and "make models PARTS=flowers" in commands


def test_home_reports_a_present_learner(giro_folders, host):
    (giro_folders["models"] / "bikes.pkl").write_bytes(b"placeholder")
    at = run_home()
    assert any("Bike ID" in s.value and "ready" in s.value for s in at.success)


def test_each_card_says_whether_its_page_is_ready(giro_folders):
    at = run_home()
    assert [("Ready" in b) for b in badges(at)] == [False, False, False, False]
    (giro_folders["models"] / "bikes.pkl").write_bytes(b"placeholder")
    at = run_home()
    assert [("Ready" in b) for b in badges(at)] == [False, False, False, True]  # cards in page order


def test_a_guest_sees_no_server_path_and_no_command(giro_folders):
    at = run_home()
    assert not at.exception and not at.code
    shown = " ".join(e.value for e in [*at.markdown, *at.caption, *at.success, *at.warning, *at.info])
    assert "Device:" in shown and str(giro_folders["models"]) not in shown and "python -m" not in shown
    # What the page will do for them, and that the host can set it up; files and commands are the host's.
    for hosts_own in ("models/", "data/stars", ".pkl", "make serve", "make models"):
        assert hosts_own not in shown, hosts_own
    assert shown.count("the host of this app can set it up") == 4


def test_home_reports_a_bad_device_without_a_traceback(monkeypatch):
    monkeypatch.setenv("GIRO_DEVICE", "tpu")
    at = run_home()
    assert not at.exception
    assert "GIRO_DEVICE='tpu' is not a device" in at.error[0].value


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_a_model(page, giro_folders, monkeypatch):
    at = run_home()
    at.switch_page(page).run()
    assert not at.exception
    assert at.title and at.info and not at.code  # what it is and what it needs; no command for a guest
    shown = " ".join(e.value for e in [*at.markdown, *at.caption, *at.info])
    assert str(giro_folders["models"]) not in shown and "The host of this app can set it up." in shown
    monkeypatch.setattr("ui.common.is_host", lambda: True)
    at.run()
    assert at.code  # the host gets the command that fills the gap


def test_a_fifth_task_gets_its_card_and_status(giro_folders, monkeypatch, host):
    from dataclasses import replace

    from core.classifiers import tasks

    boats = replace(tasks.task("bikes"), name="boats", page="Boat ID", icon="⛵",
                    summary="Sailing boat or motor boat?", needs="Needs models/boats.pkl.")
    monkeypatch.setattr(tasks, "TASKS", (*tasks.TASKS, boats))
    at = run_home()
    assert not at.exception
    titles = [s.value for s in at.subheader]
    assert titles[:5] == ["🌄 Dream a Stage", "🌸 Flower ID", "🎬 Film-Star Lookalike", "🚲 Bike ID", "⛵ Boat ID"]
    assert "Sailing boat or motor boat?" in [m.value for m in at.markdown]
    assert len(at.get("page_link")) == 5
    assert any("Boat ID" in w.value for w in at.warning)
    assert "make models PARTS=boats" in [c.value for c in at.code]  # setup's parts follow the registry
