"""tests.browser.chromium: a Chromium is found by every route, and none found is one line."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.browser.chromium import MISSING, SETTING, find_chromium, missing

ROOT = Path(__file__).resolve().parents[2]


def program(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def nowhere(tmp_path: Path, **overrides):
    """The search pointed at empty folders, with `overrides` for the route under test."""
    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    routes = dict(env={}, playwright_dir=empty, search_path=str(empty), mac_apps=())
    routes.update(overrides)
    return find_chromium(**routes)


def test_none_found_is_one_line(tmp_path):
    assert nowhere(tmp_path) is None
    assert "\n" not in MISSING and "python -m playwright install chromium" in MISSING and SETTING in MISSING


def test_the_setting_wins(tmp_path):
    named = program(tmp_path / "my" / "chrome")
    program(tmp_path / "bin" / "chromium")
    assert nowhere(tmp_path, env={SETTING: str(named)}, search_path=str(tmp_path / "bin")) == named


def test_a_setting_naming_nothing_is_said_not_overruled(tmp_path):
    program(tmp_path / "bin" / "chromium")
    env = {SETTING: str(tmp_path / "gone")}
    assert nowhere(tmp_path, env=env, search_path=str(tmp_path / "bin")) is None
    assert missing(env) == f"{SETTING} names {tmp_path / 'gone'}, which is not a program this machine can run"


def test_playwrights_own_newest_build(tmp_path):
    program(tmp_path / "pw" / "chromium-1100" / "chrome-linux" / "chrome")
    newest = program(tmp_path / "pw" / "chromium-1200" / "chrome-linux" / "chrome")
    assert nowhere(tmp_path, playwright_dir=tmp_path / "pw") == newest
    mac = program(tmp_path / "mac" / "chromium-1200" / "chrome-mac-arm64" / "Chromium.app" / "Contents"
                  / "MacOS" / "Chromium")
    assert nowhere(tmp_path, playwright_dir=tmp_path / "mac") == mac


def test_the_systems_on_the_path(tmp_path):
    for name in ("chromium", "chromium-browser", "google-chrome"):
        folder = tmp_path / name
        found = program(folder / name)
        assert nowhere(tmp_path, search_path=str(folder)) == found


def test_the_macos_application(tmp_path):
    app = program(tmp_path / "Applications" / "Google Chrome.app" / "Contents" / "MacOS" / "Google Chrome")
    assert nowhere(tmp_path, mac_apps=(str(tmp_path / "nothing"), str(app))) == app


def test_a_file_that_cannot_run_is_not_taken(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "chromium").write_text("not a program")
    assert nowhere(tmp_path, search_path=str(tmp_path / "bin")) is None


def test_the_command_line_says_which_or_why_not(tmp_path):
    env = dict(os.environ, **{SETTING: str(tmp_path / "gone")})
    result = subprocess.run([sys.executable, "-m", "tests.browser.chromium", "--install"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 1 and result.stderr.strip() == missing(env)
    chrome = program(tmp_path / "chrome")
    env[SETTING] = str(chrome)
    result = subprocess.run([sys.executable, "-m", "tests.browser.chromium"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"browser tests use {chrome}"
