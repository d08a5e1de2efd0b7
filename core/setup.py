"""Fetch and train every model the pages need, once: `make models`.

    python -m core.setup [dream] [flowers] [bikes] [stars] [--device auto|cpu|mps|cuda] [--lr LR]
        [--no-pretrained] [--arch resnet34] [--epochs 6] [--size 224] [--per-class 150]
        [--photos-per-star 8]

All four parts unless some are named. Each part is resumable and idempotent: what is already on
this machine is kept and only what is missing is done, so a second run does nothing and an
interrupted one carries on. A part that fails says why in one line and the others go on. The run
ends with a table: what is ready, its accuracy, its time.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core import settings
from core.classifiers import tasks
from core.errors import GiroError, first_line

READY, MADE, FAILED = "ready", "made", "failed"
# The original author's Flower ID accuracies, the bar for ours, on the split each names.
ORIGINAL_FLOWERS = {"official": 0.800, "large": 0.970}
MIN_PHOTOS_PER_CLASS = 20  # fewer and a held-out fifth says nothing
STAR_QUERY = "{} face portrait photo"
STARS_FILE = Path(__file__).with_name("film_stars.txt")
SEARCHED = ".searched"  # in a star's folder: how many photos were last searched for
Log = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    device: str = "cpu"
    lr: float | None = None  # None: lr_find picks it
    pretrained: bool = True
    arch: str = "resnet34"
    epochs: int = 6
    size: int = 224
    batch_size: int = 32
    per_class: int = 150  # bike photos per class
    per_star: int = 8  # photos per film star

    @classmethod
    def on(cls, device: str, **choices) -> Options:
        """The defaults for `device` (bigger batches on CUDA), with `choices` over them."""
        return cls(**{"device": device, "batch_size": 64 if device.startswith("cuda") else 32, **choices})


@dataclass
class Outcome:
    part: str
    state: str = FAILED  # READY: was there already; MADE: made by this run; FAILED
    detail: str = ""
    seconds: float = 0.0
    accuracy: list[str] = field(default_factory=list)


def film_stars() -> list[str]:
    """The stars the lookalike's gallery is collected for (the repository's list, names only)."""
    lines = STARS_FILE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def setup_dream(options: Options, log: Log) -> Outcome:
    """The default model, the fast model and its tiny VAE in the Hub cache, each loaded once."""
    from core.device import pick_dtype
    from core.dream.pipelines import load_pipelines, weights_on_this_machine

    default, fast, vae = settings.dream_model(), settings.dream_fast_model(), settings.dream_fast_vae()
    wanted = [(default, "auto"), (fast, vae)]
    missing = [(model, tiny) for model, tiny in wanted if not weights_on_this_machine(model, tiny)]
    if not missing:
        return Outcome("dream", READY, f"{default}; {fast} with {vae}")
    for model, tiny in missing:
        log(f"dream: fetching {model}" + ("" if tiny == "auto" else f" and {tiny}"))
        load_pipelines(model, options.device, pick_dtype(options.device), tiny)  # loading proves the files work
    return Outcome("dream", MADE, f"{default}; {fast} with {vae}: fetched and loaded on {options.device}")


def setup_oxford(task: tasks.Task, options: Options, log: Log) -> Outcome:
    """Oxford Flowers, then ResNet trained on the official split and on the large split; the page
    uses the large one. Each learner is kept as soon as it is trained."""
    from core.classifiers.datasets import download_flowers, flowers

    outcome = Outcome(task.name, READY)
    page_learner = task.learner_path()
    learners = {"official": page_learner.with_stem(f"{task.name}-official"), "large": page_learner}
    for split, out in learners.items():
        if not _has_learner(out):
            root = download_flowers(_progress_bar(f"{task.name}: Oxford 102 Flowers", log))
            dataset = flowers(root, split)
            log(f"{task.name}, {split} split: {_estimate(dataset, options)}")
            _train(dataset, task.name, out, options)
            outcome.state = MADE
        outcome.accuracy.append(_accuracy_line(out, f"{split} split", ORIGINAL_FLOWERS[split]))
    outcome.detail = f"the page uses {page_learner.name}"
    return outcome


def setup_folders(task: tasks.Task, options: Options, log: Log) -> Outcome:
    """Photos of each class from an image search (the task's queries: Road / TT / MTB for bikes),
    checked and de-duplicated, then trained."""
    from core.classifiers.collect import collect
    from core.classifiers.datasets import image_folders

    out = task.learner_path()
    if _has_learner(out):
        return Outcome(task.name, READY, out.name, accuracy=[_accuracy_line(out)])
    counts = collect(task.data_path(), list(task.collect), options.per_class,
                     log=lambda line: log(f"{task.name}: {line}"))
    short = {folder: n for folder, n in counts.items() if n < MIN_PHOTOS_PER_CLASS}
    if short:
        found = ", ".join(f"{n} of {folder}" for folder, n in short.items())
        raise GiroError(f"too few photos to train on ({found}; at least {MIN_PHOTOS_PER_CLASS} each): run again later")
    dataset = image_folders(task.data_path())
    log(f"{task.name}: {_estimate(dataset, options)}")
    _train(dataset, task.name, out, options)
    return Outcome(task.name, MADE, f"{out.name}, from {sum(counts.values())} photos",
                   accuracy=[_accuracy_line(out)])


def setup_gallery(task: tasks.Task, options: Options, log: Log) -> Outcome:
    """Photos of each listed film star with exactly one face, near duplicates removed, in the
    gallery. A star searched for once is not searched again for as many photos (a marker file)."""
    from core.classifiers.collect import collect
    from core.classifiers.faces import FaceEmbedder, star_name
    from core.images import IMAGE_SUFFIXES

    gallery = task.data_path()
    names = [star_name(name) for name in film_stars()]
    photos = lambda name: len([p for p in (gallery / name).glob("*") if p.suffix.lower() in IMAGE_SUFFIXES])  # noqa: E731
    searched = lambda name: gallery / name / SEARCHED  # noqa: E731  holds the photos asked for
    to_do = [name for name in names if photos(name) < options.per_star and not (
        searched(name).is_file() and int(searched(name).read_text() or 0) >= options.per_star)]
    if to_do:
        embedder = FaceEmbedder()

        def one_face(image) -> str | None:
            found = len(embedder.faces(image))
            return None if found == 1 else f"{found} faces, not one"

        bar = _progress_bar(f"{task.name}: photos of {len(to_do)} stars", log)
        for done, name in enumerate(to_do, 1):
            collect(gallery, [f"{name}={STAR_QUERY.format(name)}"], options.per_star, log=lambda _: None,
                    keep=one_face, max_side=settings.PHOTO_MAX_SIDE)
            (gallery / name).mkdir(parents=True, exist_ok=True)
            searched(name).write_text(str(options.per_star))
            bar(done, len(to_do))
    found = [name for name in names if photos(name)]
    detail = f"{len(found)} of {len(names)} stars have photos"
    if not found:
        return Outcome(task.name, FAILED, detail)
    return Outcome(task.name, MADE if to_do else READY, detail)


def part_names() -> list[str]:
    """Dream a Stage's weights, then each classifier page's model, in the registry's order."""
    return ["dream", *tasks.names()]


def setup_part(part: str) -> Callable[[Options, Log], Outcome]:
    if part == "dream":
        return setup_dream
    task = tasks.task(part)
    by_source = {tasks.OXFORD: setup_oxford, tasks.FOLDERS: setup_folders, tasks.GALLERY: setup_gallery}
    return lambda options, log: by_source[task.source](task, options, log)


def run_setup(parts: list[str], options: Options, log: Log = print) -> list[Outcome]:
    """Each part in turn; one that fails is reported in one line and the rest still run."""
    outcomes = []
    for part in parts:
        began = time.monotonic()
        log(f"== {part}")
        try:
            outcome = setup_part(part)(options, log)
        except GiroError as error:
            outcome = Outcome(part, FAILED, str(error))
        except Exception as error:  # a library's own failure: its first line, then the next part
            outcome = Outcome(part, FAILED, f"{type(error).__name__}: {first_line(error)}")
        outcome.seconds = time.monotonic() - began
        log(f"{part}: {outcome.state}: {outcome.detail}")
        outcomes.append(outcome)
    return outcomes


def summary(outcomes: list[Outcome]) -> str:
    """The closing table: part, state, accuracy, time, what it is."""
    rows = [("part", "state", "accuracy", "time", "")]
    for o in outcomes:
        rows.append((o.part, o.state, "; ".join(o.accuracy) or "-", _duration(o.seconds), o.detail))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[4] for row in rows)


