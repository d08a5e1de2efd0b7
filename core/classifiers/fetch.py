"""Fetch a learner someone shared on the Hugging Face Hub into the models folder.

    python -m core.classifiers.fetch REPO_ID --as flowers

The repository is one written by huggingface_hub's fastai support (`core.classifiers.train ... --push`):
`model.pkl`, and `giro_card.json` when it came from this app. A learner is a pickle and loading
it runs code: fetch only from people you trust.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from core.atomic import atomic_path
from core.classifiers import tasks
from core.errors import GiroError, ModelError
from core.hub import offline


def fetch(repo_id: str, task: str) -> Path:
    from huggingface_hub import hf_hub_download

    if task not in tasks.names():
        raise GiroError(f"--as must be one of {', '.join(tasks.names())}, got {task!r}")
    if offline():
        raise ModelError(f"cannot fetch {repo_id}: HF_HUB_OFFLINE is set")
    try:
        learner = hf_hub_download(repo_id, "model.pkl")
    except Exception as error:
        raise ModelError(
            f"cannot fetch {repo_id} ({type(error).__name__}): check the id and the internet connection"
        ) from error
    out = tasks.task(task).learner_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as temporary:
        shutil.copyfile(learner, temporary)
    try:
        card = hf_hub_download(repo_id, "giro_card.json")
    except Exception:  # a learner shared by another tool has no card: the page says so
        out.with_suffix(".json").unlink(missing_ok=True)
    else:
        with atomic_path(out.with_suffix(".json")) as temporary:
            shutil.copyfile(card, temporary)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.classifiers.fetch", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("repo_id", metavar="REPO_ID", help="a Hub model repository, e.g. someone/flowers")
    parser.add_argument("--as", dest="task", required=True, choices=tasks.names(),
                        help="which page's learner it becomes")
    args = parser.parse_args(argv)
    try:
        out = fetch(args.repo_id, args.task)
    except GiroError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
