"""A stage: the render settings and the story as (prompt, frames) segments, read from TOML.

Inputs are checked up front, as diffusers' `check_inputs` does: a bad field is refused with one
line naming it, never fixed silently.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from core import settings
from core.errors import StageError

LOOP_CURVES = ("linear", "ease-in-out")
# off; frame0: every frame held to frame 0's colours; segment: to its segment's first frame's.
COLOUR_MODES = ("off", "frame0", "segment")
NOISE_MODES = ("per-frame", "fixed")
MAX_STAGE_BYTES = 100_000  # the longest example is 2 kB; anything near this is not a stage
MAX_SEGMENTS = 200  # the Giro stage has 7; a table or plot of thousands helps nobody
# CLIP reads the first 77 tokens of a prompt, about 300 characters: more is not a prompt.
MAX_PROMPT_CHARS = 1000
# (lowest, highest, step) of each number a person sets: check_stage refuses what lies outside,
# and the page's sliders and table offer exactly this, so no valid stage can break a widget.
RANGES: dict[str, tuple[float, float, float]] = {
    "seed": (0, 2**32 - 1, 1),
    "zoom_px": (-16.0, 16.0, 0.25),  # below 0 zooms out; always under half the smallest frame (64 px)
    "rotate": (-10.0, 10.0, 0.1),  # degrees a frame
    "pan": (-16.0, 16.0, 0.25),  # pixels a frame, each of x and y
    "strength": (0.01, 1.0, 0.01),
    "guidance": (0.0, 30.0, 0.5),
    "steps": (1, 150, 1),
    "fps": (1, 60, 1),
    "transition_frames": (0, 120, 1),
    "cadence": (1, 8, 1),
    "sharpen": (0.0, 2.0, 0.05),
    "add_noise": (0.0, 0.5, 0.005),
}


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _span(name: str) -> str:
    low, high, _ = RANGES[name]
    return f"{_number(low)} to {_number(high)}" if low < 0 else f"{_number(low)}-{_number(high)}"


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True)
class RenderSettings:
    model: str = field(default="", metadata=_help(
        "Hub model id or local diffusers folder; empty: GIRO_DREAM_MODEL or "
        f"{settings.DREAM_DEFAULT_MODEL}"))
    width: int = field(default=512, metadata=_help("frame width in pixels, a multiple of 8, 64-2048"))
    height: int = field(default=512, metadata=_help("frame height in pixels, a multiple of 8, 64-2048"))
    seed: int = field(default=42, metadata=_help(
        "base seed, 0 to 2**32 - 1; frame i uses seed + i (noise per-frame) or seed (noise fixed)"))
    zoom_px: float = field(default=1.5, metadata=_help(
        "pixels trimmed from the left and right edges per frame (the top and bottom in proportion), "
        f"fractions allowed, {_span('zoom_px')}; below 0 zooms out"))
    rotate: float = field(default=0.0, metadata=_help(
        f"the camera's turn about the vanishing point, degrees a frame, {_span('rotate')}; above 0 the "
        "picture turns anticlockwise"))
    pan: tuple[float, float] = field(default=(0.0, 0.0), metadata=_help(
        f"the camera's drift [x, y] in pixels a frame, each {_span('pan')}; x above 0 looks right, y above "
        "0 looks down"))
    strength: float = field(default=0.45, metadata=_help(
        f"img2img strength, {_span('strength')}: how much of each frame is redrawn"))
    guidance: float = field(default=7.5, metadata=_help(f"classifier-free guidance scale, {_span('guidance')}"))
    steps: int = field(default=50, metadata=_help(
        f"denoising steps, {_span('steps')}; img2img runs int(steps * strength) of them, at least 1"))
    fps: int = field(default=12, metadata=_help(f"frames per second of the GIF and MP4, {_span('fps')}"))
    loop_frames: int = field(default=24, metadata=_help(
        "the last frames over which the first frame is mixed back in; 0 = no loop (a preview says when "
        "it is too short for how far the ride travels, and how long would do)"))
    loop_curve: str = field(default="ease-in-out", metadata=_help(
        f"how frame 0's share of the picture rises over the loop window: {' or '.join(LOOP_CURVES)}"))
    strength_taper: bool = field(default=True, metadata=_help(
        "lower the strength through the loop window as frame 0's share rises, and the denoising "
        "passes with it, so the last frames are barely redrawn, cost less and land on frame 0 (below "
        "one pass of the stage's steps, one pass on a finer schedule of up to 1000 steps)"))
    vanishing_point: tuple[float, float] = field(default=(0.5, 0.5), metadata=_help(
        "the zoom and turn centre [x, y] as fractions of the frame, each in [0, 1]"))
    first_image: str = field(default="", metadata=_help(
        "optional start image (path relative to the stage file) instead of text-to-image"))
    colour_coherence: str = field(default="segment", metadata=_help(
        "hold each frame's colours, before it is redrawn, to a reference's (LAB histograms) against "
        "colour drift: off, frame0 (frame 0's), or segment (each segment's first frame's, let go "
        "during prompt transitions); true and false read as frame0 and off"))
    noise: str = field(default="per-frame", metadata=_help(
        f"{' or '.join(NOISE_MODES)}: fresh noise for every frame, or one pattern for the whole "
        "render (less flicker)"))
    transition_frames: int = field(default=0, metadata=_help(
        f"blend the prompt into the next segment's over this many frames, {_span('transition_frames')}; "
        "0 = hard cut"))
    cadence: int = field(default=1, metadata=_help(
        f"diffuse every k-th frame, {_span('cadence')}; the frames between are the zoom of the last "
        "diffused frame cross-faded into the next: k times fewer model calls"))
    vae: str = field(default="auto", metadata=_help(
        "the image decoder: auto (the model's own), or a Hub id or local folder of a tiny "
        "AutoencoderTiny (madebyollin/taesd: about 10x faster, slightly softer)"))
    negative_prompt: str = field(default="", metadata=_help(
        "what no frame should show (\"red blobs, text, watermark\"), steered away from as the prompt is "
        "steered towards (with guidance above 1); a segment's own overrides it"))
    sharpen: float = field(default=0.0, metadata=_help(
        f"an unsharp mask's amount on each frame's input before it is redrawn, {_span('sharpen')}: against "
        "the blur a long zoom gathers (0: none; Deforum's default is 0.1)"))
    add_noise: float = field(default=0.0, metadata=_help(
        f"fresh noise added to each frame's input before it is redrawn, {_span('add_noise')} (its spread on "
        "the model's -1..1 scale): new detail for the redraw to draw from (0: none; Deforum's 0.065)"))


@dataclass(frozen=True)
class Segment:
    prompt: str = field(metadata=_help("what this part of the ride looks like"))
    frames: int = field(metadata=_help("how many frames it lasts, at least 1"))
    strength: float | None = field(default=None, metadata=_help("overrides render.strength"))
    guidance: float | None = field(default=None, metadata=_help("overrides render.guidance"))
    zoom_px: float | None = field(default=None, metadata=_help("overrides render.zoom_px"))
    rotate: float | None = field(default=None, metadata=_help("overrides render.rotate"))
    pan: tuple[float, float] | None = field(default=None, metadata=_help("overrides render.pan"))
    vanishing_point: tuple[float, float] | None = field(default=None, metadata=_help(
        "overrides render.vanishing_point; the camera eases from one segment's to the next over the "
        "prompt transition, and back to the first segment's over the loop window"))
    negative_prompt: str | None = field(default=None, metadata=_help("overrides render.negative_prompt"))
    sharpen: float | None = field(default=None, metadata=_help("overrides render.sharpen"))
    add_noise: float | None = field(default=None, metadata=_help("overrides render.add_noise"))


@dataclass(frozen=True)
class Stage:
    render: RenderSettings
    segments: tuple[Segment, ...]

    @property
    def total_frames(self) -> int:
        return sum(s.frames for s in self.segments)

    def model(self) -> str:
        return self.render.model or settings.dream_model()

    def to_dict(self) -> dict[str, Any]:
        render = _render_dict(self.render)
        segments = [{k: list(v) if isinstance(v, tuple) else v for k, v in asdict(s).items() if v is not None}
                    for s in self.segments]
        return {"render": render, "segment": segments}


    @staticmethod
    def default_render_dict() -> dict[str, Any]:
        return _render_dict(RenderSettings())


def _render_dict(render: RenderSettings) -> dict[str, Any]:
    data = asdict(render)
    data["vanishing_point"], data["pan"] = list(data["vanishing_point"]), list(data["pan"])
    return data


def model_name(model: str) -> str:
    """A model (or VAE) as a guest may see it: a Hub id, or a local folder's name without the
    server's path."""
    return Path(model).name if Path(model).expanduser().is_dir() else model


