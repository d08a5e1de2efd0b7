"""Dream a Stage's page, one module per tab, plus the state mapping, the results view and plots.

Each `*_ui` function draws one part of the page and returns what the next part needs. Renders and
candidates go to the server's queue (`ui.cache.render_queue`) and the page polls it, so moving
a slider never reloads a model nor kills a render. The UI writes no files and names no paths:
run folders, start frames and previews belong to `core.dream`.
"""
