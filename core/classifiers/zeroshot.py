"""Zero-shot classification with CLIP: useful before any training, behind the predictor interface.

CLIP scores a photo against each class's sentences ("a photo of a road bike.", "a side view of a
road bike.", ...: their embeddings averaged, CLIP's prompt ensembling), so every page works at once on a machine that can fetch `openai/clip-vit-base-patch32` (or `GIRO_CLIP_MODEL`,
a Hub id or a local folder). Thread-safe: the model is only read, under inference mode.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from typing import Any

import torch
from PIL import Image, ImageOps

from core import settings
from core.classifiers import tasks
from core.classifiers.classify import Prediction, top_k_of
from core.errors import ModelError, first_line
from core.hub import local_or_download


class ZeroShotPredictor:
    kind = "zero-shot"

    def __init__(self, model: str, labels: list[str], sentences: list[list[str]], device: str = "cpu"):
        """`sentences[i]`: the ways of saying class `labels[i]`, all of the same number."""
        folder = resolve_clip(model)
        try:
            self.processor, self.model, self._lock = _load_clip(folder, device)
        except Exception as error:
            raise ModelError(f"{model} is not a usable CLIP model: {first_line(error)}") from error
        self.labels, self.device, self.card = labels, device, None
        self.model_id = model
        self.sentences_per_class = len(sentences[0])
        self.about = (f"Zero-shot CLIP ({model}, {self.sentences_per_class} sentences a class, averaged): no "
                      "training yet; a trained learner will replace it.")
        flat = [sentence for of_class in sentences for sentence in of_class]
        with torch.inference_mode():
            text = self.processor(text=flat, return_tensors="pt", padding=True).to(device)
            features = self.model.get_text_features(**text)
            features = torch.nn.functional.normalize(getattr(features, "pooler_output", features), dim=-1)
            mean = features.reshape(len(labels), self.sentences_per_class, -1).mean(dim=1)
            self._text = torch.nn.functional.normalize(mean, dim=-1)

    def seen(self, image: Image.Image) -> Image.Image:
        """CLIP's view: the shorter side resized, the centre square cropped."""
        side = self.processor.image_processor.crop_size["height"]
        return ImageOps.fit(image.convert("RGB"), (side, side), Image.Resampling.BICUBIC)

    def heat_map(self, image: Image.Image, label: str) -> None:
        """CLIP compares whole-image embeddings: there is no map of where it looked."""
        return None

    def predict(self, images: Sequence[Image.Image], top_k: int = 5) -> list[Prediction]:
        if not images:
            return []
        with self._lock, torch.inference_mode():
            pixels = self.processor(images=[i.convert("RGB") for i in images], return_tensors="pt")
            features = self.model.get_image_features(pixel_values=pixels["pixel_values"].to(self.device))
            features = torch.nn.functional.normalize(getattr(features, "pooler_output", features), dim=-1)
            logits = self.model.logit_scale.exp() * features @ self._text.T
        return top_k_of(logits.softmax(dim=1).float().cpu(), self.labels, top_k)


@functools.lru_cache(maxsize=2)
def _load_clip(folder: str, device: str) -> tuple[Any, Any, threading.Lock]:
    """One CLIP in memory per folder, however many predictors read it (each page's zero-shot
    classes, each page's subject check): ViT-B/32 is 600 MB. The lock goes with the processor,
    whose tokenizer is not documented as thread-safe."""
    from transformers import CLIPModel, CLIPProcessor

    return CLIPProcessor.from_pretrained(folder), CLIPModel.from_pretrained(folder).eval().to(device), threading.Lock()


def resolve_clip(model: str) -> str:
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.txt", "*.safetensors"]
    return local_or_download(
        model,
        lambda local_only: snapshot_download(model, allow_patterns=patterns, local_files_only=local_only),
        what="CLIP", setting="GIRO_CLIP_MODEL",
    )


def load_zero_shot(task: str, model: str | None = None, device: str = "cpu") -> ZeroShotPredictor:
    """The zero-shot predictor for a page's classes (the task's phrases in each of its templates)."""
    described = tasks.task(task)
    if described.zero_shot is None:
        raise ModelError(f"{described.page} has no zero-shot classes")
    phrases = described.zero_shot()
    labels = list(phrases)
    sentences = [[t.format(phrases[label]) for t in described.zero_shot_templates] for label in labels]
    return ZeroShotPredictor(model or settings.clip_model(), labels, sentences, device)
