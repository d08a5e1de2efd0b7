"""The trained learner (tests/conftest.py) in each test's models folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def learner_in_models(trained, giro_folders) -> Path:
    """The trained learner and its card, in this test's models folder."""
    target = giro_folders["models"] / "bikes.pkl"
    shutil.copy(trained["pkl"], target)
    shutil.copy(trained["pkl"].with_suffix(".json"), target.with_suffix(".json"))
    return target
