"""Mandates: the customer's explicit permission for automatic orders, within a scope and caps, with notice.

A mandate covers one item or one category, caps each order and each calendar month (UTC) in one currency, and
sets the notice: the customer is told at least ``notice_hours`` before an automatic order runs and may cancel for
at least ``cancel_window_hours`` after the notice; the order never runs before both have passed. Revoking a
mandate cancels its pending automatic orders.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from rapport.errors import Conflict, InvalidInput, NotFound
from rapport.respond import audit

ScopeKind = Literal["item", "category"]
MAX_HOURS = 24 * 60  # a notice or cancel window longer than 60 days is a typing error


class MandateStore(audit.AuditStore, Protocol):
    def insert_mandate(
        self, row: dict[str, Any], audit: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], bool]: ...

    def get_mandate(self, mandate_id: str) -> dict[str, Any] | None: ...

    def mandates_of(self, customer_id: str, status: str | None = None) -> list[dict[str, Any]]: ...

    def claim_mandate(
        self, mandate_id: str, statuses: Any, values: dict[str, Any], audit: dict[str, Any] | None = None
    ) -> bool: ...


@dataclass(frozen=True)
class MandateTerms:
    """What the customer allows: the scope, the caps in one currency, the notice and the cancel window."""

    scope_kind: ScopeKind
    scope: str
    per_order_cap: float
    monthly_cap: float
    currency: str = "EUR"
    notice_hours: float = 48.0
    cancel_window_hours: float = 24.0

    def __post_init__(self) -> None:
        if self.scope_kind not in ("item", "category"):
            raise InvalidInput(f"Mandate scope kind {self.scope_kind!r} must be 'item' or 'category'.")
        if not self.scope or len(self.scope) > 200:
            raise InvalidInput(f"Mandate scope {self.scope!r} must name an item or category (1 to 200 characters).")
        for name in ("per_order_cap", "monthly_cap"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise InvalidInput(f"Mandate {name} {value!r} must be a positive amount.")
        if self.per_order_cap > self.monthly_cap:
            raise InvalidInput(
                f"The per-order cap {self.per_order_cap} exceeds the monthly cap {self.monthly_cap}; lower it."
            )
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise InvalidInput(f"Mandate currency {self.currency!r} must be an ISO 4217 code such as 'EUR'.")
        for name in ("notice_hours", "cancel_window_hours"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or not 0 <= value <= MAX_HOURS:
                raise InvalidInput(f"Mandate {name} {value!r} must be between 0 and {MAX_HOURS} hours.")
        if self.cancel_window_hours <= 0:
            raise InvalidInput(
                "A mandate needs a cancel window of more than 0 hours: the customer must be able to stop an order."
            )


@dataclass(frozen=True)
class Mandate:
    id: str
    customer_id: str
    scope_kind: str
    scope: str
    per_order_cap: float
    monthly_cap: float
    currency: str
    notice_hours: float
    cancel_window_hours: float
    status: str  # active | revoked
    created_at: datetime
    revoked_at: datetime | None = None
    created: bool = field(default=True, compare=False)  # False when a retry returned the first mandate

    @property
    def lead_days(self) -> float:
        """How long before the need an automatic order must be scheduled to give notice and the cancel window."""
        return (self.notice_hours + self.cancel_window_hours) / 24

    @property
    def wait_hours(self) -> float:
        """The least time from the notice to the execution: both the notice period and the cancel window."""
        return max(self.notice_hours, self.cancel_window_hours)

    def covers(self, item: str | None, category: str | None) -> bool:
        return (self.scope_kind == "item" and item == self.scope) or (
            self.scope_kind == "category" and category == self.scope
        )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Mandate:
        values: dict[str, Any] = {n: row.get(n) for n in cls.__dataclass_fields__ if n != "created"}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "created"}
        data["created_at"] = self.created_at.isoformat()
        data["revoked_at"] = self.revoked_at.isoformat() if self.revoked_at else None
        return {**data, "lead_days": round(self.lead_days, 4)}


def create_mandate(
    store: MandateStore, customer_id: str, terms: MandateTerms, now: datetime, client_key: str | None = None
) -> Mandate:
    """Record the customer's mandate; a retried client key returns the first (409 if its terms differ)."""
    row = {
        "id": f"man_{uuid.uuid4().hex[:24]}",
        "customer_id": customer_id,
        "client_key": client_key,
        **terms.__dict__,
        "status": "active",
        "created_at": now,
        "revoked_at": None,
    }
    granted = audit.entry(customer_id, now, "customer", ("mandate", row["id"]), "mandate_created", **terms.__dict__)
    stored, created = store.insert_mandate(row, granted)
    mandate = Mandate.from_row(stored)
    if not created:
        same = all(stored[k] == v for k, v in terms.__dict__.items()) and stored["customer_id"] == customer_id
        if not same:
            raise Conflict(
                f"Client key {client_key!r} was used for mandate {mandate.id} with other terms; use a new key."
            )
        return replace(mandate, created=False)
    return mandate


def get_mandate(store: MandateStore, customer_id: str, mandate_id: str) -> Mandate:
    row = store.get_mandate(mandate_id)
    if row is None or row["customer_id"] != customer_id:
        raise NotFound(f"Customer {customer_id} has no mandate {mandate_id!r}; GET …/mandates lists theirs.")
    return Mandate.from_row(row)


def list_mandates(store: MandateStore, customer_id: str, active_only: bool = False) -> list[Mandate]:
    rows = store.mandates_of(customer_id, "active" if active_only else None)
    return [Mandate.from_row(row) for row in rows]


def mandate_for(
    store: MandateStore, customer_id: str, item: str | None, category: str | None, now: datetime
) -> Mandate | None:
    """The active mandate covering ``item`` (an item mandate wins) or its ``category``, made before ``now``."""
    covering = [m for m in list_mandates(store, customer_id, active_only=True) if m.created_at <= now]
    for kind in ("item", "category"):
        found = [m for m in covering if m.scope_kind == kind and m.covers(item, category)]
        if found:
            return found[-1]
    return None


def revoke_mandate(store: Any, customer_id: str, mandate_id: str, now: datetime, actor: str = "customer") -> Mandate:
    """Revoke the mandate and cancel its pending automatic orders; revoking twice answers with the first."""
    from rapport.respond.automatic import cancel_pending_orders

    mandate = get_mandate(store, customer_id, mandate_id)
    step = audit.entry(customer_id, now, actor, ("mandate", mandate_id), "mandate_revoked")
    if store.claim_mandate(mandate_id, ["active"], {"status": "revoked", "revoked_at": now}, step):
        cancel_pending_orders(store, customer_id, now, f"mandate {mandate_id} revoked", mandate_id=mandate_id)
    return get_mandate(store, customer_id, mandate.id)
