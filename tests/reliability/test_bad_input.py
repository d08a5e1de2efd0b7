"""Bad input: every hostile file gets a one-line message naming it, through every upload path and
the command lines; good input sent beside it is still served."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import imageio.v2 as imageio
import pytest
from PIL import Image
from skimage import data

from core.classifiers.classify import main as classify_main
from core.dream.__main__ import main as dream_main
from core.dream.stage import parse_uploaded_stage
from core.errors import ImageError, StageError
from core.images import EXTENSIONS, load_image
from tests.classifiers.test_pages import jpeg, open_page
from tests.reliability.corpus import corpus
from tests.reliability.figures import record
from tests.reliability.stages import good_stage, hostile_stages
from ui.common import as_text

CORPUS = corpus()
REFUSED = {name: want for name, _, want in CORPUS if want != "ok"}
ACCEPTED = [name for name, _, want in CORPUS if want == "ok"]
STAGES = hostile_stages()


def upload_name(name: str) -> str:
    """The name a file gets past the uploader's type filter.

    Streamlit refuses other extensions itself, in the browser (see tests/browser/test_bad_uploads.py)
    and again on the server, so hostile content has to come disguised: `drawing.svg.jpg`.
    """
    return name if name.rsplit(".", 1)[-1] in EXTENSIONS else f"{name}.jpg"


def uploads() -> list[tuple[str, bytes, str]]:
    """The corpus as a browser sends it: name, bytes and the type the browser guessed."""
    return [(upload_name(name), content, "application/octet-stream") for name, content, _ in CORPUS]


def one_message_each(messages: list[str]) -> None:
    """Exactly one single-line message per refused file, naming it and its problem."""
    for name, want in REFUSED.items():
        mine = [m for m in messages if m.startswith(f"{upload_name(name)} ")]
        assert len(mine) == 1 and want in mine[0] and "\n" not in mine[0], (name, mine)


def test_the_corpora_are_big_enough():
    assert len(CORPUS) >= 30 and len(REFUSED) >= 20
    assert len(STAGES) >= 30
    record("bad_input", {"image_files": len(CORPUS), "refused": len(REFUSED), "accepted": len(ACCEPTED),
                         "stage_files": len(STAGES)})


# ---------------------------------------------------------------- images

@pytest.mark.parametrize("name, content, want", CORPUS, ids=[c[0] for c in CORPUS])
def test_loader(name, content, want):
    """What every upload, camera shot and gallery photo goes through."""
    if want == "ok":
        image = load_image(content, name=name)
        assert image.mode == "RGB" and min(image.size) >= 1
        return
    with pytest.raises(ImageError) as caught:
        load_image(content, name=name)
    message = str(caught.value)
    assert message.startswith(name) and want in message and "\n" not in message


def test_classify_command_line(trained, giro_folders, tmp_path, capsys):
    shutil.copy(trained["pkl"], giro_folders["models"] / "bikes.pkl")
    paths = []
    for name, content, _ in CORPUS:
        (tmp_path / name).write_bytes(content)
        paths.append(str(tmp_path / name))
    assert classify_main(["bikes", *paths, "--json"]) == 1
    out, err = capsys.readouterr()
    served = [json.loads(line)["image"] for line in out.splitlines()]
    refused = err.splitlines()
    assert sorted(served) == sorted(str(tmp_path / n) for n in ACCEPTED)
    assert len(refused) == len(REFUSED)
    assert all(line.startswith(f"error: {tmp_path}") for line in refused)


@pytest.mark.parametrize("page, task", [("pages/4_Bike_ID.py", "bikes"), ("pages/2_Flower_ID.py", "flowers")])
def test_classifier_uploads(learners, shapes_data, page, task):
    at = open_page(page)
    good = ("my-square.jpg", jpeg(Image.open(sorted((shapes_data / "square").glob("*.jpg"))[0])), "image/jpeg")
    at.file_uploader(key=f"{task}_uploads").set_value([*uploads(), good]).run()
    assert not at.exception
    one_message_each([e.value for e in at.error])
    assert len(at.error) == len(REFUSED)
    seen = [c for image in at.get("image") for c in image.captions if c.endswith("as the model sees it")]
    assert seen == [f"{upload_name(name)}, as the model sees it" for name in [*ACCEPTED, "my-square.jpg"]]
    verdicts = [m.value for m in at.markdown if m.value.endswith("sure)") or m.value.startswith("Not sure")]
    assert len(verdicts) == len(ACCEPTED) + 1 and "**square**" in verdicts[-1]


def test_camera(learners):
    """A hostile client can send any bytes as a camera shot: each gets its line, the page lives."""
    at = open_page("pages/4_Bike_ID.py")
    for name, content, want in CORPUS:
        at.camera_input[0].set_value(("shot.jpg", content, "image/jpeg")).run()
        assert not at.exception, name
        if want == "ok":
            assert not at.error and any(m.value.endswith("sure)") or m.value.startswith("Not sure")
                                        for m in at.markdown), name
        else:
            assert len(at.error) == 1 and want in at.error[0].value, name
            assert at.error[0].value.startswith("camera photo ")


def test_lookalike_uploads_and_gallery_form(star_gallery_folder, monkeypatch):
    monkeypatch.setattr("ui.common.is_host", lambda: True)  # adding a star is the host's act
    at = open_page("pages/3_Film-Star_Lookalike.py")
    me = ("me.jpg", jpeg(Image.fromarray(data.astronaut())), "image/jpeg")
    at.file_uploader(key="stars_uploads").set_value([*uploads(), me]).run()
    assert not at.exception
    messages = [e.value for e in at.error]
    one_message_each(messages)
    # The pictures that decode hold no face: each says so, and the real face is still matched.
    assert sorted(m.split(":")[0] for m in messages if m.startswith("no face found in ")) == sorted(
        f"no face found in {upload_name(name)}" for name in ACCEPTED)
    assert any("You look most like **Eileen Collins**" in m.value for m in at.markdown)

    form = [u for u in at.file_uploader if u.key != "stars_uploads"][0]
    at.text_input[0].set_value("Eileen Collins")
    form.set_value([*uploads(), me])
    [b for b in at.button if b.label == "Add"][0].click().run()
    assert not at.exception
    one_message_each([w.value for w in at.warning])
    assert [s.value for s in at.success] == ["Added 1 photo of Eileen Collins."]
    assert len(list((star_gallery_folder / "Eileen Collins").glob("*.jpg"))) == 3


def test_dream_start_frame_upload(giro_folders):
    at = open_page("pages/1_Dream_a_Stage.py")
    at.radio(key="start_source").set_value("Upload a photo").run()
    accepted = 0
    for (name, content, want), (disguised, *_) in zip(CORPUS, uploads()):
        at.session_state["start_image"] = ""
        at.file_uploader(key="start_upload").set_value((disguised, content, "image/png")).run()
        assert not at.exception, name
        if want == "ok":
            assert not at.error and at.session_state["start_image"].endswith(".png"), name
            assert Image.open(at.session_state["start_image"]).format == "PNG", name
            accepted += 1
        else:
            assert len(at.error) == 1 and at.error[0].value.startswith(disguised) and want in at.error[0].value
            assert at.session_state["start_image"] == ""
    assert accepted == len(ACCEPTED)
    # Each new start frame replaced the session's last: only the newest is kept.
    (session,) = (giro_folders["runs"] / "_starts").iterdir()
    assert [p.name for p in session.iterdir()] == [Path(at.session_state["start_image"]).name]


def _png(width: int, height: int, mode: str = "RGB") -> bytes:
    import io

    buffer = io.BytesIO()
    Image.new(mode, (width, height), (0, 120, 60, 128) if mode == "RGBA" else (0, 120, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_sketch_is_decoded_like_an_upload_and_never_larger_than_its_canvas(giro_folders, monkeypatch):
    """The canvas's picture comes from the browser: a message rewritten to carry a flat
    12000x12000 PNG (580 kB, 432 MB decoded) or an EPS is refused in one line before decoding;
    a real sketch (the canvas's size, with alpha) becomes the start frame."""
    import sys
    import types

    from ui.dream.point_picker import CANVAS_WIDTH

    sent = {}  # the canvas as the rewritten message leaves it (the package cannot load outside a server)
    canvas = types.SimpleNamespace(st_canvas=lambda **kwargs: types.SimpleNamespace(image_bytes=sent.get("bytes"), json_data=None))
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", canvas)
    decoded = []
    original_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self.size) or original_load(self))
    at = open_page("pages/1_Dream_a_Stage.py")
    at.radio(key="start_source").set_value("Sketch").run()
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 12000 12000\nshowpage\n"
    for content, want in [(_png(12000, 12000), "the sketch is too large"),  # Pillow's own bomb check first
                          (_png(4000, 4000), "the sketch is too large: 4000x4000 pixels (the limit is "
                                             f"{CANVAS_WIDTH * CANVAS_WIDTH:,} pixels)"),
                          (_png(CANVAS_WIDTH + 1, CANVAS_WIDTH), "the sketch is too large"),
                          (eps, "the sketch is not an image this app can read"),
                          (b"", "the sketch is empty")]:
        sent["bytes"], decoded[:] = content, []
        [b for b in at.button if b.label == "Use this sketch"][0].click().run()
        assert not at.exception and len(at.error) == 1 and at.error[0].value.startswith(want), at.error
        assert at.session_state["start_image"] == "" and not any(w * h > CANVAS_WIDTH ** 2 for w, h in decoded)
    sent["bytes"] = _png(CANVAS_WIDTH, CANVAS_WIDTH, "RGBA")
    [b for b in at.button if b.label == "Use this sketch"][0].click().run()
    assert not at.error and not at.exception
    start = Image.open(at.session_state["start_image"])
    assert start.size == (CANVAS_WIDTH, CANVAS_WIDTH) and start.mode == "RGB"
    assert start.getpixel((5, 5)) == (127, 187, 157)  # half-transparent green over white


