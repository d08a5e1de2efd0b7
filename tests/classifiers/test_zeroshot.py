"""core.classifiers.zeroshot: CLIP over the page's class names, through the same loading code as the Hub model."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from core.classifiers.zeroshot import load_zero_shot
from core.errors import ModelError
from testkit.classify import save_tiny_clip


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    return save_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny-clip")


def test_bikes_zero_shot(tiny_clip):
    predictor = load_zero_shot("bikes", str(tiny_clip))
    assert predictor.kind == "zero-shot" and predictor.labels == ["Road", "TT", "MTB"]
    images = [Image.new("RGB", (80, 60), c) for c in ((200, 10, 10), (10, 200, 10))]
    predictions = predictor.predict(images, top_k=2)
    assert len(predictions) == 2 and all(len(p) == 2 for p in predictions)
    assert all(label in predictor.labels for p in predictions for label, _ in p)
    probabilities = [p for _, p in predictor.predict(images[:1], top_k=3)[0]]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) == pytest.approx(1)


def test_flowers_has_the_102_names(tiny_clip):
    predictor = load_zero_shot("flowers", str(tiny_clip))
    assert len(predictor.labels) == 102 and predictor.labels[0] == "pink primrose"
    assert len(predictor.predict([Image.new("RGB", (40, 40))], top_k=5)[0]) == 5


def test_thread_safe(tiny_clip):
    predictor = load_zero_shot("bikes", str(tiny_clip))
    image = Image.new("RGB", (50, 50), (30, 60, 90))
    alone = predictor.predict([image])[0]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: predictor.predict([image])[0], range(16)))
    assert all([l for l, _ in r] == [l for l, _ in alone] for r in results)


def test_default_model_offline_is_a_clear_message():
    began = time.monotonic()
    with pytest.raises(ModelError, match="openai/clip-vit-base-patch32 is not on this machine"):
        load_zero_shot("bikes")
    assert time.monotonic() - began < 10


def test_configurable_model(monkeypatch, tiny_clip):
    monkeypatch.setenv("GIRO_CLIP_MODEL", str(tiny_clip))
    assert load_zero_shot("bikes").model_id == str(tiny_clip)


def test_each_class_is_the_average_of_its_sentences(tiny_clip):
    """Prompt ensembling: a class's text embedding is the normalised mean of one per template."""
    import torch

    from core.classifiers import tasks
    from core.classifiers.zeroshot import ZeroShotPredictor

    templates = tasks.task("bikes").zero_shot_templates
    assert len(templates) >= 4
    predictor = load_zero_shot("bikes", str(tiny_clip))
    assert predictor.sentences_per_class == len(templates)
    assert predictor.about.startswith(f"Zero-shot CLIP ({predictor.model_id}, {len(templates)} sentences a class")
    phrases = tasks.task("bikes").zero_shot()
    singles = [ZeroShotPredictor(str(tiny_clip), list(phrases), [[t.format(p)] for p in phrases.values()])._text
               for t in templates]
    mean = torch.nn.functional.normalize(torch.stack(singles).mean(dim=0), dim=-1)
    assert torch.allclose(predictor._text, mean, atol=1e-5)
    assert not torch.allclose(predictor._text, singles[0], atol=1e-3)  # the average, not the first sentence
