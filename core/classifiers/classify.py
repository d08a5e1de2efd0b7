"""Predictors: a photo in, the top labels with probabilities out.

`load_predictor(path)` loads an exported fastai learner once and predicts without fastai's
per-call DataLoader: the learner's own validation transforms, then a forward pass through the
model with BatchNorm folded into the convolutions and channels-last memory, under
`torch.inference_mode`. Answers equal `learn.predict` within 1e-4. Safe to call from many threads.

Command line: python -m core.classifiers.classify MODEL IMAGE... [--top-k 5] [--json]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import torch
from PIL import Image

from core import settings
from core.classifiers import tasks
from core.classifiers.model_card import CalibrationBin, ModelCard
from core.errors import GiroError, ModelError, first_line

Prediction = list[tuple[str, float]]
BATCH = 32  # images per forward pass: bounded memory for long lists


class Predictor(Protocol):
    """What a page asks of a model: a trained learner (`LearnerPredictor`) or zero-shot CLIP."""

    kind: str  # "learner" or "zero-shot", for the command line and the logs
    model_id: str  # the learner file, or the CLIP model id
    labels: list[str]
    card: ModelCard | None  # None for zero-shot or a learner without one
    about: str  # what the model is, for a model that is not a trained learner; "" for a learner

    def predict(self, images: Sequence[Image.Image], top_k: int = 5) -> list[Prediction]: ...

    def seen(self, image: Image.Image) -> Image.Image:
        """The image as the model sees it."""

    def heat_map(self, image: Image.Image, label: str) -> Image.Image | None:
        """Where the model looked to say `label`; None when the model cannot tell."""


def top_k_of(probabilities: torch.Tensor, labels: list[str], top_k: int) -> list[Prediction]:
    """Each row's best `top_k` labels with their probabilities, best first."""
    values, indices = probabilities.topk(min(top_k, len(labels)), dim=1)
    return [
        [(labels[i], float(p)) for p, i in zip(row_values, row_indices)]
        for row_values, row_indices in zip(values.tolist(), indices.tolist())
    ]


