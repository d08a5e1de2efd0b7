"""Which models are on this machine, and the exact command that fetches or trains a missing one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core import settings


@dataclass(frozen=True)
class ModelStatus:
    page: str
    available: bool
    where: str  # the folder or file in use, or where it is expected
    get_command: str  # empty when available


def dream_status(model: str | None = None) -> ModelStatus:
    """The Stable Diffusion weights: a local folder, or a Hub id already in the local Hub cache."""
    model = model or settings.dream_model()
    if Path(model).expanduser().is_dir():
        found = (Path(model).expanduser() / "model_index.json").is_file()
        command = "" if found else f"a diffusers folder with model_index.json at {model}"
        return ModelStatus("Dream a Stage", found, model, command)
    from huggingface_hub import try_to_load_from_cache

    cached = isinstance(try_to_load_from_cache(model, "model_index.json"), str)
    return ModelStatus(
        "Dream a Stage", cached, model, "" if cached else f"hf download {model}"
    )


def learner_status(task: str, page: str) -> ModelStatus:
    """A trained fastai learner in the models folder."""
    path = settings.models_dir() / settings.LEARNER_FILES[task]
    command = f"python -m core.train {task} --out {path}"
    if task != "flowers":
        command = f"python -m core.train {task} --data data/{task} --out {path}"
    available = path.is_file()
    return ModelStatus(page, available, str(path), "" if available else command)


def all_status() -> list[ModelStatus]:
    return [
        dream_status(),
        learner_status("flowers", "Flower ID"),
        learner_status("stars", "Film-Star Lookalike"),
        learner_status("bikes", "Bike ID"),
    ]
