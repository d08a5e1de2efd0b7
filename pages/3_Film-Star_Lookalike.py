from core.status import learner_status
from ui.classify import lookalike_page_ui
from ui.common import page_header_ui

page_header_ui("Film-Star Lookalike", "🎬", "Which film stars does your face look like?")
lookalike_page_ui(
    learner_status("stars", "Film-Star Lookalike"),
    needs="This page needs a gallery of star photos (a folder of photos per star); start one with:",
)
