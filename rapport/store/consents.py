"""SQL for a customer's preferences: consents (with history), control levels, contact policy and the contact log.

``SqlPreferences`` is mixed into ``SqlDecisionStore``; every read is one indexed look-up by customer id.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine, String, bindparam, delete, func, insert, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from rapport.decide.consent import Consent
from rapport.decide.contact_policy import Contact, ContactPolicy, policy_from
from rapport.decide.control import ControlSetting
from rapport.store.engine import reading
from rapport.store.tables import (
    consents,
    contact_log,
    contact_policies,
    control_levels,
    customers,
    events,
    merges,
)

T = TypeVar("T")
TRAIT_SCAN = 20  # identify calls read for traits.timezone, newest first
# The reads on a decision's path, built once (a statement's construction costs as much as its execution).
_CID = bindparam("cid", type_=String())
_MEMBERS = select(customers.c.id).where(customers.c.canonical_id == _CID).scalar_subquery()
# Every record of the profile keeps its own consents; a merge joins them (read: rapport.decide.consent.in_force).
# One IN over a union, not "= cid OR IN (…)": PostgreSQL answers an OR with a subquery by scanning the table.
_RECORDS = union_all(select(customers.c.id).where(customers.c.canonical_id == _CID), select(_CID))
_CONSENTS = select(consents).where(consents.c.customer_id.in_(_RECORDS)).order_by(consents.c.recorded_at, consents.c.id)
_JOINED = select(func.max(merges.c.created_at)).where(merges.c.status == "applied", merges.c.merged_id.in_(_MEMBERS))
_CONTROL = select(control_levels).where(control_levels.c.customer_id == _CID)
_POLICY = select(contact_policies.c.policy).where(contact_policies.c.customer_id == _CID)
_TRAITS = (
    select(events.c.traits)
    .where(
        events.c.customer_id.in_(select(customers.c.id).where(customers.c.canonical_id == _CID).scalar_subquery()),
        events.c.type == "identify",
    )
    .order_by(events.c.timestamp.desc())
    .limit(TRAIT_SCAN)
)
_INSERT_CONTACT = insert(contact_log)
_INSERT_CONTACT_ONCE = {  # RETURNING tells whether the row went in (rowcount is not reliable with ON CONFLICT)
    "sqlite": sqlite_insert(contact_log)
    .on_conflict_do_nothing(index_elements=["action_key"])
    .returning(contact_log.c.id),
    "postgresql": postgresql_insert(contact_log)
    .on_conflict_do_nothing(index_elements=["action_key"])
    .returning(contact_log.c.id),
}
_CONTACTS = select(contact_log.c.kind, contact_log.c.channel, contact_log.c.at, contact_log.c.mandatory).where(
    contact_log.c.customer_id == _CID, contact_log.c.at > bindparam("start"), contact_log.c.at < bindparam("end")
)


class SqlPreferences:
    """Consents, control levels, contact policies and the contact log of each customer.

    The reads take an optional open connection, so that a decision asks all its questions on one.
    """

    engine: Engine
    settings: Any

    @contextmanager
    def _reading(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
            return
        with reading(self.engine) as opened:
            yield opened

    # ----- consents -------------------------------------------------------------------------------------------
    def consent_rows(self, customer_id: str, conn: Connection | None = None) -> list[Consent]:
        with self._reading(conn) as reader:
            return [row_to(Consent, row._mapping) for row in reader.execute(_CONSENTS, {"cid": customer_id})]

    def profile_joined_at(self, customer_id: str, conn: Connection | None = None) -> datetime | None:
        """When the profile's records were last joined by a merge (None: one record, never merged)."""
        with self._reading(conn) as reader:
            return cast(datetime | None, reader.scalar(_JOINED, {"cid": customer_id}))

    def insert_consent(self, consent: Consent) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(consents).values(
                    customer_id=consent.customer_id,
                    purpose=consent.purpose,
                    granted=consent.granted,
                    source=consent.source,
                    recorded_at=consent.recorded_at,
                    note=consent.note,
                )
            )

    # ----- control levels -------------------------------------------------------------------------------------
    def control_rows(self, customer_id: str, conn: Connection | None = None) -> list[ControlSetting]:
        with self._reading(conn) as reader:
            return [row_to(ControlSetting, row._mapping) for row in reader.execute(_CONTROL, {"cid": customer_id})]

    def put_control_level(self, setting: ControlSetting) -> None:
        key = (
            (control_levels.c.customer_id == setting.customer_id)
            & (control_levels.c.category == setting.category)
            & (control_levels.c.source == setting.source)
        )
        values = {"level": setting.level, "set_at": setting.set_at, "evidence": setting.evidence}
        with self.engine.begin() as conn:
            if conn.execute(update(control_levels).where(key).values(**values)).rowcount == 0:
                conn.execute(
                    insert(control_levels).values(
                        customer_id=setting.customer_id, category=setting.category, source=setting.source, **values
                    )
                )

    def delete_control_level(self, customer_id: str, category: str, source: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(control_levels).where(
                    control_levels.c.customer_id == customer_id,
                    control_levels.c.category == category,
                    control_levels.c.source == source,
                )
            )
        return result.rowcount > 0

    # ----- contact policy and log -----------------------------------------------------------------------------
    def contact_policy_row(self, customer_id: str, conn: Connection | None = None) -> dict[str, Any] | None:
        with self._reading(conn) as reader:
            found = reader.scalar(_POLICY, {"cid": customer_id})
        return dict(found) if found is not None else None

    def contact_policy(self, customer_id: str, conn: Connection | None = None) -> ContactPolicy:
        """The policy in force: the firm's defaults, the customer's own fields, the time zone in their traits."""
        with self._reading(conn) as reader:
            own = self.contact_policy_row(customer_id, reader) or {}
            traits_zone = None if own.get("timezone") else self.customer_timezone(customer_id, reader)
        return policy_from(self.settings, own, traits_zone)

    def put_contact_policy(self, customer_id: str, policy: dict[str, Any], at: datetime) -> None:
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(contact_policies)
                .where(contact_policies.c.customer_id == customer_id)
                .values(policy=policy, updated_at=at)
            ).rowcount
            if changed == 0:
                conn.execute(insert(contact_policies).values(customer_id=customer_id, policy=policy, updated_at=at))

    def customer_timezone(self, customer_id: str, conn: Connection | None = None) -> str | None:
        """traits.timezone from the customer's latest identify calls (any record of the profile)."""
        with self._reading(conn) as reader:
            for traits in reader.scalars(_TRAITS, {"cid": customer_id}):
                zone = (traits or {}).get("timezone")
                if isinstance(zone, str) and zone:
                    return zone
        return None

    def contacts_between(
        self, customer_id: str, start: datetime, end: datetime, conn: Connection | None = None
    ) -> list[Contact]:
        with self._reading(conn) as reader:
            rows = reader.execute(_CONTACTS, {"cid": customer_id, "start": start, "end": end})
            return [Contact(kind, channel, at, bool(m)) for kind, channel, at, m in rows]

    def insert_contact(self, customer_id: str, contact: Contact, key: str | None = None) -> bool:
        """Count a contact; with ``key`` (the outbox idempotency key) only once. True if it was new."""
        with self.engine.begin() as conn:
            return self.insert_contact_on(conn, customer_id, contact, key)

    def insert_contact_on(self, conn: Connection, customer_id: str, contact: Contact, key: str | None) -> bool:
        """:meth:`insert_contact` inside the caller's transaction (a repeated key is skipped, not an error)."""
        row = {
            "customer_id": customer_id,
            "kind": contact.kind,
            "channel": contact.channel,
            "at": contact.at,
            "mandatory": contact.mandatory,
            "action_key": key,
        }
        if key is None:
            conn.execute(_INSERT_CONTACT, row)
            return True
        return conn.execute(_INSERT_CONTACT_ONCE[conn.dialect.name], row).first() is not None

    def forget_contacts(self, customer_id: str, keys: list[str]) -> int:
        """Stop counting contacts whose queued messages were withdrawn before they went out."""
        if not keys:
            return 0
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(contact_log).where(contact_log.c.customer_id == customer_id, contact_log.c.action_key.in_(keys))
            )
        return result.rowcount


def row_to(cls: type[T], row: Any) -> T:
    """A dataclass from a row mapping whose columns carry its field names."""
    return cls(**{f.name: row[f.name] for f in fields(cast(Any, cls))})
