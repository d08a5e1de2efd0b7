"""Security: pickles load only from the models folder, uploads are data and never paths, and what
the app writes stays in its folders. (HTTPS serving: tests/browser/test_https.py.)"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest
from PIL import Image
from skimage import data

from core.classifiers.classify import load_predictor
from core.classifiers.classify import main as classify_main
from core.errors import ModelError
from tests.classifiers.test_pages import jpeg, open_page
from tests.dream.conftest import finished
from tests.reliability.stages import good_stage
from ui.cache import render_queue
from ui.common import as_text


class Exploit:
    """A pickle that runs code when loaded: it would leave a file behind."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_pickles_load_only_from_the_models_folder(giro_folders, trained, tmp_path, capsys):
    marker = tmp_path / "pwned"
    outside = tmp_path / "upload.pkl"
    outside.write_bytes(pickle.dumps(Exploit(marker)))
    link = giro_folders["models"] / "bikes.pkl"
    os.symlink(outside, link)  # a link in the folder that points out of it
    for name in (str(outside), f"../{tmp_path.name}/upload.pkl", "bikes", "bikes.pkl", str(link)):
        with pytest.raises(ModelError, match="learners load only from the models folder"):
            load_predictor(name)
    assert classify_main([str(outside), "x.jpg"]) == 2
    assert "learners load only from the models folder" in capsys.readouterr().err
    at = open_page("pages/4_Bike_ID.py")  # the page asks for its learner by task name
    assert not at.exception and "learners load only from the models folder" in at.error[0].value
    assert not marker.exists()  # the pickle was never opened


@pytest.mark.parametrize("host", [False, True])
def test_no_page_takes_a_path(host, monkeypatch):
    """Only the host types anything but a prompt (a star's name); the Dream model folder is picked
    from models/. The negative prompts (the stage's and Live's) go to the text encoder alone."""
    monkeypatch.setattr("ui.common.is_host", lambda: host)
    typed = {}
    for page in ("pages/1_Dream_a_Stage.py", "pages/2_Flower_ID.py", "pages/3_Film-Star_Lookalike.py",
                 "pages/4_Bike_ID.py"):
        at = open_page(page)
        if page.startswith("pages/1"):
            at.radio(key="model_choice").set_value("A folder in models/").run()
        typed[page] = [t.label for t in at.text_input]
    prompts = ["Negative prompt: what no frame should show"] * 2
    assert typed == {"pages/1_Dream_a_Stage.py": prompts, "pages/2_Flower_ID.py": [],
                     "pages/3_Film-Star_Lookalike.py": ["Name"] if host else [], "pages/4_Bike_ID.py": []}


