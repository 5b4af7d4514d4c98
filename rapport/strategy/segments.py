"""Which segment a customer falls in: the first segment of the strategy whose rules all hold for their traits and
facts (orders, spend, events, channels, categories bought, days since the last order)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapport.strategy.model import UNSEGMENTED, Rule, Strategy


@dataclass(frozen=True)
class CustomerFacts:
    """What segment rules read about one customer (a profile, by canonical id)."""

    customer_id: str
    traits: Mapping[str, Any]
    facts: Mapping[str, Any]


def facts_of(profile_facts: Mapping[str, Any], categories: set[str], now: datetime) -> dict[str, Any]:
    """The rule facts from a profile's facts (rapport.customers.profile) and the categories the customer bought."""
    last = profile_facts.get("last_order_at")
    days = None if not last else (now - datetime.fromisoformat(last)).total_seconds() / 86400
    return {
        "orders": profile_facts.get("orders", 0),
        "spend": profile_facts.get("spend", 0.0),
        "events": profile_facts.get("events", 0),
        "channels": list(profile_facts.get("channels", [])),
        "categories": sorted(categories),
        "days_since_last_order": days,
    }


def holds(rule: Rule, customer: CustomerFacts) -> bool:
    """Whether one rule holds; a missing trait or fact holds only for ``exists: false``."""
    value = customer.traits.get(rule.trait) if rule.trait is not None else customer.facts.get(rule.fact or "")
    op, expected = rule.operator
    if op == "exists":
        return (value is not None) == expected
    if value is None:
        return False
    if op == "equals":
        return bool(value == expected)
    if op == "in":
        return value in expected
    if op == "contains":
        wanted = expected if isinstance(expected, list) else [expected]
        have = value if isinstance(value, list | tuple | set) else [value]
        return any(w in have for w in wanted)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return value >= expected if op == "gte" else value <= expected


def segment_of(strategy: Strategy, customer: CustomerFacts) -> str:
    """The first segment (in file order) whose rules all hold; UNSEGMENTED when none does."""
    for name, segment in strategy.segments.items():
        if all(holds(rule, customer) for rule in segment.rules):
            return name
    return UNSEGMENTED
