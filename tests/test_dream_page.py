"""AppTest: the Dream a Stage page's controls and table drive the plotted schedule."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def page():
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60).run()
    at.switch_page("pages/1_Dream_a_Stage.py").run()
    assert not at.exception
    return at


def schedule(at) -> dict[str, list[float]]:
    """The plotted traces by name, read back from the chart the page sent."""
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return {trace["name"]: trace["y"] for trace in spec["data"]}


def segment_lines(at) -> int:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return sum(1 for shape in spec["layout"].get("shapes", []) if shape.get("type") == "line")


def test_giro_preset_is_plotted(page):
    weights = schedule(page)["frame 0's share"]
    assert len(weights) == 275 and segment_lines(page) == 7
    assert sum(1 for w in weights if w > 0) == 24


def test_loop_slider_and_curve_move_the_plot(page):
    page.number_input(key="loop_frames").set_value(50).run()
    weights = schedule(page)["frame 0's share"]
    assert sum(1 for w in weights if w > 0) == 50
    page.radio(key="loop_curve").set_value("linear").run()
    shares = schedule(page)["frame 0's share"][-50:]
    assert shares == pytest.approx([n / 51 for n in range(1, 51)])  # what the viewer sees is the curve
    window = schedule(page)["frame 0's share (loop window)"]
    assert window[-50:] == shares and len(window) == 60  # magnified, with ten frames before it


def test_strength_and_guidance_sliders(page):
    page.slider(key="strength").set_value(0.7).run()
    page.slider(key="guidance").set_value(3.0).run()
    traces = schedule(page)
    assert set(traces["strength"][:-24]) == {0.7} and set(traces["guidance"]) == {3.0}
    tapered = traces["strength"][-24:]  # through the loop window, as frame 0's share rises
    assert all(b <= a for a, b in zip(tapered, tapered[1:])) and tapered[0] < 0.7 and tapered[-1] < 0.05
    page.toggle(key="strength_taper").set_value(False).run()
    assert set(schedule(page)["strength"]) == {0.7}


def test_table_edits_reach_the_plot(page):
    editor = f"segments_{page.session_state['editor_version']}"
    page.session_state[editor] = {
        "edited_rows": {0: {"frames": 40, "strength": 0.9}},
        "added_rows": [{"order": 8, "prompt": "the finish line in Verona", "frames": 10}],
        "deleted_rows": [6],
    }
    page.run()
    assert not page.exception
    traces = schedule(page)
    assert len(traces["strength"]) == 275 + 15 - 50 + 10
    assert traces["strength"][:40] == [0.9] * 40 and traces["strength"][40] == 0.45
    assert segment_lines(page) == 7


@pytest.mark.parametrize("edit", [{"frames": 30}, {"frames": 20}, {"frames": 40}, {"prompt": "a bend by the sea"},
                                  {"strength": 0.6}, {"guidance": 4.0}, {"zoom_px": 2.0}, {"order": 9},
                                  {"negative_prompt": "fog"}])
def test_a_table_edit_keeps_every_other_setting(page, edit):
    """Editing a segment's cell changes that cell alone: the loop window above all stays as it was."""
    from ui.dream.state import WIDGET_FIELDS

    page.number_input(key="loop_frames").set_value(30).run()
    page.slider(key="strength").set_value(0.5).run()
    before = {name: page.session_state[name] for name in WIDGET_FIELDS}
    page.session_state[f"segments_{page.session_state['editor_version']}"] = {
        "edited_rows": {0: edit}, "added_rows": [], "deleted_rows": []}
    page.run()
    assert not page.exception and not page.error
    assert {name: page.session_state[name] for name in WIDGET_FIELDS} == before
    assert sum(1 for w in schedule(page)["frame 0's share"] if w > 0) == 30


def test_negative_prompts_from_the_table_the_stage_and_live(page):
    """A segment's cell overrides the stage's negative prompt; an empty cell is the stage's; Live's
    goes to the stage with Promote."""
    from ui.dream.state import segment_from_row

    assert segment_from_row({"prompt": "a", "frames": 3, "negative_prompt": "fog"}, {})["negative_prompt"] == "fog"
    assert "negative_prompt" not in segment_from_row({"prompt": "a", "frames": 3, "negative_prompt": " "}, {})
    page.text_input(key="negative_prompt").set_value("red blobs").run()
    assert not page.exception and page.text_input(key="live_negative_prompt").value == ""  # Live has its own
    page.text_input(key="live_negative_prompt").set_value("text, watermark").run()
    [b for b in page.button if b.label == "Promote to the stage"][0].click().run()
    assert not page.exception and page.text_input(key="negative_prompt").value == "text, watermark"


