from core.status import learner_status
from ui.classify import classifier_page_ui
from ui.common import page_header_ui

page_header_ui("Flower ID", "🌸", "Name a flower from a photo: the 102 species of the Oxford Flowers data set.")
classifier_page_ui(
    "flowers", learner_status("flowers", "Flower ID"), noun="flower",
    needs="This page needs a trained flower learner or the zero-shot CLIP model; train one with:",
)
