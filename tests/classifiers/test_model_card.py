"""core.classifiers.model_card: the card beside a learner, read and written in one place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.classifiers.model_card import CalibrationBin, ModelCard
from core.errors import ModelError

CARD_V1 = Path(__file__).parent / "fixtures" / "card_v1.json"  # as core.classifiers.train wrote them


def test_a_card_written_by_todays_training_opens_and_saves_the_same(tmp_path):
    card = ModelCard.load(CARD_V1)
    assert card.classes == ["MTB", "Road", "TT"] and card.accuracy == 0.9167 and card.n_held_out == 36
    assert card.calibration[1] == CalibrationBin(0.5, 0.7, 4, 3) and card.versions["fastai"] == "2.8.12"
    assert card.progressive_sizes == [128, 224] and card.pretrained is True
    card.save(tmp_path / "card.json")
    assert json.loads((tmp_path / "card.json").read_text()) == json.loads(CARD_V1.read_text())
    assert ModelCard.load(tmp_path / "card.json") == card


def test_an_older_card_without_the_training_record_opens(tmp_path):
    shown = {k: v for k, v in json.loads(CARD_V1.read_text()).items()
             if k in ("classes", "accuracy", "top5_accuracy", "architecture", "image_size", "date", "n_train",
                      "split", "n_held_out")}
    (tmp_path / "old.json").write_text(json.dumps({**shown, "a_field_from_elsewhere": 1}))
    card = ModelCard.load(tmp_path / "old.json")
    assert card.calibration == () and card.confusion_matrix is None and card.task is None
    assert card.held_out_record(0.95) is None  # no calibration: nothing to say


def test_the_held_out_record_needs_enough_answers():
    card = ModelCard.load(CARD_V1)
    assert card.held_out_record(0.995) == CalibrationBin(0.99, 1.0, 14, 14)
    assert card.held_out_record(1.0) == CalibrationBin(0.99, 1.0, 14, 14)  # the top bin holds 1
    assert card.held_out_record(0.3) is None  # 2 answers say nothing


def test_no_card_is_none_and_a_broken_one_is_one_line(tmp_path):
    assert ModelCard.load(tmp_path / "none.json") is None
    (tmp_path / "bikes.json").write_text('{"architecture": "resnet18", "image_size": true}')
    with pytest.raises(ModelError, match="^bikes.json is not a model card this app can read: image_size is missing "
                                         "or not a whole number$"):
        ModelCard.load(tmp_path / "bikes.json")
