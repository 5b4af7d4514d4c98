"""A customer's purchase history and what they returned or complained about, read from their tracked events.

Orders are ``Order Completed`` events whose ``properties.products`` list the lines (Segment's e-commerce spec:
``sku`` or ``product_id``, ``category``, ``price``, ``name``). Returns and complaints are the events in
``RETURN_EVENTS``; the items they concern are named by ``sku``/``product_id``, by ``products``, or by the
``order_id`` of one of the customer's orders (then every item of that order).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from rapport.customers.profile import ORDER_EVENTS

RETURN_EVENTS = ("Order Refunded", "Product Returned", "Complaint Filed", "Ticket Opened")
HISTORY_EVENTS = ORDER_EVENTS + RETURN_EVENTS
LINE_COLUMNS = ["customer", "item", "t", "name", "category", "price"]
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Purchases:
    """One customer's order lines as plain lists (``items[i]`` bought at ``times[i]``, days since the epoch, in
    the order of their events) and the items they returned or complained about: what scoring on request reads."""

    items: Sequence[str]
    times: Sequence[float]
    excluded: frozenset[str]


def product_lines(properties: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The products of an order event, each with a non-empty ``sku`` (``product_id`` when there is no sku)."""
    found = []
    for product in (properties or {}).get("products") or []:
        if not isinstance(product, dict):
            continue
        sku = product.get("sku") or product.get("product_id")
        if sku:
            found.append({**product, "sku": str(sku)})
    return found


def order_lines(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Order lines from event rows with ``customer``, ``name``, ``timestamp`` and ``properties``."""
    columns: dict[str, list[Any]] = {name: [] for name in LINE_COLUMNS}
    for row in rows:
        if row["name"] not in ORDER_EVENTS:
            continue
        t = _days(row["timestamp"])
        for product in product_lines(row.get("properties")):
            price = product.get("price")
            columns["customer"].append(row["customer"])
            columns["item"].append(product["sku"])
            columns["t"].append(t)
            columns["name"].append(product.get("name"))
            columns["category"].append(product.get("category"))
            columns["price"].append(
                float(price) if isinstance(price, int | float) and not isinstance(price, bool) else None
            )
    return pd.DataFrame(columns)


def purchases(rows: list[dict[str, Any]]) -> Purchases:
    """One customer's order lines and the items they returned or complained about, from their event rows
    (``name``, ``timestamp``, ``properties``, oldest first)."""
    items: list[str] = []
    times: list[float] = []
    orders = {}
    for row in rows:
        if row["name"] in ORDER_EVENTS:
            properties = row.get("properties") or {}
            products = product_lines(properties)
            t = _days(row["timestamp"])
            for product in products:
                items.append(product["sku"])
                times.append(t)
            if properties.get("order_id") is not None:
                orders[str(properties["order_id"])] = [p["sku"] for p in products]
    excluded: set[str] = set()
    for row in rows:
        if row["name"] in RETURN_EVENTS:
            excluded.update(_concerned_items(row.get("properties") or {}, orders))
    return Purchases(items, times, frozenset(excluded))


def _concerned_items(properties: dict[str, Any], orders: dict[str, list[str]]) -> set[str]:
    named = {str(properties[key]) for key in ("sku", "product_id") if properties.get(key)}
    named.update(p["sku"] for p in product_lines(properties))
    if not named and properties.get("order_id") is not None:
        named.update(orders.get(str(properties["order_id"]), []))
    return named


def _days(timestamp: datetime) -> float:
    return timestamp.timestamp() / SECONDS_PER_DAY
