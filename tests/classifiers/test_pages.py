"""AppTest: the Flower ID, Bike ID and Film-Star Lookalike pages with learners trained here."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import streamlit as st
from PIL import Image
from skimage import data
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def captions(at: AppTest) -> list[str]:
    """Captions of every picture on the page."""
    return [c for image in at.get("image") for c in image.captions]


def open_page(path: str) -> AppTest:
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=120).run()
    return at.switch_page(path).run()


@pytest.mark.parametrize("page", ["pages/4_Bike_ID.py", "pages/2_Flower_ID.py"])
def test_camera_photo_gets_a_chart_and_a_verdict(learners, shapes_data, page):
    at = open_page(page)
    assert not at.exception
    photo = Image.open(sorted((shapes_data / "square").glob("*.jpg"))[0]).resize((320, 240))
    at.camera_input[0].set_value(("shot.jpg", jpeg(photo), "image/jpeg")).run()
    assert not at.exception
    assert any("**square**" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) >= 2  # the confusion matrix and the answer
    assert "camera photo, as the model sees it" in captions(at)


def test_several_uploads_and_a_broken_one(learners, shapes_data):
    at = open_page("pages/4_Bike_ID.py")
    files = [(f"{c}.jpg", jpeg(Image.open(sorted((shapes_data / c).glob("*.jpg"))[1])), "image/jpeg")
             for c in ("circle", "triangle")]
    files.append(("broken.jpg", b"\xff\xd8\xff\xe0 not really", "image/jpeg"))
    at.file_uploader(key="bikes_uploads").set_value(files).run()
    assert not at.exception
    assert at.error[0].value == "broken.jpg is damaged or cut short and cannot be decoded"
    verdicts = [m.value for m in at.markdown if m.value.endswith("sure)") or m.value.startswith("Not sure")]
    assert "**circle**" in verdicts[0] and "**triangle**" in verdicts[1]
    assert any("Grad-CAM" in c for c in captions(at))


def test_model_card_is_shown(learners):
    at = open_page("pages/2_Flower_ID.py")
    card_text = " ".join(m.value for m in at.expander[0].markdown)
    assert "resnet18" in card_text and "Held-out accuracy" in card_text
    assert "top-5" not in card_text  # three classes: every answer is in the top five


def test_the_answer_comes_before_the_models_view(learners, shapes_data):
    at = open_page("pages/4_Bike_ID.py")
    photo = Image.open(sorted((shapes_data / "square").glob("*.jpg"))[0]).resize((320, 240))
    at.camera_input[0].set_value(("shot.jpg", jpeg(photo), "image/jpeg")).run()
    def in_page_order(node):
        if getattr(node, "type", "") == "expander" or not hasattr(node, "children"):
            yield node
        for key in sorted(getattr(node, "children", {})):
            yield from in_page_order(node.children[key])

    kinds = ("markdown", "plotly_chart", "image", "imgs", "expander")
    shown = [e for e in in_page_order(at.main) if e.type in kinds]
    order = ["image" if e.type == "imgs" else e.type for e in shown]
    verdict = next(i for i, e in enumerate(shown) if e.type == "markdown" and "sure" in e.value)
    first = {kind: order.index(kind) for kind in ("plotly_chart", "image", "expander")}
    # the verdict, then its chart, then the model's view; the model card last
    assert verdict < first["plotly_chart"] < first["image"] < first["expander"], order


def test_no_model_says_what_it_needs(giro_folders, monkeypatch):
    def no_loading(task):
        raise AssertionError("the page loaded a model to learn that there is none")

    monkeypatch.setattr("ui.classify.classifier", no_loading)  # no spinner: nothing is loaded
    at = open_page("pages/4_Bike_ID.py")
    assert not at.exception and not at.code
    assert at.info[0].value.startswith("This page needs a trained bike learner or the zero-shot CLIP model")
    monkeypatch.setattr("ui.common.is_host", lambda: True)
    at = open_page("pages/4_Bike_ID.py")
    assert any("make models PARTS=bikes" in c.value for c in at.code)
    assert [b.label for b in at.button if b.label.startswith("Set up")] == ["Set up bikes now"]
    assert "openai/clip-vit-base-patch32 is not on this machine" in at.caption[0].value


def test_lookalike_matches_a_face(star_gallery_folder):
    at = open_page("pages/3_Film-Star_Lookalike.py")
    at.camera_input[0].set_value(("me.jpg", jpeg(Image.fromarray(data.astronaut())), "image/jpeg")).run()
    assert not at.exception
    assert any("You look most like **Eileen Collins**: could be the same person (face distance 0." in m.value
               for m in at.markdown)
    assert any("never stored" in c.value for c in at.caption)


def test_a_star_added_by_the_host_answers_at_once(giro_folders, monkeypatch):
    """No gallery yet: the page says so; the host adds a star, and the same click's page matches
    faces against it instead of still saying that a gallery is needed."""
    monkeypatch.setattr("ui.common.is_host", lambda: True)
    at = open_page("pages/3_Film-Star_Lookalike.py")
    assert any("needs a gallery" in i.value for i in at.info)
    at.text_input[0].set_value("Eileen Collins")
    astronaut = ("a.jpg", jpeg(Image.fromarray(data.astronaut())), "image/jpeg")
    [u for u in at.file_uploader if u.key != "stars_uploads"][0].set_value([astronaut])
    [b for b in at.button if b.label == "Add"][0].click().run()
    assert not at.exception and [s.value for s in at.success] == ["Added 1 photo of Eileen Collins."]
    assert not any("needs a gallery" in i.value for i in at.info)
    at.camera_input[0].set_value(("me.jpg", astronaut[1], "image/jpeg")).run()
    assert any("You look most like **Eileen Collins**" in m.value for m in at.markdown)


def test_the_newest_photo_is_answered_first(learners, shapes_data):
    """A camera shot after an upload: its answer comes first, not under the earlier one's."""
    at = open_page("pages/4_Bike_ID.py")
    circle = jpeg(Image.open(sorted((shapes_data / "circle").glob("*.jpg"))[1]))
    at.file_uploader(key="bikes_uploads").set_value([("circle.jpg", circle, "image/jpeg")]).run()
    photo = Image.open(sorted((shapes_data / "square").glob("*.jpg"))[0]).resize((320, 240))
    at.camera_input[0].set_value(("shot.jpg", jpeg(photo), "image/jpeg")).run()
    seen = [c for c in captions(at) if c.endswith("as the model sees it")]
    assert seen == ["camera photo, as the model sees it", "circle.jpg, as the model sees it"]


