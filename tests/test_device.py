"""core.device: one core for one thread, every other thread's count left as it was."""

from __future__ import annotations

import threading

import torch

from core.device import one_core_for_this_thread


def _in_a_thread(work):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", work()))
    thread.start()
    thread.join()
    return result["value"]


def test_one_core_for_this_thread_leaves_the_others_alone():
    before = torch.get_num_threads()
    assert _in_a_thread(lambda: (one_core_for_this_thread(), torch.get_num_threads())) == (True, 1)
    # This thread, and a thread started afterwards (as each Streamlit rerun is), keep their count.
    assert torch.get_num_threads() == before
    assert _in_a_thread(torch.get_num_threads) == before
