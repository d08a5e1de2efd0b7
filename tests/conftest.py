"""Every test runs against empty, private models/data/runs folders and no model hub."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def giro_folders(tmp_path, monkeypatch):
    folders = {}
    for name in ("models", "data", "runs"):
        folder = tmp_path / f"giro_{name}"
        folder.mkdir()
        monkeypatch.setenv(f"GIRO_{name.upper()}", str(folder))
        folders[name] = folder
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("GIRO_DREAM_MODEL", raising=False)
    monkeypatch.delenv("GIRO_DEVICE", raising=False)
    return folders
