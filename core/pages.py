"""Every page of the app described once, Dream a Stage first, then each classifier page of the
registry (`core.classifiers.tasks`): Home's cards, the model status and each page's header read these."""

from __future__ import annotations

from dataclasses import dataclass

from core.classifiers import tasks


@dataclass(frozen=True)
class Page:
    name: str  # the set-up part that gets its model (`make models PARTS=...`)
    title: str
    icon: str
    script: str  # the page's file, for links
    summary: str  # what it does, for a guest
    needs: str  # what it needs, for the host


DREAM = Page(
    "dream", "Dream a Stage", "🌄", "pages/1_Dream_a_Stage.py",
    "Stable Diffusion dreams a looping ride through a Giro stage: each frame is the last one zoomed in "
    "and redrawn, and the end flows back into the start.",
    "Needs Stable Diffusion weights (about 4 GB); a GPU turns minutes into seconds.",
)


def all_pages() -> list[Page]:
    """Dream a Stage, then every classifier page in the registry's order."""
    return [DREAM] + [Page(t.name, t.page, t.icon, t.script, t.summary, t.needs) for t in tasks.TASKS]
