from core.status import learner_status
from ui.classify import classifier_page_ui
from ui.common import page_header_ui

page_header_ui("Bike ID", "🚲", "Road, time-trial or mountain bike? And where the model looked to decide.")
classifier_page_ui(
    "bikes", learner_status("bikes", "Bike ID"), noun="bike",
    needs="This page needs a trained bike learner or the zero-shot CLIP model; train one with:",
)