def test_a_loop_window_longer_than_the_stage_is_one_line(page):
    page.number_input(key="loop_frames").set_value(300).run()
    assert not page.exception and not page.get("plotly_chart")
    assert [e.value for e in page.error] == [
        'The loop window (300 frames) does not fit a stage of 275 frames: set "Loop back over the last frames" '
        'under 275, or add frames.']
    page.number_input(key="loop_frames").set_value(274).run()  # the user's own change is kept, and plotted
    assert not page.error and sum(1 for w in schedule(page)["frame 0's share"] if w > 0) == 274


def test_preset_switch(page):
    page.selectbox(key="stage_preset").set_value("Treelined avenue loop").run()
    assert len(schedule(page)["frame 0's share"]) == 256 and segment_lines(page) == 1


def test_out_of_range_stage_is_one_line_not_a_traceback(page):
    page.slider(key="steps").set_value(1).run()
    page.slider(key="strength").set_value(0.5).run()
    assert not page.exception
    assert any("runs no denoising step" in e.value for e in page.error)
    assert not page.get("plotly_chart")


def test_fast_preset_sets_its_sampling(page):
    page.radio(key="model_choice").set_value("sd-turbo (fast: one step a frame, tiny VAE)").run()
    assert page.slider(key="steps").value == 2 and page.slider(key="strength").value == 0.5
    assert page.slider(key="guidance").value == 0.0 and page.toggle(key="tiny_vae").value
    # Not on this machine: Render says so before it is pressed, instead of failing after.
    render = [b for b in page.button if b.label == "Render"][0]
    assert render.disabled
    assert any("stabilityai/sd-turbo" in c.value and "not on this machine" in c.value for c in page.caption)


def test_the_default_model_choice_names_the_servers_model(monkeypatch, tmp_path):
    monkeypatch.setenv("GIRO_DREAM_MODEL", str(tmp_path / "my-sd"))
    (tmp_path / "my-sd").mkdir()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60).run()
    at.switch_page("pages/1_Dream_a_Stage.py").run()
    radio = at.radio(key="model_choice")
    assert radio.options[0] == "my-sd (this server's GIRO_DREAM_MODEL)"
    assert radio.value == "Stable Diffusion v1-4 (the original)"  # the choice itself is unchanged


@pytest.mark.parametrize("edge", ["high", "low"])
def test_a_stage_at_every_ranges_edge_opens_on_the_page(page, edge):
    """Every value check_stage accepts fits the widgets: an imported stage never breaks them."""
    from core.dream.stage import RANGES

    values = {name: bounds[1] if edge == "high" else bounds[0] for name, bounds in RANGES.items()}
    if edge == "low":
        values["steps"] = 100  # int(steps * strength) must be at least 1
    toml = "[render]\n" + "".join(f"{k} = {[v, v] if k == 'pan' else v!r}\n" for k, v in values.items()) + (
        'loop_frames = 3\n[[segment]]\nprompt = "a road"\nframes = 200\n')
    page.file_uploader(key="stage_file").set_value(("edge.toml", toml.encode(), "text/plain")).run()
    assert not page.exception and not page.error, [e.value for e in page.error]
    for name in ("zoom_px", "strength", "guidance", "steps", "fps", "transition_frames", "rotate"):
        assert page.slider(key=name).value == values[name], name
    assert page.slider(key="pan_x").value == page.slider(key="pan_y").value == values["pan"]
    assert page.number_input(key="seed").value == values["seed"]
    assert len(schedule(page)["frame 0's share"]) == 200


