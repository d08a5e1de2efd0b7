"""core.classifiers.fetch: a shared learner from the Hub, with a clear message when the Hub is out of reach."""

from __future__ import annotations

from core.classifiers.fetch import main


def test_offline_is_one_line(capsys):
    assert main(["someone/flowers", "--as", "flowers"]) == 2
    assert capsys.readouterr().err == "error: cannot fetch someone/flowers: HF_HUB_OFFLINE is set\n"


def test_fetch_copies_learner_and_card_into_the_models_folder(monkeypatch, tmp_path, giro_folders):
    shared = tmp_path / "hub"
    shared.mkdir()
    (shared / "model.pkl").write_bytes(b"learner bytes")
    (shared / "giro_card.json").write_text('{"accuracy": 0.97}')
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr("huggingface_hub.hf_hub_download",
                        lambda repo, name: str(shared / name))  # the network boundary
    assert main(["someone/flowers", "--as", "flowers"]) == 0
    assert (giro_folders["models"] / "flowers.pkl").read_bytes() == b"learner bytes"
    assert (giro_folders["models"] / "flowers.json").read_text() == '{"accuracy": 0.97}'
