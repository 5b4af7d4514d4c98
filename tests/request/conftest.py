"""A small shop for the offering tests: customers with real order, return and complaint events in a real store.

Everyone buys the pods POD-A; most also buy POD-C (out of stock, not deliverable: must never be offered) and some
POD-D (out of stock but deliverable through the partner: may be offered); many take MED-A (medication: the category
the consent tests withhold); printer owners buy toner. Anna buys POD-A every 35 days, returned TON-B and complained
about POD-B.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rapport.customers.ingestion import ingest
from rapport.store.store import Store

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
ITEMS = {
    "POD-A": ("Lungo pods", "coffee_pods", 4.5, 30, None),
    "POD-B": ("Espresso pods", "coffee_pods", 4.9, 30, None),
    "POD-C": ("Decaf pods", "coffee_pods", 5.5, 0, None),
    "POD-D": ("Latte pods", "coffee_pods", 5.9, 0, "partner_marketplace"),
    "TON-A": ("Toner A", "toner", 49.9, 10, None),
    "TON-B": ("Toner B XL", "toner", 79.9, 10, None),
    "MED-A": ("Metformin 500 mg", "medication", 6.9, 50, None),
    "PRN-A": ("Printer A", "printer", 139.0, 5, None),
    "PRN-NEW": ("Printer New", "printer", 99.0, 5, None),  # in the catalogue, never ordered: a cold item
}
ANNA = "u-anna"


def catalogue_rows() -> list[dict[str, Any]]:
    return [
        {"sku": sku, "name": n, "category": c, "price": p, "on_hand": on, "deliverable_via": via}
        for sku, (n, c, p, on, via) in ITEMS.items()
    ]


def _order(user: str, when: datetime, skus: list[str], number: int) -> dict[str, Any]:
    products = [
        {"sku": sku, "name": ITEMS[sku][0], "category": ITEMS[sku][1], "price": ITEMS[sku][2], "quantity": 1}
        for sku in skus
    ]
    return {
        "type": "track",
        "messageId": f"order-{user}-{number}",
        "userId": user,
        "event": "Order Completed",
        "timestamp": when.isoformat(),
        "properties": {"order_id": f"O-{user}-{number}", "products": products},
    }


def shop_events(customers: int = 40, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    for c in range(customers):
        user = f"u-{c}"
        events.append(
            {"type": "identify", "messageId": f"id-{user}", "userId": user, "traits": {"email": f"{user}@x.de"}}
        )
        printer = c % 3 == 0
        for n in range(6):
            basket = ["POD-A"]
            if rng.random() < 0.7:
                basket.append("POD-C")
            if rng.random() < 0.3:
                basket.append("POD-D")
            if c % 2 == 0:
                basket.append("MED-A")
            if printer:
                basket.append("TON-A" if n else "PRN-A")
            events.append(_order(user, START + timedelta(days=20 * n + rng.uniform(0, 5)), basket, n))
    events.append({"type": "identify", "messageId": "id-anna", "userId": ANNA, "traits": {"email": "anna@x.de"}})
    for n in range(5):
        basket = ["POD-A", *(["TON-B"] if n == 0 else []), *(["POD-B"] if n == 1 else [])]
        events.append(_order(ANNA, START + timedelta(days=35 * n), basket, n))
    events.append(_event(ANNA, "Product Returned", START + timedelta(days=3), {"sku": "TON-B", "reason": "too big"}))
    events.append(_event(ANNA, "Complaint Filed", START + timedelta(days=40), {"sku": "POD-B", "topic": "defective"}))
    return events


def _event(user: str, name: str, when: datetime, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "track",
        "messageId": f"{name}-{user}-{when:%j}",
        "userId": user,
        "event": name,
        "timestamp": when.isoformat(),
        "properties": properties,
    }


@pytest.fixture
def shop(store: Store) -> Store:
    """The shop ingested into a real store (SQLite and PostgreSQL), its catalogue loaded, no model trained yet."""
    report = ingest(store, shop_events(), store.settings, source="test")
    assert not report.rejected
    store.offers.save_catalogue(catalogue_rows())
    return store
