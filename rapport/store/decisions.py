"""The store as the decision engine sees it: a customer's needs, the decision log, outcomes and fresh events.

``SqlDecisionStore`` is the Store with these reads and writes added; it shares the Store's engine, so the policy and
respond functions that take a store accept it unchanged. Every read on the request path is an indexed look-up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from rapport.customers.profile import ORDER_EVENTS
from rapport.customers.service import resolve_customer
from rapport.decide.consent import joined_records
from rapport.decide.contact_policy import Contact, contacts_window
from rapport.decide.decision import Decision
from rapport.decide.outcomes import Outcome
from rapport.decide.state import CustomerState
from rapport.errors import NotFound
from rapport.store.consents import SqlPreferences, row_to
from rapport.store.needs import _need as need_from_row  # the row → Need mapping of the needs table
from rapport.store.repeat import SqlRepeat
from rapport.store.respond import RespondStore
from rapport.store.store import Store
from rapport.store.tables import customers, decision_outcomes, decisions, events, needs

_NEEDS = select(needs).where(needs.c.customer_id == bindparam("cid")).order_by(needs.c.due_at, needs.c.need_key)
_PROFILE_NEEDS = (
    select(customers.c.canonical_id.label("profile_id"), needs)
    .select_from(customers.outerjoin(needs, needs.c.customer_id == customers.c.canonical_id))
    .where(customers.c.id == bindparam("id"))
    .order_by(needs.c.due_at, needs.c.need_key)
)
_INSERT_DECISION = insert(decisions)


class SqlDecisionStore(SqlPreferences, SqlRepeat, RespondStore):
    """A Store with the decision log, outcomes, needs and recent-event reads that rapport.decide needs."""

    @classmethod
    def over(cls, store: Store) -> SqlDecisionStore:
        """The same database as ``store`` (same engine and settings), seen through the decision engine's reads."""
        if isinstance(store, SqlDecisionStore):
            return store
        return cls(store.settings, engine=store.engine)

    # ----- what a decision reads -----------------------------------------------------------------------------
    def customer_state(self, reference: str, now: datetime, outbound: bool) -> CustomerState:
        """Everything a decision reads about the customer, on one connection.

        ``reference`` is a customer record id (the common case) or any identifier.
        """
        with self.engine.connect() as conn:
            rows = conn.execute(_PROFILE_NEEDS, {"id": reference}).all()
            if rows:  # a record id: the profile and its needs in one round trip
                canonical = rows[0].profile_id
                found = [need_from_row(row._mapping) for row in rows if row.need_key is not None]
            else:
                canonical = resolve_customer(self, reference)
                found = [need_from_row(row._mapping) for row in conn.execute(_NEEDS, {"cid": canonical})]
            state = CustomerState(
                canonical,
                self.settings,
                needs=found,
                control_rows=self.control_rows(canonical, conn),
                consent_rows=(consent_rows := self.consent_rows(canonical, conn)),
                # only records joined from several customer records can disagree (one query fewer otherwise)
                joined_at=self.profile_joined_at(canonical, conn) if joined_records(consent_rows) else None,
            )
            if outbound:
                state.policy = self.contact_policy(canonical, conn)
                state.contacts = self.contacts_between(canonical, *contacts_window(state.policy, now), conn)
        return state

    # ----- decisions -----------------------------------------------------------------------------------------
    def save_decision(self, decision: Decision, contacts: Sequence[tuple[Contact, str]] = ()) -> None:
        """Log the decision, and count the contacts it queued (by outbox key, once) in the same transaction."""
        data = decision.to_dict()
        row = {
            "id": decision.id,
            "customer_id": decision.customer_id,
            "touchpoint": decision.situation.touchpoint,
            "category": decision.category,
            "status": decision.status,
            "experience": decision.experience,
            "action": data["action"],
            "reasons": data["reasons"],
            "model_versions": data["model_versions"],
            "need": data["need"],
            "situation": data["situation"],
            "trigger": decision.trigger,
            "created_at": decision.created_at,
        }
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # The log of a decision need not wait for its WAL flush (an fsync, most of a decision's time): a
                # crash may lose the last fraction of a second of log rows, never consistency, and what the
                # decision set in motion (orders, outbox actions) is committed by its own, synchronous writes.
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            conn.execute(_INSERT_DECISION, row)
            for contact, key in contacts:
                self.insert_contact_on(conn, decision.customer_id, contact, key)

    def get_decision(self, decision_id: str) -> Decision:
        with self.engine.connect() as conn:
            row = conn.execute(select(decisions).where(decisions.c.id == decision_id)).first()
        if row is None:
            raise NotFound(f"No decision {decision_id!r}; use the decision_id that POST /v1/decide returned.")
        return _decision(row._mapping)

    def decisions_of(self, customer_id: str, limit: int = 50) -> list[Decision]:
        """The customer's latest decisions, newest first."""
        query = (
            select(decisions)
            .where(decisions.c.customer_id == customer_id)
            .order_by(decisions.c.created_at.desc(), decisions.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_decision(row._mapping) for row in conn.execute(query)]

    # ----- outcomes ------------------------------------------------------------------------------------------
    def decision_subject(self, decision_id: str) -> tuple[str, str | None] | None:
        """The customer and the category a logged decision was about (None for an unknown decision)."""
        query = select(decisions.c.customer_id, decisions.c.category).where(decisions.c.id == decision_id)
        with self.engine.connect() as conn:
            found = conn.execute(query).first()
        return None if found is None else (str(found[0]), found[1])

    def insert_outcome(self, outcome: Outcome) -> tuple[Outcome, bool]:
        """Insert unless this decision already has this outcome; the unique index settles races between retries."""
        existing = self._outcome(outcome.decision_id, outcome.outcome)
        if existing is not None:
            return existing, False
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(decision_outcomes).values(**_outcome_row(outcome)))
        except IntegrityError:
            found = self._outcome(outcome.decision_id, outcome.outcome)
            if found is None:
                raise
            return found, False
        return outcome, True

    def outcomes_of(self, decision_id: str) -> list[Outcome]:
        query = (
            select(decision_outcomes)
            .where(decision_outcomes.c.decision_id == decision_id)
            .order_by(decision_outcomes.c.id)
        )
        with self.engine.connect() as conn:
            return [row_to(Outcome, row._mapping) for row in conn.execute(query)]

    def _outcome(self, decision_id: str, outcome: str) -> Outcome | None:
        query = select(decision_outcomes).where(
            decision_outcomes.c.decision_id == decision_id, decision_outcomes.c.outcome == outcome
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else row_to(Outcome, row._mapping)

    # ----- the customer's own history (the ranker's fallback) -------------------------------------------------
    def frequent_items(self, customer_id: str, category: str | None, k: int) -> list[dict[str, Any]]:
        """The items the customer ordered most often (in ``category`` if given), with counts and last order time."""
        members = select(customers.c.id).where(customers.c.canonical_id == customer_id).scalar_subquery()
        query = select(events.c.timestamp, events.c.properties).where(
            events.c.customer_id.in_(members), events.c.type == "track", events.c.name.in_(ORDER_EVENTS)
        )
        counts: Counter[str] = Counter()
        last: dict[str, datetime] = {}
        with self.engine.connect() as conn:
            for timestamp, properties in conn.execute(query):
                for product in (properties or {}).get("products") or []:
                    sku = product.get("sku") if isinstance(product, dict) else None
                    if not isinstance(sku, str) or (category and product.get("category") != category):
                        continue
                    counts[sku] += 1
                    last[sku] = max(last.get(sku, timestamp), timestamp)
        ranked = sorted(counts, key=lambda sku: (-counts[sku], -last[sku].timestamp(), sku))[:k]
        return [{"sku": sku, "count": counts[sku], "last_at": last[sku]} for sku in ranked]

    # ----- fresh events (the event-driven trigger) -----------------------------------------------------------
    def latest_events(self, record_id: str, n: int) -> list[dict[str, Any]]:
        """The ``n`` events stored last for one customer record (by insertion order), newest first."""
        query = (
            select(events.c.id, events.c.message_id, events.c.name, events.c.properties, events.c.received_at)
            .where(events.c.customer_id == record_id)
            .order_by(events.c.id.desc())
            .limit(n)
        )
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]


def _decision(row: Any) -> Decision:
    return Decision.from_dict(
        {
            "decision_id": row["id"],
            "customer_id": row["customer_id"],
            "situation": row["situation"],
            "status": row["status"],
            "experience": row["experience"],
            "action": row["action"],
            "reasons": row["reasons"],
            "model_versions": row["model_versions"],
            "need": row["need"],
            "created_at": row["created_at"],
            "trigger": row["trigger"],
        }
    )


def _outcome_row(outcome: Outcome) -> dict[str, Any]:
    return {
        "decision_id": outcome.decision_id,
        "customer_id": outcome.customer_id,
        "outcome": outcome.outcome,
        "occurred_at": outcome.occurred_at,
        "recorded_at": outcome.recorded_at,
        "details": outcome.details,
    }
