"""Automatic orders under a mandate: scheduled → notified → executed | cancelled, every step audited.

Scheduling checks the mandate (active, covering the item, same currency) and both caps: the order's amount against
the per-order cap, and the month's total of the mandate's orders (pending ones included) against the monthly cap,
under a lock on the mandate so two schedulers cannot both take the month's last room. One pending order per
mandate and item: scheduling it again returns the pending one. The steps after scheduling are the scheduler's
(rapport.respond.scheduler); the customer may cancel until the order is executed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from rapport.decide.consent import ConsentStore, has_consent
from rapport.decide.contact_policy import ContactStore, release_contacts
from rapport.errors import Conflict, InvalidInput, NotFound
from rapport.identifiers import uuid4_hex
from rapport.respond import audit
from rapport.respond.mandates import Mandate, MandateStore, get_mandate
from rapport.respond.outbox import OPEN, OutboxStore
from rapport.respond.reorder import HistoryStore, usual_order

PENDING = ("scheduled", "notified")
IN_FLIGHT = (*PENDING, "executing")  # not yet executed or cancelled


class CapExceeded(Conflict):
    """An automatic order would exceed a cap of its mandate."""


class AutomaticStore(MandateStore, OutboxStore, HistoryStore, ConsentStore, ContactStore, Protocol):
    """What automatic orders read and write (rapport.store.respond), with Decide's consents and contact log."""

    def mandate_transaction(self, mandate_id: str) -> Any: ...

    def month_total(self, mandate_id: str, cap_month: str) -> float: ...

    def get_automatic_order(self, order_id: str) -> dict[str, Any] | None: ...

    def automatic_orders_of(
        self, customer_id: str, statuses: Any = None, mandate_id: str | None = None
    ) -> list[dict[str, Any]]: ...

    def claim_automatic_order(
        self, order_id: str, statuses: Any, values: dict[str, Any], audit: dict[str, Any] | None = None
    ) -> bool: ...


@dataclass(frozen=True)
class AutomaticOrder:
    id: str
    customer_id: str
    mandate_id: str
    sku: str
    quantity: int
    unit_price: float
    amount: float
    currency: str
    cap_month: str
    status: str
    reason: str
    created_at: datetime
    notify_at: datetime
    notified_at: datetime | None = None
    execute_after: datetime | None = None
    executed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    notice_action_id: str | None = None
    order_id: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AutomaticOrder:
        values: dict[str, Any] = {n: row.get(n) for n in cls.__dataclass_fields__}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in self.__dict__.items()}


def cap_month(at: datetime) -> str:
    """The calendar month (UTC) an order's amount counts against."""
    return f"{at.year:04d}-{at.month:02d}"


def check_caps(mandate: Mandate, amount: float, month_total: float) -> None:
    """Raise CapExceeded when ``amount`` breaks the per-order cap or ``month_total`` (with it) the monthly cap."""
    if amount > mandate.per_order_cap + 1e-9:
        raise CapExceeded(
            f"The order of {amount:.2f} {mandate.currency} exceeds mandate {mandate.id}'s per-order cap of "
            f"{mandate.per_order_cap:.2f}; raise the cap or order fewer."
        )
    if month_total > mandate.monthly_cap + 1e-9:
        raise CapExceeded(
            f"This month's automatic orders under mandate {mandate.id} would come to {month_total:.2f} "
            f"{mandate.currency}, above its monthly cap of {mandate.monthly_cap:.2f}."
        )


