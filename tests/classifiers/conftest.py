"""A three-class data set made here, and a learner trained on it once through `core.train`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.testing import make_shapes_dataset


@pytest.fixture(scope="session")
def shapes_data(tmp_path_factory) -> Path:
    return make_shapes_dataset(tmp_path_factory.mktemp("data") / "shapes", per_class=80)


@pytest.fixture(scope="session")
def trained(shapes_data, tmp_path_factory) -> dict:
    """Trained from scratch through the command line, as a user would; about a minute on CPU."""
    from core.train import main

    out = tmp_path_factory.mktemp("trained") / "bikes.pkl"
    assert main(["bikes", "--data", str(shapes_data), "--out", str(out), "--arch", "resnet18",
                 "--epochs", "8", "--size", "64", "--no-pretrained"]) == 0
    return {"pkl": out, "card": json.loads(out.with_suffix(".json").read_text())}


@pytest.fixture
def learner_in_models(trained, giro_folders) -> Path:
    """The trained learner and its card, in this test's models folder."""
    target = giro_folders["models"] / "bikes.pkl"
    shutil.copy(trained["pkl"], target)
    shutil.copy(trained["pkl"].with_suffix(".json"), target.with_suffix(".json"))
    return target