def shared_stage(stage: Stage) -> Stage:
    """`stage` as anyone may see and download it: models by name, no start image (a file of its
    session's, whose path names the session). It still imports as it is."""
    r = stage.render
    render = replace(r, model=model_name(r.model) if r.model else "",
                     vae=r.vae if r.vae == "auto" else model_name(r.vae), first_image="")
    return replace(stage, render=render)


def fields_help() -> str:
    """Every stage field with its meaning and default, for `--help`."""
    lines = ["[render]"]
    for f in fields(RenderSettings):
        lines.append(f"  {f.name:<18} {f.metadata['help']} (default {f.default!r})")
    lines.append("[[segment]]  (one table per segment, in order)")
    for f in fields(Segment):
        lines.append(f"  {f.name:<18} {f.metadata['help']}")
    return "\n".join(lines)


# ---------------------------------------------------------------- reading

def load_stage(path: str | Path, check: bool = True) -> Stage:
    """Read and check a stage file (`check`: see `stage_from_dict`). `first_image` is resolved
    relative to the file."""
    path = Path(path)
    try:
        with path.open("rb") as handle:  # never more than a stage may be: /dev/zero has no end
            raw = handle.read(MAX_STAGE_BYTES + 1)
    except OSError as error:
        raise StageError(f"cannot read {path.name}: {error.strerror or error}") from error
    return parse_stage(raw, name=path.name, base_dir=path.parent, check=check)


