"""Faults: broken or missing models and an unreachable Hub, each a clear message within seconds on
the page that needs them. (A full disk mid-render is in tests/dream/test_render.py; the server
killed mid-render is in test_renders.py.)"""

from __future__ import annotations

import pickle
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.classifiers.test_pages import open_page
from tests.dream.conftest import finished
from tests.reliability.figures import record
from ui.cache import render_queue
from ui.common import as_text

ROOT = Path(__file__).resolve().parents[2]
SECONDS: dict[str, float] = {}


def broken_learner(kind: str, models, trained) -> None:
    target = models / "bikes.pkl"
    if kind == "empty":
        target.write_bytes(b"")
    elif kind == "noise":
        target.write_bytes(bytes(range(256)) * 64)
    elif kind == "not a learner":
        target.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    elif kind == "truncated":
        learner = trained["pkl"].read_bytes()
        target.write_bytes(learner[: len(learner) // 2])


@pytest.mark.parametrize("kind", ["empty", "noise", "not a learner", "truncated"])
def test_broken_learner_is_an_error_on_its_page(kind, giro_folders, trained):
    broken_learner(kind, giro_folders["models"], trained)
    began = time.monotonic()
    at = open_page("pages/4_Bike_ID.py")
    SECONDS[f"learner: {kind}"] = time.monotonic() - began
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("bikes.pkl is not a fastai learner this app can load")
    assert "\n" not in at.error[0].value
    assert not at.camera_input  # nothing offered that cannot work


def test_missing_models_folder_says_what_to_do(giro_folders, monkeypatch):
    monkeypatch.setattr("ui.common.is_host", lambda: True)  # the command is for the host
    monkeypatch.setenv("GIRO_MODELS", str(giro_folders["models"] / "gone"))
    began = time.monotonic()
    at = open_page("pages/2_Flower_ID.py")
    SECONDS["models folder missing"] = time.monotonic() - began
    assert not at.exception and not at.error
    assert any("make models PARTS=flowers" in c.value for c in at.code)


def sd_folder(kind: str, tiny_dream_model, base):
    """A Stable Diffusion folder broken in one way."""
    folder = base / kind.replace(" ", "-")
    if kind == "missing":
        return folder
    shutil.copytree(tiny_dream_model, folder)
    if kind == "no model_index.json":
        (folder / "model_index.json").unlink()
    elif kind == "corrupt model_index.json":
        (folder / "model_index.json").write_text("{ not json")
    elif kind == "corrupt weights":
        for weights in (folder / "unet").glob("*.safetensors"):
            weights.write_bytes(b"\0" * 100)
    elif kind == "missing text encoder":
        shutil.rmtree(folder / "text_encoder")
    return folder


@pytest.mark.parametrize("kind", ["missing", "no model_index.json", "hub id, offline"])
def test_a_dream_model_the_page_knows_is_missing_disables_render(kind, tiny_dream_model, tmp_path, monkeypatch):
    """Known before anything loads: Render is disabled and says why, instead of failing after."""
    model = "someone/sd-not-here" if kind.startswith("hub") else str(sd_folder(kind, tiny_dream_model, tmp_path))
    monkeypatch.setenv("GIRO_DREAM_MODEL", model)
    began = time.monotonic()
    at = open_page("pages/1_Dream_a_Stage.py")
    SECONDS[f"dream model: {kind}"] = time.monotonic() - began
    assert not at.exception
    assert [button for button in at.button if button.label == "Render"][0].disabled
    assert any("which is not on this machine yet" in c.value for c in at.caption)
    assert at.info[0].value.startswith("Rendering needs model weights that this machine does not have yet")


@pytest.mark.parametrize("kind, message", [
    ("corrupt model_index.json", "is not a usable Stable Diffusion model"),
    ("corrupt weights", "is not a usable Stable Diffusion model"),
    ("missing text encoder", "is not a usable Stable Diffusion model"),
])
def test_broken_dream_model_fails_the_render_with_one_line(kind, message, tiny_dream_model, tmp_path, monkeypatch):
    model = "someone/sd-not-here" if kind.startswith("hub") else str(sd_folder(kind, tiny_dream_model, tmp_path))
    monkeypatch.setenv("GIRO_DREAM_MODEL", model)
    at = open_page("pages/1_Dream_a_Stage.py")
    assert not at.exception
    began = time.monotonic()
    [button for button in at.button if button.label == "Render"][0].click().run()
    job = render_queue().get(at.session_state["job_id"])
    assert finished(job, 60)
    SECONDS[f"dream model: {kind}"] = time.monotonic() - began
    at.run()
    assert not at.exception
    assert job.status == "failed" and message in job.message and "\n" not in job.message
    assert [e.value for e in at.error] == [as_text(job.message)]  # shown as text, never as markdown


class Blackhole:
    """A 'Hub' that accepts connections and never answers: a firewall that swallows packets."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.held.append(self.server.accept()[0])
            except OSError:
                return

    def close(self):
        for connection in self.held:
            connection.close()
        self.server.close()


@pytest.mark.parametrize("hub", ["refuses connections", "never answers"])
def test_unreachable_hub_is_one_line_within_seconds(hub, tmp_path):
    """The whole command, imports included, as a user on a train with bad wifi would meet it."""
    blackhole = Blackhole() if hub == "never answers" else None
    port = blackhole.port if blackhole else 9  # nothing listens on the discard port
    stage = tmp_path / "stage.toml"
    stage.write_text('[render]\nsteps = 10\nloop_frames = 2\n[[segment]]\nprompt = "x"\nframes = 4\n')
    env = {"PATH": "/usr/bin:/bin", "HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": f"http://127.0.0.1:{port}"}
    began = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "core.dream", "render", str(stage), "--out", str(tmp_path / "run"),
             "--model", "someone/sd-not-here"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )
    finally:
        if blackhole:
            blackhole.close()
    SECONDS[f"hub {hub} (command line, with imports)"] = time.monotonic() - began
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: someone/sd-not-here is not on this machine and the Hub cannot be reached")
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "run" / "frames").exists()


def test_record_the_figures():
    """Runs last in this module: the seconds each fault took to reach its message."""
    assert SECONDS, "run the whole module to measure"
    record("faults", {"seconds_to_message": {k: round(v, 2) for k, v in SECONDS.items()}})
