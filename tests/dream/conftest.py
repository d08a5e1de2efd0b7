"""A tiny Stable Diffusion folder, built once, loaded through the same code as a Hub model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.dream.stage import parse_stage


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from core.dream.testing import save_pipeline

    return save_pipeline(tmp_path_factory.mktemp("models") / "tiny-sd")


@pytest.fixture(scope="session")
def tiny_pipelines(tiny_model):
    from core.dream.pipelines import load_pipelines

    return load_pipelines(str(tiny_model), "cpu", torch.float32)


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
