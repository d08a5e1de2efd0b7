"""The model card beside a trained learner (`models/NAME.json`): what the learner is, how it was
trained and how well it did on held-out photos. The one place its fields are named: `core.classifiers.train`
makes it, the pages and the set-up read it.

A card is read strictly where the page relies on a field (a wrong one is one line naming it) and
kindly elsewhere: a training record a card lacks (written before the field existed) is None.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from core.atomic import write_json
from core.errors import ModelError, first_line

_KINDS = {str: "text", int: "a whole number", float: "a number", list: "a list"}
MIN_CALIBRATION = 5  # fewer held-out answers in a bin say nothing


@dataclass(frozen=True)
class CalibrationBin:
    """Held-out answers whose top-class probability fell in [low, high), and how many were right."""
    low: float
    high: float
    n: int
    right: int

    def holds(self, probability: float) -> bool:
        return self.low <= probability < self.high or (self.high >= 1 and probability >= self.high)


@dataclass(frozen=True)
class ModelCard:
    # What the page shows; a card without one of these cannot be read.
    classes: list[str]
    accuracy: float
    top5_accuracy: float
    architecture: str
    image_size: int
    date: str
    n_train: int
    split: str
    n_held_out: int
    # The evaluation's detail and the training record: None where a card has none.
    calibration: tuple[CalibrationBin, ...] = ()
    confusion_matrix: list[list[int]] | None = None
    task: str | None = None
    pretrained: bool | None = None
    epochs: int | None = None
    learning_rate: float | None = None
    learning_rate_from: str | None = None
    device: str | None = None
    progressive_sizes: list[int] | None = None
    batch_size: int | None = None
    n_valid: int | None = None
    train_seconds: float | None = None
    versions: dict[str, str] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        """Written whole or not at all, in the JSON that `load` reads (and older versions wrote)."""
        data = asdict(self)
        data["calibration"] = [{"from": b.low, "to": b.high, "n": b.n, "right": b.right} for b in self.calibration]
        write_json(path, {k: v for k, v in data.items() if v is not None})

    @classmethod
    def load(cls, path: Path) -> ModelCard | None:
        """The card at `path`; None if there is none; ModelError (one line) if it is broken."""
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise _unreadable(path, first_line(error)) from error
        if not isinstance(data, dict):
            raise _unreadable(path, "not a JSON object")
        return cls.from_dict(data, path.name)

    @classmethod
    def from_dict(cls, data: dict[str, Any], name: str = "the model card") -> ModelCard:
        """A card from its JSON object; fields this version does not know are left out."""
        for key, kind in _REQUIRED.items():
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else kind):
                raise _unreadable(name, f"{key} is missing or not {_KINDS[kind]}")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and v is not None}
        values["calibration"] = _bins(data.get("calibration"), name)
        return cls(**values)

    def held_out_record(self, probability: float) -> CalibrationBin | None:
        """The calibration bin `probability` falls in, if it holds enough answers to say something."""
        for row in self.calibration:
            if row.holds(probability):
                return row if row.n >= MIN_CALIBRATION else None
        return None


_REQUIRED = {"architecture": str, "image_size": int, "date": str, "n_train": int, "split": str,
             "accuracy": float, "top5_accuracy": float, "n_held_out": int, "classes": list}


def _bins(rows: Any, name: str) -> tuple[CalibrationBin, ...]:
    if rows is None:
        return ()
    number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
    if not (isinstance(rows, list) and all(
            isinstance(row, dict) and all(number(row.get(k)) for k in ("from", "to", "n", "right")) for row in rows)):
        raise _unreadable(name, "calibration is malformed")
    return tuple(CalibrationBin(row["from"], row["to"], int(row["n"]), int(row["right"])) for row in rows)


def _unreadable(name: str | Path, why: str) -> ModelError:
    return ModelError(f"{Path(name).name} is not a model card this app can read: {why}")
