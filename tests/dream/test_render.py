"""core.dream.render: frames on disk as they come, cancel, kill and resume to identical frames."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest
from PIL import Image

from core.dream.render import render
from core.dream.stage import stage_to_toml
from core.errors import StageError
from tests.dream.conftest import small_stage

ROOT = Path(__file__).resolve().parents[2]


def frame_bytes(run: Path) -> list[bytes]:
    return [np.asarray(Image.open(p)).tobytes() for p in sorted((run / "frames").glob("*.png"))]


def test_render_writes_frames_manifest_and_videos(tiny_pipelines, tmp_path):
    stage = small_stage(frames=(3, 3), loop_frames=2)
    events = list(render(stage, tmp_path / "run", tiny_pipelines))
    assert [e.frame for e in events] == [0, 1, 2, 3, 4, 5, 6] and events[-1].done
    assert events[2].eta_seconds > 0 and events[2].seconds_per_frame > 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["frames_done"] == 6
    assert manifest["model"]["id"] == tiny_pipelines.model and manifest["seeds"] == list(range(42, 48))
    assert all(s > 0 for s in manifest["frame_seconds"]) and "torch" in manifest["versions"]
    assert manifest["stage"]["render"]["strength"] == 0.5 and manifest["seam"] is not None
    assert len(frame_bytes(tmp_path / "run")) == 6
    assert imageio.get_reader(tmp_path / "run" / "loop.mp4").count_frames() == 6
    assert Image.open(tmp_path / "run" / "loop.gif").n_frames == 6
    with zipfile.ZipFile(tmp_path / "run" / "frames.zip") as archive:  # built once, at the end
        assert len(archive.namelist()) == 6


def test_prompt_embeddings_once_per_prompt(tiny_pipelines, tmp_path, monkeypatch):
    calls = []
    original = type(tiny_pipelines).encode
    monkeypatch.setattr(type(tiny_pipelines), "encode", lambda self, p: calls.append(p) or original(self, p))
    list(render(small_stage(frames=(4, 4), loop_frames=0), tmp_path / "run", tiny_pipelines))
    assert sorted(calls) == ["a road by the sea", "a road in tuscany"]


class CancelAfter(threading.Event):
    """Reports 'cancelled' from the n-th check on: checks happen between frames and steps."""

    def __init__(self, checks: int):
        super().__init__()
        self.checks = checks

    def is_set(self) -> bool:
        self.checks -= 1
        return self.checks < 0


def test_cancel_mid_denoising_keeps_whole_frames_and_resumes(tiny_pipelines, tmp_path):
    stage = small_stage(frames=(4, 4), loop_frames=2)
    run = tmp_path / "run"
    list(render(stage, run, tiny_pipelines, cancel=CancelAfter(30)))
    manifest = json.loads((run / "manifest.json").read_text())
    done = manifest["frames_done"]
    assert manifest["status"] == "cancelled" and 0 < done < 8
    assert len(frame_bytes(run)) == done and not list(run.glob("frames/.*"))
    resumed = list(render(stage, run, tiny_pipelines))
    assert resumed[0].frame == done and resumed[-1].done

    fresh = tmp_path / "fresh"
    list(render(stage, fresh, tiny_pipelines))
    assert frame_bytes(run) == frame_bytes(fresh)


def test_a_half_written_frame_is_never_taken_for_a_finished_one(tiny_pipelines, tmp_path):
    stage = small_stage(frames=(3,), loop_frames=0)
    run = tmp_path / "run"
    list(render(stage, run, tiny_pipelines, cancel=CancelAfter(20)))
    done = json.loads((run / "manifest.json").read_text())["frames_done"]
    (run / "frames" / f".{done:05d}.part.png").write_bytes(b"\x89PNG half")  # a kill mid-write
    list(render(stage, run, tiny_pipelines))
    assert len(frame_bytes(run)) == 3 and not list(run.glob("frames/.*"))


def test_resuming_a_different_stage_is_refused(tiny_pipelines, tmp_path):
    list(render(small_stage(frames=(2,), loop_frames=0), tmp_path / "run", tiny_pipelines))
    with pytest.raises(StageError, match="already holds a different render"):
        list(render(small_stage(frames=(3,), loop_frames=0), tmp_path / "run", tiny_pipelines))


def test_preview_needs_no_model_and_loops_seamlessly(tmp_path):
    stage = small_stage(frames=(40,), loop_frames=16, zoom_px=1.5, width=128, height=96,
                        vanishing_point=(0.4, 0.6))
    events = list(render(stage, tmp_path / "loop", pipelines=None))
    seam = json.loads((tmp_path / "loop" / "manifest.json").read_text())["seam"]
    assert events[-1].done and 0.3 < seam < 1.6

    no_loop = small_stage(frames=(40,), loop_frames=0, zoom_px=1.5, width=128, height=96)
    list(render(no_loop, tmp_path / "jump", pipelines=None))
    assert json.loads((tmp_path / "jump" / "manifest.json").read_text())["seam"] > 2.5 * seam


def test_first_image_instead_of_text(tiny_pipelines, tmp_path):
    Image.new("RGB", (300, 200), (10, 200, 30)).save(tmp_path / "start.jpg")
    stage_file = tmp_path / "s.toml"
    text = stage_to_toml(small_stage(frames=(2,), loop_frames=0)).replace(
        'first_image = ""', 'first_image = "start.jpg"')
    stage_file.write_text(text)
    from core.dream.stage import load_stage

    list(render(load_stage(stage_file), tmp_path / "run", tiny_pipelines))
    first = np.asarray(Image.open(tmp_path / "run" / "frames" / "00000.png"))
    assert first.shape == (64, 64, 3) and abs(int(first[..., 1].mean()) - 200) < 3


def cli(stage: Path, out: Path, model: Path, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    return subprocess.Popen(
        [sys.executable, "-m", "core.dream", "render", str(stage), "--out", str(out),
         "--model", str(model)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs,
    )


def test_killed_render_resumes_to_the_same_frames(tiny_dream_model, tmp_path):
    stage = tmp_path / "stage.toml"
    stage.write_text(stage_to_toml(small_stage(frames=(8, 8), loop_frames=4)))
    killed = tmp_path / "killed"
    process = cli(stage, killed, tiny_dream_model)
    deadline = time.monotonic() + 120
    while len(list((killed / "frames").glob("0*.png"))) < 5:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert json.loads((killed / "manifest.json").read_text())["status"] == "rendering"
    assert cli(stage, killed, tiny_dream_model).wait() == 0

    whole = tmp_path / "whole"
    assert cli(stage, whole, tiny_dream_model).wait() == 0
    assert len(frame_bytes(killed)) == 16
    assert frame_bytes(killed) == frame_bytes(whole)
    assert json.loads((killed / "manifest.json").read_text())["status"] == "complete"


def test_full_disk_is_one_line_and_the_run_resumes(tiny_pipelines, tmp_path, monkeypatch):
    import errno

    from core.errors import RunError

    stage = small_stage(frames=(5,), loop_frames=0)
    original = Image.Image.save

    def disk_full_at_frame_3(self, fp, *args, **kwargs):
        if "00003" in str(fp):
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", disk_full_at_frame_3)
    with pytest.raises(RunError, match="cannot write 00003.png in .*: No space left on device; the frames so far are kept"):
        list(render(stage, tmp_path / "run", tiny_pipelines))
    assert len(frame_bytes(tmp_path / "run")) == 3
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["frames_done"] == 3
    assert not list((tmp_path / "run" / "frames").glob(".*"))  # no half-written frame left

    monkeypatch.setattr(Image.Image, "save", original)
    assert list(render(stage, tmp_path / "run", tiny_pipelines))[-1].done
    list(render(stage, tmp_path / "fresh", tiny_pipelines))
    assert frame_bytes(tmp_path / "run") == frame_bytes(tmp_path / "fresh")
