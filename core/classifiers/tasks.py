"""The classifier pages, each described once.

Home's cards, the pages, settings, training, zero-shot CLIP, fetching and the model status all
read this registry; adding a task here is the whole of adding a page's model plumbing (the page
file itself is two lines).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core import settings

# How a task's model is made, which decides what the status asks a host to run.
OXFORD, FOLDERS, GALLERY = "oxford", "folders", "gallery"
# A view drawn beside the answer.
OXFORD_PHOTO, GRAD_CAM = "oxford photo", "grad-cam"


@dataclass(frozen=True)
class Task:
    name: str  # the learner's file stem, the command-line name and the widget keys
    page: str  # the page's title
    icon: str
    script: str  # the page file, relative to the repository
    summary: str  # one sentence for Home's card and the page header
    noun: str  # what one photo shows: "Not sure which flower this is"
    needs: str  # what the page needs, for Home's card
    source: str  # OXFORD: core.classifiers.train downloads it; FOLDERS: class folders; GALLERY: star photos
    collect: tuple[str, ...] = ()  # core.classifiers.collect queries that start its data
    zero_shot: Callable[[], dict[str, str]] | None = None  # label -> phrase CLIP reads
    # Sentences around the phrase; CLIP's class embedding is their average (prompt ensembling,
    # which the CLIP paper found worth several points of zero-shot accuracy over one sentence).
    zero_shot_templates: tuple[str, ...] = (
        "a photo of a {}.", "a close-up photo of a {}.", "a photo of the {} outdoors.",
        "a cropped photo of a {}.", "a bright photo of a {}.", "a side view of a {}.",
    )
    extra: str = ""  # OXFORD_PHOTO, GRAD_CAM or nothing
    # What CLIP is asked the photo shows before an answer is believed (core.classifiers.subject); "" asks nothing.
    subject: str = ""

    @property
    def learner_file(self) -> str:
        return f"{self.name}.pkl"

    def learner_path(self) -> Path:
        return settings.models_dir() / self.learner_file

    def data_path(self) -> Path:
        return settings.data_dir() / self.name


def _flower_phrases() -> dict[str, str]:
    from core.classifiers.datasets import flower_names

    return {name: name for name in flower_names()}


def _bike_phrases() -> dict[str, str]:
    return {
        "Road": "road racing bicycle with drop handlebars",
        "TT": "time trial bicycle with aero bars and disc wheels",
        "MTB": "mountain bike with suspension and knobby tyres",
    }


TASKS: tuple[Task, ...] = (
    Task(
        name="flowers", page="Flower ID", icon="🌸", script="pages/2_Flower_ID.py",
        summary="Name a flower from a photo: the 102 species of the Oxford Flowers data set.",
        noun="flower", source=OXFORD,
        needs="Needs a trained learner (models/flowers.pkl) or the zero-shot CLIP model.",
        zero_shot=_flower_phrases,
        zero_shot_templates=(
            "a photo of a {}, a type of flower.", "a close-up photo of a {}, a type of flower.",
            "a photo of the {} flower in a garden.", "a cropped photo of a {}, a type of flower.",
            "a bright photo of a {}, a flowering plant.",
        ),
        extra=OXFORD_PHOTO, subject="flower",
    ),
    Task(
        name="stars", page="Film-Star Lookalike", icon="🎬", script="pages/3_Film-Star_Lookalike.py",
        summary="Which film stars does a face look like? Top matches, with the star's photo beside yours.",
        noun="star", source=GALLERY,
        needs="Needs a gallery of star photos (data/stars/) or a trained learner (models/stars.pkl).",
        collect=("Audrey Hepburn", "Marcello Mastroianni", "Sophia Loren"),
    ),
    Task(
        name="bikes", page="Bike ID", icon="🚲", script="pages/4_Bike_ID.py",
        summary="Road, time-trial or mountain bike? And where the model looked to decide.",
        noun="bike", source=FOLDERS,
        needs="Needs a trained learner (models/bikes.pkl) or the zero-shot CLIP model.",
        collect=("Road=road bike", "TT=time trial bike", "MTB=mountain bike"),
        zero_shot=_bike_phrases, extra=GRAD_CAM, subject="bicycle",
    ),
)


def task(name: str) -> Task:
    """The task called `name`; KeyError names the known ones."""
    for t in TASKS:
        if t.name == name:
            return t
    raise KeyError(f"no task {name!r} (known: {', '.join(names())})")


def names() -> list[str]:
    return [t.name for t in TASKS]
