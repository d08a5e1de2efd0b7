"""Every test runs against empty, private models/data/runs folders and no model hub; a small
three-class data set and a learner trained on it once are there for the tests that need them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.testing import make_shapes_dataset


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
def learners(trained, giro_folders):
    """The trained three-class learner as both the bike and the flower learner."""
    for task in ("bikes", "flowers"):
        target = giro_folders["models"] / f"{task}.pkl"
        shutil.copy(trained["pkl"], target)
        shutil.copy(trained["pkl"].with_suffix(".json"), target.with_suffix(".json"))
    return giro_folders


@pytest.fixture
def star_gallery_folder(giro_folders):
    """A one-star gallery: two photos of the astronaut (public domain)."""
    from PIL import Image
    from skimage import data

    astronaut = Image.fromarray(data.astronaut())
    stars = giro_folders["data"] / "stars"
    (stars / "Eileen Collins").mkdir(parents=True)
    astronaut.save(stars / "Eileen Collins" / "a.jpg")
    astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(stars / "Eileen Collins" / "b.jpg")
    return stars
