"""core.setup (`make models`) against fakes on 127.0.0.1 (tests/fake_web.py): the Hub, the Oxford
Flowers server and image search, run as a host runs it, in its own process."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from testkit.classify import make_shapes_dataset
from tests.fake_web import FakeWeb

ROOT = Path(__file__).resolve().parent.parent
STARS = ["Eileen Collins", "Sally Ride", "Valentina Tereshkova"]
UNFOUND = "Yuri Gagarin"  # the search finds no photo of him
# Small and quick: what is tested here is the plumbing; test_train proves the learning itself.
SMALL = ["--device", "cpu", "--arch", "resnet18", "--epochs", "1", "--size", "64", "--lr", "3e-3",
         "--no-pretrained", "--per-class", "24", "--photos-per-star", "2", "--batch-size", "16"]
pytestmark = pytest.mark.heavy


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def content(tmp_path_factory) -> dict:
    """What the fake web serves: an Oxford-layout archive, bike photos, faces, tiny Hub models."""
    from skimage import data

    from testkit.dream import save_pipeline, save_tiny_vae

    base = tmp_path_factory.mktemp("web")
    shapes = make_shapes_dataset(base / "shapes", per_class=40, size=128)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for part, (low, high) in {"train": (0, 12), "valid": (12, 20), "test": (20, 28)}.items():
            lines = []
            for label, shape in enumerate(sorted(p.name for p in shapes.iterdir())):
                for photo in sorted((shapes / shape).iterdir())[low:high]:
                    tar.add(photo, f"oxford-102-flowers/jpg/{photo.name}")
                    lines.append(f"jpg/{photo.name} {label}")
            listing = "\n".join(lines).encode() + b"\n"
            info = tarfile.TarInfo(f"oxford-102-flowers/{part}.txt")
            info.size = len(listing)
            tar.addfile(info, io.BytesIO(listing))
    files = {"/flowers.tgz": archive.getvalue()}
    searches = {}
    for folder, shape in (("road bike", "circle"), ("time trial bike", "square"), ("mountain bike", "triangle")):
        photos = sorted((shapes / shape).iterdir())[:24]
        searches[folder] = [f"/img/{p.name}" for p in photos]
        files.update({f"/img/{p.name}": p.read_bytes() for p in photos})
    astronaut = Image.fromarray(data.astronaut())
    faces = [astronaut, ImageOps.mirror(astronaut), astronaut.crop((0, 0, 400, 400)).resize((300, 300)),
             astronaut.crop((60, 20, 460, 380)), ImageOps.mirror(astronaut.crop((0, 0, 400, 400))),
             ImageOps.grayscale(astronaut).convert("RGB").crop((50, 0, 512, 420))]
    two_faces = Image.fromarray(np.concatenate([data.astronaut(), data.astronaut()[:, ::-1]], axis=1))
    files["/face/two.jpg"] = jpeg(two_faces)
    for n, face in enumerate(faces):
        files[f"/face/{n}.jpg"] = jpeg(face)
    for n, star in enumerate(STARS):  # the group photo first: it must be refused
        searches[f"{star} face portrait photo"] = ["/face/two.jpg", f"/face/{2 * n}.jpg", f"/face/{2 * n + 1}.jpg"]
    repos = {"giro/tiny-sd": save_pipeline(base / "sd"), "giro/tiny-taesd": save_tiny_vae(base / "vae")}
    stars_file = base / "stars.txt"
    stars_file.write_text("# four astronauts\n" + "\n".join(STARS) + f"\n{UNFOUND}\n")
    return {"files": files, "searches": searches, "repos": repos, "stars_file": stars_file}


@pytest.fixture
def web(content):
    server = FakeWeb()
    server.searches = {q: [server.url + path for path in paths] for q, paths in content["searches"].items()}
    server.files, server.repos = dict(content["files"]), dict(content["repos"])
    yield server
    server.close()


@pytest.fixture
def host_env(giro_folders, tmp_path, web) -> dict[str, str]:
    """The host's machine: its own Hub cache, every address pointing at the fake web."""
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    env.update(HF_ENDPOINT=web.url, HF_HOME=str(tmp_path / "hf"), HF_HUB_DISABLE_XET="1",
               GIRO_FLOWERS_URL=f"{web.url}/flowers.tgz", GIRO_DREAM_MODEL="giro/tiny-sd",
               GIRO_DREAM_FAST_MODEL="giro/tiny-sd", GIRO_DREAM_FAST_VAE="giro/tiny-taesd",
               PYTHONUNBUFFERED="1")
    return env


def setup(env: dict, web: FakeWeb, content: dict, *parts: str, search: str | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tests.fake_web", search or f"{web.url}/search",
               str(content["stars_file"]), "--", *parts, *SMALL]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)


def table(out: str) -> dict[str, list[str]]:
    """The closing table's rows: part -> [state, accuracy, time, what]."""
    rows = out[out.rindex("part  "):].splitlines()[1:]
    return {row.split()[0]: re.split(r"\s{2,}", row.strip())[1:] for row in rows if row.strip()}


