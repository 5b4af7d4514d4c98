"""Orders placed through Rapport: idempotent on a client key, fulfilled through the declared architecture.

A client key (the ``Idempotency-Key`` header or a ``client_key`` field) makes a retry return the first order; the
same key with a different order is a conflict (409), never a second order. Each fulfilled order is also written as
an "Order Completed" event through ingestion, so the profile, the needs and the usual order see it like any other,
and handed to the firm's systems through the outbox (kind "order").
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from rapport.customers.ingestion import IngestReport, ingest
from rapport.errors import Conflict, InvalidInput, NotFound
from rapport.respond import audit
from rapport.respond.fulfilment import FulfilmentRequest, FulfilmentResult
from rapport.respond.fulfilment.routing import Fulfiller
from rapport.respond.outbox import OutboxStore, action_row

ORDER_SOURCES = ("api", "reorder", "automatic")
FULFILMENT_CHANNEL = "fulfilment"  # the outbox channel of orders handed to the firm's systems


class OrderStore(OutboxStore, Protocol):
    @property
    def settings(self) -> Any: ...

    def ingest_transaction(self) -> Any: ...

    def order_by_key(self, client_key: str) -> dict[str, Any] | None: ...

    def insert_order(
        self, row: dict[str, Any], audit: dict[str, Any] | None = None, action: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], bool]: ...

    def get_order(self, order_id: str) -> dict[str, Any] | None: ...

    def orders_of(self, customer_id: str, limit: int) -> list[dict[str, Any]]: ...

    def identity_of(self, customer_id: str) -> list[tuple[str, str]]: ...

    def order_history(self, customer_id: str, limit: int) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class OrderLine:
    """One item of an order; ``unit_price`` None takes the price of the provider that fulfils it."""

    sku: str
    quantity: int
    unit_price: float | None = None
    category: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if not self.sku or len(self.sku) > 200:
            raise InvalidInput(f"An order line needs a sku of 1 to 200 characters, got {self.sku!r}.")
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or not 1 <= self.quantity <= 10_000:
            raise InvalidInput(f"Quantity {self.quantity!r} of {self.sku} must be a whole number from 1 to 10000.")
        price = self.unit_price
        if price is not None and (not math.isfinite(price) or price < 0):
            raise InvalidInput(f"Unit price {price!r} of {self.sku} must be a finite amount of at least 0.")

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class OrderRequest:
    """What the customer asks for: the lines, where it goes and how it is paid (references, never card data)."""

    customer_id: str
    lines: tuple[OrderLine, ...]
    currency: str = "EUR"
    address_ref: str | None = None
    payment_ref: str | None = None
    location: tuple[float, float] | None = None
    source: str = "api"

    def __post_init__(self) -> None:
        if not self.lines:
            raise InvalidInput("An order needs at least one line (sku and quantity).")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise InvalidInput(f"Currency {self.currency!r} must be an ISO 4217 code such as 'EUR'.")
        if self.source not in ORDER_SOURCES:
            raise InvalidInput(f"Order source {self.source!r} is unknown; use one of {', '.join(ORDER_SOURCES)}.")

    def fingerprint(self) -> str:
        """A hash of everything that makes this order this order: a retry has the same, another order not."""
        data = {
            "customer_id": self.customer_id,
            "lines": [line.to_dict() for line in self.lines],
            "currency": self.currency,
            "address_ref": self.address_ref,
            "payment_ref": self.payment_ref,
            "location": self.location,
            "source": self.source,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Order:
    id: str
    customer_id: str
    source: str
    status: str  # fulfilled | unfulfilled
    lines: list[dict[str, Any]]
    total: float
    currency: str
    address_ref: str | None
    payment_ref: str | None
    architecture: str
    fulfilment: list[dict[str, Any]]
    placed_at: datetime
    client_key: str | None = None
    created: bool = field(default=True, compare=False)  # False when a retry returned the first order

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Order:
        values: dict[str, Any] = {n: row.get(n) for n in cls.__dataclass_fields__ if n != "created"}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "created"}
        return {**data, "placed_at": self.placed_at.isoformat()}


def place_order(
    store: OrderStore,
    request: OrderRequest,
    now: datetime,
    client_key: str | None = None,
    actor: str = "customer",
    fulfiller: Fulfiller | None = None,
    after_ingest: Callable[[IngestReport], Any] | None = None,
) -> Order:
    """Place (or, for a retried client key, return) the order; ``.created`` tells which.

    ``fulfiller`` defaults to the routes and network the settings declare; ``after_ingest`` gets the ingestion
    report of the order's event (the API passes its hook, so the event-driven decisions see the order at once).
    """
    if client_key is not None and not 1 <= len(client_key) <= 200:
        raise InvalidInput(f"The client key must be 1 to 200 characters, got {len(client_key)}.")
    fingerprint = request.fingerprint()
    if client_key is not None:
        existing = store.order_by_key(client_key)
        if existing is not None:
            return _replayed(existing, fingerprint, client_key)
    row = _order_row(request, now, client_key, fingerprint, fulfiller or Fulfiller.from_settings(store.settings))
    placed = audit.entry(
        request.customer_id,
        now,
        actor,
        ("order", row["id"]),
        "order_placed",
        source=row["source"],
        status=row["status"],
        total=row["total"],
        architecture=row["architecture"],
    )
    order = Order.from_row(row)
    # a fulfilled order is handed to the firm's systems in the same transaction that stores it: never one alone
    hand_off = None
    if order.status == "fulfilled":
        hand_off = action_row(
            order.customer_id, "order", FULFILMENT_CHANNEL, order.to_dict(), now, f"order:{order.id}", now
        )
    stored, created = store.insert_order(row, placed, hand_off)
    if not created:
        return _replayed(stored, fingerprint, client_key or "")
    if order.status == "fulfilled":
        report = record_order_event(store, order)
        if after_ingest is not None:
            after_ingest(report)
    return order


def order_for_key(store: OrderStore, client_key: str) -> Order | None:
    """The order placed with ``client_key``, if any (as a replay: ``.created`` is False)."""
    row = store.order_by_key(client_key)
    return None if row is None else replace(Order.from_row(row), created=False)


def get_order(store: OrderStore, order_id: str) -> Order:
    row = store.get_order(order_id)
    if row is None:
        raise NotFound(f"No order {order_id!r}; GET /v1/customers/{{id}}/orders lists a customer's orders.")
    return Order.from_row(row)


def orders_of(store: OrderStore, customer_id: str, limit: int = 100) -> list[Order]:
    """The customer's orders placed through Rapport, newest first."""
    return [Order.from_row(row) for row in store.orders_of(customer_id, limit)]


