"""Dream a Stage: seconds per frame and the engine's overhead, on real-size random-weight models.

Speed does not depend on weight values, so Stable Diffusion v1 and sd-turbo architectures built
from their public configs with random weights cost what the real models cost. Each frame runs
through `core.dream.render` exactly as in the app. Overhead = wall time per frame / time spent
inside the UNet and the VAE during that frame (target: at most 1.05).

    python -m bench.dream [--sizes 256 512] [--frames 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

from bench.results import machine, write_section
from core.device import pick_device, pick_dtype
from core.dream.pipelines import assemble_pipelines
from core.dream.presets import MODEL_PRESETS
from core.dream.render import render
from core.dream.stage import parse_stage
from core.dream.testing import build_pipeline

CASES = [("default", "sd-v1"), ("fast", "sd-turbo")]


class ModelClock:
    """Adds up the seconds spent in the UNet and in VAE encode/decode."""

    def __init__(self, pipe):
        self.seconds = 0.0
        for owner, name in ((pipe.unet, "forward"), (pipe.vae, "encode"), (pipe.vae, "decode")):
            setattr(owner, name, self._timed(getattr(owner, name), pipe.device))

    def _timed(self, method, device):
        def timed(*args, **kwargs):
            _sync(device)
            began = time.perf_counter()
            out = method(*args, **kwargs)
            _sync(device)
            self.seconds += time.perf_counter() - began
            return out

        return timed


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def stage_text(preset: str, size: int, frames: int, first_image: Path) -> str:
    p = MODEL_PRESETS[preset]
    return f"""
[render]
width = {size}
height = {size}
steps = {p.steps}
strength = {p.strength}
guidance = {p.guidance}
loop_frames = 1
first_image = "{first_image}"
[[segment]]
prompt = "a treelined avenue, poplars, summer day, france"
frames = {frames + 1}
"""


def measure(preset: str, architecture: str, size: int, frames: int, device: str) -> dict:
    dtype = pick_dtype(device)
    pipelines = assemble_pipelines(build_pipeline(architecture), architecture, None, device, dtype)
    clock = ModelClock(pipelines.text2img)
    with tempfile.TemporaryDirectory() as scratch:
        start = Path(scratch) / "start.png"
        Image.effect_mandelbrot((size, size), (-2, -1.5, 1, 1.5), 64).convert("RGB").save(start)
        stage = parse_stage(stage_text(preset, size, frames, start))
        # Frame 0 is the start image; one warm-up img2img frame, then the measured ones.
        stage_warm = parse_stage(stage_text(preset, size, 1, start))
        list(render(stage_warm, Path(scratch) / "warm", pipelines))
        walls, inside = [], []
        for progress in render(stage, Path(scratch) / "run", pipelines):
            if progress.done or progress.frame == 0:
                clock.seconds = 0.0
                continue
            walls.append(progress.seconds)
            inside.append(clock.seconds)
            clock.seconds = 0.0
    p = MODEL_PRESETS[preset]
    wall, model = sum(walls) / len(walls), sum(inside) / len(inside)
    return dict(
        preset=preset, architecture=architecture, size=size, frames=len(walls),
        unet_steps=int(p.steps * p.strength), guidance=p.guidance,
        seconds=wall, overhead=wall / model,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--frames", type=int, default=1, help="measured img2img frames per case")
    args = parser.parse_args(argv)
    device = pick_device()
    rows = []
    for preset, architecture in CASES:
        for size in args.sizes:
            row = measure(preset, architecture, size, args.frames, device)
            print(row, flush=True)
            rows.append(row)
    lines = [
        f"## Dream a Stage: seconds per frame ({device})",
        "",
        f"Machine: {machine()}",
        "",
        "Random weights, real architectures; img2img frames through `core.dream.render` with colour "
        "coherence on (frame 0 from an image, one warm-up frame not counted). Overhead = wall time "
        "per frame / time inside the UNet and VAE.",
        "",
        "| preset | architecture | size | denoising steps | guidance | frames measured | s / frame | overhead |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r['preset']} | {r['architecture']} | {r['size']} | {r['unet_steps']} | {r['guidance']} "
        f"| {r['frames']} | {r['seconds']:.2f} | {r['overhead']:.3f} |"
        for r in rows
    ]
    write_section(f"dream-{device.split(':')[0]}", "\n".join(lines))


if __name__ == "__main__":
    main()
