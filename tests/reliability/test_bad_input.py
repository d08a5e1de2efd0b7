"""Bad input: every hostile file gets a one-line message naming it; good files beside it are served."""

from __future__ import annotations

import json
import shutil

import pytest

from core.classify import main as classify_main
from core.errors import ImageError
from core.images import load_image
from tests.reliability.corpus import corpus

CORPUS = corpus()


def test_the_corpus_is_big_enough():
    assert len(CORPUS) >= 30 and sum(1 for *_, want in CORPUS if want != "ok") >= 20


@pytest.mark.parametrize("name, data, want", CORPUS, ids=[c[0] for c in CORPUS])
def test_upload_path(name, data, want):
    """What every upload, camera shot and gallery photo goes through."""
    if want == "ok":
        image = load_image(data, name=name)
        assert image.mode == "RGB" and min(image.size) >= 1
        return
    with pytest.raises(ImageError) as caught:
        load_image(data, name=name)
    message = str(caught.value)
    assert message.startswith(name) and want in message and "\n" not in message


def test_command_line_names_each_bad_file_and_serves_the_good(trained, giro_folders, tmp_path, capsys):
    shutil.copy(trained["pkl"], giro_folders["models"] / "bikes.pkl")
    paths = []
    for name, data, _ in CORPUS:
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    assert classify_main(["bikes", *paths, "--json"]) == 1
    out, err = capsys.readouterr()
    served = [json.loads(line)["image"] for line in out.splitlines()]
    refused = err.splitlines()
    assert sorted(served) == sorted(str(tmp_path / n) for n, _, want in CORPUS if want == "ok")
    assert len(refused) == sum(1 for *_, want in CORPUS if want != "ok")
    assert all(line.startswith(f"error: {tmp_path}") for line in refused)