def _replayed(row: dict[str, Any], fingerprint: str, client_key: str) -> Order:
    if row["request_hash"] != fingerprint:
        raise Conflict(
            f"Client key {client_key!r} was used for order {row['id']} with a different body; "
            "use a new key for a new order, or resend the first body to read it back."
        )
    return replace(Order.from_row(row), created=False)


def _order_row(
    request: OrderRequest, now: datetime, client_key: str | None, fingerprint: str, fulfiller: Fulfiller
) -> dict[str, Any]:
    """Fulfil each line through its architecture; the order is fulfilled only if every line is."""
    results = [fulfiller.fulfil(_fulfilment_request(request, line)) for line in request.lines]
    lines = [_priced(line, result) for line, result in zip(request.lines, results, strict=True)]
    architectures = {r.architecture for r in results}
    return {
        "id": f"ord_{uuid.uuid4().hex[:24]}",
        "customer_id": request.customer_id,
        "client_key": client_key,
        "request_hash": fingerprint,
        "source": request.source,
        "status": "fulfilled" if all(r.fulfilled for r in results) else "unfulfilled",
        "lines": lines,
        "total": round(sum(line["unit_price"] * line["quantity"] for line in lines), 2),
        "currency": request.currency,
        "address_ref": request.address_ref,
        "payment_ref": request.payment_ref,
        "architecture": architectures.pop() if len(architectures) == 1 else "mixed",
        "fulfilment": [{"sku": line.sku, **r.to_dict()} for line, r in zip(request.lines, results, strict=True)],
        "placed_at": now,
    }


def _fulfilment_request(request: OrderRequest, line: OrderLine) -> FulfilmentRequest:
    return FulfilmentRequest(
        customer_id=request.customer_id,
        sku=line.sku,
        quantity=line.quantity,
        category=line.category,
        unit_price=line.unit_price,
        currency=request.currency,
        location=request.location,
    )


def _priced(line: OrderLine, result: FulfilmentResult) -> dict[str, Any]:
    price = line.unit_price if line.unit_price is not None else result.unit_price
    return {**line.to_dict(), "unit_price": float(price or 0.0)}


def record_order_event(store: OrderStore, order: Order) -> IngestReport:
    """Write the order as an "Order Completed" event, named by one of the customer's own identifiers."""
    message: dict[str, Any] = {
        "type": "track",
        "event": "Order Completed",
        "messageId": f"rapport-order-{order.id}",
        "timestamp": order.placed_at.isoformat(),
        "context": {"channel": "rapport"},
        "properties": {
            "order_id": order.id,
            "total": order.total,
            "currency": order.currency,
            "products": [{**line, "price": line["unit_price"]} for line in order.lines],
            "address_ref": order.address_ref,
            "payment_ref": order.payment_ref,
            "placed_through": f"rapport:{order.source}",
            "architecture": order.architecture,
        },
    }
    message.update(_identity(store, order.customer_id))
    report = ingest(store, [message], store.settings, source="rapport")
    if report.rejected:
        raise InvalidInput(f"Order {order.id} could not be recorded as an event: {report.rejected[0]['errors']}.")
    return report


def _identity(store: OrderStore, customer_id: str) -> dict[str, Any]:
    """How the event names the customer: their user id, an anonymous id, or a declared identifier in the traits."""
    owned = store.identity_of(customer_id)
    if not owned:
        raise NotFound(f"Customer {customer_id!r} has no identifier to record an order under.")
    by_kind = dict(reversed(owned))  # the oldest identifier of each kind
    if "user_id" in by_kind:
        return {"userId": by_kind["user_id"]}
    if "anonymous_id" in by_kind:
        return {"anonymousId": by_kind["anonymous_id"]}
    fields = {"email": "email", "phone": "phone"}
    fields.update(
        {
            kind: path.split(".", 1)[1]
            for path, kind in store.settings.identifier_fields.items()
            if path.startswith("traits.")
        }
    )
    for kind, value in owned:
        if kind in fields:
            return {
                "anonymousId": f"rapport-{customer_id}",
                "context": {"channel": "rapport", "traits": {fields[kind]: value}},
            }
    raise NotFound(f"Customer {customer_id!r} has no identifier an event can carry (user id, e-mail, phone, …).")