class LearnerPredictor:
    """A fastai learner, exported with `learn.export`, made fast and thread-safe for serving."""

    kind = "learner"
    about = ""  # its model card says what it is

    def __init__(
        self, learn, card: ModelCard | None = None, device: str = "cpu", model_id: str = "learner"
    ):
        self.labels = [str(v) for v in learn.dls.vocab]
        self.card, self.model_id = card, model_id
        self.device = torch.device(device)
        learn.dls.to(self.device)
        self._transforms = (learn.dls.valid.after_item, learn.dls.valid.after_batch)
        self._local = threading.local()
        self._activation = getattr(learn.loss_func, "activation", lambda x: x.softmax(dim=1))
        self._memory_format = torch.channels_last if self.device.type == "cuda" else torch.contiguous_format
        self._eager = learn.model.to(self.device).eval()  # unfused: Grad-CAM hooks its body
        self.model = optimise_for_inference(self._eager, self._memory_format)
        # One forward already uses every core, so callers take turns for it; preprocessing runs
        # outside the lock, overlapping another caller's forward.
        self._lock = threading.Lock()

    def _pipelines(self):
        """This thread's own copy of the validation transforms.

        fastai's transforms keep per-call state (RandTransform.before_call), so threads must not
        share them. The copies are pinned to the validation split: a DataLoader sets split_idx
        only while it iterates, and without it the training augmentations would run.
        """
        if not hasattr(self._local, "pipelines"):
            from fasttransform import Pipeline

            self._local.pipelines = tuple(
                Pipeline(copy.deepcopy(p.fs), split_idx=1) for p in self._transforms
            )
        return self._local.pipelines

    def tensors(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """The model's input batch, exactly as the learner's validation DataLoader builds it."""
        from fastai.data.load import fa_collate
        from fastai.vision.core import PILImage

        after_item, after_batch = self._pipelines()
        with torch.inference_mode():
            items = [after_item((PILImage.create(image.convert("RGB")),)) for image in images]
            batch = after_batch(tuple(t.to(self.device) for t in fa_collate(items)))[0]
        return batch.as_subclass(torch.Tensor).contiguous(memory_format=self._memory_format)

    def probabilities(self, images: Sequence[Image.Image]) -> torch.Tensor:
        batch = self.tensors(images)
        with self._lock, torch.inference_mode():
            return self._activation(self.model(batch)).float().cpu()

    def seen(self, image: Image.Image) -> Image.Image:
        """The image as the model sees it: resized, cropped, and normalisation undone."""
        batch = self.tensors([image])[0].float().cpu()
        normalize = next((t for t in self._transforms[1].fs if type(t).__name__ == "Normalize"), None)
        if normalize is not None:
            batch = batch * normalize.std.view(-1, 1, 1).cpu() + normalize.mean.view(-1, 1, 1).cpu()
        pixels = (batch.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
        return Image.fromarray(pixels)

    def heat_map(self, image: Image.Image, label: str) -> Image.Image:
        """Grad-CAM for `label` over the image as the model sees it."""
        from core.classifiers.gradcam import grad_cam, overlay

        batch = self.tensors([image])
        body = self._eager[0] if isinstance(self._eager, torch.nn.Sequential) else self._eager
        with self._lock:  # gradients through shared weights: one caller at a time
            heat = grad_cam(self._eager, body, batch, self.labels.index(label))
        return overlay(self.seen(image), heat)

    def predict(self, images: Sequence[Image.Image], top_k: int = 5) -> list[Prediction]:
        """For each image, the `top_k` (label, probability) pairs, best first; batched."""
        predictions = []
        for start in range(0, len(images), BATCH):
            chunk = self.probabilities(images[start : start + BATCH])
            predictions += top_k_of(chunk, self.labels, top_k)
        return predictions


def optimise_for_inference(
    model: torch.nn.Module, memory_format: torch.memory_format = torch.contiguous_format
) -> torch.nn.Module:
    """Eval mode, BatchNorm folded into the convolutions, weights in `memory_format`.

    Folding removes a full pass over every activation map (about 5% of a resnet34 forward on
    CPU). Channels-last feeds tensor cores on a GPU; on the CPU it measured slower, so the
    predictor asks for it on CUDA only. The result computes the same function to float rounding.
    """
    from torch.fx.experimental.optimization import fuse

    model = model.eval()
    try:
        model = fuse(model)
    except Exception:  # an architecture torch.fx cannot trace still runs, just unfused
        pass
    return model.to(memory_format=memory_format)


def model_path(model: str | Path) -> Path:
    """A learner in the models folder: a task name (`flowers`), a file name, or a path inside it.

    Learners are pickles, and unpickling runs code: anything outside the models folder is refused.
    """
    folder = settings.models_dir().resolve()
    name = str(model)
    if name in tasks.names():
        name = tasks.task(name).learner_file
    path = Path(name) if Path(name).is_absolute() or Path(name).parent != Path(".") else folder / name
    path = path.resolve()
    if not path.is_relative_to(folder):
        raise ModelError(f"learners load only from the models folder ({folder}); {model} is outside it")
    if path.suffix != ".pkl":
        raise ModelError(f"{path.name} is not a learner: exported learners end in .pkl")
    if not path.is_file():
        raise ModelError(f"no learner at {path}")
    return path


def load_predictor(path: str | Path, device: str = "cpu") -> LearnerPredictor:
    """Load an exported learner from the models folder, with its model card if there is one."""
    path = model_path(path)
    from fastai.learner import load_learner

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the pickle warning: model_path already confined it
            learn = load_learner(path, cpu=True)
    except Exception as error:
        raise ModelError(f"{path.name} is not a fastai learner this app can load: {first_line(error)}") from error
    return LearnerPredictor(learn, ModelCard.load(path.with_suffix(".json")), device, model_id=path.name)


# Held-out calibration: each bin of top-class probability, how often the answer was right.
CONFIDENCE_EDGES = (0.0, 0.5, 0.7, 0.9, 0.99, 1.0)


def calibration_table(top_probabilities: torch.Tensor, right: torch.Tensor) -> tuple[CalibrationBin, ...]:
    """For the model card: per bin of top-class probability (CONFIDENCE_EDGES), the held-out
    answers in it and how many were right."""
    table = []
    for low, high in zip(CONFIDENCE_EDGES, CONFIDENCE_EDGES[1:]):
        inside = (top_probabilities >= low) & ((top_probabilities < high) if high < 1 else (top_probabilities <= high))
        table.append(CalibrationBin(low, high, int(inside.sum()), int(right[inside].sum())))
    return tuple(table)


# ---------------------------------------------------------------- command line

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core.classifiers.classify",
        description="Classify images with an exported learner from the models folder.",
    )
    parser.add_argument(
        "model", metavar="MODEL",
        help=f"{', '.join(tasks.names())}, or a .pkl file in the models folder (GIRO_MODELS)",
    )
    parser.add_argument("images", metavar="IMAGE", nargs="+", help="image files (JPEG, PNG, HEIC...)")
    parser.add_argument("--top-k", type=int, default=5, help="how many labels per image (default 5)")
    parser.add_argument(
        "--json", action="store_true",
        help='one JSON line per image: {"image": PATH, "predictions": [{"label", "probability"}]}',
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    from core.images import load_image

    args = build_parser().parse_args(argv)
    if args.top_k < 1:
        print("error: --top-k must be at least 1", file=sys.stderr)
        return 2
    try:
        predictor = load_predictor(args.model)
    except GiroError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # Photos are decoded at the size the page keeps (the model sees less) and answered a batch at
    # a time: twelve 12 MP photos held at full size cost 1.8 GB.
    names, images, failed = [], [], 0
    for number, name in enumerate(args.images, start=1):
        try:
            images.append(load_image(Path(name), name=name, max_side=settings.PHOTO_MAX_SIDE))
            names.append(name)
        except GiroError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
        if len(images) == BATCH or (number == len(args.images) and images):
            _print_answers(names, predictor.predict(images, top_k=args.top_k), args.json)
            names, images = [], []
    return 1 if failed else 0


def _print_answers(names: list[str], predictions: list[Prediction], as_json: bool) -> None:
    for name, prediction in zip(names, predictions):
        if as_json:
            print(json.dumps({"image": name, "predictions": [
                {"label": label, "probability": round(p, 6)} for label, p in prediction]}))
        else:
            print(f"{name}: " + ", ".join(f"{label} ({p:.1%})" for label, p in prediction))


if __name__ == "__main__":
    sys.exit(main())
