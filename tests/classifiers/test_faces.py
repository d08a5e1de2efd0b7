"""core.classifiers.faces: detect, align and embed with dlib's bundled weights; match against a star gallery."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from core.classifiers.faces import SAME_PERSON, FaceEmbedder, StarGallery, add_star, likeness, star_name
from core.errors import FaceError, GiroError


@pytest.fixture(scope="module")
def embedder():
    return FaceEmbedder()


@pytest.fixture(scope="module")
def astronaut():
    return Image.fromarray(data.astronaut())  # public domain: Eileen Collins


def test_one_face_in_the_astronaut(embedder, astronaut):
    face = embedder.one_face(astronaut)
    left, top, right, bottom = face.box
    assert 150 < (left + right) / 2 < 290 and 50 < (top + bottom) / 2 < 200
    assert face.chip.size == (150, 150) and face.descriptor.shape == (128,)


def test_no_face_is_a_clear_message(embedder):
    with pytest.raises(FaceError, match="^no face found in coffee.jpg"):
        embedder.one_face(Image.fromarray(data.coffee()), name="coffee.jpg")


def test_two_faces_is_a_clear_message(embedder, astronaut):
    pair = Image.new("RGB", (1024, 512))
    pair.paste(astronaut, (0, 0))
    pair.paste(astronaut, (512, 0))
    with pytest.raises(FaceError, match="^2 faces found in pair.jpg: crop the photo"):
        embedder.one_face(pair, name="pair.jpg")


def test_large_phone_photo_is_found_and_cropped_at_full_resolution(embedder, astronaut):
    big = astronaut.resize((2048, 2048))
    face = embedder.one_face(big)
    assert face.box[2] - face.box[0] > 250  # in the big photo's pixels


def test_gallery_ranks_the_same_face_first(embedder, astronaut, tmp_path):
    stars = tmp_path / "stars"
    (stars / "Eileen Collins").mkdir(parents=True)
    astronaut.save(stars / "Eileen Collins" / "1.jpg")
    astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(stars / "Eileen Collins" / "2.jpg")
    (stars / "Coffee Cup").mkdir()
    Image.fromarray(data.coffee()).save(stars / "Coffee Cup" / "1.jpg")
    (stars / "Someone Else").mkdir()
    stranger_face = data.lfw_subset()[36]  # a face from LFW (scikit-image's own copy), upscaled for dlib
    Image.fromarray((stranger_face * 255).astype(np.uint8)).convert("RGB").resize(
        (200, 200), Image.Resampling.BICUBIC).save(stars / "Someone Else" / "x.jpg")
    gallery = StarGallery(stars, embedder)
    assert "Eileen Collins" in gallery.stars and "Coffee Cup" not in gallery.stars
    assert any("no face found in Coffee Cup/1.jpg" in s for s in gallery.skipped)
    query = embedder.one_face(astronaut.resize((300, 300)))
    matches = gallery.match(query, top_k=5)
    assert matches[0].star == "Eileen Collins" and matches[0].distance < 0.4
    assert likeness(matches[0].distance) == "could be the same person"
    assert matches[0].photo.parent.name == "Eileen Collins"
    stranger = next(m for m in matches if m.star == "Someone Else")
    assert stranger.distance > SAME_PERSON and likeness(stranger.distance) in ("a resemblance", "not much alike")
    assert [m.distance for m in matches] == sorted(m.distance for m in matches)


@pytest.mark.parametrize("distance, words", [
    (0.2, "could be the same person"), (0.55, "very alike: near dlib's same-person line"),
    (0.65, "a resemblance"), (0.9, "not much alike"),
])
def test_likeness_in_words(distance, words):
    assert likeness(distance) == words


def test_empty_gallery(embedder, astronaut, tmp_path):
    gallery = StarGallery(tmp_path / "nothing", embedder)
    with pytest.raises(GiroError, match="has no usable photos yet"):
        gallery.match(embedder.one_face(astronaut))


def jpeg(image: Image.Image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


@pytest.mark.parametrize("typed, kept", [
    ("  Sophia   Loren ", "Sophia Loren"),
    ("Ｓｏｐｈｉａ Ｌｏｒｅｎ", "Sophia Loren"),  # full-width letters fold to their plain forms
    ("Любовь Орлова", "Любовь Орлова"),  # one alphabet, not Latin: welcome
])
def test_star_names_are_normalised(typed, kept):
    assert star_name(typed) == kept


@pytest.mark.parametrize("typed, why", [
    ("\u0410udrey Hepburn", "mixes Cyrillic and Latin"),  # a Cyrillic А passing for a Latin A
    ("../etc", "letters, spaces"),
    ("Sophia/Loren", "letters, spaces"),
])
def test_star_names_that_are_refused(typed, why):
    with pytest.raises(GiroError, match=why):
        star_name(typed)


def test_a_star_keeps_at_most_twelve_photos_and_one_spelling(embedder, astronaut, tmp_path):
    photo, gallery = jpeg(astronaut), tmp_path / "stars"
    saved, problems = add_star(gallery, "Eileen Collins", [(f"{n}.jpg", photo) for n in range(10)], embedder)
    assert saved == 10 and problems == []
    saved, problems = add_star(gallery, "eileen COLLINS", [(f"{n}.jpg", photo) for n in range(5)], embedder)
    assert saved == 2 and problems == [
        f"{n}.jpg left out: Eileen Collins now has 12 photos, the most a star keeps" for n in (2, 3, 4)]
    assert [p.name for p in gallery.iterdir()] == ["Eileen Collins"]
    with pytest.raises(GiroError, match="^Eileen Collins already has 12 photos, the most a star keeps$"):
        add_star(gallery, "Eileen Collins", [("x.jpg", photo)], embedder)


def test_a_new_gallery_embeds_only_new_photos(embedder, astronaut, tmp_path, monkeypatch):
    for star in ("Eileen Collins", "Someone Else"):
        (tmp_path / star).mkdir()
        astronaut.save(tmp_path / star / "a.jpg")
    first = StarGallery(tmp_path, embedder)
    astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "Someone Else" / "b.jpg")
    seen = []
    one_face = embedder.one_face
    monkeypatch.setattr(embedder, "one_face", lambda image, name: seen.append(name) or one_face(image, name))
    second = StarGallery(tmp_path, embedder, previous=first)
    assert seen == ["Someone Else/b.jpg"]
    assert len(second._photos) == 3 and second.stars == first.stars
