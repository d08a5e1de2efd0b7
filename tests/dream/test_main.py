"""The command line: `python -m core.dream render STAGE.toml --out RUN_DIR`."""

from __future__ import annotations

import json

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
    assert "frame 12/12" in err
    # A preview is for watching: the MP4 alone, no GIF or zip to wait for.
    assert out == f"wrote {tmp_path / 'run' / 'loop.mp4'}\n"
    assert not (tmp_path / "run" / "loop.gif").exists() and not (tmp_path / "run" / "frames.zip").exists()


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
