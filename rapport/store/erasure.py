"""Erasure: remove a person everywhere, keep only one-way hashes of their identifiers, leave no trace in files."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, or_, select, text, tuple_
from sqlalchemy.exc import OperationalError

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


SNAPSHOT_WAIT_SECONDS = 60.0
LOCK_WAIT_SECONDS = 10.0
_LOCK_NOT_AVAILABLE = "55P03"

_OLDER_SNAPSHOTS = text(
    """
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND (age(backend_xmin) > age(CAST(:horizon AS xid)) OR age(backend_xid) > age(CAST(:horizon AS xid)))
    ORDER BY pid
    """
)


def scrub_files(engine: Engine, wait_seconds: float = SNAPSHOT_WAIT_SECONDS) -> dict[str, Any]:
    """Make deleted rows unrecoverable from the database files; say whether that is done.

    SQLite already overwrites deleted content (``secure_delete``); the write-ahead log still holds old pages, so it
    is checkpointed and truncated, which a reader's open snapshot prevents: the checkpoint is retried until none is
    left (up to ``wait_seconds``). PostgreSQL keeps dead tuples in its heap and index files until they are
    rewritten, so the touched tables are rewritten with VACUUM FULL (which locks them briefly), and so is the
    statistics catalog, which holds sampled values. A rewrite keeps every row version that a running transaction
    may still see, so a report query that began before the erasure would carry the person into the new files: the
    scrub first waits (up to ``wait_seconds``) until no session of this database holds a snapshot older than the
    erasure. Past that it rewrites anyway and answers ``complete: False`` with the sessions (pids) that held one, so
    the operator can end them and rewrite the tables again (VACUUM FULL), or run the next erasure, which scrubs all.
    """
    started = time.monotonic()
    if engine.dialect.name == "sqlite":  # a reader's open snapshot keeps the log from being truncated: retry
        with engine.connect() as conn:
            while (busy := conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()) and (
                time.monotonic() - started < wait_seconds
            ):
                time.sleep(0.2)
        return {
            "complete": not busy,
            "waited_seconds": round(time.monotonic() - started, 2),
            "blocking_sessions": [],
            "tables_not_rewritten": [],
        }
    touched = (*_FOUNDATION_TABLES, *(t.name for t in customer_tables()))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        horizon = str(conn.scalar(text("SELECT txid_current() % 4294967296")))  # the erasure committed before it
        blocking = list(conn.scalars(_OLDER_SNAPSHOTS, {"horizon": horizon}))
        while blocking and time.monotonic() - started < wait_seconds:
            time.sleep(0.2)
            blocking = list(conn.scalars(_OLDER_SNAPSHOTS, {"horizon": horizon}))
        waited = round(time.monotonic() - started, 2)
        # A rewrite waits for every lock on its table, and the sessions queued behind it wait too: bounded, so an
        # erasure never stalls the store behind a long report; a table it could not lock is named, not skipped.
        conn.execute(text(f"SET lock_timeout = '{int(LOCK_WAIT_SECONDS * 1000)}ms'"))
        not_rewritten = []
        try:
            for table in (*touched, None):
                if table is None:
                    # The planner's statistics keep sampled column values (most common values, histogram bounds)
                    # in the pg_statistic catalog, an e-mail address among them: recompute them without the
                    # person, then rewrite the catalog so the old rows leave its file too (a non-superuser gets a
                    # warning there, not an error).
                    statements = [f"ANALYZE {', '.join(touched)}", "VACUUM FULL pg_statistic"]
                    table = "pg_statistic"
                else:
                    statements = [f"VACUUM FULL {table}"]
                try:
                    for statement in statements:
                        conn.execute(text(statement))
                except OperationalError as error:
                    if getattr(error.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                        raise
                    not_rewritten.append(table)
        finally:
            conn.execute(text("RESET lock_timeout"))
    return {
        "complete": not blocking and not not_rewritten,
        "waited_seconds": waited,
        "blocking_sessions": blocking,
        "tables_not_rewritten": not_rewritten,
    }
