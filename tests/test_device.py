"""core.device: one core for one thread, for a block; every other thread's count left as it was."""

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


def _one_core_then_after():
    with one_core_for_this_thread() as took:
        inside = torch.get_num_threads()
        started_meanwhile = _in_a_thread(torch.get_num_threads)
    return took, inside, started_meanwhile, torch.get_num_threads()


def test_one_core_for_this_thread_for_its_block_only():
    before = torch.get_num_threads()
    # In another thread, as the preview lane: one core inside, its count again after; a thread
    # started meanwhile (as each Streamlit rerun is) and this one keep theirs.
    assert _in_a_thread(_one_core_then_after) == (True, 1, before, before)
    assert torch.get_num_threads() == before
    # In this thread, as the command line's preview: its count comes back for whatever runs next.
    assert _one_core_then_after() == (True, 1, before, before)