def parse_stage(raw: bytes | str, name: str = "the stage", base_dir: Path | None = None,
                check: bool = True) -> Stage:
    return stage_from_dict(_toml(raw, name), base_dir, check)


def parse_uploaded_stage(raw: bytes, name: str) -> tuple[Stage, str]:
    """A stage sent from a browser, and a note ("" if none) on what of it was left out.

    Uploads are data, never paths: a `first_image` in it would name a file on the server,
    so it is dropped (with the note) before anything looks at that path.
    """
    data = _toml(raw, name)
    render_data = data.get("render")
    note = ""
    if isinstance(render_data, dict) and "first_image" in render_data:
        if render_data.pop("first_image"):
            note = (f"{name}: its first_image was left out (an uploaded stage cannot name files on "
                    "this server); choose the start frame on the Start frame tab")
    return stage_from_dict(data), note


def _toml(raw: bytes | str, name: str) -> dict[str, Any]:
    if len(raw) > MAX_STAGE_BYTES:
        raise StageError(f"{name} is over {MAX_STAGE_BYTES // 1000} kB: a stage file is a few lines of text")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")  # Notepad adds a byte-order mark
        except UnicodeDecodeError as error:
            raise StageError(f"{name} is not UTF-8 text") from error
    try:
        return tomllib.loads(raw)
    except tomllib.TOMLDecodeError as error:
        raise StageError(f"{name} is not valid TOML: {error}") from error
    except RecursionError as error:  # tomllib parses nested arrays and tables recursively
        raise StageError(f"{name} is not valid TOML: nested too deeply") from error


