"""core.classifiers.train: from a folder of class folders to an exported learner and its model card."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from core.classifiers.datasets import flowers
from core.classifiers.train import main
from core.errors import GiroError


def test_training_from_scratch_reaches_90_percent_held_out(trained):
    card = trained["card"]
    assert card["accuracy"] >= 0.90, card
    assert card["top5_accuracy"] == 1.0  # three classes: the top 3 always hold the answer
    assert card["classes"] == ["circle", "square", "triangle"]
    assert card["architecture"] == "resnet18" and card["image_size"] == 64
    assert card["pretrained"] is False and card["n_held_out"] == 48
    # No --lr: fastai's lr_find picked it; 192 training images: batches of 19, ten steps an epoch.
    assert card["learning_rate_from"] == "lr_find (valley)" and 1e-5 < card["learning_rate"] < 1
    assert card["batch_size"] == 19
    calibration = card["calibration"]  # per bin of top probability: held-out answers, and right ones
    assert sum(row["n"] for row in calibration) == 48
    assert sum(row["right"] for row in calibration) == round(card["accuracy"] * 48)
    matrix = card["confusion_matrix"]
    assert len(matrix) == 3 and sum(map(sum, matrix)) == 48
    assert {"fastai", "torch"} <= set(card["versions"]) and card["date"]


def test_learner_unpickles_in_a_fresh_process_without_main(trained):
    """Everything the learner references lives in core/, so the app (another __main__) loads it."""
    import subprocess
    import sys

    code = ("import warnings; warnings.simplefilter('ignore');"
            "from fastai.learner import load_learner;"
            f"l = load_learner({str(trained['pkl'])!r}); print(list(l.dls.vocab))")
    root = Path(__file__).resolve().parents[2]  # where the app runs
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert out.returncode == 0, out.stderr
    assert "circle" in out.stdout


def test_missing_data_folder(tmp_path, capsys):
    assert main(["bikes", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "b.pkl")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_one_class_is_not_enough(tmp_path, capsys):
    (tmp_path / "only" / "Road").mkdir(parents=True)
    Image.new("RGB", (64, 64)).save(tmp_path / "only" / "Road" / "a.jpg")
    assert main(["bikes", "--data", str(tmp_path / "only"), "--out", str(tmp_path / "b.pkl")]) == 2
    assert "needs at least two class folders" in capsys.readouterr().err


def test_bikes_without_data(tmp_path, capsys):
    assert main(["bikes", "--out", str(tmp_path / "b.pkl")]) == 2
    assert "needs --data DIR" in capsys.readouterr().err


def test_flowers_splits(tmp_path):
    root = tmp_path / "oxford-102-flowers"
    (root / "jpg").mkdir(parents=True)
    for part, count in (("train", 4), ("valid", 3), ("test", 5)):
        lines = [f"jpg/image_{part}_{i}.jpg {i % 102}" for i in range(count)]
        (root / f"{part}.txt").write_text("\n".join(lines) + "\n")
    official = flowers(root, "official")
    assert (~official.items.is_valid).sum() == 4 and official.items.is_valid.sum() == 3
    assert len(official.held_out) == 5 and official.held_out.label[0] == "pink primrose"
    large = flowers(root, "large")
    assert (~large.items.is_valid).sum() == 9 and len(large.held_out) == 3
    with pytest.raises(GiroError, match="--split must be one of"):
        flowers(root, "huge")
    (root / "test.txt").unlink()
    with pytest.raises(GiroError, match="test.txt is missing"):
        flowers(root, "official")


def test_a_stars_learner_trains_on_the_aligned_face_chips_the_page_feeds_it(tmp_path):
    from PIL import ImageOps
    from skimage import data

    from core.classifiers.faces import CHIP_SIZE
    from core.classifiers.train import load_dataset

    astronaut = Image.fromarray(data.astronaut())
    gallery = tmp_path / "stars"
    for star, photos in {"Eileen Collins": [astronaut, ImageOps.mirror(astronaut)],
                         "Sally Ride": [astronaut.crop((0, 0, 400, 400)), astronaut.crop((60, 20, 460, 380)),
                                        Image.new("RGB", (200, 200))]}.items():
        (gallery / star).mkdir(parents=True)
        for n, photo in enumerate(photos):
            photo.save(gallery / star / f"{n}.jpg")
    dataset = load_dataset("stars", gallery, "official")
    chips = [Path(f) for f in dataset.items.fname]
    assert len(chips) == 4  # the blank photo has no face: left out
    assert all(c.parent.parent == tmp_path / "stars-chips" for c in chips)
    assert all(Image.open(c).size == (CHIP_SIZE, CHIP_SIZE) for c in chips)
    made = {c: c.stat().st_mtime for c in chips}
    load_dataset("stars", gallery, "official")
    assert {c: c.stat().st_mtime for c in chips} == made  # kept, not made again
