"""Erasure: the person is gone everywhere, including the database files, and their late events are dropped."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from rapport.customers.ingestion import ingest
from rapport.customers.service import erase_customer, get_profile, resolve_customer
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
    return found


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
