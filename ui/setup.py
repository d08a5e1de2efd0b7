"""What a page says when its model is missing, and starting `core.setup` from a page to get it
(watching the server's run): the commands and the run for the host only (`GIRO_SETUP`)."""

from __future__ import annotations

import streamlit as st

from core import settings
from core.setup import FAILED, summary
from core.setup_job import SetupState
from core.status import ModelStatus
from ui import common
from ui.cache import setup_job

POLL_SECONDS = 2
LOG_LINES = 12


def model_missing_ui(status: ModelStatus, needs: str, reason: str = "") -> None:
    """One sentence on what the page needs; for the host, why and the exact command, folded away.

    A guest's phone sees no command and no server path: neither is theirs to use.
    """
    st.info(needs, icon="📦")
    if not common.is_host():
        st.caption("The host of this app can set it up.")
        return
    with st.expander("Set it up (host)"):
        if reason:
            st.caption(common.as_text(reason))
        st.write(f"Expected at `{status.where}`. Run on this machine:")
        st.code(status.get_command, language="bash")
        if status.setup_part:
            setup_ui([status.setup_part], key=status.setup_part, outcomes_of=[status.setup_part])


def setup_ui(parts: list[str], key: str, outcomes_of: list[str] | None = None) -> None:
    """A button that runs the setup of `parts` on the server, then the run's progress and how it
    ended for `outcomes_of` (None: every part); nothing for a guest. One run per server: while one
    goes on, every host page shows it instead of the button."""
    if not common.allowed(settings.setup_from_pages):
        return
    job = setup_job()
    state = job.state()
    if not state.running and parts:
        label = f"Set up {parts[0]} now" if len(parts) == 1 else f"Set up {', '.join(parts[:-1])} and {parts[-1]} now"
        if st.button(label, key=f"setup_{key}", icon=":material/download:",
                     help="Runs `python -m core.setup` on this machine: downloads, then training."):
            if not job.start(parts):
                st.warning("A setup is already running on this server.")
            st.rerun()
    if state.running:
        setup_progress_ui()
    elif state.parts:
        finished_ui(state, outcomes_of)


@st.fragment(run_every=POLL_SECONDS)
def setup_progress_ui() -> None:
    """The run's progress, polled while it goes on; at its end the whole page reruns, since what
    the page can do has changed."""
    state = setup_job().state()
    if not state.running:
        st.rerun(scope="app")
    line = state.lines[-1] if state.lines else "starting"
    st.progress(state.fraction, text=common.as_text(f"Setting up {', '.join(state.parts)}: {line}"))
    st.caption(f"{state.done} of {len(state.parts)} parts done, {state.seconds / 60:.0f} min so far; "
               "it goes on if this page is closed. Training shows its epochs in the server's terminal.")
    with st.expander("Log"):
        st.code("\n".join(state.lines[-LOG_LINES:]), language=None)


def finished_ui(state: SetupState, parts: list[str] | None) -> None:
    """How the last run ended, for `parts` (None: every part it ran)."""
    outcomes = [o for o in state.outcomes if parts is None or o.part in parts]
    if not outcomes:
        return
    failed = [o for o in outcomes if o.state == FAILED]
    if failed:
        st.warning("The last setup could not finish:\n" + "\n".join(
            f"- **{o.part}**: {common.as_text(o.detail)}" for o in failed))
    else:
        st.success(f"Setup of {', '.join(o.part for o in outcomes)} finished.")
    with st.expander("What the setup did"):
        st.code(summary(outcomes), language=None)
