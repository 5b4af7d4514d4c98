"""The SQL side of identity resolution: implements rapport.customers.ports.IdentityTransaction."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Connection, any_, bindparam, exists, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from rapport.customers.events import Event
from rapport.customers.identifiers import Identifier
from rapport.customers.names import event_name_keys
from rapport.customers.ports import IdentifierRecord, MergeRecord, StitchWrites
from rapport.errors import ConcurrentWrite, NotFound
from rapport.store.bulk import (
    db_json,
    db_timestamp,
    fetch_rows,
    insert_values,
    list_param,
    one_of_sql,
    placeholder,
    text_array,
)
from rapport.store.tables import (
    customers,
    erased_identifiers,
    identifier_sightings,
    identifiers,
    merge_evidence,
    merges,
    meta,
)

_CHUNK = 2000  # values per IN (...) list: well under the bound-parameter limits of SQLite (32,766) and PostgreSQL


def _chunked(values: list[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def insert_ignoring_conflicts(conn: Connection, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING, in the dialect at hand."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(index_elements=keys), rows)


def one_of(conn: Connection, column: Any, values: list[Any]) -> Any:
    """``column IN (values)``; on PostgreSQL ``= ANY(array)``, one parameter instead of thousands."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


class SqlIdentityTransaction:
    """Identity reads and writes on one connection that holds the store's write lock.

    ``concurrent``: the lock is held in shared mode (PostgreSQL ingestion batches, ``ingest_transaction``), so other
    batches write beside this one. Stitching stays what one batch after the other would give because:

    - identifiers are never re-pointed, and a new one is inserted under its primary key: a batch that believed
      it new when another batch inserted it first fails (unique violation) and runs again, then sees it known;
      the same for a messageId stored by two batches at once (a redelivery), which the rerun counts as a duplicate;
    - a profile changes (an identifier attached to one of its records, a merge, an undo) only under a row lock on
      its root record: every canonical id this transaction reads is locked (``FOR NO KEY UPDATE``, in sorted
      order, then read again until the roots it names are all locked), so a root it holds stays a root and its
      records and limited identifiers (the kind limits) stay as read until it commits;
    - identifiers whose sightings decide whether they are shared are locked before their sightings are counted.

    Two batches that lock in opposite orders deadlock; PostgreSQL cancels one, which runs again.
    """

    def __init__(self, conn: Connection, *, concurrent: bool = False):
        self.conn = conn
        self.concurrent = concurrent
        self._locked_roots: set[str] = set()

    def existing_message_ids(self, message_ids: list[str]) -> set[str]:
        sql = f"SELECT message_id FROM events WHERE {one_of_sql(self.conn, 'message_id')}"
        return {row[0] for row in fetch_rows(self.conn, sql, [list_param(self.conn, message_ids)])}

    def has_erasures(self) -> bool:
        return bool(self.conn.scalar(select(exists().where(erased_identifiers.c.hash.isnot(None)))))

    def erased_hashes(self, hashes: list[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunked(sorted(set(hashes))):
            found.update(
                self.conn.scalars(
                    select(erased_identifiers.c.hash).where(one_of(self.conn, erased_identifiers.c.hash, chunk))
                )
            )
        return found

    def pepper(self) -> str:
        return pepper(self.conn)

    def lookup_identifiers(self, wanted: Iterable[Identifier]) -> dict[Identifier, IdentifierRecord]:
        found: dict[Identifier, IdentifierRecord] = {}
        by_kind: dict[str, list[str]] = {}
        for kind, value in wanted:
            by_kind.setdefault(kind, []).append(value)
        if self.conn.dialect.name == "postgresql":
            # One primary-key seek per value, whatever the planner believes: under ``kind = %s AND value = ANY(%s)``
            # it scanned every identifier of the kind and compared each with the whole list once psycopg prepared
            # the statement (its generic plan, on statistics taken while the table was small): 100 ms instead of
            # 7 for 2,000 values. LIMIT 1 keeps the lateral look-up a nested loop of index seeks.
            sql = (
                "SELECT w.value, x.customer_id, x.shared FROM unnest(%s::text[]) AS w(value) CROSS JOIN LATERAL "
                "(SELECT customer_id, shared FROM identifiers i WHERE i.kind = %s AND i.value = w.value LIMIT 1) x"
            )
            for kind, values in by_kind.items():
                for value, customer_id, shared in fetch_rows(self.conn, sql, [text_array(set(values)), kind]):
                    found[Identifier(kind, value)] = IdentifierRecord(customer_id, bool(shared))
            return found
        # kind = ? AND value IN (…): both columns of the primary key, so each value is one index seek
        sql = (
            "SELECT value, customer_id, shared FROM identifiers "
            f"WHERE kind = {placeholder(self.conn)} AND {one_of_sql(self.conn, 'value')}"
        )
        for kind, values in by_kind.items():
            for value, customer_id, shared in fetch_rows(self.conn, sql, [kind, list_param(self.conn, values)]):
                found[Identifier(kind, value)] = IdentifierRecord(customer_id, bool(shared))
        return found

    def canonical_of(self, customer_ids: Iterable[str]) -> dict[str, str]:
        ids = list(customer_ids)
        sql = f"SELECT id, canonical_id FROM customers WHERE {one_of_sql(self.conn, 'id')}"
        found: dict[str, str] = dict(fetch_rows(self.conn, sql, [list_param(self.conn, ids)]))  # type: ignore[arg-type]
        while self.concurrent:
            roots = set(found.values()) - self._locked_roots
            if not roots:
                break
            lock = f"SELECT id FROM customers WHERE {one_of_sql(self.conn, 'id')} ORDER BY id FOR NO KEY UPDATE"
            fetch_rows(self.conn, lock, [list_param(self.conn, sorted(roots))])
            self._locked_roots.update(roots)
            found = dict(fetch_rows(self.conn, sql, [list_param(self.conn, ids)]))  # type: ignore[arg-type]
        return found

    def unique_identifiers(self, canonical_ids: Iterable[str], kinds: tuple[str, ...]) -> dict[str, set[Identifier]]:
        # Two indexed steps (records of the profiles, then their identifiers); kinds are filtered here because a
        # `kind IN (…)` lets SQLite's planner pick the primary key and scan every identifier of those kinds.
        conn = self.conn
        sql = f"SELECT id, canonical_id FROM customers WHERE {one_of_sql(conn, 'canonical_id')}"
        canonical_of = dict(fetch_rows(conn, sql, [list_param(conn, canonical_ids)]))
        found: dict[str, set[Identifier]] = {}
        if not canonical_of:
            return found
        wanted = set(kinds)
        sql = f"SELECT customer_id, kind, value FROM identifiers WHERE {one_of_sql(conn, 'customer_id')}"
        for customer_id, kind, value in fetch_rows(conn, sql, [list_param(conn, canonical_of)]):
            if kind in wanted:
                found.setdefault(canonical_of[customer_id], set()).add(Identifier(kind, value))
        return found

    def sightings(self, wanted: Iterable[Identifier]) -> dict[Identifier, set[str]]:
        found: dict[Identifier, set[str]] = {}
        keys = sorted({(i.kind, i.value) for i in wanted})
        for chunk in _chunked(keys):
            if self.concurrent:  # whoever counts an identifier's sightings holds it until it commits its own
                cols = tuple_(identifiers.c.kind, identifiers.c.value)
                lock = (
                    select(identifiers.c.kind).where(cols.in_(chunk)).order_by(identifiers.c.kind, identifiers.c.value)
                )
                self.conn.execute(lock.with_for_update(key_share=True))  # FOR NO KEY UPDATE
            cols = tuple_(identifier_sightings.c.kind, identifier_sightings.c.value)
            query = select(identifier_sightings).where(cols.in_(chunk))
            for row in self.conn.execute(query):
                found.setdefault(Identifier(row.kind, row.value), set()).add(row.customer_id)
        return found

    def write(self, writes: StitchWrites) -> int:
        conn = self.conn
        stamps: dict[datetime, str | None] = {}  # a batch shares a few instants (its receipt time): convert once

        def stamp(at: datetime) -> str | None:
            found = stamps.get(at)
            if found is None:
                found = stamps[at] = db_timestamp(at)
            return found

        customer_rows = [(c, db_timestamp(at), None, c) for c, at in writes.new_customers]
        insert_values(conn, "customers", ("id", "created_at", "merged_into", "canonical_id"), customer_rows)
        identifier_rows = [(i.kind, i.value, c, stamp(at), False) for i, c, at in writes.new_identifiers]
        insert_values(conn, "identifiers", ("kind", "value", "customer_id", "first_seen", "shared"), identifier_rows)
        if self.concurrent and writes.unshared:
            self._still_unshared(writes.unshared)
        for merge in writes.merges:
            if merge.status == "applied":
                self._apply_merge(merge.survivor_id, merge.merged_id)
            self._insert_merge(merge)
        sightings = [(i.kind, i.value, c) for i, c in writes.sightings]
        insert_values(
            conn, "identifier_sightings", ("kind", "value", "customer_id"), sightings, "kind, value, customer_id"
        )
        # Retries were filtered under the write lock, so a duplicate messageId here is a bug: it fails loudly.
        event_rows = [_event_values(e, c, stamp(at)) for e, c, at in writes.events]
        insert_values(conn, "events", _EVENT_COLUMNS, event_rows)
        named = {
            (c, key)
            for e, c, _at in writes.events
            if e.traits or e.context
            for key in event_name_keys(e.traits, e.context)
        }
        insert_values(conn, "customer_names", ("customer_id", "name_key"), sorted(named), "customer_id, name_key")
        return len(event_rows)

    def _still_unshared(self, relied: set[Identifier]) -> None:
        """Lock (``FOR SHARE``) the identifiers the batch joined profiles through, and fail when another batch
        marked one shared meanwhile: that batch's undo of merges through it saw none of ours, so this batch runs
        again and sees it shared. A batch marking one later waits for this one and then sees its merges."""
        keys = sorted((i.kind, i.value) for i in relied)
        for chunk in _chunked(keys):
            cols = tuple_(identifiers.c.kind, identifiers.c.value)
            query = (
                select(identifiers.c.kind, identifiers.c.value, identifiers.c.shared)
                .where(cols.in_(chunk))
                .order_by(identifiers.c.kind, identifiers.c.value)
                .with_for_update(read=True)  # the rows as the batch that held them committed them
            )
            for row in self.conn.execute(query):
                if row.shared:
                    raise ConcurrentWrite(f"{row.kind} {row.value} turned shared while this batch joined through it")

    def _apply_merge(self, survivor: str, merged: str) -> None:
        self.conn.execute(update(customers).where(customers.c.id == merged).values(merged_into=survivor))
        self.conn.execute(update(customers).where(customers.c.canonical_id == merged).values(canonical_id=survivor))

    def _insert_merge(self, merge: MergeRecord) -> int:
        merge_id = self.conn.execute(
            insert(merges)
            .values(
                survivor_id=merge.survivor_id,
                merged_id=merge.merged_id,
                status=merge.status,
                reason=merge.reason,
                evidence=merge.evidence,
                created_at=merge.created_at,
            )
            .returning(merges.c.id)
        ).scalar_one()
        cited = {
            (d["kind"], d["value"])
            for side in ("survivor", "merged")
            for d in merge.evidence.get(side, [])
            if isinstance(d, dict) and "kind" in d
        }
        if cited and merge.status == "applied":
            rows = [{"merge_id": merge_id, "kind": k, "value": v} for k, v in cited]
            self.conn.execute(insert(merge_evidence), rows)
        merge.id = merge_id
        return merge_id

    def record_merge(self, merge: MergeRecord) -> int:
        """Apply (when status is applied) and record one merge, e.g. from probabilistic linkage or by hand."""
        if merge.status == "applied":
            self._apply_merge(merge.survivor_id, merge.merged_id)
        return self._insert_merge(merge)

    def mark_shared(self, identifier: Identifier) -> None:
        self.conn.execute(
            update(identifiers)
            .where(identifiers.c.kind == identifier.kind, identifiers.c.value == identifier.value)
            .values(shared=True)
        )

    def applied_merges_citing(self, identifier: Identifier) -> list[MergeRecord]:
        query = (
            select(merges)
            .join(merge_evidence, merge_evidence.c.merge_id == merges.c.id)
            .where(
                merge_evidence.c.kind == identifier.kind,
                merge_evidence.c.value == identifier.value,
                merges.c.status == "applied",
            )
            .order_by(merges.c.id.desc())
        )
        return [merge_from_row(row) for row in self.conn.execute(query)]

    def undo_merge(self, merge_id: int, reason: str, at: datetime) -> MergeRecord:
        """Split a merge: the merged record and everything merged into it since become a profile again."""
        row = self.conn.execute(select(merges).where(merges.c.id == merge_id)).first()
        if row is None:
            raise NotFound(f"No merge {merge_id}; list a customer's merges with `rapport customer merges ID`.")
        record = merge_from_row(row)
        if record.status != "applied":
            return record
        merged = record.merged_id
        self.canonical_of([merged])  # under concurrent batches: lock the profile being split
        self.conn.execute(update(customers).where(customers.c.id == merged).values(merged_into=None))
        subtree = [merged]
        frontier = [merged]
        while frontier:
            children = list(self.conn.scalars(select(customers.c.id).where(customers.c.merged_into.in_(frontier))))
            subtree.extend(children)
            frontier = children
        for chunk in _chunked(subtree):
            self.conn.execute(
                update(customers).where(one_of(self.conn, customers.c.id, chunk)).values(canonical_id=merged)
            )
        self.conn.execute(
            update(merges).where(merges.c.id == merge_id).values(status="undone", undone_at=at, undo_reason=reason)
        )
        record.status, record.undone_at, record.undo_reason = "undone", at, reason
        return record


_EVENT_COLUMNS = (
    "message_id",
    "customer_id",
    "type",
    "name",
    "channel",
    "source",
    "timestamp",
    "received_at",
    "user_id",
    "anonymous_id",
    "properties",
    "traits",
    "context",
)


def _event_values(event: Event, customer_id: str, received_at: str | None) -> tuple[Any, ...]:
    """An event's row in stored form, in the order of _EVENT_COLUMNS."""
    return (
        event.message_id,
        customer_id,
        event.type,
        event.name,
        event.channel,
        event.source,
        db_timestamp(event.timestamp),
        received_at,
        event.user_id,
        event.anonymous_id,
        db_json(event.properties),
        db_json(event.traits),
        db_json(event.context),
    )


def merge_from_row(row: Any) -> MergeRecord:
    return MergeRecord(
        id=row.id,
        survivor_id=row.survivor_id,
        merged_id=row.merged_id,
        status=row.status,
        reason=row.reason,
        evidence=row.evidence,
        created_at=row.created_at,
        undone_at=row.undone_at,
        undo_reason=row.undo_reason,
    )


def pepper(conn: Connection) -> str:
    """The store's secret salt for one-way identifier hashes, made once."""
    value = conn.scalar(select(meta.c.value).where(meta.c.key == "pepper"))
    if value is None:
        insert_ignoring_conflicts(conn, meta, [{"key": "pepper", "value": secrets.token_hex(32)}], ["key"])
        value = conn.scalar(select(meta.c.value).where(meta.c.key == "pepper"))
    return str(value)


__all__ = ["SqlIdentityTransaction", "insert_ignoring_conflicts", "merge_from_row", "pepper"]
