"""Paths and defaults in one place. Each path can be moved with an environment variable.

Paths are read on every call, not at import, so tests and the app can repoint them.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import GiroError

ROOT = Path(__file__).resolve().parent.parent


def _path(variable: str, default: str) -> Path:
    value = os.environ.get(variable)
    return Path(value).expanduser() if value else ROOT / default


def models_dir() -> Path:
    """Exported learners and their model cards (`GIRO_MODELS`, default `models/`)."""
    return _path("GIRO_MODELS", "models")


def data_dir() -> Path:
    """Data sets and galleries (`GIRO_DATA`, default `data/`)."""
    return _path("GIRO_DATA", "data")


def runs_dir() -> Path:
    """Dream renders, one folder each (`GIRO_RUNS`, default `runs/`)."""
    return _path("GIRO_RUNS", "runs")


# Uploads: a phone photo is 2-12 MB; HEIC from an iPhone Pro can reach 20 MB.
MAX_UPLOAD_MB = 25
# 50 megapixels covers every phone camera and stops decompression bombs long before memory does.
MAX_IMAGE_PIXELS = 50_000_000
# A guest's photo is kept at most this large: the models see 224 px, faces are found at 1024 px.
PHOTO_MAX_SIDE = 1024
# The most pixels one answer decodes, all photos of a box together: 33 twelve-megapixel photos.
MAX_REQUEST_PIXELS = 400_000_000
# Start frames are kept at most this large: the largest frame a stage may ask for.
START_FRAME_MAX_SIDE = 2048

# Dream a Stage.
DREAM_DEFAULT_MODEL = "CompVis/stable-diffusion-v1-4"  # the original's model
DREAM_FAST_MODEL = "stabilityai/sd-turbo"  # 1-4 steps, guidance 0
DREAM_FAST_VAE = "madebyollin/taesd"  # the tiny autoencoder for Stable Diffusion 1.x and 2.x latents


def dream_model() -> str:
    """The Stable Diffusion model id or local folder (`GIRO_DREAM_MODEL`)."""
    return os.environ.get("GIRO_DREAM_MODEL") or DREAM_DEFAULT_MODEL


def dream_fast_model() -> str:
    """The fast preset's model id or local folder (`GIRO_DREAM_FAST_MODEL`)."""
    return os.environ.get("GIRO_DREAM_FAST_MODEL") or DREAM_FAST_MODEL


def dream_fast_vae() -> str:
    """The fast preset's tiny VAE (an AutoencoderTiny's Hub id or folder; `GIRO_DREAM_FAST_VAE`)."""
    return os.environ.get("GIRO_DREAM_FAST_VAE") or DREAM_FAST_VAE


def dream_model_setting(model: str) -> str:
    """The setting that points `model` elsewhere, for the message when it is missing: the fast
    preset's model has its own."""
    return "GIRO_DREAM_FAST_MODEL" if model == dream_fast_model() else "GIRO_DREAM_MODEL"


def dream_compile() -> bool:
    """torch.compile the UNet and VAE on CUDA (`GIRO_COMPILE=1`): faster frames after a slower first one."""
    value = os.environ.get("GIRO_COMPILE", "").strip().lower()
    if value not in ("", "0", "1", "true", "false", "yes", "no", "on", "off"):
        raise GiroError(f"GIRO_COMPILE must be 1 or 0, got {value!r}")
    return value in ("1", "true", "yes", "on")


def _whole_number(variable: str, default: int) -> int:
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 1:
        raise GiroError(f"{variable} must be a whole number of at least 1, got {value!r}")
    return number


def dream_max_frames() -> int:
    """The most frames one render may ask for (`GIRO_DREAM_MAX_FRAMES`)."""
    return _whole_number("GIRO_DREAM_MAX_FRAMES", 2000)


def dream_renders_per_session() -> int:
    """Renders and candidate sets one browser session may start, resumes included, so one guest
    cannot hold a shared GPU all evening (`GIRO_DREAM_RENDERS_PER_SESSION`)."""
    return _whole_number("GIRO_DREAM_RENDERS_PER_SESSION", 5)


def live_lost_seconds() -> int:
    """A live stream whose tab has not asked for a frame this long stops (`GIRO_LIVE_LOST_SECONDS`)."""
    return _whole_number("GIRO_LIVE_LOST_SECONDS", 20)


def live_idle_seconds() -> int:
    """A live stream left without a change this long stops (`GIRO_LIVE_IDLE_SECONDS`)."""
    return _whole_number("GIRO_LIVE_IDLE_SECONDS", 300)


# Classifiers: before a learner is trained, zero-shot CLIP answers (core/classifiers/tasks.py lists the pages).
CLIP_DEFAULT_MODEL = "openai/clip-vit-base-patch32"
FLOWERS_DEFAULT_URL = "https://s3.amazonaws.com/fast-ai-imageclas/oxford-102-flowers.tgz"  # fastai's copy


def flowers_url() -> str:
    """Where the Oxford Flowers archive is downloaded from (`GIRO_FLOWERS_URL`)."""
    return os.environ.get("GIRO_FLOWERS_URL") or FLOWERS_DEFAULT_URL


WHO = ("host", "anyone", "nobody")  # host: a browser on the machine that serves the app


def _who(variable: str) -> str:
    rule = os.environ.get(variable, "host").strip().lower()
    if rule not in WHO:
        raise GiroError(f"{variable} must be {', '.join(WHO)}, got {rule!r}")
    return rule


def add_stars() -> str:
    """Who may add photos to the star gallery (`GIRO_ADD_STARS`): `host` (the default), `anyone`,
    or `nobody`."""
    return _who("GIRO_ADD_STARS")


def setup_from_pages() -> str:
    """Who may start `core.setup` from a page (`GIRO_SETUP`): `host` (the default), `anyone`, or
    `nobody`. It downloads gigabytes and trains for hours: never a guest's to start."""
    return _who("GIRO_SETUP")


def clip_model() -> str:
    """The zero-shot CLIP model id or local folder (`GIRO_CLIP_MODEL`)."""
    return os.environ.get("GIRO_CLIP_MODEL") or CLIP_DEFAULT_MODEL


def problems() -> list[str]:
    """Every setting read and checked once: one line for each that is wrong, naming its variable
    (the app and the command lines refuse to start on any, instead of failing page by page)."""
    from core.device import pick_device

    found = []
    for check in (dream_compile, dream_max_frames, dream_renders_per_session, live_lost_seconds,
                  live_idle_seconds, add_stars, setup_from_pages, pick_device):
        try:
            check()
        except GiroError as error:
            found.append(str(error))
    return found
