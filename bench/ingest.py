"""Ingestion throughput, beside a bare executemany of the same rows into a table with no logic, in the same run.

    .venv/bin/python bench/ingest.py [--events 1000000] [--backends sqlite,postgresql]

Rapport's path validates every message, drops retries (messageId), stitches identities (lookups, new customers,
merges) and writes events, identifiers and customers with their indexes. The baseline inserts the already
serialised event rows with the driver's executemany into a table without keys or indexes. The last line is JSON:
{"sqlite": {"events_per_s", "bare_rows_per_s", "ratio", …}, "postgresql": {…}}.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from rapport.config import Settings
from rapport.customers.events import parse_event
from rapport.customers.ingestion import ingest
from rapport.demo.synthetic import synthetic_events
from rapport.store.bulk import db_json, db_timestamp
from rapport.store.store import Store

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BARE_COLUMNS = (
    "message_id TEXT, customer_id TEXT, type TEXT, name TEXT, channel TEXT, source TEXT, timestamp TEXT, "
    "received_at TEXT, user_id TEXT, anonymous_id TEXT, properties TEXT, traits TEXT, context TEXT"
)


def bare_rows(events: list[dict[str, Any]], settings: Settings) -> list[tuple[Any, ...]]:
    """The rows Rapport stores for these events, serialised, for the baseline insert."""
    rows = []
    now = db_timestamp(time_now())
    for raw in events:
        e = parse_event(raw, settings)
        rows.append(
            (
                e.message_id,
                e.user_id or e.anonymous_id,
                e.type,
                e.name,
                e.channel,
                e.source,
                db_timestamp(e.timestamp),
                now,
                e.user_id,
                e.anonymous_id,
                db_json(e.properties),
                db_json(e.traits),
                db_json(e.context),
            )
        )
    return rows


def time_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def bare_insert(url: str, rows: list[tuple[Any, ...]], batch: int) -> float:
    """Rows per second of a plain executemany into a table with no keys, indexes or logic."""
    engine = create_engine(url)
    placeholder = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO bare_events VALUES ({', '.join([placeholder] * 13)})"
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bare_events"))
        conn.execute(text(f"CREATE TABLE bare_events ({BARE_COLUMNS})"))
    start = time.perf_counter()
    for offset in range(0, len(rows), batch):
        with engine.begin() as conn:
            conn.exec_driver_sql(sql, rows[offset : offset + batch])
    elapsed = time.perf_counter() - start
    engine.dispose()
    return len(rows) / elapsed


def run_backend(name: str, url: str, events: list[dict[str, Any]], rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    store = Store(Settings(database_url=url))
    start = time.perf_counter()
    report = ingest(store, events, store.settings, source="bench")
    elapsed = time.perf_counter() - start
    sample = events[: max(1, len(events) // 10)]
    retry = ingest(store, sample, store.settings, source="bench")
    counts = store.counts()
    store.close()
    bare = bare_insert(url, rows, store.settings.ingest_batch_size)
    rate = report.stored / elapsed
    return {
        "events": len(events),
        "stored": report.stored,
        "rejected": len(report.rejected),
        "seconds": round(elapsed, 2),
        "events_per_s": round(rate),
        "bare_rows_per_s": round(bare),
        "ratio": round(rate / bare, 3),
        "retried_sample_duplicates": retry.duplicates,
        "retried_sample_stored": retry.stored,
        "customers": counts["customers"],
        "customer_records": counts["customer_records"],
        "merges": counts["merges"],
        "target_ratio": 0.3,
        "target_met": rate / bare >= 0.3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    gc.disable()  # a million retained dicts make the collector dominate generation; nothing here is timed yet
    events = list(synthetic_events(args.events, repeat_share=0.2, seed=1))
    rows = bare_rows(events, Settings())
    gc.enable()
    results: dict[str, Any] = {"events": args.events, "mix": "identify and track, 20% of events from repeat customers"}
    for backend in args.backends.split(","):
        print(f"running {backend} …", file=sys.stderr)
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                results["sqlite"] = run_backend(backend, f"sqlite:///{Path(folder) / 'bench.db'}", events, rows)
        elif backend == "postgresql":
            database = f"rapport_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{database}"'))
            try:
                url = args.postgres_url.rsplit("/", 1)[0] + f"/{database}"
                results["postgresql"] = run_backend(backend, url, events, rows)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                admin.dispose()
        print(json.dumps(results.get(backend)), file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
