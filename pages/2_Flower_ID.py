from core.status import learner_status
from ui.common import learner_page_ui

learner_page_ui(
    learner_status("flowers", "Flower ID"),
    icon="🌸",
    what="Name a flower from a photo (102 species).",
    needs="This page needs a trained flower learner or the zero-shot CLIP model; train one with:",
)
