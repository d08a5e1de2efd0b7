"""Training data as tables of (file, label, is_valid), plus a held-out table for the model card.

Every function a learner keeps a reference to lives here, in core/, so an exported learner
unpickles inside the app (never in `__main__`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from PIL import Image

from core.download import Progress, fetch_file, unpack
from core.errors import GiroError
from core.images import IMAGE_SUFFIXES, load_image

SPLITS = ("official", "large")


def flower_names() -> list[str]:
    """The 102 Oxford Flowers names in label order (torchvision keeps them; no download)."""
    from torchvision.datasets import Flowers102

    return list(Flowers102.classes)


@dataclass(frozen=True)
class Dataset:
    items: pd.DataFrame  # fname, label, is_valid
    held_out: pd.DataFrame  # fname, label: what the model card's accuracy is measured on
    split: str  # in words, for the model card


def read_image(row: pd.Series) -> Image.Image:
    """The training loader: the app's own loader, so EXIF orientation matches at predict time."""
    return load_image(row["fname"])


def read_label(row: pd.Series) -> str:
    return row["label"]


def flowers(root: Path, split: str = "official") -> Dataset:
    """Oxford 102 Flowers as fastai ships it: jpg/, train.txt, valid.txt, test.txt (`path label`).

    official: train 1,020 / valid 1,020, accuracy on the 6,149 test images.
    large: the original author's split, test images added to training, the 1,020 valid images
    held out.
    """
    if split not in SPLITS:
        raise GiroError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    names = flower_names()
    parts = {}
    for part in ("train", "valid", "test"):
        listing = root / f"{part}.txt"
        if not listing.is_file():
            raise GiroError(f"{root} is not the Oxford Flowers folder: {listing.name} is missing")
        rows = [line.split() for line in listing.read_text().splitlines() if line.strip()]
        parts[part] = pd.DataFrame(
            {"fname": [str(root / f) for f, _ in rows], "label": [names[int(n)] for _, n in rows]}
        )
    if split == "official":
        train, valid, held_out = parts["train"], parts["valid"], parts["test"]
        words = "official: train 1,020 / valid 1,020 / accuracy on test 6,149"
    else:
        train, valid = pd.concat([parts["train"], parts["test"]]), parts["valid"]
        held_out = valid
        words = "large: train + test for training, the 1,020 valid images held out"
    items = pd.concat([train.assign(is_valid=False), valid.assign(is_valid=True)], ignore_index=True)
    return Dataset(items, held_out.reset_index(drop=True), words)


def image_folders(root: Path, valid_fraction: float = 0.2, seed: int = 42) -> Dataset:
    """One sub-folder per class (`Road/`, `TT/`, `MTB/`); or `train/` and `valid/` each holding those.

    Without train/valid folders, a seeded random `valid_fraction` of each class is held out.
    """
    if not root.is_dir():
        raise GiroError(f"{root} is not a folder")
    if (root / "train").is_dir() and (root / "valid").is_dir():
        train, valid = _labelled_files(root / "train"), _labelled_files(root / "valid")
        words = f"{root.name}/train and {root.name}/valid folders"
    else:
        files = _labelled_files(root)
        rng = random.Random(seed)
        valid = []
        for label in sorted({label for _, label in files}):
            of_class = [f for f in files if f[1] == label]
            rng.shuffle(of_class)
            valid += of_class[: max(1, round(len(of_class) * valid_fraction))]
        held = set(valid)
        train = [f for f in files if f not in held]
        words = f"random {valid_fraction:.0%} of each class held out (seed {seed})"
    labels = {label for _, label in train}
    if len(labels) < 2:
        raise GiroError(f"{root} needs at least two class folders with images, found {len(labels)}")
    frame = lambda rows, is_valid: pd.DataFrame(  # noqa: E731
        {"fname": [str(f) for f, _ in rows], "label": [l for _, l in rows], "is_valid": is_valid}
    )
    items = pd.concat([frame(train, False), frame(valid, True)], ignore_index=True)
    return Dataset(items, items[items.is_valid][["fname", "label"]].reset_index(drop=True), words)


def _labelled_files(root: Path) -> list[tuple[Path, str]]:
    return sorted(
        (path, folder.name)
        for folder in root.iterdir() if folder.is_dir() and not folder.name.startswith(".")
        for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES
    )


def flowers_root() -> Path | None:
    """The Oxford Flowers folder if it is on this machine: in the data folder or fastai's cache."""
    from core import settings

    for root in (settings.data_dir() / FLOWERS_FOLDER,
                 Path.home() / ".fastai" / "data" / FLOWERS_FOLDER):
        if (root / "train.txt").is_file():
            return root
    return None


FLOWERS_FOLDER = "oxford-102-flowers"


def download_flowers(progress: Progress | None = None) -> Path:
    """The Oxford Flowers folder: found on this machine, or downloaded (resumably) into the data
    folder, unpacked and checked. Raises GiroError in one line."""
    from core import settings

    root = flowers_root()
    if root is not None and not check_flowers(root):
        return root
    archive = settings.data_dir() / f"{FLOWERS_FOLDER}.tgz"
    fetch_file(settings.flowers_url(), archive, progress)
    unpack(archive, settings.data_dir())
    root = settings.data_dir() / FLOWERS_FOLDER
    if problems := check_flowers(root):
        raise GiroError(f"the Oxford Flowers archive is incomplete: {problems[0]} ({len(problems)} problems)")
    archive.unlink()  # unpacked and checked: 330 MB that nothing reads again
    return root


def check_flowers(root: Path) -> list[str]:
    """What is wrong with an Oxford Flowers folder (a missing list or photo, a label out of range);
    empty when it is whole."""
    problems = []
    for part in ("train", "valid", "test"):
        listing = root / f"{part}.txt"
        if not listing.is_file():
            problems.append(f"{listing.name} is missing")
            continue
        for line in listing.read_text().splitlines():
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2 or not fields[1].isdigit() or int(fields[1]) >= 102:
                problems.append(f"{listing.name} has a malformed line: {line[:60]!r}")
            elif not (root / fields[0]).is_file():
                problems.append(f"{fields[0]} is missing")
    return problems


def flower_photo(label: str) -> Path | None:
    """A training photo of the flower called `label`, for the page to show beside the answer."""
    root = flowers_root()
    if root is None or label not in (names := flower_names()):
        return None
    wanted = str(names.index(label))
    for line in (root / "train.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == wanted and (root / parts[0]).is_file():
            return root / parts[0]
    return None