def test_a_planted_link_in_a_prompt_is_shown_as_text(giro_folders):
    """A finished render whose first prompt carries markdown: every visitor's gallery shows it as
    typed, and no browser fetches the image it names."""
    import shutil

    from tests.dream.test_run import OLD_RUN

    payload = "![x](https://evil.example/p.png) [win](http://evil.example) :red[hi]"
    run = giro_folders["runs"] / "planted"
    shutil.copytree(OLD_RUN, run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["stage"]["segment"][0]["prompt"] = payload
    (run / "manifest.json").write_text(json.dumps(manifest))
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60).run()
    at.switch_page("pages/1_Dream_a_Stage.py").run()
    assert not at.exception
    (label,) = [e.label for e in at.expander if "frames" in e.label]
    # Escaped, and an invisible space before the scheme's colon breaks the browser's own autolinks.
    assert "\\!\\[x\\](https\u200b\\:\\//evil.example/p.png)" in label and "\u200b\\:red\\[hi\\]" in label
    assert not re.search(r"(?<!\\)[\[\]!]", label)  # every bracket and ! escaped: no link, no image
    assert "Not in this run's folder: loop.gif, loop.mp4." in [c.value for c in at.caption]


def test_cadence_marks_the_diffused_frames(page):
    assert "diffused frame" not in schedule(page)  # cadence 1: every frame is
    page.slider(key="cadence").set_value(3).run()
    diffused = schedule(page)["diffused frame"]
    assert len(diffused) == 92  # frames 0, 3, ... 273 of 275
    assert any("92 of 275 frames diffused (cadence 3)" in c.value for c in page.caption)


def test_an_uploaded_start_photo_reaches_the_render_tab_at_once(page):
    """Uploaded in the Start frame tab, the photo is what the Render tab says it starts from, in the
    same click; and with no model here, candidates cannot be asked for."""
    photo = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 120, 60)).save(photo, "PNG")
    page.radio(key="start_source").set_value("Upload a photo").run()
    page.file_uploader(key="start_upload").set_value(("road.png", photo.getvalue(), "image/png")).run()
    assert not page.exception and page.session_state["start_image"]
    assert any("from the start frame you chose" in m.value for m in page.markdown)
    page.radio(key="start_source").set_value("From text").run()
    assert [b for b in page.button if b.label == "Generate 4 candidates"][0].disabled
    assert any(c.value.startswith("Generating candidates needs `") for c in page.caption)


def test_live_start_says_why_it_cannot_start(page):
    """The fast model is not on this machine: Start is disabled, and the tab says what is missing."""
    start = [b for b in page.button if b.label == "Start"][0]
    assert start.disabled
    assert any("Live needs `stabilityai/sd-turbo`" in c.value for c in page.caption)
    assert not any("press Start" in c.value for c in page.caption)  # not while Start cannot be pressed


def test_live_sliders_move_in_the_stage_settings_steps(page):
    """A slider's step is the setting's (0.25 px of zoom, half a point of guidance), not Streamlit's 0.01."""
    assert page.slider(key="live_zoom_px").proto.step == 0.25
    assert page.slider(key="live_guidance").proto.step == 0.5
    assert page.slider(key="live_strength").proto.step == 0.01


def test_live_settings_promote_to_the_stage(page):
    page.slider(key="live_strength").set_value(0.8).run()
    page.slider(key="live_zoom_px").set_value(2.0).run()
    page.slider(key="live_cadence").set_value(3).run()
    page.selectbox(key="live_prompt_choice").set_value("Type a prompt...").run()
    page.text_input(key="live_prompt").set_value("a mountain pass in the rain").run()
    [b for b in page.button if b.label == "Promote to the stage"][0].click().run()
    assert not page.exception
    assert page.slider(key="strength").value == 0.8 and page.slider(key="cadence").value == 3
    assert page.slider(key="zoom_px").value == 4.0  # 2 px at 256 is 4 px at the stage's 512
    assert page.radio(key="model_choice").value.startswith("sd-turbo")
    assert page.session_state["dream_rows"][0]["prompt"] == "a mountain pass in the rain"
    assert any("The stage now has these settings" in s.value for s in page.success)


def test_live_takes_the_stage_models_sampling_within_its_own_ranges(page):
    """The Giro stage's 50 steps are over the live sliders' 20: the live steps go to 20, no error."""
    page.radio(key="live_model").set_value("stage").run()
    assert not page.exception
    assert page.slider(key="live_steps").value == 20 and page.slider(key="live_strength").value == 0.45
    page.radio(key="live_model").set_value("fast").run()
    assert page.slider(key="live_steps").value == 2 and page.slider(key="live_strength").value == 0.5