def _has_learner(out: Path) -> bool:
    return out.is_file() and out.with_suffix(".json").is_file()


def _accuracy_line(out: Path, where: str = "held out", original: float | None = None) -> str:
    from core.classifiers.model_card import ModelCard

    card = ModelCard.load(out.with_suffix(".json"))
    if card is None:
        return "no model card"
    line = f"{card.accuracy:.1%} {where}"
    return line + (f" (original {original:.1%})" if original is not None else "")


def _train(dataset, task: str, out: Path, options: Options) -> None:
    from core.classifiers.train import train

    train(dataset, task, out, options.arch, options.epochs, options.size, options.pretrained,
          options.batch_size, lr=options.lr, device=options.device)


def _estimate(dataset, options: Options) -> str:
    """Roughly how long training will take here: one timed batch of the architecture, scaled up."""
    import torch
    from torchvision import models

    net = getattr(models, options.arch)(num_classes=dataset.items.label.nunique()).to(options.device)
    batch = torch.randn(options.batch_size, 3, options.size, options.size, device=options.device)
    timings = []
    for _ in range(2):  # the first pays for allocation and kernel choice
        began = time.monotonic()
        net(batch).sum().backward()
        if options.device.startswith("cuda"):
            torch.cuda.synchronize()
        timings.append(time.monotonic() - began)
    per_image = timings[-1] / options.batch_size
    n_train, n_other = int((~dataset.items.is_valid).sum()), int(dataset.items.is_valid.sum()) + len(dataset.held_out)
    lr_find = 100 * options.batch_size if options.lr is None else 0  # fastai's sweep: 100 batches
    # Inference costs about a third of a training step; progressive resizing halves the early epochs.
    work = n_train * (options.epochs + 1) + n_other * options.epochs / 3 + lr_find
    return (f"{n_train} training images, about {_duration(per_image * work)} on {options.device} "
            "(an estimate from one timed batch)")


