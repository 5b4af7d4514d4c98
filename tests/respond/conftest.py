"""Respond fixtures: a real store (SQLite and PostgreSQL) seen through the decision store, customers with history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rapport.customers.identifiers import Identifier
from rapport.customers.ingestion import ingest
from rapport.decide.consent import record_consent
from rapport.store.decisions import SqlDecisionStore
from rapport.store.store import Store

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday morning, outside the default quiet hours (21:00-08:00)


@pytest.fixture
def rs(store: Store) -> SqlDecisionStore:
    return SqlDecisionStore.over(store)


def order_event(user: str, at: datetime, lines: list[tuple[str, str, int, float]], **props: Any) -> dict[str, Any]:
    """An "Order Completed" event from another channel; lines are (sku, category, quantity, price)."""
    products = [{"sku": s, "category": c, "quantity": q, "price": p, "name": s.title()} for s, c, q, p in lines]
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": user,
        "messageId": f"{user}-{at.isoformat()}-{lines[0][0]}",
        "timestamp": at.isoformat(),
        "context": {"channel": "web", "traits": {"email": f"{user}@example.com"}},
        "properties": {"order_id": f"W-{at:%Y%m%d%H%M}", "currency": "EUR", "products": products, **props},
    }


def customer_with_history(store: SqlDecisionStore, user: str = "u1", orders: list[dict[str, Any]] | None = None) -> str:
    """Ingest a customer's earlier orders; returns their customer id."""
    found = orders or [
        order_event(user, T0 - timedelta(days=90), [("TON-305", "toner", 2, 39.9)], address_ref="addr-old"),
        order_event(
            user,
            T0 - timedelta(days=60),
            [("TON-305", "toner", 2, 41.5), ("PODS-12", "coffee", 1, 5.0)],
            address_ref="addr-home",
            payment_ref="pay-visa-4242",
        ),
        order_event(user, T0 - timedelta(days=30), [("TON-305", "toner", 1, 41.5)]),
        order_event(user, T0 - timedelta(days=20), [("TON-PRO", "toner", 1, 59.0)]),
    ]
    report = ingest(store, found, store.settings)
    assert report.stored == len(found), report.rejected
    return store.customer_by_identifier(Identifier("user_id", user))


def grant(store: SqlDecisionStore, customer_id: str, *purposes: str, at: datetime = T0 - timedelta(days=1)) -> None:
    for purpose in purposes:
        record_consent(store, customer_id, purpose, True, "test", at)


def with_settings(store: SqlDecisionStore, **overrides: Any) -> SqlDecisionStore:
    """The same database under other settings (routes, webhook URL, …)."""
    return SqlDecisionStore(store.settings.with_overrides(**overrides), engine=store.engine)


def consenting_customer(store: SqlDecisionStore, user: str = "u1", *channels: str) -> str:
    """A customer with history who consented to automatic execution (and contact on ``channels``)."""
    customer = customer_with_history(store, user)
    grant(store, customer, "automatic_execution", *(f"contact:{c}" for c in channels))
    return customer
