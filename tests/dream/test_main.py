"""The command line: `python -m core.dream render STAGE.toml --out RUN_DIR`."""

from __future__ import annotations

import json
import re

import pytest

from core.dream.__main__ import main

EXAMPLE_PREVIEW = """
[render]
width = 96
height = 64
loop_frames = 4
[[segment]]
prompt = "a road"
frames = 12
"""


def test_help_documents_every_field(capsys):
    with pytest.raises(SystemExit):
        main(["render", "--help"])
    out = capsys.readouterr().out
    assert "--preview" in out and "vanishing_point" in out and "colour_coherence" in out


def test_preview_renders_without_a_model(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(EXAMPLE_PREVIEW)
    assert main(["render", str(tmp_path / "s.toml"), "--out", str(tmp_path / "run"), "--preview"]) == 0
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["status"] == "complete"
    out, err = capsys.readouterr()
    # Not a terminal: a line every few seconds and the last frame's, not a line a frame.
    assert err.splitlines()[-1].startswith("frame 12/12") and len(err.splitlines()) < 12, err
    # One closing line: the loop in words, and the MP4 alone (a preview is for watching: no GIF or zip).
    assert re.fullmatch(r"The loop's last step looks like any other \(seam with the camera's motion taken out "
                        r"\d\.\d\d; about 1 is seamless\)\. "
                        rf"Wrote {re.escape(str(tmp_path / 'run' / 'loop.mp4'))}\n", out), out
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["loop.mp4", "manifest.json", "stage.toml"]


def test_a_negative_prompt_from_the_command_line(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(EXAMPLE_PREVIEW)
    run = tmp_path / "run"
    assert main(["render", str(tmp_path / "s.toml"), "--out", str(run), "--preview", "--negative-prompt", "fog"]) == 0
    assert json.loads((run / "manifest.json").read_text())["stage"]["render"]["negative_prompt"] == "fog"
    assert main(["render", str(tmp_path / "s.toml"), "--out", str(tmp_path / "long"), "--preview",
                 "--negative-prompt", "x" * 1001]) == 2
    assert capsys.readouterr().err.endswith("error: render.negative_prompt is 1,001 characters, over the 1,000 a "
                                            "prompt may have (the model reads about 300)\n")


def test_bad_stage_is_one_line(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(EXAMPLE_PREVIEW.replace("frames = 12", "frames = 0"))
    assert main(["render", str(tmp_path / "s.toml"), "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == "error: segment 1: frames must be at least 1, got 0\n"


def test_missing_model_is_one_line(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(EXAMPLE_PREVIEW)
    assert main(["render", str(tmp_path / "s.toml"), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: CompVis/stable-diffusion-v1-4 is not on this machine")
    assert err.count("\n") == 1


def _one_line(capsys, start: str) -> None:
    err = capsys.readouterr().err
    assert err.startswith(f"error: {start}") and err.count("\n") == 1, err


def test_a_start_image_that_cannot_be_read_is_one_line(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(EXAMPLE_PREVIEW.replace("loop_frames = 4", 'loop_frames = 4\nfirst_image = "/proc/self/mem"'))
    assert main(["render", str(tmp_path / "s.toml"), "--out", str(tmp_path / "run"), "--preview"]) == 2
    _one_line(capsys, "mem cannot be read: Input/output error")


def test_out_naming_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(EXAMPLE_PREVIEW)
    (tmp_path / "taken").write_text("a file")
    assert main(["render", str(tmp_path / "s.toml"), "--out", str(tmp_path / "taken"), "--preview"]) == 2
    _one_line(capsys, "taken is a file, not a run folder")
    assert (tmp_path / "taken").read_text() == "a file"


@pytest.mark.parametrize("content", ["{}", "[]"])
def test_a_run_folder_with_a_damaged_manifest_is_one_line(tmp_path, capsys, content):
    (tmp_path / "s.toml").write_text(EXAMPLE_PREVIEW)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "manifest.json").write_text(content)
    assert main(["render", str(tmp_path / "s.toml"), "--out", str(tmp_path / "run"), "--preview"]) == 2
    _one_line(capsys, "run/manifest.json is damaged: start a new run folder")


def test_a_frame_cap_that_is_not_a_number_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GIRO_DREAM_MAX_FRAMES", "abc")
    (tmp_path / "s.toml").write_text(EXAMPLE_PREVIEW)
    assert main(["render", str(tmp_path / "s.toml"), "--out", str(tmp_path / "run"), "--preview"]) == 2
    _one_line(capsys, "GIRO_DREAM_MAX_FRAMES must be a whole number of at least 1, got 'abc'")


def test_cadence_and_the_fast_presets_settings(tiny_dream_model, tiny_vae_folder, tmp_path, capsys, monkeypatch):
    """--preset fast reads GIRO_DREAM_FAST_MODEL and GIRO_DREAM_FAST_VAE; --cadence overrides the stage."""
    monkeypatch.setenv("GIRO_DREAM_FAST_MODEL", str(tiny_dream_model))
    monkeypatch.setenv("GIRO_DREAM_FAST_VAE", str(tiny_vae_folder))
    (tmp_path / "s.toml").write_text(EXAMPLE_PREVIEW.replace("width = 96", "width = 64"))
    assert main(["render", str(tmp_path / "s.toml"), "--out", str(tmp_path / "run"), "--preset", "fast",
                 "--cadence", "4"]) == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    render = manifest["stage"]["render"]
    assert (render["steps"], render["strength"], render["guidance"], render["cadence"]) == (2, 0.5, 0.0, 4)
    assert manifest["model"]["id"] == str(tiny_dream_model) and manifest["model"]["vae"] == str(tiny_vae_folder)
    assert f"VAE {tiny_vae_folder}" in capsys.readouterr().err


def test_a_cadence_out_of_range_is_one_line(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(EXAMPLE_PREVIEW)
    assert main(["render", str(tmp_path / "s.toml"), "--out", str(tmp_path / "run"), "--preview", "--cadence", "9"]) == 2
    _one_line(capsys, "render.cadence must be from 1 to 8, got 9")


def test_a_compile_setting_that_is_not_a_switch_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GIRO_COMPILE", "maybe")
    (tmp_path / "s.toml").write_text(EXAMPLE_PREVIEW)
    assert main(["render", str(tmp_path / "s.toml"), "--out", str(tmp_path / "run")]) == 2
    _one_line(capsys, "GIRO_COMPILE must be 1 or 0, got 'maybe'")


def test_plan_prints_every_frame_without_rendering(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(EXAMPLE_PREVIEW.replace("loop_frames = 4", "loop_frames = 4\ncadence = 3"))
    assert main(["plan", str(tmp_path / "s.toml"), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["index"] for r in rows] == list(range(12)) and not (tmp_path / "run").exists()
    assert set(rows[0]) == {"index", "segment", "prompt", "negative_prompt", "keyframe", "loop_weight", "frame0_share",
                            "detail_area",
                            "strength", "guidance", "steps", "passes", "zoom_px", "rotate", "pan", "vanishing_point",
                            "seed"}
    assert [r["keyframe"] for r in rows[:4]] == [True, False, False, True]
    assert rows[0]["passes"] == 50 and {r["passes"] for r in rows if not r["keyframe"]} == {0}
    assert rows[-3]["passes"] < rows[3]["passes"]  # the loop window's last frames cost less
    assert rows[-1]["frame0_share"] > 0.75 and rows[0]["frame0_share"] == 0  # fading into frame 0
    assert main(["plan", str(tmp_path / "s.toml")]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 12


def test_plan_gives_each_frames_camera_eased_between_segments_and_back(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(EXAMPLE_PREVIEW.replace("loop_frames = 4", "loop_frames = 4\ntransition_frames = 3")
                                     + '[[segment]]\nprompt = "a bend"\nframes = 12\nrotate = 2.0\npan = [1.0, -0.5]\n'
                                     'vanishing_point = [0.3, 0.6]\nzoom_px = -1.0\n')
    assert main(["plan", str(tmp_path / "s.toml"), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    turns = [r["rotate"] for r in rows]
    assert turns[:9] == [0.0] * 9 and turns[9:12] == [0.5, 1.0, 1.5] and turns[12:20] == [2.0] * 8
    assert turns[20:] == sorted(turns[20:], reverse=True) and 0 < turns[-1] < 0.5  # back towards frame 0's
    assert rows[15]["pan"] == [1.0, -0.5] and rows[15]["vanishing_point"] == [0.3, 0.6]
    assert rows[15]["zoom_px"] == -1.0 and rows[0]["vanishing_point"] == [0.5, 0.5]
    assert main(["plan", str(tmp_path / "s.toml")]) == 0
    assert "turn 2 deg  pan 1,-0.5 px  about 0.30,0.60" in capsys.readouterr().out


def test_plan_of_a_bad_stage_is_one_line(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(EXAMPLE_PREVIEW.replace("frames = 12", "frames = 0"))
    assert main(["plan", str(tmp_path / "s.toml")]) == 2
    _one_line(capsys, "segment 1: frames must be at least 1, got 0")


def test_plan_reads_no_more_than_a_stage_and_prints_no_terminal_escapes(tmp_path, capsys):
    """`plan /dev/zero` stops at the stage size (it read the whole endless file before); a shared
    stage's prompt cannot retitle or clear the terminal; a folder nobody can write is no full disk."""
    assert main(["plan", "/dev/zero"]) == 2
    assert capsys.readouterr().err == "error: zero is over 100 kB: a stage file is a few lines of text\n"
    (tmp_path / "s.toml").write_text(
        '[render]\nloop_frames = 0\n[[segment]]\nprompt = "a road \\u001b]0;owned\\u0007\\u001b[2J"\nframes = 1\n')
    assert main(["plan", str(tmp_path / "s.toml")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "a road \\x1b]0;owned\\x07\\x1b[2J" in out
    assert main(["render", str(tmp_path / "s.toml"), "--out", "/proc/giro-x", "--preview"]) == 2
    err = capsys.readouterr().err
    assert "free some space" not in err and "pick a folder this user can write" in err
