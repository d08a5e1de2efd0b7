"""Dream a Stage: time per output frame and the engine's overhead, on real-size random-weight models.

Speed does not depend on weight values, so Stable Diffusion v1, sd-turbo and taesd architectures
built from their public configs with random weights cost what the real models cost. Every frame
runs through `core.dream.render` exactly as in the app (tensor loop, colour coherence, background
writer). The cases run side by side in one process:

    fast-before     sd-turbo as the fast preset was: 4 steps x 0.5 = 2 UNet steps, its own VAE
    one-step        2 steps x 0.5 = 1 UNet step (sd-turbo's img2img recipe), its own VAE
    +taesd          one step, the tiny VAE (the fast preset now)
    +cadence3       one step, the tiny VAE, every third frame diffused
    +compile        the fast preset with torch.compile (CUDA only)
    default         the original: SD v1, 50 steps x 0.45 = 22 UNet steps, guidance 7.5

Overhead = wall time per diffused frame / time inside the UNet and the VAE (encode + decode):
everything else (zoom, mix, colour, hand-off to the writer, the pipeline's own Python) counts
against it. On CUDA it is wall time / every GPU kernel's time (torch.profiler): clocking the
models would take syncs that slow the frames timed. The first diffused frame of each case is a warm-up and is not counted.

    python -m bench.dream [--size 512] [--cases fast-before one-step +taesd +cadence3] [--blocks 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from bench.gpu_time import KernelTime, graphs_compiled
from bench.results import machine, write_section
from core.device import pick_device, pick_dtype
from core.dream.pipelines import assemble_pipelines
from core.dream.render import Progress, render
from core.dream.stage import parse_stage
from testkit.dream import build_pipeline, build_tiny_vae


@dataclass(frozen=True)
class Case:
    architecture: str
    steps: int
    strength: float
    guidance: float
    tiny_vae: bool = False
    cadence: int = 1
    compile: bool = False


CASES = {
    "fast-before": Case("sd-turbo", 4, 0.5, 0.0),
    "one-step": Case("sd-turbo", 2, 0.5, 0.0),
    "+taesd": Case("sd-turbo", 2, 0.5, 0.0, tiny_vae=True),
    "+cadence3": Case("sd-turbo", 2, 0.5, 0.0, tiny_vae=True, cadence=3),
    "+compile": Case("sd-turbo", 2, 0.5, 0.0, tiny_vae=True, compile=True),
    "+compile+cadence3": Case("sd-turbo", 2, 0.5, 0.0, tiny_vae=True, cadence=3, compile=True),
    "default": Case("sd-v1", 50, 0.45, 7.5),
}
CPU_CASES = ["fast-before", "one-step", "+taesd", "+cadence3"]


class ModelClock:
    """Adds up the seconds spent in the UNet and in VAE encode/decode, until `close`."""

    def __init__(self, pipe):
        self.seconds = 0.0
        self._timed_methods = [(pipe.unet, "forward"), (pipe.vae, "encode"), (pipe.vae, "decode")]
        self._own = [owner.__dict__.get(name) for owner, name in self._timed_methods]
        for owner, name in self._timed_methods:
            setattr(owner, name, self._timed(getattr(owner, name), pipe.device))

    def close(self) -> None:
        """Unwrap: the next case shares these modules and must not pay for this clock's syncs."""
        for (owner, name), own in zip(self._timed_methods, self._own):
            if own is None:
                delattr(owner, name)
            else:  # torch.compile's wrapper keeps its forward on the instance
                setattr(owner, name, own)

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


def stage_text(case: Case, size: int, frames: int, first_image: Path) -> str:
    return f"""
[render]
width = {size}
height = {size}
steps = {case.steps}
strength = {case.strength}
guidance = {case.guidance}
cadence = {case.cadence}
loop_frames = 1
first_image = "{first_image}"
[[segment]]
prompt = "a treelined avenue, poplars, summer day, france"
frames = {frames}
"""


_built: dict[str, object] = {}


def pipelines_for(case: Case, device: str, dtype: torch.dtype):
    """Random-weight pipelines for `case`; the big models are built once and shared by cases."""
    if case.architecture not in _built:
        _built[case.architecture] = build_pipeline(case.architecture)
    pipe = _built[case.architecture]
    vae = "taesd (random weights)" if case.tiny_vae else "auto"
    if case.tiny_vae:
        pipe = type(pipe)(**{**pipe.components, "vae": build_tiny_vae("taesd")},
                          requires_safety_checker=False)
    pipe = pipe.to(device, dtype)  # built in float32 on the CPU; fp16 on CUDA, as the app loads it
    return assemble_pipelines(pipe, case.architecture, None, device, dtype, vae, case.compile)


def measure(name: str, size: int, blocks: int, device: str) -> dict:
    """Frame 0 from an image; one block of `cadence` frames to warm up; then `blocks` blocks timed."""
    case = CASES[name]
    dtype = pick_dtype(device)
    pipelines = pipelines_for(case, device, dtype)
    # On CUDA the clock's syncs would stop the host queueing work ahead of the GPU and slow the very
    # frames timed: there the profiler's kernel time stands in for the time inside the models.
    clock = None if device.startswith("cuda") else ModelClock(pipelines.text2img)
    try:
        return _timed_render(name, case, pipelines, clock, size, blocks, device)
    finally:
        if clock is not None:
            clock.close()


