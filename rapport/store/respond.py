"""The store as Respond sees it: orders, mandates, automatic orders, the audit log and the outbox.

Rows go in and come out as plain dicts; rapport.respond turns them into its dataclasses. Every step a client or a
worker may retry is settled by the database: unique keys make inserts idempotent, and a conditional UPDATE on the
status claims each step of an automatic order or an outbox action, so two workers never take the same one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Integer, String, Table, bindparam, func, insert, literal, select, text, update
from sqlalchemy.exc import IntegrityError

from rapport.customers.profile import ORDER_EVENTS
from rapport.respond.orders import FULFILMENT_CHANNEL
from rapport.respond.outbox import CLOSED_STATUSES
from rapport.store.engine import reading
from rapport.store.pipeline import Prepared, run_together
from rapport.store.store import Store
from rapport.store.tables import (
    audit_log,
    automatic_orders,
    conversation_messages,
    customers,
    events,
    identifiers,
    mandates,
    orders,
    outbox_actions,
)

COUNTED_STATUSES = ("scheduled", "notified", "executing", "executed")  # what a monthly cap counts
PENDING_STATUSES = ("scheduled", "notified", "executing")


class MandateTransaction:
    """Reads and the insert of one new automatic order, under a lock on its mandate (caps hold under races)."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def month_total(self, mandate_id: str, cap_month: str) -> float:
        return _month_total(self.conn, mandate_id, cap_month)

    def pending(self, mandate_id: str, sku: str) -> dict[str, Any] | None:
        query = select(automatic_orders).where(
            automatic_orders.c.mandate_id == mandate_id,
            automatic_orders.c.sku == sku,
            automatic_orders.c.status.in_(PENDING_STATUSES),
        )
        row = self.conn.execute(query.order_by(automatic_orders.c.created_at)).first()
        return None if row is None else dict(row._mapping)

    def insert(self, row: dict[str, Any], audit: dict[str, Any]) -> None:
        """The new order and its audit entry, committed together."""
        self.conn.execute(insert(automatic_orders).values(**row))
        self.conn.execute(insert(audit_log).values(**audit))


_MEMBERS = select(customers.c.id).where(customers.c.canonical_id == bindparam("cid", type_=String())).scalar_subquery()
# The profile's order events (any channel, Rapport's own included): time and properties.
ORDER_EVENTS_OF_PROFILE = select(events.c.timestamp, events.c.properties).where(
    events.c.customer_id.in_(_MEMBERS),
    events.c.type == "track",
    events.c.name.in_([literal(n) for n in ORDER_EVENTS]),
)
# The latest of them, newest first (the usual order's history), compiled once.
ORDER_HISTORY = Prepared.of(
    ORDER_EVENTS_OF_PROFILE.order_by(events.c.timestamp.desc(), events.c.id.desc()).limit(
        bindparam("limit", type_=Integer())
    )
)


