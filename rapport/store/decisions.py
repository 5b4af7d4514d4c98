"""The store as the decision engine sees it: a customer's needs, the decision log, outcomes and fresh events.

``SqlDecisionStore`` is the Store with these reads and writes added; it shares the Store's engine, so the policy and
respond functions that take a store accept it unchanged. Every read on the request path is an indexed look-up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Connection, String, bindparam, insert, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.visitors import replacement_traverse

from rapport.customers.service import resolve_customer
from rapport.decide.consent import Consent, joined_records
from rapport.decide.contact_policy import Contact, ContactPolicy, contacts_window, policy_from
from rapport.decide.control import ControlSetting
from rapport.decide.decision import Decision
from rapport.decide.outcomes import Outcome
from rapport.decide.state import CustomerState
from rapport.errors import NotFound
from rapport.repeat.preferences import LEARNING_WINDOW, Prompt
from rapport.store import consents as preference_reads
from rapport.store.bandit import COUNTS_FOR_ONE, bandit_from
from rapport.store.consents import SqlPreferences, row_to
from rapport.store.engine import reading
from rapport.store.needs import _need as need_from_row  # the row → Need mapping of the needs table
from rapport.store.pipeline import Prepared, run_together
from rapport.store.repeat import CONTACT_RISK_COUNTS, NEED_TURNS, OPEN_PROMPTS, SqlRepeat, need_turns, risk_from
from rapport.store.respond import ORDER_EVENTS_OF_PROFILE, RespondStore
from rapport.store.store import Store
from rapport.store.tables import (
    contact_log,
    customers,
    decision_outcomes,
    decisions,
    events,
    needs,
    outbox_actions,
)

_PROFILE_NEEDS = (
    select(customers.c.canonical_id.label("profile_id"), needs)
    .select_from(customers.outerjoin(needs, needs.c.customer_id == customers.c.canonical_id))
    .where(customers.c.id == bindparam("id"))
    .order_by(needs.c.due_at, needs.c.need_key)
)
# The customer's reads keyed by the record id the request names, so that all go out together.
_PROFILE_OF_RECORD = (
    select(customers.c.canonical_id).where(customers.c.id == bindparam("ref", type_=String())).scalar_subquery()
)


def _of_record(statement: Any) -> Prepared:
    """``statement`` with its ``cid`` parameter replaced by the profile of the record ``ref``, compiled once."""

    def swap(element: Any) -> Any:
        return _PROFILE_OF_RECORD if isinstance(element, BindParameter) and element.key == "cid" else None

    return Prepared.of(replacement_traverse(statement, {}, swap))


_STATE_READS = {
    "needs": Prepared.of(_PROFILE_NEEDS),
    "control": _of_record(preference_reads._CONTROL),
    "consents": _of_record(preference_reads._CONSENTS),
    "joined": _of_record(preference_reads._JOINED),
    "prompts": _of_record(OPEN_PROMPTS),
}
_OUTBOUND_READS = {
    "policy": _of_record(preference_reads._POLICY),
    "traits": _of_record(preference_reads._TRAITS),
    "contacts": _of_record(preference_reads._CONTACTS),
    "bandit": _of_record(COUNTS_FOR_ONE),
    "risk": _of_record(CONTACT_RISK_COUNTS),
    "turns": _of_record(NEED_TURNS),
}
# Every order event of the profile (the ranker's fallback: the customer's own frequent items).
_ORDERS = Prepared.of(ORDER_EVENTS_OF_PROFILE)
_PG_ASYNC_COMMIT = Prepared.of(text("SET LOCAL synchronous_commit TO OFF"))
_INSERT_DECISION = Prepared.of(insert(decisions).values({c.name: bindparam(c.name) for c in decisions.c}))
# ON CONFLICT DO NOTHING is the same SQL on both stores (compiled for each by Prepared)
_INSERT_CONTACT = Prepared.of(
    postgresql_insert(contact_log)
    .values({n: bindparam(n) for n in ("customer_id", "kind", "channel", "at", "mandatory", "action_key")})
    .on_conflict_do_nothing(index_elements=["action_key"])
)
_OUTBOX_COLUMNS = ("id", "customer_id", "idempotency_key", "kind", "channel", "payload", "send_at", "status",
                   "attempts", "next_attempt_at", "created_at")  # fmt: skip
_INSERT_ACTION = Prepared.of(
    postgresql_insert(outbox_actions)
    .values({n: bindparam(n) for n in _OUTBOX_COLUMNS})
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
)
_ACTION_ID = Prepared.of(select(outbox_actions.c.id).where(outbox_actions.c.idempotency_key == bindparam("key")))


class SqlDecisionStore(SqlPreferences, SqlRepeat, RespondStore):
    """A Store with the decision log, outcomes, needs and recent-event reads that rapport.decide needs."""

    @classmethod
    def over(cls, store: Store) -> SqlDecisionStore:
        """The same database as ``store`` (same engine and settings), seen through the decision engine's reads."""
        if isinstance(store, SqlDecisionStore):
            return store
        return cls(store.settings, engine=store.engine)

    def _policy(self, zone: str | None) -> ContactPolicy:
        """The firm's contact policy for a customer with none of their own, in time zone ``zone`` (their traits'),
        built once per process for each zone and these settings: every outbound decision needs it."""
        cache = self.__dict__.setdefault("_policies", {})
        key = (id(self.settings), zone)
        found = cache.get(key)
        if found is None or found[0] is not self.settings:
            found = cache[key] = (self.settings, policy_from(self.settings, {}, zone))
        return found[1]

    # ----- what a decision reads -----------------------------------------------------------------------------
    def customer_state(self, reference: str, now: datetime, outbound: bool) -> CustomerState:
        """Everything a decision reads about the customer, on one connection, in one go (``run_together``: one
        round trip on PostgreSQL, outside a transaction; straight through the driver on SQLite).

        ``reference`` is a customer record id (the common case) or any identifier, resolved first.
        """
        with reading(self.engine) as conn:
            state = self._pipelined_state(conn, reference, now, outbound)
            if state is None:  # not a record id: the identifier's profile id is one
                state = self._pipelined_state(conn, resolve_customer(self, reference), now, outbound)
        if state is None:
            raise NotFound(f"No customer {reference!r}; use a customer id or an identifier the store knows.")
        return state

    def _pipelined_state(self, conn: Connection, reference: str, now: datetime, outbound: bool) -> CustomerState | None:
        """The state read in one go, for a record id; None when ``reference`` is no record id."""
        default_window = contacts_window(self._policy(None), now)
        reads = dict(_STATE_READS, **(_OUTBOUND_READS if outbound else {}))
        window = {"start": default_window[0], "end": default_window[1]}
        values = {name: {"ref": reference, **(window if name == "contacts" else {})} for name in reads}
        values["needs"] = {"id": reference}
        if outbound:
            values["turns"]["limit"] = LEARNING_WINDOW
        found = dict(zip(reads, run_together(conn, [(reads[n], values[n]) for n in reads]), strict=True))
        if not found["needs"]:
            return None
        canonical = found["needs"][0]["profile_id"]
        consent_rows = [row_to(Consent, row) for row in found["consents"]]
        state = CustomerState(
            canonical,
            self.settings,
            needs=[need_from_row(row) for row in found["needs"] if row["need_key"] is not None],
            control_rows=[row_to(ControlSetting, row) for row in found["control"]],
            consent_rows=consent_rows,
            joined_at=next(iter(found["joined"][0].values())) if joined_records(consent_rows) else None,
            prompts=[row_to(Prompt, row) for row in found["prompts"]],
        )
        if outbound:
            state.bandit = bandit_from(found["bandit"])
            state.risk = risk_from(
                canonical, [(r["customer_id"], r["successes"], r["failures"]) for r in found["risk"]]
            )
            state.turns = need_turns(found["turns"])
            own = dict(found["policy"][0]["policy"]) if found["policy"] else {}
            zone = None if own.get("timezone") else _zone(found["traits"])
            state.policy = policy = policy_from(self.settings, own, zone) if own else self._policy(zone)
            start, end = contacts_window(policy, now)
            if start < default_window[0] or end > default_window[1]:  # the customer's own caps look further
                state.contacts = self.contacts_between(canonical, start, end, conn)
            else:
                state.contacts = [
                    Contact(r["kind"], r["channel"], r["at"], bool(r["mandatory"]))
                    for r in found["contacts"]
                    if start < r["at"] < end
                ]
        return state

    # ----- decisions -----------------------------------------------------------------------------------------
    def save_decision(
        self,
        decision: Decision,
        contacts: Sequence[tuple[Contact, str]] = (),
        actions: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Log the decision with all it set in motion, in one transaction: Respond's outbox ``actions`` (rows of
        :func:`rapport.respond.outbox.action_row`, once per idempotency key) and the contacts they count.

        An action whose key is already queued keeps the first one; the decision's action then names that one's id.
        The statements go out together (``run_together``; on PostgreSQL one pipeline, two when there are outbox
        actions: their ids first). On PostgreSQL the log of a decision with no outbox action need not wait for its WAL flush (an fsync, most of a decision's
        time): a crash may lose the last fraction of a second of such rows, never consistency.
        """
        with self.engine.connect() as conn:
            queued = {}
            if actions:
                reads = [(_INSERT_ACTION, row) for row in actions]
                reads += [(_ACTION_ID, {"key": row["idempotency_key"]}) for row in actions]
                found = run_together(conn, reads)[len(actions) :]
                queued = {row["id"]: rows[0]["id"] for row, rows in zip(actions, found, strict=True)}
            _name_queued(decision, queued)
            writes = [(_PG_ASYNC_COMMIT, {})] if self.dialect == "postgresql" and not actions else []
            writes += [(_INSERT_CONTACT, _contact_row(decision.customer_id, c, k)) for c, k in contacts]
            writes.append((_INSERT_DECISION, _decision_row(decision)))
            run_together(conn, writes, commit=True)

    def get_decision(self, decision_id: str) -> Decision:
        with reading(self.engine) as conn:
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
        with reading(self.engine) as conn:
            return [_decision(row._mapping) for row in conn.execute(query)]

    # ----- outcomes ------------------------------------------------------------------------------------------
    def decision_subject(self, decision_id: str) -> tuple[str, str | None] | None:
        """The customer and the category a logged decision was about (None for an unknown decision)."""
        query = select(decisions.c.customer_id, decisions.c.category).where(decisions.c.id == decision_id)
        with reading(self.engine) as conn:
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
        with reading(self.engine) as conn:
            return [row_to(Outcome, row._mapping) for row in conn.execute(query)]

    def _outcome(self, decision_id: str, outcome: str) -> Outcome | None:
        query = select(decision_outcomes).where(
            decision_outcomes.c.decision_id == decision_id, decision_outcomes.c.outcome == outcome
        )
        with reading(self.engine) as conn:
            row = conn.execute(query).first()
        return None if row is None else row_to(Outcome, row._mapping)

    # ----- the customer's own history (the ranker's fallback) -------------------------------------------------
    def frequent_items(self, customer_id: str, category: str | None, k: int) -> list[dict[str, Any]]:
        """The items the customer ordered most often (in ``category`` if given), with counts and last order time."""
        counts: Counter[str] = Counter()
        last: dict[str, datetime] = {}
        with reading(self.engine) as conn:
            rows = run_together(conn, [(_ORDERS, {"cid": customer_id})])[0]
        for row in rows:
            timestamp = row["timestamp"]
            for product in (row["properties"] or {}).get("products") or []:
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
        with reading(self.engine) as conn:
            return [dict(row._mapping) for row in conn.execute(query)]


def _decision_row(decision: Decision) -> dict[str, Any]:
    data = decision.to_dict()
    return {
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


def _contact_row(customer_id: str, contact: Contact, key: str) -> dict[str, Any]:
    return {"customer_id": customer_id, "kind": contact.kind, "channel": contact.channel, "at": contact.at,
            "mandatory": contact.mandatory, "action_key": key}  # fmt: skip


def _name_queued(decision: Decision, queued: dict[str, str]) -> None:
    """The decision's action names the outbox action queued for its key (the first one, on a repeated key)."""
    action = decision.action
    if action and action.get("outbox_action_id") in queued:
        action["outbox_action_id"] = queued[action["outbox_action_id"]]


def _zone(traits_rows: list[dict[str, Any]]) -> str | None:
    for row in traits_rows:
        zone = (row["traits"] or {}).get("timezone")
        if isinstance(zone, str) and zone:
            return zone
    return None


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