def stage_from_dict(data: dict[str, Any], base_dir: Path | None = None, check: bool = True) -> Stage:
    """The stage in `data` (a parsed TOML file, or `Stage.to_dict()`), its types checked; with
    `check`, its ranges too (`check_stage`): without, a stage over this server's caps still reads."""
    _no_unknown_keys(data, {"render", "segment"}, "the stage")
    render_data = data.get("render", {})
    if not isinstance(render_data, dict):
        raise StageError("[render] must be a table")
    _no_unknown_keys(render_data, {f.name for f in fields(RenderSettings)}, "[render]")
    segments_data = data.get("segment", [])
    if not isinstance(segments_data, list) or not segments_data:
        raise StageError("the stage needs at least one [[segment]] with a prompt and frames")

    render = RenderSettings(**{k: _typed(f"render.{k}", k, v) for k, v in render_data.items()})
    if render.first_image and base_dir is not None:
        render = replace(render, first_image=str((base_dir / render.first_image).resolve()))
    segments = []
    for number, segment in enumerate(segments_data, start=1):
        where = f"segment {number}"
        if not isinstance(segment, dict):
            raise StageError(f"{where} must be a table")
        _no_unknown_keys(segment, {f.name for f in fields(Segment)}, where)
        for required in ("prompt", "frames"):
            if required not in segment:
                raise StageError(f"{where}: {required} is missing")
        segments.append(Segment(**{k: _typed(f"{where}: {k}", k, v) for k, v in segment.items()}))
    stage = Stage(render, tuple(segments))
    if check:
        check_stage(stage)
    return stage


_INTS = {"width", "height", "seed", "steps", "fps", "loop_frames", "frames", "transition_frames", "cadence"}
_FLOATS = {"zoom_px", "strength", "guidance", "sharpen", "add_noise", "rotate"}
_STRINGS = {"model", "loop_curve", "first_image", "prompt", "vae", "noise", "negative_prompt"}


def _typed(where: str, key: str, value: Any) -> Any:
    """TOML already has types; refuse the wrong one instead of coercing."""
    if key in _INTS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise StageError(f"{where} must be a whole number, got {value!r}")
        return value
    if key in _FLOATS:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise StageError(f"{where} must be a number, got {value!r}")
        return float(value)
    if key in _STRINGS:
        if not isinstance(value, str):
            raise StageError(f"{where} must be text, got {value!r}")
        return value
    if key == "colour_coherence":
        if isinstance(value, bool):  # stages written before the modes: on meant frame 0's colours
            return "frame0" if value else "off"
        if not isinstance(value, str):
            raise StageError(f"{where} must be {', '.join(COLOUR_MODES)}, got {value!r}")
        return value
    if key == "strength_taper":
        if not isinstance(value, bool):
            raise StageError(f"{where} must be true or false, got {value!r}")
        return value
    if key in ("vanishing_point", "pan"):
        if (
            not isinstance(value, list)
            or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value)
        ):
            raise StageError(f"{where} must be two numbers [x, y], got {value!r}")
        return (float(value[0]), float(value[1]))
    raise StageError(f"{where} is not a known field")  # unreachable after the key check


