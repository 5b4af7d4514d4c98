"""Erasure: remove a person everywhere, keep only one-way hashes of their identifiers, leave no trace in files."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, or_, select, text, tuple_

from rapport.customers.identifiers import Identifier, identifier_hash
from rapport.store.identity import _chunked, insert_ignoring_conflicts, pepper
from rapport.store.tables import (
    customers,
    erased_identifiers,
    erasures,
    events,
    identifier_sightings,
    identifiers,
    merge_evidence,
    merges,
    metadata,
)

_FOUNDATION_TABLES = ("events", "identifiers", "identifier_sightings", "merges", "merge_evidence", "customers")


def customer_tables() -> list[Table]:
    """Every later table that holds a person's rows (it has a ``customer_id`` column): erased with them.

    Needs, decisions, orders, consents and the rest register nothing: a ``customer_id`` column is enough, so a new
    table cannot be forgotten by erasure. Children come before parents (reverse dependency order).
    """
    return [
        table
        for table in reversed(metadata.sorted_tables)
        if table.name not in _FOUNDATION_TABLES and "customer_id" in table.c
    ]


def erase_profile(conn: Connection, canonical_id: str) -> dict[str, Any]:
    """Delete every row of the profile's records inside the caller's (write-locked) transaction."""
    members = list(conn.scalars(select(customers.c.id).where(customers.c.canonical_id == canonical_id)))
    owned = [
        Identifier(row.kind, row.value)
        for row in conn.execute(
            select(identifiers.c.kind, identifiers.c.value).where(identifiers.c.customer_id.in_(members))
        )
    ]
    salt = pepper(conn)
    now = datetime.now(UTC)
    hashes = [{"hash": identifier_hash(i, salt), "erased_at": now} for i in owned]
    insert_ignoring_conflicts(conn, erased_identifiers, hashes, ["hash"])
    merge_ids = list(
        conn.scalars(select(merges.c.id).where(or_(merges.c.survivor_id.in_(members), merges.c.merged_id.in_(members))))
    )
    removed = {
        "events": conn.execute(delete(events).where(events.c.customer_id.in_(members))).rowcount,
        "identifiers": len(owned),
        "records": len(members),
        "merges": len(merge_ids),
    }
    for chunk in _chunked([(i.kind, i.value) for i in owned]):
        conn.execute(
            delete(identifier_sightings).where(
                tuple_(identifier_sightings.c.kind, identifier_sightings.c.value).in_(chunk)
            )
        )
    conn.execute(delete(identifier_sightings).where(identifier_sightings.c.customer_id.in_(members)))
    conn.execute(delete(identifiers).where(identifiers.c.customer_id.in_(members)))
    for chunk in _chunked(merge_ids):
        conn.execute(delete(merge_evidence).where(merge_evidence.c.merge_id.in_(chunk)))
        conn.execute(delete(merges).where(merges.c.id.in_(chunk)))
    for table in customer_tables():
        count = conn.execute(delete(table).where(table.c.customer_id.in_(members))).rowcount
        if count:  # the report names the later tables that held something of the person
            removed[table.name] = count
    conn.execute(delete(customers).where(customers.c.id.in_(members)))
    subject = hashlib.sha256(f"{salt}\x1f{canonical_id}".encode()).hexdigest()
    report = {
        "customer_id": canonical_id,
        "removed": removed,
        "erased_at": now.isoformat(),
        "hashes_kept": len(hashes),
    }
    conn.execute(insert(erasures).values(subject_hash=subject, erased_at=now, report={"removed": removed}))
    return report


def scrub_files(engine: Engine) -> None:
    """Make deleted rows unrecoverable from the database files.

    SQLite already overwrites deleted content (``secure_delete``); the write-ahead log still holds old pages, so it
    is checkpointed and truncated. PostgreSQL keeps dead tuples in its heap and index files until they are
    rewritten, so the touched tables are rewritten with VACUUM FULL (which locks them briefly), and so is the
    statistics catalog, which holds sampled values.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    touched = (*_FOUNDATION_TABLES, *(t.name for t in customer_tables()))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in touched:
            conn.execute(text(f"VACUUM FULL {table}"))
        # The planner's statistics keep sampled column values (most common values, histogram bounds) in the
        # pg_statistic catalog, an e-mail address among them: recompute them without the person, then rewrite the
        # catalog so the old rows leave its file too (a non-superuser gets a warning there, not an error).
        conn.execute(text(f"ANALYZE {', '.join(touched)}"))
        conn.execute(text("VACUUM FULL pg_statistic"))
