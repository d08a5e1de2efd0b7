from core.status import learner_status
from ui.common import learner_page_ui

learner_page_ui(
    learner_status("bikes", "Bike ID"),
    icon="🚲",
    what="Road, time-trial or mountain bike?",
    needs="This page needs a trained bike learner or the zero-shot CLIP model; train one with:",
)
