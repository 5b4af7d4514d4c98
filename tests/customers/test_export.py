"""Data portability: the export holds every table of the person (and nobody else), as JSON or a ZIP of CSVs."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

from rapport.conversations import service
from rapport.customers import export
from rapport.customers.ingestion import ingest
from rapport.customers.service import resolve_customer
from rapport.decide.consent import record_consent
from rapport.store.conversations import SqlConversationStore
from rapport.store.export import SqlExportSource
from rapport.store.store import Store

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _person(store: Store, name: str, n_events: int) -> str:
    messages = [
        {
            "type": "track",
            "event": "Product Viewed",
            "userId": f"u-{name}",
            "messageId": f"{name}-{i}",
            "timestamp": (NOW - timedelta(minutes=n_events - i)).isoformat(),
            "context": {"traits": {"email": f"{name}@example.org"}},
            "properties": {"sku": f"SKU-{i % 7}", "note": 'a, "quoted"\nline'},
        }
        for i in range(n_events)
    ]
    assert ingest(store, messages, store.settings).stored == n_events
    return resolve_customer(store, f"{name}@example.org")


def test_json_export_streams_every_table_of_the_person_only(store: Store) -> None:
    inbox = SqlConversationStore.over(store)
    cid = _person(store, "exported", 1_200)
    other = _person(store, "someone-else", 3)
    record_consent(inbox, cid, "contact:email", True, "web", NOW)
    service.write_from_me(inbox, cid, "Hello, export me.", NOW, None)
    chunks = list(export.export_json(SqlExportSource(store.engine), cid, NOW))
    assert len(chunks) > 5, "streamed in chunks, not one body"
    data = json.loads(b"".join(chunks))
    tables = data["tables"]
    assert data["customer_id"] == cid and len(tables["events"]) == 1_200 + 1  # + the conversation's ticket event
    assert {e["customer_id"] for e in tables["events"]} == {cid}
    assert other not in json.dumps(tables)
    assert [c["purpose"] for c in tables["consents"]] == ["contact:email"]
    assert tables["conversation_messages"][0]["body"] == "Hello, export me."
    assert {"conversations", "needs", "decisions", "orders", "audit_log"} <= set(tables)


def test_zip_export_has_one_csv_per_table_and_survives_awkward_text(store: Store) -> None:
    cid = _person(store, "zipped", 1_100)
    source = SqlExportSource(store.engine)
    chunks = list(export.export_zip(source, cid, NOW))
    assert sum(1 for c in chunks if c) > 3, "the archive is handed out as it grows"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    names = set(archive.namelist())
    assert {"README.txt", "events.csv", "identifiers.csv", "consents.csv"} <= names
    rows = list(csv.DictReader(io.TextIOWrapper(archive.open("events.csv"), encoding="utf-8", newline="")))
    assert len(rows) == 1_100
    assert json.loads(rows[0]["properties"])["note"] == 'a, "quoted"\nline'
    assert "key_hash" not in archive.read("identifiers.csv").decode()
