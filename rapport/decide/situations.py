"""Situations: where and why a decision is asked for — a touchpoint, optionally the item and the event behind it.

Inbound touchpoints (the customer came to us: app, store, call centre) are answered in that session; outbound ones
(a need falls due, a device reports a level) are Rapport's own initiative, so anything it says is a contact that
the contact policy and the channel consents govern.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from rapport.errors import InvalidInput

Touchpoint = Literal["app_open", "store_visit", "call_centre", "need_due", "device_report"]
TOUCHPOINTS: tuple[str, ...] = get_args(Touchpoint)
# The channel an inbound touchpoint answers on; outbound touchpoints have none until the contact policy picks one.
INBOUND_CHANNELS = {"app_open": "app", "store_visit": "store", "call_centre": "call_centre"}
# Ingested events that change a need, and so lead to a decision without any batch job.
NEED_EVENTS = ("Level Reported", "Order Completed", "Complaint Filed")


@dataclass(frozen=True)
class Situation:
    """A touchpoint, the item or category it concerns (if any) and the event that raised it (if any)."""

    touchpoint: Touchpoint
    sku: str | None = None
    category: str | None = None
    event: str | None = None
    message_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.touchpoint not in TOUCHPOINTS:
            raise InvalidInput(f"Touchpoint {self.touchpoint!r} is unknown; use one of {', '.join(TOUCHPOINTS)}.")
        for name in ("sku", "category", "event", "message_id"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value or len(value) > 200):
                raise InvalidInput(f"Situation {name} {value!r} must be a non-empty string of at most 200 characters.")
        if not isinstance(self.details, dict):
            raise InvalidInput(f"Situation details {self.details!r} must be an object.")

    @property
    def inbound(self) -> bool:
        """True when the customer is with us now (app, store, call centre): the answer is shown in the session."""
        return self.touchpoint in INBOUND_CHANNELS

    @property
    def channel(self) -> str | None:
        return INBOUND_CHANNELS.get(self.touchpoint)

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"touchpoint": self.touchpoint}
        for name in ("sku", "category", "event", "message_id"):
            if getattr(self, name) is not None:
                found[name] = getattr(self, name)
        if self.details:
            found["details"] = self.details
        return found

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Situation:
        """Inverse of :meth:`to_dict`; raises InvalidInput naming what is wrong."""
        if not isinstance(data, dict) or "touchpoint" not in data:
            raise InvalidInput(f"A situation needs a 'touchpoint' (one of {', '.join(TOUCHPOINTS)}); got {data!r}.")
        unknown = sorted(set(data) - {"touchpoint", "sku", "category", "event", "message_id", "details"})
        if unknown:
            raise InvalidInput(f"Situation fields {unknown} are unknown; use touchpoint, sku, category, details.")
        return cls(
            touchpoint=data["touchpoint"],
            sku=data.get("sku"),
            category=data.get("category"),
            event=data.get("event"),
            message_id=data.get("message_id"),
            details=data.get("details") or {},
        )


def situation_for_event(name: str | None, properties: dict[str, Any] | None, message_id: str) -> Situation | None:
    """The situation an ingested event raises, or None when the event changes no need.

    A level reading is a device report about its consumable; an order or a complaint makes the customer's needs
    due for a fresh look (an order usually meets a need, a complaint puts service before selling).
    """
    if name not in NEED_EVENTS:
        return None
    props = properties or {}
    sku = props.get("sku") if isinstance(props.get("sku"), str) and props.get("sku") else None
    category = props.get("category") if isinstance(props.get("category"), str) and props.get("category") else None
    if name == "Level Reported":
        details: dict[str, Any] = {k: props[k] for k in ("device_id", "level_pct", "units_left") if k in props}
        return Situation(
            "device_report", sku=sku, category=category, event=name, message_id=message_id, details=details
        )
    return Situation("need_due", event=name, message_id=message_id)


def records_to_decide(report: Any) -> list[str]:
    """The records of ``report`` (an IngestReport) whose events may change a need, each once per event it got,
    so the trigger reads back the same latest events. Records that got only other events (page views, most
    tracks) are left out: the trigger would read their events back, a query a record, only to find that none
    matters; at thousands of events a second its queue of such work grew in the API's memory."""
    names = getattr(report, "event_names", None)
    if names is None or len(names) != len(report.customer_ids):
        return list(report.customer_ids)
    wanted = {record for record, name in zip(report.customer_ids, names, strict=True) if name in NEED_EVENTS}
    return [record for record in report.customer_ids if record in wanted]
