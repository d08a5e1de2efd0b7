from ui.classify import page_ui

page_ui("bikes")
