"""Host time per frame: what the Dream engine spends outside the model, on the tiny random model.

A GPU runs the UNet and the VAE in milliseconds; what the loop does around them (zoom, mix,
colour hold, the scheduler, noise, the hand-off of each frame to the page or the writer) then
decides the frame rate. On the CPU, with torch on one thread, forward hooks time the UNet's and
the VAE's own forward calls; host time = wall time per diffused frame minus that. Both loops run
side by side in one process: the render loop (`core.dream.render`, frame 0 from an image,
colour coherence on, the background writer included) and Live (`core.dream.live.LiveStream`),
each at sd-turbo's img2img recipe (2 steps x 0.5 = one UNet step, guidance 0) at 128 px.

    python -m bench.host [--frames 24] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from bench.live import wait_until
from bench.results import machine, write_section
from core.dream.live import LiveSettings, LiveStream
from core.dream.pipelines import assemble_pipelines
from core.dream.render import Progress, render
from core.dream.stage import parse_stage
from testkit.dream import build_pipeline

SIZE = 128
PROMPT = "a treelined avenue, poplars, summer day, france"
WARM_UP = 8  # frames of each loop before the rounds


class ForwardClock:
    """Seconds spent inside the forward calls of the given modules (hooks before and after)."""

    def __init__(self, modules):
        self.seconds = 0.0
        self._began: dict[int, float] = {}
        self._handles = []
        for module in modules:
            self._handles.append(module.register_forward_pre_hook(self._enter))
            self._handles.append(module.register_forward_hook(self._leave))

    def _enter(self, module, args) -> None:
        self._began[id(module)] = time.perf_counter()

    def _leave(self, module, args, output) -> None:
        self.seconds += time.perf_counter() - self._began.pop(id(module))

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()


def model_modules(pipelines) -> list:
    vae = pipelines.text2img.vae
    parts = [pipelines.text2img.unet, vae.encoder, vae.decoder]
    return parts + [m for m in (getattr(vae, "quant_conv", None), getattr(vae, "post_quant_conv", None)) if m is not None]


def render_host_ms(pipelines, frames: int, scratch: Path, colour: bool = True) -> float:
    """Host milliseconds per diffused frame of the render loop, the first two frames left out."""
    start = scratch / "start.png"
    Image.effect_mandelbrot((SIZE, SIZE), (-2, -1.5, 1, 1.5), 64).convert("RGB").save(start)
    stage = parse_stage(f"""
[render]
width = {SIZE}
height = {SIZE}
steps = 2
strength = 0.5
guidance = 0.0
loop_frames = 1
first_image = "{start}"
colour_coherence = "{'segment' if colour else 'off'}"
[[segment]]
prompt = "{PROMPT}"
frames = {frames + 3}
""")
    clock = ForwardClock(model_modules(pipelines))
    try:
        run = scratch / f"run-{time.monotonic_ns()}"
        for progress in render(stage, run, pipelines):
            if not isinstance(progress, Progress):
                continue
            if progress.frame == 1:  # frame 0 and a warm-up frame are done
                began, clock.seconds = time.perf_counter(), 0.0
            elif progress.frame == frames + 1:
                wall, inside = time.perf_counter() - began, clock.seconds
                break
    finally:
        clock.close()
    return (wall - inside) / frames * 1000


def live_host_ms(pipelines, frames: int, colour: bool = True) -> float:
    """Host milliseconds per Live frame, after two warm-up frames."""
    settings = LiveSettings(PROMPT, strength=0.5, guidance=0.0, steps=2, size=SIZE, colour_coherence=colour)
    start = Image.effect_mandelbrot((SIZE, SIZE), (-2, -1.5, 1, 1.5), 64).convert("RGB")
    stream = LiveStream("bench", pipelines, settings, np.asarray(start), lost_seconds=3600, idle_seconds=3600)
    clock = ForwardClock(model_modules(pipelines))
    try:
        wait_until(stream, lambda: len(stream.frames()) >= 3)
        first = stream.latest().index
        began, clock.seconds = time.perf_counter(), 0.0
        wait_until(stream, lambda: stream.latest().index >= first + frames)
        wall, inside, made = time.perf_counter() - began, clock.seconds, stream.latest().index - first
    finally:
        stream.stop()
        stream.join()
        clock.close()
    return (wall - inside) / made * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=24, help="frames timed per round and loop")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each loop in turn; the median is kept")
    args = parser.parse_args(argv)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        pipe = build_pipeline("tiny")
        pipelines = assemble_pipelines(pipe, "tiny (random weights)", None, "cpu", torch.float32)
        rows = {"render loop": [], "Live": [], "render loop, colours not held": [], "Live, colours not held": []}
        with tempfile.TemporaryDirectory() as scratch:
            # A round of each loop first, not counted: a process's first render also starts the
            # writer's pool and the video encoder, and each op's first call at a new shape is slow.
            for colour in (True, False):
                render_host_ms(pipelines, WARM_UP, Path(scratch), colour)
                live_host_ms(pipelines, WARM_UP, colour)
            for _ in range(args.rounds):
                for colour in (True, False):
                    held = "" if colour else ", colours not held"
                    rows[f"render loop{held}"].append(render_host_ms(pipelines, args.frames, Path(scratch), colour))
                    rows[f"Live{held}"].append(live_host_ms(pipelines, args.frames, colour))
        for name, values in rows.items():
            print(f"{name}: {statistics.median(values):.1f} ms of host time a frame "
                  f"({', '.join(f'{v:.1f}' for v in values)})", flush=True)
        lines = [
            f"## Dream a Stage: host time per frame (cpu, {SIZE} px, tiny random model, one torch thread)",
            "",
            f"Machine: {machine()}",
            "",
            "Wall time per diffused frame minus the time inside the UNet's and the VAE's forward calls "
            "(forward hooks): everything the engine does around the model. sd-turbo's img2img recipe (one "
            "UNet step, guidance 0), colour coherence on (and off: the colour hold's own share), frame 0 from "
            "an image; the render loop with its background writer (PNG, MP4, figures, manifest: on this "
            "machine's other core, where it competes with the loop), Live with its hand-over to the page. "
            f"After a warm-up of {WARM_UP} frames of each case, the median of {args.rounds} rounds of "
            f"{args.frames} frames, the cases in turn.",
            "",
            "| loop | host ms / frame | rounds (ms) |",
            "| --- | --- | --- |",
            *(f"| {name} | {statistics.median(values):.1f} | {', '.join(f'{v:.1f}' for v in values)} |"
              for name, values in rows.items()),
        ]
        write_section("dream-host", "\n".join(lines))
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":
    main()