def test_lookalike_without_a_face(star_gallery_folder):
    at = open_page("pages/3_Film-Star_Lookalike.py")
    at.camera_input[0].set_value(("cup.jpg", jpeg(Image.fromarray(data.coffee())), "image/jpeg")).run()
    assert not at.exception
    assert at.error[0].value.startswith("no face found in camera photo: use a photo that shows one face")


def test_at_most_forty_photos_at_once(learners, shapes_data):
    at = open_page("pages/4_Bike_ID.py")
    photo = jpeg(Image.open(sorted((shapes_data / "circle").glob("*.jpg"))[0]))
    at.file_uploader(key="bikes_uploads").set_value([(f"{n}.jpg", photo, "image/jpeg") for n in range(45)]).run()
    assert not at.exception
    assert at.warning[0].value == "45 photos: the first 40 are used. Remove some to see the others."
    assert sum(1 for c in captions(at) if c.endswith("as the model sees it")) == 40


def add_star_forms(at: AppTest) -> int:
    return sum(1 for e in at.expander if e.label.startswith("Add a star"))


def test_only_the_host_may_add_a_star(star_gallery_folder, monkeypatch):
    """AppTest's client has a stand-in address, so it is a guest until it says otherwise (a real
    browser on the serving machine has none: Streamlit hides loopback addresses)."""
    assert add_star_forms(open_page("pages/3_Film-Star_Lookalike.py")) == 0
    monkeypatch.setattr("ui.common.is_host", lambda: True)
    at = open_page("pages/3_Film-Star_Lookalike.py")
    assert add_star_forms(at) == 1
    assert any("stored on this server" in c.value for c in at.caption)
    monkeypatch.setattr("ui.common.is_host", lambda: False)  # a phone at the meetup
    at = open_page("pages/3_Film-Star_Lookalike.py")
    assert add_star_forms(at) == 0 and not at.exception
    assert not any("stored on this server" in c.value for c in at.caption)
    monkeypatch.setenv("GIRO_ADD_STARS", "anyone")
    assert add_star_forms(open_page("pages/3_Film-Star_Lookalike.py")) == 1
    monkeypatch.setenv("GIRO_ADD_STARS", "nobody")
    monkeypatch.setattr("ui.common.is_host", lambda: True)
    assert add_star_forms(open_page("pages/3_Film-Star_Lookalike.py")) == 0


