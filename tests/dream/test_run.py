"""core.dream.run: the typed manifest, old manifests, damaged ones, run names and the frames zip."""

from __future__ import annotations

import json
import shutil
import uuid
import zipfile
from pathlib import Path

import pytest

from core.dream.render import Progress, render
from core.dream.run import MANIFEST, Manifest, RunFolder, list_runs
from core.dream.stage import load_stage
from core.errors import StageError

OLD_RUN = Path(__file__).parent / "fixtures" / "run_v1"  # written by the code before Manifest existed


def test_a_manifest_written_before_the_dataclass_still_opens():
    manifest = RunFolder(OLD_RUN).manifest()
    raw = json.loads((OLD_RUN / MANIFEST).read_text())
    assert manifest.complete and manifest.frames_done == manifest.frames_total == raw["frames_total"] == 4
    assert manifest.title == "a road in tuscany" and manifest.seeds == [42, 43, 44, 45]
    assert manifest.seam == raw["seam"] and manifest.created == raw["created"]


def test_an_old_interrupted_run_opens_under_the_new_code(tmp_path):
    """A preview made by the code before the tensor path: it is previewed again from frame 0 (a
    preview keeps no frames now), keeping its manifest's history."""
    run_dir = tmp_path / "old"
    shutil.copytree(OLD_RUN, run_dir)
    for late in (2, 3):
        (run_dir / "frames" / f"{late:05d}.png").unlink()
    raw = json.loads((run_dir / MANIFEST).read_text())
    raw.update(status="rendering", frames_done=2)
    (run_dir / MANIFEST).write_text(json.dumps(raw))
    frames = [p.frame for p in render(load_stage(run_dir / "stage.toml"), run_dir) if isinstance(p, Progress)]
    assert frames == [0, 1, 2, 3]
    again = RunFolder(run_dir).manifest()
    assert again.complete and again.frames_done == 4 and again.created == raw["created"]
    assert (run_dir / "loop.mp4").is_file() and again.seam is not None


def test_save_and_load_round_trip(tmp_path):
    manifest = RunFolder(OLD_RUN).manifest()
    manifest.save(tmp_path / MANIFEST)
    again = Manifest.load(tmp_path / MANIFEST)
    assert again == manifest and again.updated  # save stamps the time


@pytest.mark.parametrize("content", ["{}", "[]", "null", '{"stage": {}}', "not json", "\xff",
                                     '{"stage": {"segment": []}, "model": {}, "frames_total": 1, '
                                     '"seeds": [], "frame_seconds": []}'])
def test_a_damaged_manifest_is_one_line_and_skipped_by_the_listing(tmp_path, content):
    run_dir = tmp_path / "runs" / "broken"
    run_dir.mkdir(parents=True)
    (run_dir / MANIFEST).write_text(content, encoding="latin-1")
    with pytest.raises(StageError, match=r"^broken/manifest.json is damaged: start a new run folder$"):
        RunFolder(run_dir).manifest()
    shutil.copytree(OLD_RUN, tmp_path / "runs" / "good")
    assert [path.name for path, _ in list_runs(tmp_path / "runs")] == ["good"]


def test_new_run_folders_are_named_by_time_and_prompt_and_never_collide(tmp_path):
    names = {RunFolder.create(tmp_path, "Tuscan hills / at dawn!").path.name for _ in range(50)}
    assert len(names) == 50
    assert all("-tuscan-hills-at-dawn-" in name for name in names)
    assert all(Path(tmp_path / name).parent == tmp_path for name in names)
    assert all((tmp_path / name).is_dir() for name in names)


def test_a_clashing_run_folder_name_is_drawn_again(tmp_path, monkeypatch):
    # Two Renders in one second with one prompt and the same random suffix: the second run must not
    # land in the first run's folder.
    draws = iter([uuid.UUID(hex="a" * 32), uuid.UUID(hex="a" * 32), uuid.UUID(hex="b" * 32)])
    monkeypatch.setattr("core.dream.run.uuid.uuid4", lambda: next(draws))
    monkeypatch.setattr("core.dream.run.time.strftime", lambda _: "20261128-120000")
    first = RunFolder.create(tmp_path, "Sea")
    second = RunFolder.create(tmp_path, "Sea")
    assert first.path != second.path and first.path.is_dir() and second.path.is_dir()


def test_frames_zip_is_made_once_with_every_frame(tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(OLD_RUN, run_dir)
    run = RunFolder(run_dir)
    path = run.frames_zip(4)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == [f"frames/{i:05d}.png" for i in range(4)]
    stamp = path.stat().st_mtime_ns
    assert run.frames_zip(4).stat().st_mtime_ns == stamp
    assert not list(run_dir.glob(".*part*"))


def test_ten_sessions_opening_a_render_at_once_each_get_a_whole_zip(tmp_path):
    """The zip of an older run is made on demand: ten threads asking at once used to collide on
    one temporary name (two of three got FileNotFoundError)."""
    from concurrent.futures import ThreadPoolExecutor

    run_dir = tmp_path / "run"
    shutil.copytree(OLD_RUN, run_dir)
    run = RunFolder(run_dir)
    with ThreadPoolExecutor(10) as pool:
        paths = list(pool.map(lambda _: run.frames_zip(4), range(10)))
    assert set(paths) == {run_dir / "frames.zip"}
    with zipfile.ZipFile(run_dir / "frames.zip") as archive:
        assert archive.testzip() is None and len(archive.namelist()) == 4
    assert not list(run_dir.glob(".*part*"))
