"""Need: validated on creation and JSON round-trippable (the store persists them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from rapport.errors import InvalidInput
from rapport.recognize.need import Need

DUE = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def test_round_trip_through_json() -> None:
    need = Need("c1", "toner", "printing", "depletion", DUE, 0.8, {"reason": "Toner low", "level": np.float64(12.5)})
    again = Need.from_dict(json.loads(json.dumps(need.to_dict())))
    assert again.to_dict() == need.to_dict()
    assert again.evidence["level"] == 12.5 and again.due_at == DUE


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "whim"}, "whim"),
        ({"confidence": 1.5}, "outside"),
        ({"confidence": float("nan")}, "number"),
        ({"evidence": {"level": 3}}, "reason"),
        ({"due_at": "tomorrow"}, "datetime"),
    ],
)
def test_invalid_needs_are_refused(changes: dict, message: str) -> None:
    fields = {
        "customer_id": "c1",
        "item": None,
        "category": "pods",
        "kind": "replenish",
        "due_at": DUE,
        "confidence": 0.5,
        "evidence": {"reason": "Due"},
    }
    with pytest.raises(InvalidInput, match=message):
        Need(**(fields | changes))


def test_from_dict_names_a_missing_field() -> None:
    with pytest.raises(InvalidInput, match="'kind'"):
        Need.from_dict({"customer_id": "c1", "due_at": DUE.isoformat(), "confidence": 0.5})