def schedule_automatic_order(
    store: AutomaticStore, customer_id: str, mandate_id: str, sku: str, quantity: int, now: datetime, reason: str
) -> AutomaticOrder:
    """Schedule an automatic order (status "scheduled") within the mandate and its caps."""
    mandate = get_mandate(store, customer_id, mandate_id)
    if mandate.status != "active":
        raise Conflict(f"Mandate {mandate_id} is {mandate.status}; the customer must grant a new one.")
    if not has_consent(store, customer_id, "automatic_execution", now):
        raise Conflict(f"Customer {customer_id} has not consented to automatic_execution; no automatic order.")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 10_000:
        raise InvalidInput(f"Quantity {quantity!r} must be a whole number from 1 to 10000.")
    usual = usual_order(store, customer_id, sku=sku)
    if usual is None or usual.unit_price is None:
        raise InvalidInput(
            f"No earlier priced order of {sku} by {customer_id}: its amount cannot be checked against the caps."
        )
    if not mandate.covers(sku, usual.category):
        raise InvalidInput(
            f"Mandate {mandate_id} covers {mandate.scope_kind} {mandate.scope!r}, not {sku} ({usual.category})."
        )
    if usual.currency != mandate.currency:
        raise InvalidInput(
            f"{sku} is priced in {usual.currency}; mandate {mandate_id} caps amounts in {mandate.currency}."
        )
    amount = round(usual.unit_price * quantity, 2)
    month = cap_month(now)
    with store.mandate_transaction(mandate_id) as tx:
        pending = tx.pending(mandate_id, sku)
        if pending is not None:
            return AutomaticOrder.from_row(pending)
        check_caps(mandate, amount, tx.month_total(mandate_id, month) + amount)
        row: dict[str, Any] = {
            "id": f"ao_{uuid4_hex()[:24]}",
            "customer_id": customer_id,
            "mandate_id": mandate_id,
            "sku": sku,
            "quantity": quantity,
            "unit_price": usual.unit_price,
            "amount": amount,
            "currency": mandate.currency,
            "cap_month": month,
            "status": "scheduled",
            "reason": reason,
            "created_at": now,
            "notify_at": now,
        }
        details = {
            "mandate_id": mandate_id,
            "sku": sku,
            "quantity": quantity,
            "amount": amount,
            "currency": mandate.currency,
            "reason": reason,
        }
        tx.insert(row, audit.entry(customer_id, now, "decide", ("automatic_order", row["id"]), "scheduled", **details))
    return AutomaticOrder.from_row(row)


def get_automatic_order(store: AutomaticStore, customer_id: str, order_id: str) -> AutomaticOrder:
    row = store.get_automatic_order(order_id)
    if row is None or row["customer_id"] != customer_id:
        raise NotFound(
            f"Customer {customer_id} has no automatic order {order_id!r}; GET …/automatic-orders lists theirs."
        )
    return AutomaticOrder.from_row(row)


def list_automatic_orders(store: AutomaticStore, customer_id: str) -> list[AutomaticOrder]:
    return [AutomaticOrder.from_row(row) for row in store.automatic_orders_of(customer_id)]


def pending_order(store: AutomaticStore, customer_id: str, mandate_id: str, sku: str) -> AutomaticOrder | None:
    """The mandate's order of ``sku`` not yet executed or cancelled, if any."""
    rows = [r for r in store.automatic_orders_of(customer_id, IN_FLIGHT, mandate_id) if r["sku"] == sku]
    return AutomaticOrder.from_row(rows[0]) if rows else None


def cancel_automatic_order(
    store: AutomaticStore, customer_id: str, order_id: str, now: datetime, actor: str = "customer", reason: str = ""
) -> AutomaticOrder:
    """Cancel before execution; cancelling twice answers with the first cancellation; executed: 409."""
    order = get_automatic_order(store, customer_id, order_id)
    why = reason or "cancelled by the customer"
    step = audit.entry(customer_id, now, actor, ("automatic_order", order_id), "cancelled", reason=why)
    if store.claim_automatic_order(
        order_id, PENDING, {"status": "cancelled", "cancelled_at": now, "cancel_reason": why}, step
    ):
        withdraw_notice(store, customer_id, order.notice_action_id, now, why)
        return get_automatic_order(store, customer_id, order_id)
    order = get_automatic_order(store, customer_id, order_id)
    if order.status == "cancelled":
        return order
    raise Conflict(f"Automatic order {order_id} is {order.status} and can no longer be cancelled.")


def cancel_pending_orders(
    store: AutomaticStore, customer_id: str, now: datetime, reason: str, mandate_id: str | None = None
) -> list[AutomaticOrder]:
    """Cancel every pending automatic order of the customer (of one mandate, if given); returns those cancelled."""
    cancelled = []
    for row in store.automatic_orders_of(customer_id, PENDING, mandate_id):
        values = {"status": "cancelled", "cancelled_at": now, "cancel_reason": reason}
        step = audit.entry(customer_id, now, "rapport", ("automatic_order", row["id"]), "cancelled", reason=reason)
        if store.claim_automatic_order(row["id"], PENDING, values, step):
            withdraw_notice(store, customer_id, row["notice_action_id"], now, reason)
            cancelled.append(get_automatic_order(store, customer_id, row["id"]))
    return cancelled


def withdraw_notice(store: AutomaticStore, customer_id: str, action_id: str | None, now: datetime, reason: str) -> None:
    """A notice not yet delivered for a cancelled order is withdrawn, and its slot in the contact budget given back."""
    if action_id is None:
        return
    action = store.get_action(action_id)
    step = audit.entry(customer_id, now, "rapport", ("outbox_action", action_id), "withdrawn", reason=reason)
    if action is None or not store.claim_action(action_id, [OPEN], {"status": "withdrawn", "last_error": reason}, step):
        return
    release_contacts(store, customer_id, [action["idempotency_key"]])
