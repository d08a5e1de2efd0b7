"""The tiny Stable Diffusion (tests/conftest.py builds its folder) loaded through the same code as
a Hub model; small stages for it; and watchers for the render queue."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from core.dream.queue import RenderJob
from core.dream.stage import parse_stage


@pytest.fixture(scope="session")
def tiny_pipelines(tiny_dream_model):
    from core.dream.pipelines import load_pipelines

    return load_pipelines(str(tiny_dream_model), "cpu", torch.float32)


def finished(job: RenderJob, timeout: float) -> bool:
    """Wait up to `timeout` seconds for `job` to finish; whether it did."""
    deadline = time.monotonic() + timeout
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.05)
    return job.finished


class UNetGuard:
    """Counts the threads inside the UNet at once: more than one would be a race on the scheduler."""

    def __init__(self, unet, monkeypatch, closed: bool = False):
        """`closed`: the first caller waits at its first step until `gate.set()`, so others queue."""
        self.inside, self.most, self.threads = 0, 0, set()
        self.gate = threading.Event()
        if not closed:
            self.gate.set()
        self._count = threading.Lock()
        forward = unet.forward

        def guarded(*args, **kwargs):
            self.gate.wait(60)
            with self._count:
                self.inside += 1
                self.most = max(self.most, self.inside)
                self.threads.add(threading.current_thread().name)
            try:
                time.sleep(0.005)  # widen the window a second caller would have to slip through
                return forward(*args, **kwargs)
            finally:
                with self._count:
                    self.inside -= 1

        monkeypatch.setattr(unet, "forward", guarded)


def small_stage(frames=(4, 4), loop_frames=3, **render):
    """A stage of 64x64 frames, quick on the tiny model."""
    settings = dict(width=64, height=64, steps=10, strength=0.5, zoom_px=2.0, fps=8,
                    loop_frames=loop_frames)
    settings.update(render)
    lines = ["[render]"] + [f"{k} = {_toml(v)}" for k, v in settings.items()]
    prompts = ["a road in tuscany", "a road by the sea", "the dolomites"]
    for n, count in enumerate(frames):
        lines += ["[[segment]]", f'prompt = "{prompts[n % 3]}"', f"frames = {count}"]
    return parse_stage("\n".join(lines))


def _toml(value):
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    return repr(list(value)) if isinstance(value, tuple) else repr(value)