def test_the_verdict_follows_the_held_out_calibration():
    from core.classifiers.model_card import CalibrationBin, ModelCard
    from ui.classify import verdict

    card = ModelCard(["MTB", "Road", "TT"], 0.5, 1.0, "resnet34", 224, "2026-11-20", 100, "random", 19,
                     calibration=(CalibrationBin(0.0, 0.5, 6, 5), CalibrationBin(0.5, 0.9, 3, 3),
                                  CalibrationBin(0.9, 1.0, 10, 2)))
    confident_but_wrong = [("MTB", 0.95), ("Road", 0.04), ("TT", 0.01)]
    words, note = verdict(confident_but_wrong, "bike", card)
    assert words.startswith("Not sure which bike this is") and "right 2 of 10 times" in note
    words, note = verdict([("Road", 0.45), ("TT", 0.35), ("MTB", 0.2)], "bike", card)
    assert words == "**Road** (45% sure)" and note == "Held-out photos the model was 0%-50% sure of: right 5 of 6 times."
    words, note = verdict([("TT", 0.6), ("Road", 0.3), ("MTB", 0.1)], "bike", card)  # 3 answers say nothing
    assert words == "**TT** (60% sure)" and note == ""
    assert verdict(confident_but_wrong, "bike", None) == ("**MTB** (95% sure)", "")


def test_clip_says_first_when_a_photo_is_probably_not_the_subject():
    from core.classifiers.subject import SubjectAnswer
    from ui.classify import verdict

    sure_mtb = [("MTB", 0.95), ("Road", 0.04), ("TT", 0.01)]
    words, note = verdict(sure_mtb, "bike", None, SubjectAnswer("bicycle", 0.03, "horse", 0.81))
    assert words == ("Probably not a bike: to CLIP this looks more like a horse (81%) than a bicycle (3%). "
                     "Best guesses anyway: MTB (95%), Road (4%), TT (1%).") and note == ""
    assert verdict(sure_mtb, "bike", None, SubjectAnswer("bicycle", 0.6, "bicycle", 0.6)) == ("**MTB** (95% sure)", "")


def test_a_photo_of_something_else_is_called_so_where_clip_is_here(learners, taught_clip, shapes_data, monkeypatch):
    """The trained learner names a class for anything; CLIP on the machine (a tiny one taught that
    circles are bicycles and squares people) tells the guest a square is probably not a bike."""
    monkeypatch.setenv("GIRO_CLIP_MODEL", str(taught_clip))
    at = open_page("pages/4_Bike_ID.py")
    files = [(f"{c}.jpg", jpeg(Image.open(sorted((shapes_data / c).glob("*.jpg"))[60])), "image/jpeg")
             for c in ("circle", "square")]
    at.file_uploader(key="bikes_uploads").set_value(files).run()
    assert not at.exception
    verdicts = [m.value for m in at.markdown if "sure)" in m.value or m.value.startswith(("Not sure", "Probably not"))]
    assert verdicts[0].startswith("**circle**")
    assert verdicts[1].startswith("Probably not a bike: to CLIP this looks more like a person (")
    assert "Best guesses anyway: square (" in verdicts[1]
