"""core.dream.scratch: start frames, candidates and previews under names of our own."""

from __future__ import annotations

from PIL import Image

from core.dream.scratch import (candidate_frames, candidates_dir, clear_candidates, new_preview_dir,
                                save_start_frame)


def test_start_frames_get_names_of_our_own_in_the_runs_folder(giro_folders):
    image = Image.new("RGB", (40, 30), (200, 10, 10))
    first, second = save_start_frame(image), save_start_frame(image)
    assert first != second and first.parent == second.parent == giro_folders["runs"] / "_starts"
    with Image.open(first) as saved:
        assert saved.format == "PNG" and saved.size == (40, 30)


def test_candidates_are_listed_and_cleared_per_session(giro_folders):
    for owner in ("aaaaaaaaaaaa", "bbbbbbbbbbbb"):
        candidates_dir(owner).mkdir(parents=True)
        for n in range(4):
            Image.new("RGB", (8, 8)).save(candidates_dir(owner) / f"{n}.png")
    clear_candidates("aaaaaaaaaaaa")
    assert candidate_frames("aaaaaaaaaaaa") == []
    assert [p.name for p in candidate_frames("bbbbbbbbbbbb")] == ["0.png", "1.png", "2.png", "3.png"]


def test_previews_each_get_a_new_folder(giro_folders):
    a, b = new_preview_dir(), new_preview_dir()
    assert a != b and a.parent == b.parent == giro_folders["runs"] / "_previews"
