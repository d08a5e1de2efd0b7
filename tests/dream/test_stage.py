"""core.dream.stage: reading, checking and writing stage files."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.dream.stage import (fields_help, load_stage, parse_stage, parse_uploaded_stage, stage_from_dict,
                              stage_to_toml)
from core.errors import StageError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GOOD = """
[render]
steps = 10
loop_frames = 2
[[segment]]
prompt = "a road"
frames = 8
"""


def stage_with(render: str = "", segment: str = "") -> str:
    """A small valid stage with `render` and `segment` lines added (replacing the defaults)."""
    defaults = "".join(f"{k} = {v}\n" for k, v in (("steps", 10), ("loop_frames", 2)) if f"{k} =" not in render)
    return f'[render]\n{defaults}{render}\n[[segment]]\nprompt = "a road"\nframes = 8\n{segment}\n'


def test_examples_load():
    giro = load_stage(EXAMPLES / "giro_stage.toml")
    assert [s.frames for s in giro.segments] == [25, 25, 50, 50, 25, 50, 50]
    assert giro.segments[2].prompt == "a road by the sea, trees on the right, sunny day, Italy"
    avenue = load_stage(EXAMPLES / "avenue_loop.toml")
    assert avenue.total_frames == 256 and avenue.render.loop_frames > 0


def test_round_trip_through_toml():
    stage = parse_stage(stage_with('vanishing_point = [0.3, 0.7]\nmodel = "some/model"',
                                   'strength = 0.6\nzoom_px = 2.5'))
    assert parse_stage(stage_to_toml(stage)) == stage


def test_prompt_with_quotes_and_unicode_round_trips():
    stage = parse_stage(GOOD.replace('"a road"', '"la strada \\"bianca\\", Montalcino – 1°"'))
    assert parse_stage(stage_to_toml(stage)) == stage


def test_first_image_is_relative_to_the_stage_file(tmp_path):
    (tmp_path / "start.png").write_bytes(b"x")
    (tmp_path / "s.toml").write_text(stage_with('first_image = "start.png"'))
    assert load_stage(tmp_path / "s.toml").render.first_image == str(tmp_path / "start.png")


REFUSED = [
    (stage_with(segment="frames = 0").replace("frames = 8\n", "", 1), "segment 1: frames must be at least 1"),
    (stage_with("zoom_px = -16.5"), "render.zoom_px must be from -16 to 16, got -16.5"),
    (stage_with("zoom_px = 256"), "render.zoom_px must be from -16 to 16, got 256"),
    (stage_with("zoom_px = 16.25"), "render.zoom_px must be from -16 to 16, got 16.25"),
    (stage_with("rotate = 10.5"), "render.rotate must be from -10 to 10, got 10.5"),
    (stage_with(segment="rotate = nan"), "segment 1: rotate must be from -10 to 10, got nan"),
    (stage_with("pan = [0, 17]"), r"render.pan must be \[x, y\], each from -16 to 16 pixels, got \[0, 17\]"),
    (stage_with(segment="pan = [-20.5, 0]"), r"segment 1: pan must be \[x, y\], each from -16 to 16"),
    (stage_with(segment="pan = 3"), r"segment 1: pan must be two numbers \[x, y\], got 3"),
    (stage_with(segment="vanishing_point = [0.5, -0.1]"), "segment 1: vanishing_point must lie in the frame"),
    (stage_with(segment='rotate = "left"'), "segment 1: rotate must be a number"),
    (stage_with(segment="zoom_px = 300"), "segment 1: zoom_px"),
    (stage_with("strength = 0"), "render.strength must be from 0.01 to 1, got 0.0"),
    (stage_with("strength = 0.005"), "render.strength must be from 0.01 to 1, got 0.005"),
    (stage_with("strength = 1.5"), "render.strength must be from 0.01 to 1, got 1.5"),
    (stage_with("transition_frames = 121"), "render.transition_frames must be from 0 to 120, got 121"),
    (stage_with("seed = 4294967296"), "render.seed must be from 0 to 4294967295, got 4294967296"),
    (stage_with(segment="strength = -0.2"), "segment 1: strength"),
    (stage_with("steps = 2\nstrength = 0.4"), r"runs no denoising step \(int\(steps \* strength\) = 0\)"),
    (stage_with("steps = 0"), "render.steps must be from 1 to 150"),
    (stage_with("vanishing_point = [1.2, 0.5]"), "render.vanishing_point must lie in the frame"),
    (stage_with("vanishing_point = [0.5]"), "render.vanishing_point must be two numbers"),
    (stage_with("width = 500"), "render.width must be a multiple of 8"),
    (stage_with("height = 4096"), "render.height must be a multiple of 8"),
    (stage_with("guidance = 31"), "render.guidance must be from 0 to 30"),
    (stage_with("fps = 0"), "render.fps must be from 1 to 60"),
    (stage_with("seed = -1"), "render.seed"),
    (stage_with("loop_frames = 8"), "render.loop_frames must be from 0 to 7"),
    (stage_with('loop_curve = "bounce"'), "render.loop_curve must be linear, ease-in-out"),
    (stage_with('colour_coherence = "palette"'), "render.colour_coherence must be off, frame0, segment"),
    (stage_with('noise = "pink"'), "render.noise must be per-frame, fixed"),
    (stage_with('strength_taper = "yes"'), "render.strength_taper must be true or false"),
    (stage_with("transition_frames = -2"), "render.transition_frames"),
    (stage_with("sharpen = 2.5"), "render.sharpen must be from 0 to 2, got 2.5"),
    (stage_with(segment="add_noise = -0.1"), "segment 1: add_noise must be from 0 to 0.5, got -0.1"),
    (stage_with("negative_prompt = 3"), "render.negative_prompt must be text, got 3"),
    (stage_with('first_image = "nowhere.png"'), "render.first_image: nowhere.png does not exist"),
    (stage_with("colour_coherence = 1"), "render.colour_coherence must be off, frame0, segment"),
    (stage_with('width = "512"'), "render.width must be a whole number"),
    (stage_with("steps = 10.5"), "render.steps must be a whole number"),
    (stage_with("strength = true"), "render.strength must be a number"),
    (stage_with("colour = true"), "\\[render\\]: unknown field 'colour'"),
    (stage_with(segment="negative = 'x'"), "segment 1: unknown field 'negative'"),
    (stage_with(segment='prompt2 = "x"'), "segment 1: unknown field 'prompt2'"),
    (GOOD + "\n[extra]\na = 1\n", "the stage: unknown field 'extra'"),
    ("[render]\nsteps = 10\n", "the stage needs at least one \\[\\[segment\\]\\]"),
    ("[render]\n[[segment]]\nprompt = 'x'\n", "segment 1: frames is missing"),
    ("[render]\n[[segment]]\nframes = 3\n", "segment 1: prompt is missing"),
    ("[render]\n[[segment]]\nprompt = '  '\nframes = 3\n", "segment 1: prompt is empty"),
    ("[render]\n[[segment]]\nprompt = 'x'\nframes = 1000000\n", "1000000 frames, over the cap of 2000"),
    ("[render\nsteps = 3", "the stage is not valid TOML"),
    ("render = 3\n[[segment]]\nprompt = 'x'\nframes = 3\n", "\\[render\\] must be a table"),
]


@pytest.mark.parametrize("text, message", REFUSED)
def test_refused_with_one_line_naming_the_field(text, message):
    with pytest.raises(StageError, match=message) as caught:
        parse_stage(text)
    assert "\n" not in str(caught.value)


def test_cap_is_configurable(monkeypatch):
    monkeypatch.setenv("GIRO_DREAM_MAX_FRAMES", "5")
    with pytest.raises(StageError, match="over the cap of 5"):
        parse_stage(GOOD)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(GOOD.replace("a road", "caf\xe9").encode("latin-1"))
    with pytest.raises(StageError, match="^latin1.toml is not UTF-8 text$"):
        load_stage(path)


def test_missing_file(tmp_path):
    with pytest.raises(StageError, match="cannot read nothing.toml"):
        load_stage(tmp_path / "nothing.toml")


def test_help_lists_every_field():
    text = fields_help()
    for name in ("model", "width", "height", "seed", "zoom_px", "strength", "guidance", "steps",
                 "fps", "loop_frames", "loop_curve", "vanishing_point", "first_image",
                 "colour_coherence", "noise", "strength_taper", "transition_frames", "prompt", "frames"):
        assert f"  {name} " in text


def test_colour_coherence_written_as_true_or_false_reads_as_a_mode():
    """Stages from before the modes said true (frame 0's colours) or false."""
    assert parse_stage(stage_with("colour_coherence = true")).render.colour_coherence == "frame0"
    assert parse_stage(stage_with("colour_coherence = false")).render.colour_coherence == "off"


def test_byte_order_mark_is_accepted():
    assert parse_stage("\ufeff".encode() + GOOD.encode()).total_frames == 8


def test_an_uploaded_stage_names_no_file(tmp_path):
    (tmp_path / "start.png").write_bytes(b"x")
    stage, note = parse_uploaded_stage(stage_with(f'first_image = "{tmp_path / "start.png"}"').encode(), "s.toml")
    assert stage.render.first_image == "" and note.startswith("s.toml: its first_image was left out")
    assert parse_uploaded_stage(GOOD.encode(), "s.toml")[1] == ""


def test_at_most_200_segments():
    lines = ["[render]", "steps = 10"] + ["[[segment]]\nprompt = \"a road\"\nframes = 1"] * 201
    with pytest.raises(StageError, match="^the stage has 201 segments, over the cap of 200$"):
        parse_stage("\n".join(lines))
    assert len(parse_stage("\n".join(lines[:-1])).segments) == 200


def test_escapes_round_trip_outside_the_basic_plane():
    # The flag of Scotland is a black flag and tag characters (U+E0067...), which are not printable.
    text = 'a ride to 🏔️ "Stelvio" \\ back\ttab, 𝒢iro 🚴‍♀️ 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f and a bell \x07'
    stage = stage_from_dict({"render": {"steps": 10, "loop_frames": 2}, "segment": [{"prompt": text, "frames": 8}]})
    again = parse_stage(stage_to_toml(stage))
    assert again == stage and again.segments[0].prompt == text


def test_what_is_accepted_exports_imports_and_resumes(tmp_path):
    """A stage just under 100 kB whose prompts write out longer (a quote becomes \\", a tab \\u0009) is
    refused in one line instead of exporting to a file that cannot be imported or resumed; one
    that fits goes round through its export and a run folder's stage.toml."""
    from core.dream.run import RunFolder

    def stage_text(prompt: str, segments: int) -> str:  # prompts as TOML literal strings
        return "[render]\nloop_frames = 0\n" + "".join(
            f"[[segment]]\nprompt = '{prompt}'\nframes = 1\n" for _ in range(segments))

    swelling = stage_text('"\t' * 240, 180)  # three bytes read, eight written
    assert 90_000 < len(swelling.encode()) < 100_000
    with pytest.raises(StageError, match=r"^the stage would be 352 kB written out, over the 100 kB a stage "
                                         r"file may have: shorten its prompts or segments$"):
        parse_uploaded_stage(swelling.encode(), "swelling.toml")
    fits = parse_stage(stage_text("a road by the sea, " * 25, 190))
    written = stage_to_toml(fits)
    assert 90_000 < len(written.encode()) <= 100_000
    assert parse_uploaded_stage(written.encode(), "again.toml")[0] == fits
    run = RunFolder(tmp_path / "run")
    run.open(fits, {"id": None, "preview": True})
    assert load_stage(run.path / "stage.toml") == fits  # what "Resume" reads


def test_a_prompt_is_at_most_a_thousand_characters():
    with pytest.raises(StageError, match=r"^segment 1: prompt is 1,001 characters, over the 1,000 a prompt may "
                                         r"have \(the model reads about 300\)$"):
        parse_stage('[render]\nloop_frames = 0\n[[segment]]\nprompt = "' + "x" * 1001 + '"\nframes = 2\n')

