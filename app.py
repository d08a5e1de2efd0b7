"""Giro Dreams on Streamlit's server: the pages (Home.py and pages/) and the routes beside them
(ui/routes.py). `streamlit run app.py` (`make run`, `make serve`) serves both.

Every setting is checked here once: a wrong one stops the server at start-up with one line
naming its variable, instead of breaking pages one by one.
"""

import os
import sys

import streamlit as st
from starlette.requests import ClientDisconnect

from core import settings
from ui.routes import ROUTES

wrong = settings.problems()
# Who is the host is decided by the connection's own peer (ui.common.is_host). uvicorn takes a
# client's address from X-Forwarded-For whenever the peer is in FORWARDED_ALLOW_IPS (loopback if
# unset), and reads it before this file is imported: so it must be set when the server starts,
# empty (`make run`, `make serve`) unless a proxy on this machine forwards the guests' addresses.
if os.environ.get("FORWARDED_ALLOW_IPS") is None:
    wrong.append("FORWARDED_ALLOW_IPS is not set, so a browser on this machine could pose as a guest through "
                 "X-Forwarded-For: start with `make run`, or `FORWARDED_ALLOW_IPS= streamlit run app.py` "
                 "(behind a proxy, see README.md)")
if wrong:
    for line in wrong:
        print(f"error: {line}", file=sys.stderr)
    sys.exit(2)


async def _gone(request, exc):  # a tab closed mid-upload: nothing to answer, nothing to log
    from starlette.responses import Response

    return Response(status_code=499)


app = st.App("Home.py", routes=ROUTES, exception_handlers={ClientDisconnect: _gone})
