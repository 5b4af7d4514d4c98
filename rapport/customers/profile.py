"""The unified profile: one view of a customer across every channel, built from their events and identifiers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ORDER_EVENTS = ("Order Completed",)
_MONEY_KEYS = ("total", "revenue", "value")


@dataclass
class Profile:
    """Who a customer is (identifiers, traits), what they did (timeline) and what follows (facts)."""

    customer_id: str
    records: list[str]
    identifiers: list[dict[str, Any]]
    shared_identifiers: list[dict[str, Any]]
    traits: dict[str, Any]
    trait_sources: dict[str, dict[str, Any]]
    events: list[dict[str, Any]]
    facts: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, events_limit: int | None = None) -> dict[str, Any]:
        timeline = self.events if events_limit is None else self.events[len(self.events) - events_limit :]
        return {
            "customer_id": self.customer_id,
            "records": self.records,
            "identifiers": self.identifiers,
            "shared_identifiers": self.shared_identifiers,
            "traits": self.traits,
            "trait_sources": self.trait_sources,
            "facts": self.facts,
            "events": timeline,
        }


def build_profile(
    customer_id: str,
    records: list[str],
    identifier_rows: list[dict[str, Any]],
    event_rows: list[dict[str, Any]],
    source_precedence: tuple[str, ...] = (),
) -> Profile:
    """Assemble a profile. Traits: the strongest source wins, then the latest value (``source_precedence``)."""
    identifiers = [{"kind": row["kind"], "value": row["value"]} for row in identifier_rows]
    shared = [{"kind": row["kind"], "value": row["value"]} for row in identifier_rows if row.get("shared")]
    traits, sources = _traits(event_rows, source_precedence)
    timeline = [_timeline_entry(row) for row in event_rows]
    return Profile(customer_id, sorted(records), identifiers, shared, traits, sources, timeline, _facts(event_rows))


def _traits(rows: list[dict[str, Any]], precedence: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    rank = {source: i for i, source in enumerate(precedence)}
    best: dict[str, tuple[int, datetime, Any, str]] = {}
    for row in rows:
        found = dict((row.get("context") or {}).get("traits") or {})
        found.update(row.get("traits") or {})
        if not found:
            continue
        source_rank = rank.get(row["source"], len(precedence))
        for key, value in found.items():
            current = best.get(key)
            # lower rank is stronger; among equals the later timestamp wins
            if current is None or (source_rank, -row["timestamp"].timestamp()) <= (
                current[0],
                -current[1].timestamp(),
            ):
                best[key] = (source_rank, row["timestamp"], value, row["source"])
    traits = {key: entry[2] for key, entry in sorted(best.items())}
    sources = {key: {"source": entry[3], "at": entry[1].isoformat()} for key, entry in sorted(best.items())}
    return traits, sources


def _timeline_entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "message_id": row["message_id"],
        "type": row["type"],
        "name": row["name"],
        "channel": row["channel"],
        "source": row["source"],
        "timestamp": row["timestamp"].isoformat(),
        "properties": row.get("properties") or {},
        "traits": row.get("traits") or {},
    }


def order_total(properties: dict[str, Any] | None) -> float:
    """The money value of an order event (Segment e-commerce spec: total, else revenue, else value)."""
    for key in _MONEY_KEYS:
        value = (properties or {}).get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return 0.0


def _facts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    if not rows:
        return {"first_seen": None, "last_seen": None, "channels": [], "events": 0, "orders": 0, "spend": 0.0}
    orders = [row for row in rows if row["type"] == "track" and row["name"] in ORDER_EVENTS]
    channels: dict[str, int] = {}
    for row in rows:
        channels[row["channel"]] = channels.get(row["channel"], 0) + 1
    return {
        "first_seen": min(row["timestamp"] for row in rows).isoformat(),
        "last_seen": max(row["timestamp"] for row in rows).isoformat(),
        "channels": sorted(channels),
        "events_per_channel": dict(sorted(channels.items())),
        "events": len(rows),
        "orders": len(orders),
        "spend": round(sum(order_total(row.get("properties")) for row in orders), 2),
        "last_order_at": max(row["timestamp"] for row in orders).isoformat() if orders else None,
    }