def _timed_render(name: str, case: Case, pipelines, clock: ModelClock | None, size: int, blocks: int, device: str) -> dict:
    """The warm-up block, `blocks` blocks timed, and on CUDA as many again watched by the profiler
    for the GPU's own kernel time (and, compiled, for graphs compiled after the warm-up)."""
    k = case.cadence
    profiled = blocks if device.startswith("cuda") else 0
    timed_end = k * (blocks + 1)
    total = timed_end + k * profiled + 1
    kernels = KernelTime(device)
    with tempfile.TemporaryDirectory() as scratch:
        start = Path(scratch) / "start.png"
        Image.effect_mandelbrot((size, size), (-2, -1.5, 1, 1.5), 64).convert("RGB").save(start)
        stage = parse_stage(stage_text(case, size, total, start))
        for progress in render(stage, Path(scratch) / "run", pipelines):
            if not isinstance(progress, Progress):
                continue
            if progress.frame == k:  # the warm-up block is done: start the clocks
                began, graphs = time.perf_counter(), graphs_compiled()
                if clock is not None:
                    clock.seconds = 0.0
            elif progress.frame == timed_end:
                wall = time.perf_counter() - began
                inside = clock.seconds if clock is not None else None
                if profiled:
                    kernels.__enter__()
            if profiled and progress.frame == total - 1:
                kernels.__exit__()
        recompiled = graphs_compiled() - graphs
    frames = k * blocks
    per_frame = wall / frames
    if inside is None and kernels.seconds is not None:  # CUDA: the kernels' time over as many frames
        inside = kernels.seconds * blocks / profiled
    row = dict(case=name, architecture=case.architecture, size=size, unet_steps=int(case.steps * case.strength),
               guidance=case.guidance, vae="taesd" if case.tiny_vae else "own", cadence=k,
               compile=case.compile, frames=frames, seconds=per_frame, fps=1 / per_frame,
               overhead=wall / inside if inside else float("nan"),
               kernels=None if kernels.seconds is None else kernels.seconds / (k * profiled),
               recompiled=recompiled)
    del pipelines
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return row


def table(rows: list[dict], device: str, baseline: str) -> str:
    base = next((r for r in rows if r["case"] == baseline), None)
    split = any(r["kernels"] is not None for r in rows)  # CUDA: the GPU's own share of each frame
    extra = " GPU kernels ms / frame | host-bound share | graphs compiled after warm-up |" if split else ""
    lines = [
        "| case | architecture | size | UNet steps / diffused frame | guidance | VAE | cadence | compile "
        "| frames timed | s / output frame | frames / min | speed-up vs " + baseline + " | overhead |" + extra,
        "|" + " --- |" * (13 + (3 if split else 0)),
    ]
    for r in rows:
        speedup = f"{base['seconds'] / r['seconds']:.1f}x" if base else "n/a"
        line = (
            f"| {r['case']} | {r['architecture']} | {r['size']} | {r['unet_steps']} | {r['guidance']} "
            f"| {r['vae']} | {r['cadence']} | {'yes' if r['compile'] else 'no'} | {r['frames']} "
            f"| {r['seconds']:.3f} | {60 / r['seconds']:.1f} | {speedup} | {r['overhead']:.3f} |"
        )
        if split:
            kernels = r["kernels"]
            line += (" - | - |" if kernels is None else f" {kernels * 1000:.1f} | {max(0.0, 1 - kernels / r['seconds']):.0%} |")
            line += f" {r['recompiled'] if r['compile'] else '-'} |"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--cases", nargs="+", choices=list(CASES), help=f"default on CPU: {' '.join(CPU_CASES)}")
    parser.add_argument("--blocks", type=int, default=2, help="timed blocks of `cadence` frames per case")
    args = parser.parse_args(argv)
    device = pick_device()
    names = args.cases or CPU_CASES
    if not device.startswith("cuda"):
        names = [n for n in names if not CASES[n].compile]  # torch.compile is used on CUDA only
    rows = []
    for name in names:
        try:
            row = measure(name, args.size, args.blocks, device)
        except Exception as error:  # one case failing (a compiler, memory) must not lose the others
            print(f"{name}: failed: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
                  flush=True)
            continue
        print(f"{name}: {row['seconds']:.3f} s per output frame, {60 / row['seconds']:.1f} frames/min, "
              f"{row['fps']:.2f} frames/s, overhead {row['overhead']:.3f}", flush=True)
        rows.append(row)
        write_results(rows, device, args.size)  # after each case: a run cut short keeps what it timed


def write_results(rows: list[dict], device: str, size: int) -> None:
    kind = device.split(":")[0]
    body = [
        f"## Dream a Stage: time per output frame ({kind}, {size} px, {pick_dtype(device)})",
        "",
        f"Machine: {machine()}",
        "",
        "Random weights, real architectures (sd-turbo = SD 2.1 UNet and OpenCLIP-H text encoder; taesd = "
        "diffusers' AutoencoderTiny defaults); img2img frames through `core.dream.render` with colour "
        "coherence on, frame 0 from an image, the first diffused frame after it a warm-up not counted. "
        "Overhead = wall time per diffused frame / time inside the UNet and the VAE (encode + decode); "
        "zoom, mix, colour matching and the hand-off to the background writer count as overhead. On CUDA "
        "the models are not clocked (a clock's syncs would slow the frames timed): overhead is wall time / "
        "all GPU kernels' time, and "
        "GPU kernels: the kernels' own time per output frame (torch.profiler, over as many frames again "
        "after the timed ones); host-bound share: the part of a frame's wall time the GPU is idle; graphs "
        "compiled after warm-up: torch.compile's count, 0 when nothing recompiles.",
        "",
        table(rows, device, "fast-before"),
    ]
    write_section(f"dream-{kind}", "\n".join(body))


if __name__ == "__main__":
    main()
