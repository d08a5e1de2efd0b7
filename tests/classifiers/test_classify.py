"""core.classifiers.classify: the fast predictor equals learn.predict, batches, and is thread-safe."""

from __future__ import annotations

import io
import json
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from PIL import Image

from core.classifiers.classify import load_predictor, main, model_path
from core.errors import ModelError
from core.images import load_image


def shapes(data, count=6):
    return [load_image(p) for c in ("circle", "square", "triangle")
            for p in sorted((data / c).glob("*.jpg"))[:count // 3]]


def test_equal_to_learn_predict(learner_in_models, shapes_data):
    from fastai.learner import load_learner

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        learn = load_learner(learner_in_models)
    predictor = load_predictor("bikes")
    images = shapes(shapes_data)
    ours = predictor.probabilities(images)
    for image, row in zip(images, ours):
        label, _, theirs = learn.predict(image)
        assert torch.allclose(row, theirs, atol=1e-4)
        assert predictor.labels[int(row.argmax())] == label


def test_top_k_best_first_and_card(learner_in_models, shapes_data):
    predictor = load_predictor(learner_in_models)
    (prediction,) = predictor.predict(shapes(shapes_data, 3)[:1], top_k=5)
    assert len(prediction) == 3  # only three classes
    assert [p for _, p in prediction] == sorted((p for _, p in prediction), reverse=True)
    assert abs(sum(p for _, p in prediction) - 1) < 1e-5
    assert predictor.card.accuracy >= 0.9 and predictor.kind == "learner"


def test_exif_rotated_copy_gets_the_same_prediction(learner_in_models, shapes_data):
    predictor = load_predictor("bikes")
    photo = Image.open(sorted((shapes_data / "triangle").glob("*.jpg"))[0])
    sideways = photo.rotate(90, expand=True)  # stored sideways, as a phone does
    exif = Image.Exif()
    exif[0x0112] = 6  # ... with the flag that says: turn 90 degrees clockwise to view
    buffer = io.BytesIO()
    sideways.save(buffer, format="JPEG", exif=exif, quality=95)
    upright = load_image(buffer.getvalue())
    assert upright.size == photo.size
    original = predictor.predict([load_image(sorted((shapes_data / "triangle").glob("*.jpg"))[0])])[0]
    rotated = predictor.predict([upright])[0]
    assert rotated[0][0] == original[0][0] == "triangle"


def test_sixteen_threads_get_what_one_thread_gets(learner_in_models, shapes_data):
    predictor = load_predictor("bikes")
    images = shapes(shapes_data, 12)
    alone = [predictor.predict([image])[0] for image in images]
    with ThreadPoolExecutor(16) as pool:
        together = list(pool.map(lambda i: predictor.predict([images[i % 12]])[0], range(64)))
    for i, prediction in enumerate(together):
        assert [l for l, _ in prediction] == [l for l, _ in alone[i % 12]]
        assert [p for _, p in prediction] == pytest.approx([p for _, p in alone[i % 12]], abs=1e-5)


def test_batched_equals_one_by_one(learner_in_models, shapes_data):
    predictor = load_predictor("bikes")
    images = shapes(shapes_data, 9)
    batched = predictor.probabilities(images)
    single = torch.cat([predictor.probabilities([i]) for i in images])
    assert torch.allclose(batched, single, atol=1e-5)


def test_learners_load_only_from_the_models_folder(learner_in_models, tmp_path):
    outside = tmp_path / "elsewhere.pkl"
    outside.write_bytes(learner_in_models.read_bytes())
    with pytest.raises(ModelError, match="learners load only from the models folder"):
        load_predictor(outside)
    with pytest.raises(ModelError, match="outside it"):
        model_path("../elsewhere.pkl")
    with pytest.raises(ModelError, match="not a learner"):
        model_path(learner_in_models.with_suffix(".json"))


def test_corrupt_learner(giro_folders):
    (giro_folders["models"] / "flowers.pkl").write_bytes(b"\x80\x04not a pickle at all")
    with pytest.raises(ModelError, match="flowers.pkl is not a fastai learner this app can load"):
        load_predictor("flowers")


def test_missing_learner():
    with pytest.raises(ModelError, match="no learner at .*stars.pkl"):
        load_predictor("stars")


def test_command_line_json_and_a_bad_image(learner_in_models, shapes_data, tmp_path, capsys):
    good = sorted((shapes_data / "circle").glob("*.jpg"))[0]
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    assert main(["bikes", str(good), str(bad), "--top-k", "2", "--json"]) == 1
    out, err = capsys.readouterr()
    line = json.loads(out.strip())
    assert line["image"] == str(good) and len(line["predictions"]) == 2
    assert line["predictions"][0]["label"] == "circle"
    assert err.strip() == f"error: {bad} is damaged or cut short and cannot be decoded"


def test_command_line_plain(learner_in_models, shapes_data, capsys):
    good = sorted((shapes_data / "square").glob("*.jpg"))[0]
    assert main(["bikes", str(good)]) == 0
    assert capsys.readouterr().out.startswith(f"{good}: square (")


@pytest.mark.parametrize("text, reason", [
    ('{"architecture": "resnet18", "accur', "Unterminated string"),
    ("[]", "not a JSON object"),
    ('{"architecture": "resnet18"}', "image_size is missing or not a whole number"),
    ('{"architecture": "resnet18", "image_size": 64, "date": "x", "n_train": 1, "split": "s", '
     '"accuracy": "high", "top5_accuracy": 1.0, "n_held_out": 1, "classes": []}', "accuracy is missing or not a number"),
    ('{"architecture": "resnet18", "image_size": 64, "date": "x", "n_train": 1, "split": "s", "accuracy": 1, '
     '"top5_accuracy": 1.0, "n_held_out": 1, "classes": [], "calibration": [{"from": 0}]}', "calibration is malformed"),
])
def test_a_broken_model_card_is_one_line(learner_in_models, text, reason, capsys):
    (learner_in_models.parent / "bikes.json").write_text(text)
    with pytest.raises(ModelError, match=f"^bikes.json is not a model card this app can read: {reason}"):
        load_predictor("bikes")
    assert main(["bikes", "whatever.jpg"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bikes.json is not a model card") and err.count("\n") == 1


def test_an_unreadable_image_does_not_stop_the_batch(learner_in_models, shapes_data, capsys):
    good = str(sorted((shapes_data / "circle").glob("*.jpg"))[0])
    assert main(["bikes", "/proc/self/mem", good, "--json"]) == 1
    out, err = capsys.readouterr()
    assert err == "error: /proc/self/mem cannot be read: Input/output error\n"
    assert json.loads(out)["image"] == good


def test_the_command_line_holds_a_batch_of_photos_at_the_pages_size(learner_in_models, tmp_path, capsys, monkeypatch):
    """Forty 12-megapixel photos: each decoded at the size the page keeps (1024 px, a JPEG at a
    quarter of its scale), answered a batch of 32 at a time, every one answered once, in order.
    Held at full size all at once, twelve of them cost 1.8 GB."""
    import core.classifiers.classify as classify
    from core.settings import PHOTO_MAX_SIDE

    photo = tmp_path / "big.jpg"
    Image.radial_gradient("L").resize((4000, 3000)).convert("RGB").save(photo, quality=80)
    held, sizes = [], []
    predictor = load_predictor("bikes")
    original = type(predictor).predict
    monkeypatch.setattr(type(predictor), "predict", lambda self, images, top_k=5: held.append(len(images))
                        or sizes.extend(i.size for i in images) or original(self, images, top_k))
    monkeypatch.setattr(classify, "load_predictor", lambda name: predictor)
    assert main(["bikes", *[str(photo)] * 40, "--json"]) == 0
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(answers) == 40 and held == [32, 8]
    assert max(max(size) for size in sizes) <= PHOTO_MAX_SIDE
