from core.status import learner_status
from ui.common import learner_page_ui

learner_page_ui(
    learner_status("stars", "Film-Star Lookalike"),
    icon="🎬",
    what="Which film stars does a face look like?",
    needs="This page needs a gallery of star photos (a folder of photos per star); start one with:",
)
