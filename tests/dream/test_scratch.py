"""core.dream.scratch: start frames, candidates and previews under names of our own."""

from __future__ import annotations

import json

from PIL import Image

from core.dream.scratch import (candidate_frames, candidates_dir, clear_candidates, new_preview_dir,
                                save_start_frame)
from tests.dream.test_run import OLD_RUN


def test_start_frames_get_names_of_our_own_and_at_most_2048_px(giro_folders):
    first = save_start_frame(Image.new("RGB", (40, 30), (200, 10, 10)), "aaaaaaaaaaaa")
    assert first.parent == giro_folders["runs"] / "_starts" / "aaaaaaaaaaaa"
    with Image.open(first) as saved:
        assert saved.format == "PNG" and saved.size == (40, 30)
    big = save_start_frame(Image.new("RGB", (8000, 6000), (10, 200, 10)), "aaaaaaaaaaaa")
    with Image.open(big) as saved:
        assert saved.size == (2048, 1536)


def test_a_new_start_frame_removes_the_sessions_unused_ones(giro_folders):
    image, me = Image.new("RGB", (40, 30)), "aaaaaaaaaaaa"
    used_by_a_run = save_start_frame(image, me)
    run = giro_folders["runs"] / "run"
    run.mkdir()
    manifest = json.loads((OLD_RUN / "manifest.json").read_text())
    manifest["stage"]["render"]["first_image"] = str(used_by_a_run)
    (run / "manifest.json").write_text(json.dumps(manifest))
    queued = save_start_frame(image, me)
    dropped = save_start_frame(image, me, in_use={str(queued)})
    someone_elses = save_start_frame(image, "bbbbbbbbbbbb")
    newest = save_start_frame(image, me, in_use={str(queued)})
    assert used_by_a_run.is_file() and queued.is_file() and newest.is_file() and someone_elses.is_file()
    assert not dropped.exists()


def test_candidates_are_listed_and_cleared_per_session(giro_folders):
    for owner in ("aaaaaaaaaaaa", "bbbbbbbbbbbb"):
        candidates_dir(owner).mkdir(parents=True)
        for n in range(4):
            Image.new("RGB", (8, 8)).save(candidates_dir(owner) / f"{n}.png")
    clear_candidates("aaaaaaaaaaaa")
    assert candidate_frames("aaaaaaaaaaaa") == []
    assert [p.name for p in candidate_frames("bbbbbbbbbbbb")] == ["0.png", "1.png", "2.png", "3.png"]


def test_previews_each_get_a_new_folder_and_old_ones_go(giro_folders):
    made = []
    for _ in range(5):
        folder = new_preview_dir("aaaaaaaaaaaa")
        folder.mkdir(parents=True)
        made.append(folder)
    other = new_preview_dir("bbbbbbbbbbbb")
    other.mkdir(parents=True)
    assert len(set(made)) == 5 and made[0].parent == giro_folders["runs"] / "_previews" / "aaaaaaaaaaaa"
    assert [p.exists() for p in made] == [False, False, False, True, True] and other.exists()


def _noise(size: int) -> Image.Image:
    import numpy as np

    return Image.fromarray(np.random.default_rng(size).integers(0, 255, (size, size, 3), dtype=np.uint8))


def test_the_whole_servers_scratch_stays_within_its_quota_oldest_first(giro_folders, monkeypatch):
    """Forty guests each leave a 2048 px start frame (12.6 MB as PNG) and never come back: the
    scratch of all sessions stays under the quota, the newest kept, and a start frame a run
    folder names is never taken; a session untouched for a day goes whole."""
    import os
    import time

    import core.dream.scratch as scratch

    monkeypatch.setattr(scratch, "SCRATCH_QUOTA_MB", 40)
    picture = _noise(2048)
    kept_by_a_run = save_start_frame(picture, "000000000000")
    run = giro_folders["runs"] / "run"
    run.mkdir()
    manifest = json.loads((OLD_RUN / "manifest.json").read_text())
    manifest["stage"]["render"]["first_image"] = str(kept_by_a_run)
    (run / "manifest.json").write_text(json.dumps(manifest))
    guests = [save_start_frame(picture, f"{n:012x}") for n in range(1, 41)]
    sizes = [p.stat().st_size for p in (giro_folders["runs"] / "_starts").rglob("*.png") if p != kept_by_a_run]
    assert guests[-1].stat().st_size > 12_000_000 and sum(sizes) <= 40_000_000
    assert kept_by_a_run.is_file() and guests[-1].is_file() and not guests[0].exists()
    old = giro_folders["runs"] / "_previews" / "dddddddddddd" / "x"
    old.mkdir(parents=True)
    (old / "loop.mp4").write_bytes(b"an old preview")
    day_ago = time.time() - 25 * 3600
    os.utime(old / "loop.mp4", (day_ago, day_ago))
    new_preview_dir("eeeeeeeeeeee")
    assert not old.parent.exists()
