"""Erasure: the person is gone everywhere, including the database files, and their late events are dropped."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from rapport.customers.ingestion import ingest
from rapport.customers.service import erase_customer, get_profile, resolve_customer
from rapport.store.erasure import erase_profile, scrub_files
from rapport.store.store import Store

MARKER = "Quintessa-Marker-7781"


def _person(message_id: str) -> list[dict]:
    return [
        {
            "type": "identify",
            "messageId": f"{message_id}-1",
            "userId": "u-erase",
            "traits": {"email": "quintessa.marker@example.org", "name": MARKER, "phone": "+49 151 23456789"},
        },
        {
            "type": "track",
            "messageId": f"{message_id}-2",
            "anonymousId": "anon-erase",
            "event": "Order Completed",
            "properties": {"note": MARKER, "total": 19.9},
            "context": {"traits": {"email": "quintessa.marker@example.org"}},
        },
    ]


def _database_files(store: Store) -> list[Path]:
    if store.dialect == "sqlite":
        db = Path(store.engine.url.database or "")
        return [p for p in db.parent.glob(db.name + "*") if p.is_file()]
    with store.engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))
        data_dir = conn.scalar(text("SHOW data_directory"))
        oid = conn.scalar(text("SELECT oid FROM pg_database WHERE datname = current_database()"))
    return [p for p in (Path(data_dir) / "base" / str(oid)).iterdir() if p.is_file()]


def _eventually_absent(store: Store, needle: str, seconds: float = 15.0) -> list[str]:
    """The files that still mention ``needle`` once PostgreSQL has had time to let go of the rewritten tables' old
    files (it drops them at a checkpoint, which a loaded machine may finish late); SQLite answers at once."""
    deadline = time.monotonic() + seconds
    while (found := _files_mention(store, needle)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return _relations_of(store, found)


def _relations_of(store: Store, files: list[str]) -> list[str]:
    """Name each PostgreSQL file by the relation it stores, so a failure says which table kept the person."""
    if store.dialect == "sqlite" or not files:
        return files
    with store.engine.connect() as conn:
        return [
            f"{name} ({conn.scalar(text('SELECT pg_filenode_relation(0, :n)::regclass::text'), {'n': int(name.split('_')[0].split('.')[0])})})"
            for name in files
        ]


def _files_mention(store: Store, needle: str) -> list[str]:
    found = []
    for path in _database_files(store):
        try:
            if needle.encode() in path.read_bytes():
                found.append(path.name)
        except FileNotFoundError:  # PostgreSQL unlinks a rewritten table's old file at the next checkpoint
            continue
    return found


def test_erasure_removes_everything_and_drops_retried_events(store: Store) -> None:
    ingest(store, _person("first"), store.settings)
    ingest(
        store,
        [{"type": "identify", "messageId": "other", "userId": "u-keep", "traits": {"email": "keep@x.de"}}],
        store.settings,
    )
    customer_id = resolve_customer(store, "quintessa.marker@example.org")
    if store.dialect == "postgresql":  # planner statistics sample column values into the pg_statistic catalog
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE events, identifiers, identifier_sightings"))
    assert _files_mention(store, MARKER), (
        "the marker must be in the files before erasure for this test to mean anything"
    )

    report = erase_customer(store, "u-erase")

    assert report["customer_id"] == customer_id
    assert report["files"]["complete"] is True, report["files"]
    assert report["removed"] == {"events": 2, "identifiers": 4, "records": 1, "merges": 0, "customer_names": 3}
    assert store.counts()["events"] == 1  # the other customer is untouched
    assert get_profile(store, "u-keep").facts["events"] == 1
    assert _eventually_absent(store, MARKER) == []
    assert _eventually_absent(store, "quintessa.marker@example.org") == []

    # A retried event (same messageId) and a late one (new messageId) of the erased person are both dropped.
    retried = ingest(store, _person("first"), store.settings)
    late = ingest(store, _person("late"), store.settings)
    assert (retried.stored, retried.erased) == (0, 2)
    assert (late.stored, late.erased) == (0, 2)
    assert store.counts()["events"] == 1


def _reader_holding_a_snapshot(store: Store):  # type: ignore[no-untyped-def]
    """A second session, as a long report would be, whose open transaction took its snapshot before the erasure
    (it could still read the person's rows) but holds no lock on the erased tables."""
    conn = store.engine.connect()
    if store.dialect == "postgresql":
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        conn.execute(text("SELECT 1"))
    else:
        conn.execute(text("SELECT count(*) FROM sqlite_master"))
    return conn


def test_erasure_waits_for_older_snapshots_before_scrubbing_the_files(store: Store) -> None:
    ingest(store, _person("first"), store.settings)
    reader = _reader_holding_a_snapshot(store)
    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(erase_customer(store, "u-erase")))
    worker.start()
    worker.join(timeout=2.0)
    assert worker.is_alive(), "the scrub must wait while a session can still see the erased rows"
    reader.rollback()
    reader.close()
    worker.join(timeout=60)
    assert not worker.is_alive()
    files = outcome["files"]
    assert files["complete"] is True and files["waited_seconds"] > 0.0
    assert _eventually_absent(store, MARKER) == []


def test_scrub_that_cannot_wait_long_enough_says_so_and_names_the_session(store: Store) -> None:
    ingest(store, _person("first"), store.settings)
    reader = _reader_holding_a_snapshot(store)
    pid = reader.execute(text("SELECT pg_backend_pid()")).scalar() if store.dialect == "postgresql" else None
    try:
        with store.identity_transaction() as tx:  # the erasure's rows, without its scrub (done next, impatiently)
            erase_profile(tx.conn, resolve_customer(store, "u-erase"))
        files = scrub_files(store.engine, wait_seconds=0.5)
    finally:
        reader.rollback()
        reader.close()
    assert files["complete"] is False and files["waited_seconds"] >= 0.5
    assert files["blocking_sessions"] == ([pid] if pid is not None else [])
    assert files["tables_not_rewritten"] == []
    assert scrub_files(store.engine, wait_seconds=5)["complete"] is True


def test_scrub_never_queues_behind_a_lock_for_long_and_names_the_table(store: Store) -> None:
    if store.dialect == "sqlite":  # SQLite has no table locks: a reader's snapshot is the case above
        assert scrub_files(store.engine)["tables_not_rewritten"] == []
        return
    ingest(store, _person("first"), store.settings)
    holder = store.engine.connect()
    holder.execute(text("LOCK TABLE merges IN ACCESS SHARE MODE"))
    try:
        files = scrub_files(store.engine, wait_seconds=0.2)
    finally:
        holder.rollback()
        holder.close()
    assert files["complete"] is False
    assert files["tables_not_rewritten"] == ["merges"]
    assert scrub_files(store.engine, wait_seconds=5)["complete"] is True
