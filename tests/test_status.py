"""core.status: what is on this machine, and the command that gets what is not."""

from __future__ import annotations

from core.classifiers.tasks import task
from core.status import all_status, dream_folders, dream_status, learner_status
from testkit.classify import save_tiny_clip


def test_nothing_present(giro_folders):
    statuses = {s.page: s for s in all_status()}
    assert not any(s.available for s in statuses.values())
    # The models `make models` gets: its command, part by part.
    assert statuses["Dream a Stage"].get_command == "make models PARTS=dream"
    assert statuses["Bike ID"].get_command == "make models PARTS=bikes"
    assert statuses["Film-Star Lookalike"].get_command == "make models PARTS=stars"
    assert [s.setup_part for s in all_status()] == ["dream", "flowers", "stars", "bikes"]


def test_a_model_setup_does_not_fetch_is_named_with_its_own_download(monkeypatch):
    monkeypatch.setenv("GIRO_DREAM_MODEL", "someone/their-sd")
    status = dream_status("someone/other-sd")
    assert status.get_command == "hf download someone/other-sd" and status.setup_part == ""


def test_learner_then_zero_shot(giro_folders, monkeypatch, tmp_path):
    monkeypatch.setenv("GIRO_CLIP_MODEL", str(save_tiny_clip(tmp_path / "clip")))
    assert learner_status(task("flowers")).where.endswith("(zero-shot)")
    (giro_folders["models"] / "flowers.pkl").write_bytes(b"x")
    status = learner_status(task("flowers"))
    assert status.available and status.where == str(giro_folders["models"] / "flowers.pkl")


def test_star_gallery(giro_folders):
    star = giro_folders["data"] / "stars" / "Sophia Loren"
    star.mkdir(parents=True)
    (star / ".searched").write_text("8")
    assert not learner_status(task("stars")).available  # a folder without a photo answers nothing
    (star / "a.jpg").write_bytes(b"jpeg")
    assert learner_status(task("stars")).available


def test_local_dream_model_folder(tmp_path):
    assert not dream_status(str(tmp_path)).available
    (tmp_path / "model_index.json").write_text("{}")
    assert dream_status(str(tmp_path)).available



def test_dream_folders_are_the_diffusers_folders_in_models(giro_folders):
    for name in ("sd-b", "sd-a", "not-a-model"):
        (giro_folders["models"] / name).mkdir()
    for name in ("sd-a", "sd-b"):
        (giro_folders["models"] / name / "model_index.json").write_text("{}")
    assert dream_folders() == ["sd-a", "sd-b"]


def test_dream_model_folder_that_is_not_there(tmp_path):
    status = dream_status(str(tmp_path / "sd"))
    assert not status.available
    assert status.get_command == f"hf download CompVis/stable-diffusion-v1-4 --local-dir {tmp_path / 'sd'}"


def test_a_missing_tiny_vae_is_what_dream_needs(giro_folders, tmp_path):
    from core.status import dream_status

    (tmp_path / "sd").mkdir()
    (tmp_path / "sd" / "model_index.json").write_text("{}")
    assert dream_status(str(tmp_path / "sd")).available
    missing = dream_status(str(tmp_path / "sd"), "madebyollin/taesd")
    assert not missing.available and missing.get_command == "make models PARTS=dream"
    (tmp_path / "taesd").mkdir()
    (tmp_path / "taesd" / "config.json").write_text("{}")
    assert dream_status(str(tmp_path / "sd"), str(tmp_path / "taesd")).available