def test_live_compare_takes_two_or_four_values_and_says_what_is_wrong(page):
    page.selectbox(key="live_compare").set_value("strength").run()
    assert page.text_input(key="live_values").value == "0.3, 0.5, 0.7, 0.9"  # a first look, filled in
    assert [b for b in page.button if b.label == "Promote to the stage"][0].disabled  # keep one first
    for typed, message in [("0.3, x", "'0.3, x' is not a list of numbers: type two or four, like 0.3, 0.5, 0.7, 0.9"),
                           ("0.3, 0.5, 0.7", "compare two or four values of strength, not 3"),
                           ("0.3, 1.5", "strength 1.5 is outside 0.01-1")]:
        page.text_input(key="live_values").set_value(typed).run()
        assert [e.value for e in page.error] == [message]
    page.selectbox(key="live_compare").set_value("steps").run()
    assert page.text_input(key="live_values").value == "2, 4" and not page.error
    page.selectbox(key="live_compare").set_value("off").run()
    assert not [b for b in page.button if b.label == "Promote to the stage"][0].disabled
    assert not page.exception


def test_live_ab_with_equal_values_keeps_each_place():
    """"0.5, 0.5" once crashed the view with a duplicate widget key: each place has its button."""
    def view():
        import types

        from core.dream.live import LiveSettings
        from ui.dream.live_view import keep_ui

        keep_ui(types.SimpleNamespace(settings=LiveSettings("a road", compare="strength", values=(0.5, 0.5))))

    at = AppTest.from_function(view).run()
    assert not at.exception and [b.label for b in at.button] == ["Keep 0.5", "Keep 0.5"]


def test_a_clicked_point_outlasts_a_rerun_that_carries_the_old_sliders():
    """A click on the picker sets the point; a rerun the browser asks for before it has the new
    sliders (the picker's canvas asks for one as it mounts) carries the old sliders' values and
    must not undo the click. Once it did, on a busy server: Promote took the point of before."""
    def view():
        import streamlit as st

        from ui.dream.point_picker import point_sliders_ui, set_point

        if "p_x" not in st.session_state:
            set_point("p", (0.5, 0.55))
        st.button("aim", on_click=set_point, args=("p", (0.25, 0.7)))
        st.text(f"point {st.session_state.p_x} {st.session_state.p_y}")
        point_sliders_ui("p", st.columns(2))

    at = AppTest.from_function(view).run()
    before_the_click = at._tree.get_widget_states()  # what a browser that has not caught up sends
    at.button[0].click().run()
    assert at.text[0].value == "point 0.25 0.7" and [s.value for s in at.slider] == [0.25, 0.7]
    at._run(before_the_click)
    assert at.text[0].value == "point 0.25 0.7" and [s.value for s in at.slider] == [0.25, 0.7]
    at.slider[0].set_value(0.4).run()  # a slider moved: the whole run sees it, the text above included
    assert at.text[0].value == "point 0.4 0.7" and not at.exception


def test_the_camera_controls_plot_its_path_and_a_segments_columns_reach_the_stage(page):
    """The stage's turn and pan sliders, and a segment's camera cells (a pair with one cell set
    takes the other from the stage), make the stage the render gets; its path is plotted."""
    from ui.dream.state import segment_from_row

    charts = lambda: [json.loads(c.proto.spec) for c in page.get("plotly_chart")]  # noqa: E731
    assert len(charts()) == 1  # a camera that only zooms about one point: no path to plot
    page.slider(key="rotate").set_value(1.5).run()
    page.slider(key="pan_x").set_value(2.0).run()
    assert not page.exception and len(charts()) == 2
    path = {trace["name"]: trace["y"] for trace in charts()[1]["data"]}
    assert set(path["turn °"][:-24]) == {1.5} and set(path["pan x px"][:-24]) == {2.0}
    render = {"vanishing_point": [0.5, 0.55], "pan": [2.0, 0.0]}
    row = {"prompt": "a bend", "frames": 4, "rotate": -2.0, "vp_x": 0.3, "vp_y": float("nan"), "pan_y": 1.0}
    assert segment_from_row(row, render) == {"prompt": "a bend", "frames": 4, "rotate": -2.0,
                                             "vanishing_point": [0.3, 0.55], "pan": [2.0, 1.0]}
    assert "pan" not in segment_from_row({"prompt": "a", "frames": 2, "pan_x": None}, render)
