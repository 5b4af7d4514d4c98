"""The outbox: every action that leaves Rapport (nudges, offers, notices, orders) waits here until it is delivered.

Rapport sends no e-mail or SMS itself. An action on a push channel goes to the firm's systems as a signed webhook
(rapport.respond.webhooks); an action on a pull channel (the app, the store) waits until that channel lists it
(``pending_actions``) and acknowledges it. One idempotency key per action: enqueueing it again returns the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from rapport.errors import Conflict, InvalidInput, NotFound
from rapport.identifiers import uuid4_hex
from rapport.respond import audit

OPEN = "pending"
SENT_STATUSES = ("delivered", "acknowledged")  # the action reached the firm's systems or the customer's channel
CLOSED_STATUSES = ("dead", "withdrawn")  # it never will


class OutboxStore(audit.AuditStore, Protocol):
    def insert_action(self, row: dict[str, Any]) -> tuple[dict[str, Any], bool]: ...

    def get_action(self, action_id: str) -> dict[str, Any] | None: ...

    def actions_of(
        self, customer_id: str, statuses: Iterable[str], channels: Iterable[str] | None = None
    ) -> list[dict[str, Any]]: ...

    def claim_action(
        self, action_id: str, statuses: Iterable[str], values: dict[str, Any], audit: dict[str, Any] | None = None
    ) -> bool: ...


@dataclass(frozen=True)
class OutboxAction:
    """One action on its way out: what (kind, payload), to whom, on which channel, from when, and how it went."""

    id: str
    customer_id: str
    idempotency_key: str
    kind: str
    channel: str
    payload: dict[str, Any]
    send_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None = None
    last_error: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> OutboxAction:
        values: dict[str, Any] = {n: row.get(n) for n in cls.__dataclass_fields__}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "idempotency_key": self.idempotency_key,
            "kind": self.kind,
            "channel": self.channel,
            "payload": self.payload,
            "send_at": self.send_at.isoformat(),
            "status": self.status,
            "attempts": self.attempts,
            "created_at": self.created_at.isoformat(),
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
            "last_error": self.last_error,
        }


def enqueue_action(
    store: OutboxStore,
    customer_id: str,
    kind: str,
    channel: str,
    payload: dict[str, Any],
    send_at: datetime,
    idempotency_key: str,
    now: datetime | None = None,
) -> OutboxAction:
    """Queue an action to be delivered at ``send_at``; the same ``idempotency_key`` again returns the first.

    ``now`` is when it was queued (default: ``send_at``).
    """
    row = action_row(customer_id, kind, channel, payload, send_at, idempotency_key, now)
    stored, _created = store.insert_action(row)
    return OutboxAction.from_row(stored)


def action_row(
    customer_id: str,
    kind: str,
    channel: str,
    payload: dict[str, Any],
    send_at: datetime,
    idempotency_key: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The outbox row of a new action, for a store that writes it with what it belongs to (an order)."""
    if not idempotency_key or len(idempotency_key) > 300:
        raise InvalidInput(
            f"An outbox action needs an idempotency key of 1 to 300 characters, got {idempotency_key!r}."
        )
    if send_at.tzinfo is None:
        raise InvalidInput(f"send_at {send_at!r} must be timezone-aware (UTC).")
    return {
        "id": f"act_{uuid4_hex()[:24]}",
        "customer_id": customer_id,
        "idempotency_key": idempotency_key,
        "kind": kind,
        "channel": channel,
        "payload": payload,
        "send_at": send_at,
        "status": OPEN,
        "attempts": 0,
        "next_attempt_at": send_at,
        "created_at": now or send_at,
    }


def get_action(store: OutboxStore, action_id: str) -> OutboxAction:
    row = store.get_action(action_id)
    if row is None:
        raise NotFound(f"No outbox action {action_id!r}; GET /v1/customers/{{id}}/actions lists a customer's.")
    return OutboxAction.from_row(row)


def pending_actions(store: OutboxStore, customer_id: str, channels: Iterable[str], now: datetime) -> list[OutboxAction]:
    """The actions waiting on pull channels (the app, the store) whose send time has come, oldest first."""
    rows = store.actions_of(customer_id, [OPEN], list(channels))
    return [OutboxAction.from_row(row) for row in rows if row["send_at"] <= now]


def acknowledge(store: OutboxStore, customer_id: str, action_id: str, now: datetime, by: str) -> OutboxAction:
    """A pull channel confirms it showed the action; acknowledging twice answers with the first acknowledgement."""
    action = get_action(store, action_id)
    if action.customer_id != customer_id:
        raise NotFound(f"Customer {customer_id!r} has no outbox action {action_id!r}.")
    if action.status == "acknowledged" or action.status == "delivered":
        return action
    if action.status != OPEN:
        raise Conflict(f"Action {action_id} is {action.status} and can no longer be acknowledged.")
    if action.send_at > now:
        raise Conflict(f"Action {action_id} is not due before {action.send_at.isoformat()}; it cannot be shown yet.")
    step = audit.entry(customer_id, now, by, ("outbox_action", action_id), "acknowledged", channel=action.channel)
    store.claim_action(action_id, [OPEN], {"status": "acknowledged", "delivered_at": now}, step)
    return get_action(store, action_id)


def withdraw_pending(
    store: OutboxStore, customer_id: str, channel: str | None, now: datetime, reason: str
) -> list[OutboxAction]:
    """Withdraw the customer's undelivered actions (on ``channel``, or all of them); they will never be sent."""
    withdrawn = []
    for row in store.actions_of(customer_id, [OPEN], None if channel is None else [channel]):
        step = audit.entry(customer_id, now, "rapport", ("outbox_action", row["id"]), "withdrawn", reason=reason)
        if store.claim_action(row["id"], [OPEN], {"status": "withdrawn", "last_error": reason}, step):
            withdrawn.append(get_action(store, row["id"]))
    return withdrawn