def _progress_bar(what: str, log: Log) -> Callable[[int, int | None], None]:
    """A progress callback that logs every tenth of the way with the time left at the pace so far
    (every 50 MB when the end is unknown)."""
    shown, began = [-1], time.monotonic()

    def progress(done: int, total: int | None) -> None:
        step = math.floor(10 * done / total) if total else done // 50_000_000
        if step == shown[0]:
            return
        shown[0] = step
        if not total:
            log(f"{what}: {done / 1e6:.0f} MB")
            return
        left = (time.monotonic() - began) * (total - done) / max(done, 1)
        log(f"{what}: {done / total:.0%}" + (f", about {_duration(left)} left" if done < total else ""))

    return progress


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def build_parser() -> argparse.ArgumentParser:
    from core.classifiers.train import ARCHS

    parser = argparse.ArgumentParser(
        prog="python -m core.setup", description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(__doc__ or "").split("\n\n", 2)[2],
    )
    parser.add_argument("parts", nargs="*", metavar="PART", help=f"any of {', '.join(part_names())} (default: all)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "mps", "cuda"),
                        help="auto: CUDA, then Apple's MPS, then the CPU (or GIRO_DEVICE)")
    parser.add_argument("--lr", type=float, help="training's peak learning rate (default: lr_find's pick)")
    parser.add_argument("--pretrained", action=argparse.BooleanOptionalAction, default=True,
                        help="start from ImageNet weights; --no-pretrained trains from scratch")
    parser.add_argument("--arch", default="resnet34", choices=ARCHS)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--size", type=int, default=224, help="training image size in pixels")
    parser.add_argument("--batch-size", type=int, help="default: 64 on CUDA, 32 elsewhere")
    parser.add_argument("--per-class", type=int, default=150, help="bike photos to collect per class")
    parser.add_argument("--photos-per-star", type=int, default=8, help="photos to collect per film star")
    return parser


def main(argv: list[str] | None = None) -> int:
    from core.device import pick_device

    args = build_parser().parse_args(argv)
    unknown = [p for p in args.parts if p not in part_names()]
    if unknown:
        print(f"error: {', '.join(unknown)} is not a part: choose from {', '.join(part_names())}", file=sys.stderr)
        return 2
    try:
        device = pick_device(None if args.device == "auto" else args.device, "--device")
    except GiroError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    chosen = {"batch_size": args.batch_size} if args.batch_size else {}
    options = Options.on(
        device, lr=args.lr, pretrained=args.pretrained, arch=args.arch, epochs=args.epochs,
        size=args.size, per_class=args.per_class, per_star=args.photos_per_star, **chosen,
    )
    outcomes = run_setup(args.parts or part_names(), options, lambda line: print(line, flush=True))
    print()
    print(summary(outcomes))
    return 1 if any(o.state == FAILED for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
