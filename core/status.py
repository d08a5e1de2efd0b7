"""Which models are on this machine, and the exact command that fetches or trains a missing one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core import settings
from core.classifiers import tasks
from core.classifiers.tasks import GALLERY, Task
from core.hub import is_hub_id
from core.images import IMAGE_SUFFIXES
from core.pages import DREAM, all_pages


@dataclass(frozen=True)
class ModelStatus:
    page: str
    available: bool
    where: str  # the folder or file in use, or where it is expected
    get_command: str  # empty when available
    setup_part: str = ""  # the part of `python -m core.setup` that gets it; empty: setup cannot


SETUP_COMMAND = "make models PARTS={}"  # works as typed, in or out of the virtual environment


def dream_status(model: str | None = None, vae: str = "auto") -> ModelStatus:
    """The Stable Diffusion weights and, if one is asked for, the tiny VAE: local folders, or Hub
    ids already in the local Hub cache."""
    status = _diffusers_status(model or settings.dream_model())
    if not status.available or vae == "auto" or _hub_cached(vae, "config.json"):
        return status
    if vae == settings.dream_fast_vae() and is_hub_id(vae):
        return ModelStatus(DREAM.title, False, vae, SETUP_COMMAND.format(DREAM.name), DREAM.name)
    if is_hub_id(vae):
        return ModelStatus(DREAM.title, False, vae, f"hf download {vae}")
    return ModelStatus(DREAM.title, False, vae, f"an AutoencoderTiny folder with config.json at {vae}")


def _diffusers_status(model: str) -> ModelStatus:
    found = _hub_cached(model, "model_index.json")
    if found:
        return ModelStatus(DREAM.title, True, model, "")
    if Path(model).expanduser().is_dir():
        return ModelStatus(DREAM.title, False, model, f"a diffusers folder with model_index.json at {model}")
    if not is_hub_id(model):  # a folder that is not there: the command that fills it
        return ModelStatus(DREAM.title, False, model,
                           f"hf download {settings.DREAM_DEFAULT_MODEL} --local-dir {model}")
    if model in (settings.dream_model(), settings.dream_fast_model()):
        return ModelStatus(DREAM.title, False, model, SETUP_COMMAND.format(DREAM.name), DREAM.name)
    return ModelStatus(DREAM.title, False, model, f"hf download {model}")


def dream_folders() -> list[str]:
    """Names of the diffusers folders (with model_index.json) in the models folder.

    The page offers only these: a path typed into a browser would let any guest make the server
    read whatever folder it names.
    """
    folder = settings.models_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "model_index.json").is_file())


def learner_status(task: Task) -> ModelStatus:
    """A trained fastai learner in the models folder; else, where the task has one, its fallback:
    zero-shot CLIP from the local Hub cache, or a gallery of star photos."""
    path = task.learner_path()
    if path.is_file():
        return ModelStatus(task.page, True, str(path), "")
    if task.source == GALLERY:
        gallery = task.data_path()
        if gallery.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in gallery.glob("*/*")):
            return ModelStatus(task.page, True, str(gallery), "")
        return ModelStatus(task.page, False, str(gallery), SETUP_COMMAND.format(task.name), task.name)
    if task.zero_shot is not None and clip_on_this_machine():
        return ModelStatus(task.page, True, f"{settings.clip_model()} (zero-shot)", "")
    return ModelStatus(task.page, False, str(path), SETUP_COMMAND.format(task.name), task.name)


def clip_on_this_machine() -> bool:
    """The CLIP model (GIRO_CLIP_MODEL) is here: using it asks no network."""
    return _hub_cached(settings.clip_model(), "config.json")


def _hub_cached(model: str, filename: str) -> bool:
    """A local folder, or a Hub id already in the local Hub cache (no network)."""
    if Path(model).expanduser().is_dir():
        return (Path(model).expanduser() / filename).is_file()
    if not is_hub_id(model):
        return False
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(model, filename), str)


def all_status() -> list[ModelStatus]:
    """Each page's, in `core.pages.all_pages`'s order."""
    return [dream_status() if page == DREAM else learner_status(tasks.task(page.name)) for page in all_pages()]
