"""Every test runs against empty, private models/data/runs folders and no model hub; a small
three-class data set and a learner trained on it once are there for the tests that need them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from testkit.classify import make_shapes_dataset
from tests.browser.chromium import find_chromium, missing
from tests.browser.server import CHROMIUM_ARGS


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
    from core.classifiers.train import main

    out = tmp_path_factory.mktemp("trained") / "bikes.pkl"
    assert main(["bikes", "--data", str(shapes_data), "--out", str(out), "--arch", "resnet18",
                 "--epochs", "8", "--size", "64", "--no-pretrained"]) == 0
    return {"pkl": out, "card": json.loads(out.with_suffix(".json").read_text())}


@pytest.fixture(scope="session")
def taught_clip(shapes_data, tmp_path_factory) -> Path:
    """A tiny CLIP taught, on the first 40 pictures of each shape, that circles are bicycles,
    squares people and triangles cars, in core.classifiers.subject's sentences: the rest stay unseen, and
    "is this a bicycle at all?" has a right answer. About 15 s on CPU."""
    from core.classifiers.subject import TEMPLATES
    from testkit.classify import save_tiny_clip, teach_tiny_clip

    lessons = [([t.format(thing) for t in TEMPLATES], sorted((shapes_data / shape).glob("*.jpg"))[:40])
               for thing, shape in (("bicycle", "circle"), ("person", "square"), ("car", "triangle"))]
    return teach_tiny_clip(save_tiny_clip(tmp_path_factory.mktemp("clip") / "taught-clip"), lessons)


@pytest.fixture
def learners(trained, giro_folders):
    """The trained three-class learner as both the bike and the flower learner."""
    install_learners(trained, giro_folders["models"])
    return giro_folders


def install_learners(trained: dict, models: Path) -> None:
    """The test learner and its model card as `bikes.pkl` and `flowers.pkl` in `models`."""
    for task in ("bikes", "flowers"):
        shutil.copy(trained["pkl"], models / f"{task}.pkl")
        shutil.copy(trained["pkl"].with_suffix(".json"), models / f"{task}.json")


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


# ---------------------------------------------------------------- the app in a browser

@pytest.fixture(scope="session")
def browser_folders(tmp_path_factory, trained) -> dict[str, Path]:
    """What a user's machine has after training: learners for Bike ID and Flower ID (the test's
    three-class learner), and a one-star gallery for the lookalike."""
    from PIL import Image
    from skimage import data

    base = tmp_path_factory.mktemp("browser")
    folders = {name: base / name for name in ("models", "data", "runs")}
    for folder in folders.values():
        folder.mkdir()
    install_learners(trained, folders["models"])
    star = folders["data"] / "stars" / "Eileen Collins"
    star.mkdir(parents=True)
    Image.fromarray(data.astronaut()).save(star / "1.jpg")
    return folders


@pytest.fixture(scope="session")
def tiny_dream_model(tmp_path_factory) -> Path:
    from testkit.dream import save_pipeline

    return save_pipeline(tmp_path_factory.mktemp("sd") / "tiny-sd")


@pytest.fixture(scope="session")
def tiny_vae_folder(tmp_path_factory) -> Path:
    """A random AutoencoderTiny saved as a folder, loaded by path like madebyollin/taesd."""
    from testkit.dream import save_tiny_vae

    return save_tiny_vae(tmp_path_factory.mktemp("vae") / "tiny-taesd")


@pytest.fixture(scope="session")
def server_env(browser_folders, tiny_dream_model) -> dict[str, str]:
    """The app as a user runs it, pointed at private folders and the tiny local Stable Diffusion."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1",
               GIRO_DREAM_MODEL=str(tiny_dream_model), GIRO_LIVE_LOST_SECONDS="15")
    env.update({f"GIRO_{k.upper()}": str(v) for k, v in browser_folders.items()})
    return env


@pytest.fixture(scope="session")
def browser():
    executable = find_chromium()
    if executable is None:
        pytest.fail(missing())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
