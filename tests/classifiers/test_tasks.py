"""core.classifiers.tasks: one description per classifier page, read by everything that names a task."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.classifiers import tasks
from core.classifiers.classify import build_parser as classify_parser
from core.classifiers.classify import model_path
from core.classifiers.fetch import main as fetch_main
from core.classifiers.train import build_parser as train_parser

ROOT = Path(__file__).resolve().parents[2]


def test_every_task_has_its_page_file_and_a_unique_name():
    assert len(set(tasks.names())) == len(tasks.TASKS)
    for t in tasks.TASKS:
        assert (ROOT / t.script).is_file(), t.script
        assert t.source in (tasks.OXFORD, tasks.FOLDERS, tasks.GALLERY)
        assert t.extra in ("", tasks.OXFORD_PHOTO, tasks.GRAD_CAM)


def test_learners_and_data_follow_the_settings(giro_folders):
    for t in tasks.TASKS:
        assert t.learner_path() == giro_folders["models"] / f"{t.name}.pkl"
        assert t.data_path() == giro_folders["data"] / t.name


def test_the_command_lines_offer_exactly_the_registered_tasks(capsys):
    assert train_parser()._actions[1].choices == tasks.names()
    assert all(n in classify_parser()._actions[1].help for n in tasks.names())
    with pytest.raises(SystemExit):
        fetch_main(["someone/cats", "--as", "cats"])
    assert "--as {flowers,stars,bikes}" in capsys.readouterr().err


def test_a_task_name_is_its_learner_in_the_models_folder(giro_folders):
    (giro_folders["models"] / "bikes.pkl").write_bytes(b"x")
    assert model_path("bikes") == giro_folders["models"] / "bikes.pkl"


def test_zero_shot_phrases_name_every_class():
    bikes = tasks.task("bikes").zero_shot()
    assert list(bikes) == ["Road", "TT", "MTB"]
    assert len(tasks.task("flowers").zero_shot()) == 102
    assert tasks.task("stars").zero_shot is None  # the lookalike falls back to its face gallery


def test_an_unknown_task_names_the_known_ones():
    with pytest.raises(KeyError, match="no task 'cats' \\(known: flowers, stars, bikes\\)"):
        tasks.task("cats")
