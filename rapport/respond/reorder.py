"""Respond-to-desire: the customer's usual order, remembered, and reordered in one click.

The usual order is read from the customer's latest order events on every channel (Rapport's own orders are events
too): the item they buy most often (in a category, if one is named), the quantity they usually take of it, its
latest price, and the address and payment references of their latest order that carried them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from rapport.customers.ingestion import IngestReport
from rapport.errors import Conflict, InvalidInput, NotFound
from rapport.respond.orders import Order, OrderLine, OrderRequest, OrderStore, order_for_key, place_order

HISTORY = 50  # the latest orders the usual order is read from


class HistoryStore(Protocol):
    """Where the customer's order events are read from (rapport.store.respond). A store may also offer
    ``order_lines(customer_id, limit)``: ``order_lines_of`` over the same events, parsed once when they were stored."""

    def order_history(self, customer_id: str, limit: int) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class UsualOrder:
    customer_id: str
    sku: str
    quantity: int
    unit_price: float | None
    currency: str
    category: str | None
    name: str | None
    address_ref: str | None
    payment_ref: str | None
    times_ordered: int
    last_ordered_at: datetime

    def to_dict(self) -> dict[str, Any]:  # flat fields: no need for dataclasses.asdict's deep copy (a hot path)
        return {
            "customer_id": self.customer_id,
            "sku": self.sku,
            "quantity": self.quantity,
            "unit_price": self.unit_price,
            "currency": self.currency,
            "category": self.category,
            "name": self.name,
            "address_ref": self.address_ref,
            "payment_ref": self.payment_ref,
            "times_ordered": self.times_ordered,
            "last_ordered_at": self.last_ordered_at.isoformat(),
        }


class _Line(NamedTuple):  # a tuple: built for every line of every order read, on the decision's hot path
    at: datetime
    sku: str
    quantity: int
    price: float | None
    currency: str
    category: str | None
    name: str | None
    address_ref: str | None
    payment_ref: str | None


def usual_order(
    store: HistoryStore, customer_id: str, sku: str | None = None, category: str | None = None
) -> UsualOrder | None:
    """The customer's usual order of ``sku`` (or of the most frequent item in ``category``, or overall)."""
    read = getattr(store, "order_lines", None)  # a store that keeps its orders' lines parsed (the simulator's)
    lines = read(customer_id, HISTORY) if read is not None else _lines(store.order_history(customer_id, HISTORY))
    if category is not None and sku is None:
        lines = [line for line in lines if line.category == category]
    if sku is None and lines:  # lines run newest first, so a tie goes to the item bought last
        sku = _most_common([line.sku for line in lines])
    mine = [line for line in lines if line.sku == sku]
    if not mine or sku is None:
        return None
    quantity = _most_common([line.quantity for line in mine])
    newest = mine[0]
    priced = next((line for line in mine if line.price is not None), newest)
    return UsualOrder(
        customer_id=customer_id,
        sku=sku,
        quantity=quantity,
        unit_price=priced.price,
        currency=priced.currency,
        category=newest.category,
        name=newest.name,
        address_ref=next((line.address_ref for line in lines if line.address_ref), None),
        payment_ref=next((line.payment_ref for line in lines if line.payment_ref), None),
        times_ordered=len(mine),
        last_ordered_at=newest.at,
    )


def order_times(store: HistoryStore, customer_id: str, category: str) -> list[datetime]:
    """When the customer ordered in ``category``, newest first (one time per order), from the latest orders."""
    read = getattr(store, "order_lines", None)
    lines = read(customer_id, HISTORY) if read is not None else _lines(store.order_history(customer_id, HISTORY))
    times: list[datetime] = []
    for line in lines:
        if line.category == category and (not times or times[-1] != line.at):
            times.append(line.at)
    return times


def _most_common(values: list[Any]) -> Any:
    """``Counter(values).most_common(1)[0][0]``: the most frequent value, the first seen on ties (a few values
    per usual order, read on every decision: a dict is cheaper than a Counter here)."""
    counts: dict[Any, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return max(counts, key=counts.__getitem__)


def reorder(
    store: OrderStore,
    customer_id: str,
    now: datetime,
    client_key: str | None = None,
    sku: str | None = None,
    category: str | None = None,
    quantity: int | None = None,
    after_ingest: Callable[[IngestReport], Any] | None = None,
) -> Order:
    """One click: place the usual order again (its item, quantity, price, address and payment references).

    A retried click (same ``client_key``) returns the first order even if the usual order has moved on since.
    """
    if client_key is not None and (first := order_for_key(store, client_key)) is not None:
        return _replayed_click(first, customer_id, client_key, sku, quantity)
    usual = usual_order(store, customer_id, sku=sku, category=category)
    if usual is None:
        what = sku or category or "anything"
        raise NotFound(f"Customer {customer_id} has no earlier order of {what} to reorder; place an order instead.")
    if usual.unit_price is None:
        raise InvalidInput(f"The earlier orders of {usual.sku} carry no price; place the order with its price.")
    line = OrderLine(usual.sku, quantity or usual.quantity, usual.unit_price, usual.category, usual.name)
    request = OrderRequest(customer_id, (line,), usual.currency, usual.address_ref, usual.payment_ref, source="reorder")
    return place_order(store, request, now, client_key, after_ingest=after_ingest)


def _replayed_click(first: Order, customer_id: str, client_key: str, sku: str | None, quantity: int | None) -> Order:
    line = first.lines[0]
    if (
        first.source == "reorder"
        and first.customer_id == customer_id
        and sku in (None, line["sku"])
        and quantity in (None, line["quantity"])
    ):
        return first
    raise Conflict(f"Client key {client_key!r} was used for order {first.id}, not this reorder; use a new key.")


def order_lines_of(history: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The product lines of order events, newest first, as the usual order reads them (for stores that keep them)."""
    return list(_lines(history))


def _lines(history: list[dict[str, Any]]) -> list[_Line]:
    """Every product line of the order events, newest order first (lines without a sku are skipped)."""
    out = []
    for event in history:
        props = event.get("properties") or {}
        products = props.get("products")
        if not products:
            continue
        address, payment, currency = (
            _ref(props.get("address_ref")),
            _ref(props.get("payment_ref")),
            props.get("currency"),
        )
        for product in products:
            if not isinstance(product, dict) or not isinstance(sku := product.get("sku"), str):
                continue
            category, name = product.get("category"), product.get("name")
            out.append(
                _Line(
                    event["timestamp"],
                    sku,
                    _whole(product.get("quantity")),
                    _amount(product.get("price", product.get("unit_price"))),
                    str(product.get("currency") or currency or "EUR"),
                    category if isinstance(category, str) else None,
                    name if isinstance(name, str) else None,
                    address,
                    payment,
                )
            )
    return out


def _whole(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return number if 1 <= number <= 10_000 else 1


def _amount(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 and number == number and number != float("inf") else None


def _ref(value: Any) -> str | None:
    return value[:200] if isinstance(value, str) and value else None