class RespondStore(Store):
    """A Store with the reads and writes of rapport.respond."""

    @classmethod
    def over(cls, store: Store) -> RespondStore:
        """The same database as ``store`` (same engine and settings), seen through Respond's reads and writes."""
        if isinstance(store, cls):
            return store
        return cls(store.settings, engine=store.engine)

    # ----- generic ------------------------------------------------------------------------------------------
    def _insert_once(
        self,
        table: Table,
        row: dict[str, Any],
        key: str,
        audit: dict[str, Any] | None = None,
        action: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Insert ``row`` unless a row with the same ``key`` column exists; (the stored row, whether inserted).

        The audit entry and the outbox action, if given, are written with the row in one transaction.
        """
        if row.get(key) is not None:
            found = self._one(table, key, row[key])
            if found is not None:
                return found, False
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(table).values(**row))
                if audit is not None:
                    conn.execute(insert(audit_log).values(**audit))
                if action is not None:
                    conn.execute(insert(outbox_actions).values(**action))
        except IntegrityError:
            found = self._one(table, key, row[key]) if row.get(key) is not None else None
            if found is None:
                raise
            return found, False
        return row, True

    def _one(self, table: Table, column: str, value: Any) -> dict[str, Any] | None:
        with reading(self.engine) as conn:
            row = conn.execute(select(table).where(table.c[column] == value)).first()
        return None if row is None else dict(row._mapping)

    def _claim(
        self, table: Table, row_id: str, statuses: Iterable[str], values: dict[str, Any], audit: dict[str, Any] | None
    ) -> bool:
        """Move one row on if (and only if) it is still in one of ``statuses``; True for the one caller that did.

        The step's audit entry, if given, is written in the same transaction: no step without its entry.
        """
        query = update(table).where(table.c.id == row_id, table.c.status.in_(list(statuses))).values(**values)
        with self.engine.begin() as conn:
            claimed = conn.execute(query).rowcount == 1
            if claimed and audit is not None:
                conn.execute(insert(audit_log).values(**audit))
            return claimed

    def _rows(self, query: Any) -> list[dict[str, Any]]:
        with reading(self.engine) as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    # ----- the customer's history and identity ---------------------------------------------------------------
    def order_history(self, customer_id: str, limit: int) -> list[dict[str, Any]]:
        """The profile's latest order events (any channel, Rapport's own included), newest first."""
        with reading(self.engine) as conn:  # straight through the driver: a decision's usual order reads it
            return run_together(conn, [(ORDER_HISTORY, {"cid": customer_id, "limit": limit})])[0]

    def identity_of(self, customer_id: str) -> list[tuple[str, str]]:
        """The profile's identifiers (kind, value), oldest first: how an event names this customer."""
        members = select(customers.c.id).where(customers.c.canonical_id == customer_id).scalar_subquery()
        query = (
            select(identifiers.c.kind, identifiers.c.value)
            .where(identifiers.c.customer_id.in_(members), identifiers.c.shared.is_(False))
            .order_by(identifiers.c.first_seen)
        )
        return [(row["kind"], row["value"]) for row in self._rows(query)]

    # ----- orders -------------------------------------------------------------------------------------------
    def order_by_key(self, client_key: str) -> dict[str, Any] | None:
        return self._one(orders, "client_key", client_key)

    def insert_order(
        self, row: dict[str, Any], audit: dict[str, Any] | None = None, action: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], bool]:
        return self._insert_once(orders, row, "client_key", audit, action)

    def get_order(self, order_id: str) -> dict[str, Any] | None:
        return self._one(orders, "id", order_id)

    def orders_of(self, customer_id: str, limit: int) -> list[dict[str, Any]]:
        query = select(orders).where(orders.c.customer_id == customer_id)
        return self._rows(query.order_by(orders.c.placed_at.desc(), orders.c.id).limit(limit))

    # ----- mandates -----------------------------------------------------------------------------------------
    def insert_mandate(self, row: dict[str, Any], audit: dict[str, Any] | None = None) -> tuple[dict[str, Any], bool]:
        return self._insert_once(mandates, row, "client_key", audit)

    def get_mandate(self, mandate_id: str) -> dict[str, Any] | None:
        return self._one(mandates, "id", mandate_id)

    def mandates_of(self, customer_id: str, status: str | None = None) -> list[dict[str, Any]]:
        query = select(mandates).where(mandates.c.customer_id == customer_id)
        if status is not None:
            query = query.where(mandates.c.status == status)
        return self._rows(query.order_by(mandates.c.created_at, mandates.c.id))

    def claim_mandate(
        self, mandate_id: str, statuses: Iterable[str], values: dict[str, Any], audit: dict[str, Any] | None = None
    ) -> bool:
        return self._claim(mandates, mandate_id, statuses, values, audit)

    # ----- automatic orders ---------------------------------------------------------------------------------
    @contextmanager
    def mandate_transaction(self, mandate_id: str) -> Iterator[MandateTransaction]:
        """A transaction that holds the mandate's row lock (SQLite: the database write lock) until it ends."""
        if self.dialect == "sqlite":
            with self.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
                yield MandateTransaction(conn)
        else:
            with self.engine.begin() as conn:
                conn.execute(select(mandates.c.id).where(mandates.c.id == mandate_id).with_for_update())
                yield MandateTransaction(conn)

    def month_total(self, mandate_id: str, cap_month: str) -> float:
        with reading(self.engine) as conn:
            return _month_total(conn, mandate_id, cap_month)

    def get_automatic_order(self, order_id: str) -> dict[str, Any] | None:
        return self._one(automatic_orders, "id", order_id)

    def automatic_orders_of(
        self, customer_id: str, statuses: Iterable[str] | None = None, mandate_id: str | None = None
    ) -> list[dict[str, Any]]:
        query = select(automatic_orders).where(automatic_orders.c.customer_id == customer_id)
        if statuses is not None:
            query = query.where(automatic_orders.c.status.in_(list(statuses)))
        if mandate_id is not None:
            query = query.where(automatic_orders.c.mandate_id == mandate_id)
        return self._rows(query.order_by(automatic_orders.c.created_at, automatic_orders.c.id))

    def claim_automatic_order(
        self, order_id: str, statuses: Iterable[str], values: dict[str, Any], audit: dict[str, Any] | None = None
    ) -> bool:
        return self._claim(automatic_orders, order_id, statuses, values, audit)

    def automatic_orders_due(self, status: str, column: str, before: datetime, limit: int) -> list[dict[str, Any]]:
        """Orders in ``status`` whose ``column`` time has come, oldest first."""
        query = select(automatic_orders).where(
            automatic_orders.c.status == status, automatic_orders.c[column] <= before
        )
        return self._rows(query.order_by(automatic_orders.c[column], automatic_orders.c.id).limit(limit))

    # ----- audit --------------------------------------------------------------------------------------------
    def append_audit(self, row: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(audit_log).values(**row))

    def audit_of(self, customer_id: str, limit: int) -> list[dict[str, Any]]:
        query = select(audit_log).where(audit_log.c.customer_id == customer_id)
        return self._rows(query.order_by(audit_log.c.id).limit(limit))

    # ----- outbox -------------------------------------------------------------------------------------------
    def insert_action(self, row: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        return self._insert_once(outbox_actions, row, "idempotency_key")

    def get_action(self, action_id: str) -> dict[str, Any] | None:
        return self._one(outbox_actions, "id", action_id)

    def actions_of(
        self, customer_id: str, statuses: Iterable[str], channels: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        query = select(outbox_actions).where(
            outbox_actions.c.customer_id == customer_id, outbox_actions.c.status.in_(list(statuses))
        )
        if channels is not None:
            query = query.where(outbox_actions.c.channel.in_(list(channels)))
        return self._rows(query.order_by(outbox_actions.c.send_at, outbox_actions.c.id))

    def recent_contacts(self, customer_id: str, limit: int) -> list[dict[str, Any]]:
        """The customer's latest outbox actions that carry no decision of their own, newest first.

        Left out: actions a decision queued (its explanation covers them), orders handed to the firm's
        fulfilment (not a contact), and actions withdrawn or dead (they never reached the customer).
        """
        query = (
            select(outbox_actions)
            .where(
                outbox_actions.c.customer_id == customer_id,
                outbox_actions.c.status.not_in(list(CLOSED_STATUSES)),
                outbox_actions.c.channel != FULFILMENT_CHANNEL,
                outbox_actions.c.payload["decision_id"].as_string().is_(None),
            )
            .order_by(outbox_actions.c.send_at.desc(), outbox_actions.c.id.desc())
            .limit(limit)
        )
        return self._rows(query)

    def answered_message(self, conversation_id: str, before: datetime) -> dict[str, Any] | None:
        """The customer's latest message in the conversation written before ``before`` (what a reply answers)."""
        m = conversation_messages.c
        query = (
            select(m.id, m.channel, m.occurred_at)
            .where(m.conversation_id == conversation_id, m.author == "customer", m.recorded_at <= before)
            .order_by(m.recorded_at.desc(), m.id.desc())
            .limit(1)
        )
        found = self._rows(query)
        return found[0] if found else None

    def claim_action(
        self, action_id: str, statuses: Iterable[str], values: dict[str, Any], audit: dict[str, Any] | None = None
    ) -> bool:
        return self._claim(outbox_actions, action_id, statuses, values, audit)

    def lease_due_actions(
        self, now: datetime, skip_channels: Iterable[str], worker: str, lease_until: datetime, limit: int
    ) -> list[dict[str, Any]]:
        """Lease up to ``limit`` due webhook actions to ``worker`` in one UPDATE; one worker holds each lease.

        The lease only spares other workers a duplicate POST (receivers deduplicate on the idempotency key anyway),
        so PostgreSQL may commit it without waiting for the WAL flush.
        """
        free = (outbox_actions.c.lease_until.is_(None)) | (outbox_actions.c.lease_until < now)
        due = (
            select(outbox_actions.c.id)
            .where(
                outbox_actions.c.status == "pending",
                outbox_actions.c.send_at <= now,
                outbox_actions.c.next_attempt_at <= now,
                outbox_actions.c.channel.not_in(list(skip_channels)),
                free,
            )
            .order_by(outbox_actions.c.next_attempt_at, outbox_actions.c.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        lease = (
            update(outbox_actions)
            .where(outbox_actions.c.id.in_(due.scalar_subquery()), outbox_actions.c.status == "pending", free)
            .values(lease_until=lease_until, leased_by=worker)
            .returning(*outbox_actions.c)
        )
        with _lease_transaction(self) as conn:
            rows = [dict(row._mapping) for row in conn.execute(lease)]
        return sorted(rows, key=lambda r: (r["next_attempt_at"], r["id"]))

    def actions_in(self, status: str, limit: int) -> list[dict[str, Any]]:
        query = select(outbox_actions).where(outbox_actions.c.status == status)
        return self._rows(query.order_by(outbox_actions.c.created_at, outbox_actions.c.id).limit(limit))


@contextmanager
def _lease_transaction(store: Store) -> Iterator[Connection]:
    """A plain write transaction; on PostgreSQL without waiting for the WAL flush (for leases only)."""
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("SET LOCAL synchronous_commit = off"))
        yield conn


def _month_total(conn: Connection, mandate_id: str, cap_month: str) -> float:
    query = select(func.coalesce(func.sum(automatic_orders.c.amount), 0.0)).where(
        automatic_orders.c.mandate_id == mandate_id,
        automatic_orders.c.cap_month == cap_month,
        automatic_orders.c.status.in_(COUNTED_STATUSES),
    )
    return float(conn.scalar(query) or 0.0)
