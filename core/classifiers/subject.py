"""Is the photo of the page's subject at all? CLIP's answer, asked beside the classifier's.

A classifier names one of its classes for any photo: a learner that knows Road, TT and MTB calls
a rocket an MTB, and sure of it. CLIP has seen much more than bikes: it compares the photo with
sentences about the page's subject ("a photo of a bicycle.") and about what else guests photograph
(a person, a pet, a plate of food, a room...). When one of those is likelier than the subject, the
page says the photo is probably not a bike, whatever the classifier says.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from core import settings
from core.classifiers import tasks
from core.classifiers.zeroshot import ZeroShotPredictor

# What guests photograph instead: everyday scenes and things, none of them a page's subject.
ELSEWHERE = (
    "person", "face", "crowd of people", "dog", "cat", "bird", "horse", "car", "motorbike", "train",
    "building", "room", "plate of food", "cup of coffee", "landscape", "street", "sky",
    "screen with text", "document", "toy",
)
TEMPLATES = ("a photo of a {}.", "a blurry photo of a {}.", "a close-up photo of a {}.",
             "a photo of the {}.", "a cropped photo of a {}.")


@dataclass(frozen=True)
class SubjectAnswer:
    subject: str  # the page's subject, as CLIP was asked: "bicycle"
    probability: float  # CLIP's share for the subject among it and ELSEWHERE
    likeliest: str  # the likeliest of them all
    likeliest_probability: float

    @property
    def is_subject(self) -> bool:
        return self.likeliest == self.subject


class SubjectCheck:
    """CLIP over the subject and ELSEWHERE; thread-safe as ZeroShotPredictor is."""

    def __init__(self, subject: str, model: str | None = None, device: str = "cpu"):
        labels = [subject, *(thing for thing in ELSEWHERE if thing != subject)]
        sentences = [[template.format(label) for template in TEMPLATES] for label in labels]
        self.subject = subject
        self.clip = ZeroShotPredictor(model or settings.clip_model(), labels, sentences, device)

    def check(self, images: list[Image.Image]) -> list[SubjectAnswer]:
        answers = []
        for ranked in self.clip.predict(images, top_k=len(self.clip.labels)):
            shares = dict(ranked)
            likeliest, top = ranked[0]
            answers.append(SubjectAnswer(self.subject, shares[self.subject], likeliest, top))
        return answers


def load_subject_check(task: str, model: str | None = None, device: str = "cpu") -> SubjectCheck | None:
    """The check for a page whose registry entry names a subject; None for the others."""
    subject = tasks.task(task).subject
    return SubjectCheck(subject, model, device) if subject else None
