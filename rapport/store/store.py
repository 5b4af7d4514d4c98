"""The store: one facade over SQLite or PostgreSQL for everything Rapport keeps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, String, bindparam, func, or_, select

from rapport.config import Settings, load_settings
from rapport.customers.identifiers import Identifier
from rapport.customers.ports import MergeRecord
from rapport.errors import NotFound
from rapport.recognize.need import Need
from rapport.store import needs as needs_store
from rapport.store.bulk import fetch_rows, json_value, read_rows, utc_time
from rapport.store.engine import create_store_engine, ingest_transaction, reading, write_transaction
from rapport.store.identity import SqlIdentityTransaction, merge_from_row
from rapport.store.tables import customers, events, identifiers, merges

if TYPE_CHECKING:
    from rapport.store.offers import SqlOfferSource
    from rapport.store.voice import SqlVoiceStore


class Store:
    """Opens (and migrates) the database named by the settings; the services take a Store."""

    def __init__(self, settings: Settings | None = None, engine: Engine | None = None):
        self.settings = settings or load_settings()
        self.engine = engine or create_store_engine(self.settings.database_url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def offers(self) -> SqlOfferSource:
        """The curated offering's storage: history, catalogue and stock, trained models."""
        from rapport.store.offers import SqlOfferSource

        return SqlOfferSource(self.engine)

    @property
    def voice(self) -> SqlVoiceStore:
        """Voice's storage: items, topics, alerts and the issue needs raised from what customers said."""
        from rapport.store.voice import SqlVoiceStore

        return SqlVoiceStore(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def refresh_statistics(self) -> None:
        """After a bulk load: on PostgreSQL, ``ANALYZE`` every table, so the planner knows their sizes.

        Without statistics PostgreSQL takes a table for a few pages' worth of rows and answers a customer's events
        (``customer_id IN (their records)``) with a scan of the whole events table: 50-130 ms a profile or offers read
        on the 3,000-person demo store, against a few ms with them. Autovacuum analyses a table some time after
        it has grown, and never where it is switched off; a load that knows it just grew the store does it at once.
        SQLite's planner picks these indexes without statistics: nothing to do there."""
        if self.dialect != "postgresql":
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")

    @contextmanager
    def identity_transaction(self) -> Iterator[SqlIdentityTransaction]:
        with write_transaction(self.engine, lookups_by_index=True) as conn:
            yield SqlIdentityTransaction(conn)

    @property
    def validates_ahead(self) -> bool:
        """Whether ingestion validates the next batch while one is stored (rapport.customers.ingestion): only
        where the writes wait on a server process."""
        return self.dialect == "postgresql"

    @property
    def ingest_batch_size(self) -> int:
        """Messages stored per transaction when the settings leave it to the store (``ingest_batch_size`` 0).

        On SQLite a commit writes every index page its batch dirtied, and the events' (customer_id, timestamp)
        index takes a page for most rows (random customers): at a million stored events, 20,000 a batch cost a
        third less than 5,000 (bench/ingest.py). PostgreSQL keeps 5,000 (a larger batch measured no better)."""
        return 20_000 if self.dialect == "sqlite" else 5_000

    @contextmanager
    def ingest_transaction(self) -> Iterator[SqlIdentityTransaction]:
        """One ingestion batch's transaction: beside other batches on PostgreSQL (may raise ``ConcurrentWrite``,
        see rapport.store.engine.ingest_transaction), under the write lock on SQLite."""
        with ingest_transaction(self.engine) as conn:
            yield SqlIdentityTransaction(conn, concurrent=self.dialect == "postgresql")

    # ----- customers -----------------------------------------------------------------------------------------
    def canonical_id(self, customer_id: str) -> str:
        """The id of the profile a customer record belongs to now (merged records redirect to the survivor)."""
        with reading(self.engine) as conn:
            found = conn.scalar(select(customers.c.canonical_id).where(customers.c.id == customer_id))
        if found is None:
            raise NotFound(f"No customer {customer_id!r}; look one up by e-mail with `rapport customer show EMAIL`.")
        return str(found)

    def customer_by_identifier(self, identifier: Identifier) -> str:
        with reading(self.engine) as conn:
            query = (
                select(customers.c.canonical_id)
                .join(identifiers, identifiers.c.customer_id == customers.c.id)
                .where(identifiers.c.kind == identifier.kind, identifiers.c.value == identifier.value)
            )
            found = conn.scalar(query)
        if found is None:
            raise NotFound(f"No customer has {identifier.kind} {identifier.value!r}.")
        return str(found)

    def members(self, canonical_id: str) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.scalars(select(customers.c.id).where(customers.c.canonical_id == canonical_id)))

    def identifier_rows(self, members: list[str]) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            query = select(identifiers).where(identifiers.c.customer_id.in_(members)).order_by(identifiers.c.first_seen)
            return [dict(row._mapping) for row in conn.execute(query)]

    def event_rows(self, members: list[str], limit: int | None = None) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            query = select(events).where(events.c.customer_id.in_(members)).order_by(events.c.timestamp, events.c.id)
            if limit is not None:
                query = query.limit(limit)
            return [dict(row._mapping) for row in conn.execute(query)]

    def profile_rows(self, canonical_id: str) -> tuple[list[str], list[dict[str, Any]], list[dict[str, Any]]]:
        """A profile's records, identifier rows (as ``members`` and ``identifier_rows`` return them) and event
        rows with what a profile shows (``PROFILE_EVENT_COLUMNS``, and of ``context`` only its ``traits``), read on
        one connection: on PostgreSQL in one pipeline, one round trip."""
        values = {"cid": canonical_id}
        if self.dialect == "postgresql":
            from rapport.store.pipeline import run_together

            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                found = run_together(conn, [(statement, values) for statement in _pg_profile_reads()])
            event_rows = [_profile_event(tuple(row.values()), parsed=True) for row in found[2]]
            return [row["id"] for row in found[0]], found[1], event_rows
        members = "WHERE customer_id IN (SELECT id FROM customers WHERE canonical_id = ?)"
        with self.engine.connect() as conn:
            records = [
                row[0] for row in fetch_rows(conn, "SELECT id FROM customers WHERE canonical_id = ?", [canonical_id])
            ]
            identifier_rows = read_rows(conn, identifiers, f"{members} ORDER BY first_seen", [canonical_id])
            found = fetch_rows(conn, f"{_SQLITE_PROFILE_EVENTS} {members} ORDER BY timestamp, id", [canonical_id])
        return records, identifier_rows, [_profile_event(row, parsed=False) for row in found]

    def merge_records(self, members: list[str]) -> list[MergeRecord]:
        with self.engine.connect() as conn:
            query = (
                select(merges)
                .where(or_(merges.c.survivor_id.in_(members), merges.c.merged_id.in_(members)))
                .order_by(merges.c.id)
            )
            return [merge_from_row(row) for row in conn.execute(query)]

    def undo_merge(self, merge_id: int, reason: str) -> MergeRecord:
        from datetime import UTC, datetime

        with self.identity_transaction() as tx:
            return tx.undo_merge(merge_id, reason, datetime.now(UTC))

    def counts(self) -> dict[str, int]:
        """Rows per kind of record, and profiles (distinct canonical ids)."""
        with self.engine.connect() as conn:
            return {
                "events": conn.scalar(select(func.count()).select_from(events)) or 0,
                "customer_records": conn.scalar(select(func.count()).select_from(customers)) or 0,
                "customers": conn.scalar(select(func.count(func.distinct(customers.c.canonical_id)))) or 0,
                "identifiers": conn.scalar(select(func.count()).select_from(identifiers)) or 0,
                "merges": conn.scalar(select(func.count()).select_from(merges).where(merges.c.status == "applied"))
                or 0,
            }

    def erase(self, canonical_id: str) -> dict[str, Any]:
        """Erase a profile (see rapport.store.erasure) and scrub the files."""
        from rapport.store.erasure import erase_profile, scrub_files

        with self.identity_transaction() as tx:
            report = erase_profile(tx.conn, canonical_id)
        report["files"] = scrub_files(self.engine)
        return report

    def profile_identifiers(self) -> dict[str, list[tuple[str, str, bool]]]:
        """Every profile with its identifiers (kind, value, shared), for reports over the whole store."""
        query = select(customers.c.canonical_id, identifiers.c.kind, identifiers.c.value, identifiers.c.shared).join(
            customers, customers.c.id == identifiers.c.customer_id
        )
        found: dict[str, list[tuple[str, str, bool]]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                found.setdefault(row.canonical_id, []).append((row.kind, row.value, bool(row.shared)))
        return found

    def merge_status_counts(self) -> dict[str, int]:
        """How many merges are applied, refused and undone."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(merges.c.status, func.count()).group_by(merges.c.status)).all()
        return {status: int(count) for status, count in rows}

    # ----- needs (rapport.recognize.refresh reads and writes through these) ---------------------------------
    def need_events(self, names: tuple[str, ...], canonical_id: str | None = None) -> list[dict[str, Any]]:
        return needs_store.need_event_rows(self.engine, names, canonical_id)

    def replace_needs(self, customer_id: str, found: list[Need], computed_at: datetime, model_version: str) -> int:
        return needs_store.write_needs(self.engine, customer_id, found, computed_at, model_version)

    def most_confident_need(self, kind: str, category: str | None = None) -> Need | None:
        return needs_store.most_confident_need(self.engine, kind, category)

    def prune_needs(self) -> int:
        return needs_store.prune_needs(self.engine)

    def read_needs(self, customer_id: str) -> list[Need]:
        return needs_store.read_needs(self.engine, customer_id)

    def save_model(self, name: str, text: str) -> None:
        needs_store.save_model(self.engine, name, text)

    def load_model(self, name: str) -> str | None:
        return needs_store.load_model(self.engine, name)


# A profile's reads, built once: its records, their identifiers and their events, all by the profile id.
_PROFILE_RECORDS = select(customers.c.id).where(customers.c.canonical_id == bindparam("cid", type_=String()))
_PROFILE_IDENTIFIERS = (
    select(identifiers)
    .where(identifiers.c.customer_id.in_(_PROFILE_RECORDS.scalar_subquery()))
    .order_by(identifiers.c.first_seen)
)
# What a profile shows of each event (rapport.customers.profile): not its ids, receipt time or the rest of its context.
PROFILE_EVENT_COLUMNS = ("message_id", "type", "name", "channel", "source", "timestamp", "properties", "traits")
_PROFILE_EVENTS = (
    select(*(events.c[name] for name in PROFILE_EVENT_COLUMNS), events.c.context["traits"].label("context_traits"))
    .where(events.c.customer_id.in_(_PROFILE_RECORDS.scalar_subquery()))
    .order_by(events.c.timestamp, events.c.id)
)
_SQLITE_PROFILE_EVENTS = f"SELECT {', '.join(PROFILE_EVENT_COLUMNS)}, context -> '$.traits' FROM events"


def _profile_event(row: tuple[Any, ...], parsed: bool) -> dict[str, Any]:
    """An event row of ``_PROFILE_EVENTS`` as the profile reads it: aware UTC time, JSON as Python values
    (``parsed``: the driver already returned them so, as psycopg does; SQLite returns text)."""
    message_id, kind, name, channel, source, timestamp, properties, traits, context_traits = row
    if not parsed:
        timestamp = utc_time(timestamp)
        properties, traits, context_traits = (
            None if value is None else json_value(value) for value in (properties, traits, context_traits)
        )
    return {
        "message_id": message_id,
        "type": kind,
        "name": name,
        "channel": channel,
        "source": source,
        "timestamp": timestamp,
        "properties": properties,
        "traits": traits,
        "context": None if context_traits is None else {"traits": context_traits},
    }


@cache
def _pg_profile_reads() -> tuple[Any, ...]:
    from rapport.store.pipeline import Prepared

    return tuple(Prepared.of(statement) for statement in (_PROFILE_RECORDS, _PROFILE_IDENTIFIERS, _PROFILE_EVENTS))
