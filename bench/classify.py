"""Classifier latency on CPU: raw eager forward, learn.predict and our predictor, side by side.

A guest at a meetup waits for a CPU server: latency is the product. resnet34 at 224 px, one
photo; speed does not depend on weight values, so the learner is built untrained. Target: our
predictor (preprocessing included) at most 1.15x the raw eager forward; stretch goal: faster
than it, with unchanged answers. Then throughput of 16 concurrent callers against one caller.

    python -m bench.classify [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from PIL import Image

from bench.results import machine, write_section
from testkit.classify import make_shapes_dataset


def median_ms(works: dict, runs: int) -> dict[str, float]:
    """Median milliseconds of each callable, run in turn round after round so that the machine's
    ups and downs fall on all of them alike."""
    times = {name: [] for name in works}
    for work in works.values():
        work()  # warm-up
    for _ in range(runs):
        for name, work in works.items():
            began = time.perf_counter()
            work()
            times[name].append(time.perf_counter() - began)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def photos_per_second(work, callers: int, calls: int) -> float:
    with ThreadPoolExecutor(callers) as pool:
        began = time.perf_counter()
        list(pool.map(lambda _: work(), range(calls)))
        return calls / (time.perf_counter() - began)


def build_learner(folder: Path, arch: str, size: int) -> Path:
    from fastai.vision.all import models, vision_learner

    from core.classifiers.datasets import image_folders
    from core.classifiers.train import dataloaders

    dataset = image_folders(make_shapes_dataset(folder / "data", per_class=8, size=size))
    learn = vision_learner(dataloaders(dataset, size, 8, 0), getattr(models, arch), pretrained=False)
    out = folder / "models" / "bench.pkl"
    out.parent.mkdir()
    learn.export(out)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--arch", default="resnet34")
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args(argv)
    from fastai.learner import load_learner

    from core.classifiers.classify import load_predictor

    with tempfile.TemporaryDirectory() as scratch:
        path = build_learner(Path(scratch), args.arch, args.size)
        os.environ["GIRO_MODELS"] = str(path.parent)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            learn = load_learner(path)
        predictor = load_predictor(path)
        photo = Image.effect_mandelbrot((640, 480), (-2, -1.2, 1, 1.2), 80).convert("RGB")
        batch = predictor.tensors([photo]).as_subclass(torch.Tensor)
        eager = learn.model.eval()

        def raw():
            with torch.no_grad():
                eager(batch)

        ms = median_ms({
            "raw": raw,
            "fastai": lambda: learn.predict(photo),
            "ours": lambda: predictor.predict([photo]),
        }, args.runs)
        raw_ms, fastai_ms, ours_ms = ms["raw"], ms["fastai"], ms["ours"]
        difference = float((predictor.probabilities([photo])[0] - learn.predict(photo)[2]).abs().max())

        calls, rounds = 48, 3
        one, sixteen = [], []
        for _ in range(rounds):  # alternating, median of each
            one.append(photos_per_second(lambda: predictor.predict([photo]), 1, calls))
            sixteen.append(photos_per_second(lambda: predictor.predict([photo]), 16, calls))
        one_caller, sixteen = statistics.median(one), statistics.median(sixteen)

    lines = [
        f"## Classifier latency on CPU ({args.arch}, {args.size} px, one photo)",
        "",
        f"Machine: {machine()}",
        "",
        f"Median of {args.runs} rounds after a warm-up; each round runs the three paths in turn.",
        "",
        "| path | ms | vs raw eager forward |",
        "| --- | --- | --- |",
        f"| raw eager forward (`model(x)` under no_grad, input ready) | {raw_ms:.1f} | 1.00 |",
        f"| `learn.predict` (DataLoader per call) | {fastai_ms:.1f} | {fastai_ms / raw_ms:.2f} |",
        f"| our predictor, whole call (preprocessing + forward + top-k) | {ours_ms:.1f} | {ours_ms / raw_ms:.2f} |",
        "",
        f"Largest difference between our probabilities and `learn.predict`'s: {difference:.1e}.",
        "",
        f"Throughput, {calls} one-photo calls, median of {rounds} alternating rounds: 1 caller "
        f"{one_caller:.1f} photos/s; 16 concurrent callers {sixteen:.1f} photos/s "
        f"({sixteen / one_caller:.2f}x). One forward already uses every core, so concurrency "
        "cannot add speed here; it must not lose it.",
    ]
    write_section("classify-cpu", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
