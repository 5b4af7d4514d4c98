"""A Need: what a customer is about to need, when, how sure we are, and why (the evidence shown to staff)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from rapport.errors import InvalidInput

NeedKind = Literal["replenish", "depletion", "habit", "issue", "activity"]
NEED_KINDS: tuple[str, ...] = get_args(NeedKind)


@dataclass(frozen=True)
class Need:
    """One recognised need of one customer, for an item or a category, due at a time.

    ``evidence`` is JSON-friendly: a human-readable ``reason`` plus the numbers behind it.
    """

    customer_id: str
    item: str | None
    category: str | None
    kind: NeedKind
    due_at: datetime
    confidence: float
    evidence: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in NEED_KINDS:
            raise InvalidInput(f"Need kind {self.kind!r} is unknown; use one of {', '.join(NEED_KINDS)}.")
        if not (isinstance(self.confidence, int | float) and math.isfinite(self.confidence)):
            raise InvalidInput(f"Need confidence {self.confidence!r} must be a number between 0 and 1.")
        if not 0.0 <= self.confidence <= 1.0:
            raise InvalidInput(f"Need confidence {self.confidence} is outside [0, 1].")
        if not isinstance(self.evidence.get("reason"), str) or not self.evidence["reason"]:
            raise InvalidInput("Need evidence must hold a human-readable 'reason' string.")
        if not isinstance(self.due_at, datetime):
            raise InvalidInput(f"Need due_at {self.due_at!r} must be a datetime.")

    @property
    def reason(self) -> str:
        return str(self.evidence["reason"])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``due_at`` as ISO 8601)."""
        return {
            "customer_id": self.customer_id,
            "item": self.item,
            "category": self.category,
            "kind": self.kind,
            "due_at": self.due_at.isoformat(),
            "confidence": self.confidence,
            "evidence": _plain(self.evidence),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Need:
        """Inverse of :meth:`to_dict`."""
        try:
            due_at = data["due_at"]
            return cls(
                customer_id=str(data["customer_id"]),
                item=data.get("item"),
                category=data.get("category"),
                kind=data["kind"],
                due_at=due_at if isinstance(due_at, datetime) else datetime.fromisoformat(due_at),
                confidence=float(data["confidence"]),
                evidence=dict(data.get("evidence") or {}),
            )
        except KeyError as exc:
            raise InvalidInput(f"A stored need lacks the field {exc.args[0]!r}.") from None
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"A stored need cannot be read: {exc}.") from None


def _plain(value: Any) -> Any:
    """Numpy scalars, datetimes and non-finite floats to JSON-native values, recursively."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
