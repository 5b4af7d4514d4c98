"""Decide fixtures: a decision store over the real test store, and customers made by ingesting real events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rapport.customers.ingestion import ingest
from rapport.customers.service import resolve_customer
from rapport.recognize.need import Need
from rapport.respond.mandates import MandateTerms
from rapport.store.decisions import SqlDecisionStore
from rapport.store.needs import write_needs
from rapport.store.store import Store

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # a Tuesday, 13:00 in Berlin
TONER_MANDATE = MandateTerms(
    "category", "toner", per_order_cap=100.0, monthly_cap=200.0, notice_hours=24, cancel_window_hours=12
)


@pytest.fixture
def decisions(store: Store) -> SqlDecisionStore:
    """The test store seen through the decision engine; quiet hours off unless a test sets them."""
    return SqlDecisionStore(store.settings.with_overrides(quiet_hours=""), engine=store.engine)


def customer(
    store: SqlDecisionStore,
    name: str,
    *,
    timezone: str | None = None,
    orders: list[dict[str, Any]] | None = None,
    at: datetime = NOW - timedelta(days=60),
) -> str:
    """A customer with an e-mail address, optional traits.timezone, and earlier orders of the given products."""
    traits: dict[str, Any] = {"email": f"{name}@example.org"}
    if timezone:
        traits["timezone"] = timezone
    messages: list[dict[str, Any]] = [
        {
            "type": "identify",
            "messageId": f"{name}-id",
            "userId": f"u-{name}",
            "traits": traits,
            "timestamp": at.isoformat(),
        }
    ]
    for n, products in enumerate(orders or []):
        messages.append(
            {
                "type": "track",
                "messageId": f"{name}-order-{n}",
                "userId": f"u-{name}",
                "event": "Order Completed",
                "timestamp": (at + timedelta(days=10 * n)).isoformat(),
                "properties": {"order_id": f"{name}-o{n}", "total": 30.0, **products},
            }
        )
    ingest(store, messages, store.settings)
    return resolve_customer(store, f"{name}@example.org")


def toner_order(quantity: int = 1) -> dict[str, Any]:
    return {"products": [{"sku": "TONER-BK-305", "category": "toner", "quantity": quantity, "price": 59.0}]}


def need(
    customer_id: str,
    *,
    item: str | None = "TONER-BK-305",
    category: str | None = "toner",
    kind: str = "depletion",
    due_in_days: float = 1.0,
    confidence: float = 0.9,
    now: datetime = NOW,
) -> Need:
    return Need(
        customer_id=customer_id,
        item=item,
        category=category,
        kind=kind,  # type: ignore[arg-type]
        due_at=now + timedelta(days=due_in_days),
        confidence=confidence,
        evidence={"reason": f"test {kind} need for {item or category}", "model": "test-model@1"},
    )


def store_needs(store: SqlDecisionStore, customer_id: str, *needs: Need) -> None:
    write_needs(store.engine, customer_id, list(needs), NOW, "test-model@1")