def _no_unknown_keys(table: dict[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise StageError(f"{where}: unknown field {unknown[0]!r} (known: {', '.join(sorted(known))})")


# ---------------------------------------------------------------- checking

def check_stage(stage: Stage) -> None:
    """Refuse the first out-of-range field with one line naming it."""
    r = stage.render
    for name in ("width", "height"):
        value = getattr(r, name)
        if not 64 <= value <= 2048 or value % 8:
            raise StageError(f"render.{name} must be a multiple of 8 from 64 to 2048, got {value}")
    for name in ("seed", "steps", "fps", "transition_frames", "cadence"):
        _check_range(f"render.{name}", name, getattr(r, name))
    if not r.vae.strip():
        raise StageError("render.vae must be auto, a Hub id or a folder, got an empty text")
    for name, allowed in (("loop_curve", LOOP_CURVES), ("colour_coherence", COLOUR_MODES), ("noise", NOISE_MODES)):
        if getattr(r, name) not in allowed:
            raise StageError(f"render.{name} must be {', '.join(allowed)}, got {getattr(r, name)!r}")
    _check_camera("render", r.rotate, r.pan, r.vanishing_point)
    if r.first_image and not Path(r.first_image).is_file():
        raise StageError(f"render.first_image: {Path(r.first_image).name} does not exist")
    _check_frame_params("render", r.zoom_px, r.strength, r.guidance, r, r.sharpen, r.add_noise)
    _check_length("render.negative_prompt", r.negative_prompt)
    if len(stage.segments) > MAX_SEGMENTS:
        raise StageError(f"the stage has {len(stage.segments)} segments, over the cap of {MAX_SEGMENTS}")
    for number, s in enumerate(stage.segments, start=1):
        where = f"segment {number}"
        if not s.prompt.strip():
            raise StageError(f"{where}: prompt is empty")
        _check_length(f"{where}: prompt", s.prompt)
        _check_length(f"{where}: negative_prompt", s.negative_prompt or "")
        if s.frames < 1:
            raise StageError(f"{where}: frames must be at least 1, got {s.frames}")
        _check_frame_params(where, s.zoom_px, s.strength, s.guidance, r, s.sharpen, s.add_noise)
        _check_camera(where, s.rotate, s.pan, s.vanishing_point)
    total, cap = stage.total_frames, settings.dream_max_frames()
    if total > cap:
        raise StageError(f"the stage has {total} frames, over the cap of {cap} (GIRO_DREAM_MAX_FRAMES)")
    if not 0 <= r.loop_frames < total:
        raise StageError(
            f"render.loop_frames must be from 0 to {total - 1} (frames in the stage - 1), "
            f"got {r.loop_frames}"
        )
    # What is accepted must export, import again and resume: written out it is read back.
    written = len(stage_to_toml(stage).encode("utf-8"))
    if written > MAX_STAGE_BYTES:
        raise StageError(f"the stage would be {written / 1000:.0f} kB written out, over the "
                         f"{MAX_STAGE_BYTES // 1000} kB a stage file may have: shorten its prompts or segments")


def _check_frame_params(
    where: str, zoom_px: float | None, strength: float | None, guidance: float | None,
    render: RenderSettings, sharpen: float | None = None, add_noise: float | None = None,
) -> None:
    prefix = f"{where}." if where == "render" else f"{where}: "
    for name, value in (("zoom_px", zoom_px), ("guidance", guidance), ("strength", strength),
                        ("sharpen", sharpen), ("add_noise", add_noise)):
        if value is not None:
            _check_range(prefix + name, name, value)
    if strength is not None:
        if int(render.steps * strength) < 1:
            raise StageError(
                f"{prefix}strength {strength} with {render.steps} steps runs no denoising step "
                f"(int(steps * strength) = 0): raise steps or strength"
            )


def _check_camera(where: str, rotate: float | None, pan: tuple[float, float] | None,
                  vanishing_point: tuple[float, float] | None) -> None:
    prefix = f"{where}." if where == "render" else f"{where}: "
    if rotate is not None:
        _check_range(prefix + "rotate", "rotate", rotate)
    if pan is not None:
        low, high, _ = RANGES["pan"]
        if not all(math.isfinite(v) and low <= v <= high for v in pan):
            raise StageError(f"{prefix}pan must be [x, y], each from {_number(low)} to {_number(high)} pixels, "
                             f"got [{pan[0]:g}, {pan[1]:g}]")
    if vanishing_point is not None:
        x, y = vanishing_point
        if not (0 <= x <= 1 and 0 <= y <= 1):
            raise StageError(f"{prefix}vanishing_point must lie in the frame (each in [0, 1]), got [{x}, {y}]")


def _check_length(where: str, text: str) -> None:
    if len(text) > MAX_PROMPT_CHARS:
        raise StageError(f"{where} is {len(text):,} characters, over the {MAX_PROMPT_CHARS:,} a prompt may "
                         "have (the model reads about 300)")


def _check_range(where: str, name: str, value: float) -> None:
    low, high, _ = RANGES[name]
    if not (math.isfinite(value) and low <= value <= high):
        raise StageError(f"{where} must be from {_number(low)} to {_number(high)}, got {value}")


# ---------------------------------------------------------------- writing

def stage_to_toml(stage: Stage) -> str:
    """The stage as a TOML file that `load_stage` reads back to the same stage."""
    data = stage.to_dict()
    lines = ["[render]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in data["render"].items()]
    for segment in data["segment"]:
        lines += ["", "[[segment]]"] + [f"{k} = {_toml_value(v)}" for k, v in segment.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + "".join(c if c.isprintable() else _escape(c) for c in escaped) + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _escape(character: str) -> str:
    """TOML's escapes: \\uXXXX inside the basic plane, \\UXXXXXXXX beyond it (emoji tags, flags)."""
    code = ord(character)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