def test_the_dream_model_folder_comes_from_models(giro_folders, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    for folder in (giro_folders["models"] / "my-sd", elsewhere):
        folder.mkdir()
        (folder / "model_index.json").write_text("{}")
    at = open_page("pages/1_Dream_a_Stage.py")
    at.radio(key="model_choice").set_value("A folder in models/").run()
    # A selectbox sends back an index into these options, so a forged message cannot name another folder.
    assert at.selectbox(key="model_folder").options == ["my-sd"]
    text = " ".join(m.value for m in at.markdown)
    assert "with `my-sd`" in text and str(giro_folders["models"]) not in text  # no server path shown


def test_upload_names_are_never_paths(giro_folders, learners, tmp_path, monkeypatch):
    monkeypatch.setattr("ui.common.is_host", lambda: True)  # the star form is the host's
    photo = jpeg(Image.fromarray(data.astronaut()))
    before = files_under(tmp_path)
    # A real image on the server, named by the upload: the app must read the bytes sent, not the file.
    server_photo = tmp_path / "server.jpg"
    Image.new("RGB", (50, 50), "red").save(server_photo)
    at = open_page("pages/4_Bike_ID.py")
    at.file_uploader(key="bikes_uploads").set_value([(str(server_photo), b"junk", "image/jpeg")]).run()
    assert at.error[0].value.startswith(as_text(f"{server_photo} is not an image this app can read"))

    at = open_page("pages/1_Dream_a_Stage.py")
    at.radio(key="start_source").set_value("Upload a photo").run()
    at.file_uploader(key="start_upload").set_value(("../../../../escape.jpg", photo, "image/jpeg")).run()
    start = Path(at.session_state["start_image"])
    assert start.parent == giro_folders["runs"] / "_starts" / at.session_state["owner"] and start.suffix == ".png"

    at = open_page("pages/3_Film-Star_Lookalike.py")
    at.text_input[0].set_value("Eileen Collins")
    [u for u in at.file_uploader if u.key != "stars_uploads"][0].set_value(
        [("../../../../escape.jpg", photo, "image/jpeg")])
    [b for b in at.button if b.label == "Add"][0].click().run()
    saved = list((giro_folders["data"] / "stars").rglob("*.jpg"))
    assert len(saved) == 1 and saved[0].parent == giro_folders["data"] / "stars" / "Eileen Collins"
    at.text_input[0].set_value("../../escape")
    [u for u in at.file_uploader if u.key != "stars_uploads"][0].set_value([("a.jpg", photo, "image/jpeg")])
    [b for b in at.button if b.label == "Add"][0].click().run()
    assert at.error[0].value.startswith("a star's name is letters")
    assert files_under(tmp_path) - before == {server_photo, start, saved[0]}


def test_an_uploaded_stage_cannot_name_a_server_file(tmp_path):
    secret = tmp_path / "secret.png"
    Image.new("RGB", (64, 64), "blue").save(secret)
    stage = good_stage().replace(b"[render]\n", f'[render]\nfirst_image = "{secret}"\n'.encode())
    at = open_page("pages/1_Dream_a_Stage.py")
    at.file_uploader(key="stage_file").set_value(("s.toml", stage, "application/toml")).run()
    assert not at.exception and not at.error
    assert at.warning[0].value.startswith(as_text("s.toml: its first_image was left out"))
    assert at.session_state["start_image"] == ""
    assert "start frame" not in [c for image in at.get("image") for c in image.captions]


def test_renders_and_session_folders_stay_in_runs(giro_folders, tmp_path, monkeypatch):
    broken = tmp_path / "broken-sd"  # looks like a model to the page, so Render is offered
    broken.mkdir()
    (broken / "model_index.json").write_text("{}")
    monkeypatch.setenv("GIRO_DREAM_MODEL", str(broken))
    at = open_page("pages/1_Dream_a_Stage.py")
    at.query_params["session"] = "../../../tmp"
    del at.session_state["owner"]  # a new tab whose address was tampered with
    edit = f"segments_{at.session_state['editor_version']}"
    at.session_state[edit] = {"edited_rows": {0: {"prompt": "../../../../etc/cron.d/x"}}}
    at.run()
    [button for button in at.button if button.label == "Render"][0].click().run()
    job = render_queue().get(at.session_state["job_id"])
    finished(job, 60)  # it fails at once: the model is broken
    assert job.run_dir.parent == giro_folders["runs"] and ".." not in job.run_dir.name
    assert len(at.session_state["owner"]) == 12 and at.session_state["owner"] != "../../../tmp"
    shutil.rmtree(job.run_dir, ignore_errors=True)


def test_the_host_is_the_sockets_peer_not_a_header(browser, server_env, tmp_path):
    """A browser on the serving machine that sends X-Forwarded-For (as a proxy would, or anyone
    may) is still the host: the header never decides who may add stars or start the set-up."""
    from tests.browser.conftest import DESKTOP, wait_for_app
    from tests.browser.server import AppServer

    server = AppServer(server_env, tmp_path / "streamlit.log")
    url = server.start()
    try:
        for headers in ({}, {"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.7"}):
            context = browser.new_context(viewport=DESKTOP, extra_http_headers=headers)
            page = context.new_page()
            page.goto(f"{url}/Film-Star_Lookalike")
            wait_for_app(page)
            page.get_by_text("Add a star to the gallery (host)").first.wait_for(timeout=30_000)
            context.close()
    finally:
        server.stop()