# ---------------------------------------------------------------- stage files

@pytest.mark.parametrize("name, content, want", STAGES, ids=[s[0] for s in STAGES])
def test_stage_upload(name, content, want):
    with pytest.raises(StageError) as caught:
        parse_uploaded_stage(content, name)
    assert want in str(caught.value) and "\n" not in str(caught.value)


def test_stage_import_on_the_page():
    at = open_page("pages/1_Dream_a_Stage.py")
    before = at.session_state["dream_rows"]
    for name, content, want in STAGES:
        at.file_uploader(key="stage_file").set_value((name, content, "application/toml")).run()
        assert not at.exception, name
        assert len(at.error) == 1 and as_text(want) in at.error[0].value, (name, at.error[0].value if at.error else None)
        assert at.session_state["dream_rows"] == before  # the stage on the page is untouched
    at.file_uploader(key="stage_file").set_value(("good.toml", good_stage(), "application/toml")).run()
    assert not at.error and not at.exception
    assert [row["frames"] for row in at.session_state["dream_rows"]] == [8]
    assert at.session_state["vp_x"] == 0.4


def test_stage_command_line(tmp_path, capsys):
    for name, content, want in STAGES:
        path = tmp_path / name
        path.write_bytes(content)
        assert dream_main(["render", str(path), "--out", str(tmp_path / "out"), "--preview"]) == 2, name
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and want in err, (name, err)
    assert not (tmp_path / "out").exists()
    (tmp_path / "good.toml").write_bytes(good_stage())
    assert dream_main(["render", str(tmp_path / "good.toml"), "--out", str(tmp_path / "out"), "--preview"]) == 0
    assert imageio.get_reader(tmp_path / "out" / "loop.mp4").count_frames() == 8  # a preview keeps no PNGs