def test_a_whole_run_makes_every_page_ready_and_a_second_run_does_nothing(
        host_env, web, content, giro_folders, monkeypatch):
    done = setup(host_env, web, content)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = table(done.stdout)
    assert {part: row[0] for part, row in rows.items()} == {p: "made" for p in ("dream", "flowers", "bikes", "stars")}
    assert "(original 80.0%)" in rows["flowers"][1] and "(original 97.0%)" in rows["flowers"][1]
    assert "flowers, official split: 36 training images, about" in done.stdout  # the estimate comes first
    models, data = giro_folders["models"], giro_folders["data"]
    for learner in ("flowers.pkl", "flowers-official.pkl", "bikes.pkl"):
        assert (models / learner).is_file() and (models / learner).with_suffix(".json").is_file()
    assert '"learning_rate_from": "--lr"' in (models / "bikes.json").read_text()
    gallery = {star.name: len(list(star.glob("*.jpg"))) for star in (data / "stars").iterdir()}
    assert gallery == {**{star: 2 for star in STARS}, UNFOUND: 0}  # the two-face photo was refused
    assert rows["stars"][-1] == "3 of 4 stars have photos"
    # Searched once for two photos each: a second run does not search again, even for Gagarin.
    assert all((data / "stars" / star / ".searched").read_text() == "2" for star in [*STARS, UNFOUND])
    assert not (data / "oxford-102-flowers.tgz").exists()  # unpacked and checked, then removed

    # The pages read what setup made: Home's four cards say Ready.
    import huggingface_hub.constants
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    for key in ("GIRO_DREAM_MODEL", "GIRO_DREAM_FAST_MODEL", "GIRO_DREAM_FAST_VAE"):
        monkeypatch.setenv(key, host_env[key])
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(Path(host_env["HF_HOME"]) / "hub"))
    st.cache_resource.clear()
    home = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60).run()
    badges = [m.value for m in home.markdown if "-badge[" in m.value]
    assert len(badges) == 4 and all("Ready" in b for b in badges), badges

    web.requests.clear()
    again = setup(host_env, web, content)
    assert again.returncode == 0, again.stdout[-3000:]
    assert {part: row[0] for part, row in table(again.stdout).items()} == {
        p: "ready" for p in ("dream", "flowers", "bikes", "stars")}
    asked = [r for r in web.requests if r != "/api/agent-harnesses"]  # huggingface_hub's daily registry
    assert asked == [], asked


def test_a_download_cut_off_midway_resumes_where_it_stopped(host_env, web, content, giro_folders):
    size = len(web.files["/flowers.tgz"])
    web.cut_after["/flowers.tgz"] = size // 3
    cut = setup(host_env, web, content, "flowers")
    assert cut.returncode == 1
    line = table(cut.stdout)["flowers"]
    assert line[0] == "failed" and "stopped sending after" in line[-1] and "run again to resume" in line[-1]
    partial = giro_folders["data"] / "oxford-102-flowers.tgz.part"
    assert partial.stat().st_size == size // 3 and not (giro_folders["data"] / "oxford-102-flowers").exists()

    web.requests.clear()
    resumed = setup(host_env, web, content, "flowers")
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    assert f"/flowers.tgz bytes={size // 3}-" in web.requests  # the rest, not the whole again
    assert (giro_folders["models"] / "flowers.pkl").is_file()


def test_a_run_stopped_between_learners_trains_only_the_missing_one(host_env, web, content, giro_folders):
    done = setup(host_env, web, content, "flowers")
    assert done.returncode == 0, done.stdout[-3000:]
    (giro_folders["models"] / "flowers.pkl").unlink()  # as if stopped while training the large split
    official = (giro_folders["models"] / "flowers-official.pkl").stat().st_mtime
    again = setup(host_env, web, content, "flowers")
    assert again.returncode == 0 and "flowers, large split" in again.stdout
    assert "flowers, official split" not in again.stdout
    assert (giro_folders["models"] / "flowers-official.pkl").stat().st_mtime == official
    assert (giro_folders["models"] / "flowers.pkl").is_file()


def test_offline_each_part_says_what_it_could_not_reach_within_seconds(host_env, web, content):
    with socket.socket() as probe:  # a port nothing listens on: refused at once, as offline
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}"
    host_env.update(HF_ENDPOINT=nowhere, GIRO_FLOWERS_URL=f"{nowhere}/flowers.tgz")
    began = time.monotonic()
    offline = setup(host_env, web, content, search=f"{nowhere}/search")
    assert offline.returncode == 1
    rows = table(offline.stdout)
    assert all(row[0] == "failed" for row in rows.values()), rows
    assert "the Hub cannot be reached" in rows["dream"][-1]
    assert "could not be reached: the connection was refused: check this machine's internet" in rows["flowers"][-1]
    for part in ("bikes", "stars"):
        assert "the image search (DuckDuckGo) could not be reached: " in rows[part][-1], rows[part]
    assert "Traceback" not in offline.stdout + offline.stderr
    assert time.monotonic() - began < 120  # start-up and imports included; no part waits for a time-out


def test_an_unknown_part_is_one_line(capsys):
    from core.setup import main

    assert main(["bicycles"]) == 2
    assert capsys.readouterr().err == "error: bicycles is not a part: choose from dream, flowers, stars, bikes\n"
