"""A Decision: for one customer in one situation, the experience and action chosen (or "nothing now"), and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from rapport.decide.situations import Situation
from rapport.identifiers import uuid4_hex
from rapport.recognize.need import Need

Experience = Literal["respond_to_desire", "curated_offering", "coach_behavior", "automatic_execution"]
EXPERIENCES: tuple[str, ...] = get_args(Experience)
# act: the action is shown or sent now; deferred: the contact policy moved it to send_at; nothing_now: no action.
DecisionStatus = Literal["act", "deferred", "nothing_now"]
Trigger = Literal["api", "event", "cli"]


def new_decision_id() -> str:
    return uuid4_hex()


@dataclass(slots=True)
class Decision:
    """What Rapport does for a customer now, the reasons in plain words, and the model versions behind it."""

    id: str
    customer_id: str
    situation: Situation
    status: DecisionStatus
    experience: Experience | None
    action: dict[str, Any] | None
    reasons: list[str]
    model_versions: dict[str, str]
    need: Need | None
    created_at: datetime
    trigger: Trigger = "api"

    @property
    def category(self) -> str | None:
        """What the decision was about: the need's category, or its item when it names no category."""
        return (self.need.category or self.need.item) if self.need else self.situation.category or self.situation.sku

    @property
    def nothing_now(self) -> bool:
        return self.status == "nothing_now"

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.id,
            "customer_id": self.customer_id,
            "situation": self.situation.to_dict(),
            "status": self.status,
            "experience": self.experience,
            "action": self.action,
            "reasons": list(self.reasons),
            "model_versions": dict(self.model_versions),
            "need": self.need.to_dict() if self.need else None,
            "created_at": self.created_at.isoformat(),
            "trigger": self.trigger,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decision:
        """Inverse of :meth:`to_dict` (the store keeps decisions in this form)."""
        created = data["created_at"]
        return cls(
            id=data["decision_id"],
            customer_id=data["customer_id"],
            situation=Situation.from_dict(data["situation"]),
            status=data["status"],
            experience=data.get("experience"),
            action=data.get("action"),
            reasons=list(data.get("reasons") or []),
            model_versions=dict(data.get("model_versions") or {}),
            need=Need.from_dict(data["need"]) if data.get("need") else None,
            created_at=created if isinstance(created, datetime) else datetime.fromisoformat(created),
            trigger=data.get("trigger", "api"),
        )
