"""Ingestion throughput, beside a bare executemany of the same rows into a table with no logic, in the same run.

    .venv/bin/python bench/ingest.py [--events 1000000] [--backends sqlite,postgresql] [--mixes new,steady]
        [--known 100000]

Two mixes: ``new`` (the new-customer-heavy stream of rapport.demo.synthetic, 20% of events from repeat
customers) and ``steady`` (a firm's traffic once it runs: ``--known`` customers already in the store, loaded
before the clock starts, sending the events, 90% track and page calls, 10% identify calls with changed traits).

Rapport's path validates every message, drops retries (messageId), stitches identities (lookups, new customers,
merges) and writes events, identifiers and customers with their indexes. The baseline inserts the already
serialised event rows with the driver's executemany into a table without keys or indexes. The last line is JSON:
{"new": {"sqlite": {"events_per_s", "bare_rows_per_s", "ratio", "processes", "threads", …}, "postgresql": {…}},
"steady": {…}}.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
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


TARGETS = {"new": 0.3, "steady": 0.4}
PAGES = ("/", "/toner", "/coffee", "/account", "/orders")
TRACKED = ("Product Viewed", "Product Added", "Order Completed", "Level Reported")


def known_customers(n: int) -> list[dict[str, Any]]:
    """The identify calls that make ``n`` customers known (loaded before the clock starts)."""
    return [
        {"type": "identify", "messageId": f"known-{k}", "userId": f"k{k}", "anonymousId": f"ka{k}",
         "traits": {"email": f"k{k}@steady.example", "plan": "basic"}, "timestamp": "2025-01-01T00:00:00Z"}
        for k in range(n)
    ]  # fmt: skip


def steady_events(n: int, known: int, seed: int = 2) -> list[dict[str, Any]]:
    """``n`` events from ``known`` known customers: 90% track and page calls, 10% identify calls changing traits."""
    rng = random.Random(seed)
    events = []
    for i in range(n):
        k, roll = rng.randrange(known), rng.random()
        stamp = (
            f"2025-02-01T{(i // 3_600_000) % 24:02d}:{(i // 60_000) % 60:02d}:{(i // 1000) % 60:02d}.{i % 1000:03d}Z"
        )
        who: dict[str, Any] = {"userId": f"k{k}"} if roll < 0.7 else {"anonymousId": f"ka{k}"}
        base = {"messageId": f"steady-{seed}-{i}", "timestamp": stamp, **who}
        if roll < 0.45:
            sku = f"SKU-{rng.randrange(200)}"
            events.append({**base, "type": "track", "event": TRACKED[i % 4], "properties": {"sku": sku}})
        elif roll < 0.9:
            events.append({**base, "type": "page", "name": PAGES[i % 5], "properties": {"path": PAGES[i % 5]}})
        else:
            traits = {"plan": rng.choice(("basic", "plus", "pro")), "visits": i}
            events.append({**base, "type": "identify", "userId": f"k{k}", "traits": traits})
    return events


def run_backend(
    name: str, url: str, events: list[dict[str, Any]], rows: list[tuple[Any, ...]], mix: str, known: int
) -> dict[str, Any]:
    store = Store(Settings(database_url=url))
    threads = 2 if store.validates_ahead else 1  # the next batch validated while one is stored (PostgreSQL)
    if known:
        calls = known_customers(known)
        for offset in range(0, known, 50_000):
            ingest(store, calls[offset : offset + 50_000], store.settings, source="bench")
    before = store.counts()
    start = time.perf_counter()
    report = ingest(store, events, store.settings, source="bench")
    elapsed = time.perf_counter() - start
    sample = events[: max(1, len(events) // 10)]
    retry = ingest(store, sample, store.settings, source="bench")
    counts = store.counts()
    store.close()
    batch = store.settings.ingest_batch_size or store.ingest_batch_size  # the batches Rapport stored
    bare = bare_insert(url, rows, batch)
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
        "new_customers": counts["customers"] - before["customers"],
        "target_ratio": TARGETS[mix],
        "target_met": rate / bare >= TARGETS[mix],
        "load_average": round(os.getloadavg()[0], 2),
        # Both sides run in this one client process (beside the database server's own on PostgreSQL); Rapport
        # validates in a second thread of it where the store says so, the baseline has nothing to validate.
        "processes": {"rapport": 1, "bare": 1},
        "threads": {"rapport": threads, "bare": 1},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--known", type=int, default=100_000, help="known customers of the steady-state mix")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--mixes", default="new,steady", help="new (new-customer-heavy), steady (known customers)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    results: dict[str, Any] = {"events": args.events}
    for mix in args.mixes.split(","):
        gc.disable()  # a million retained dicts make the collector dominate generation; nothing here is timed yet
        if mix == "new":
            events = list(synthetic_events(args.events, repeat_share=0.2, seed=1))
            label = "identify and track, 20% of events from repeat customers"
        elif mix == "steady":
            events = steady_events(args.events, args.known)
            label = f"{args.known:,} known customers: 90% track and page, 10% identify with changed traits"
        else:
            parser.error(f"unknown mix {mix!r}; choose new or steady")
        rows = bare_rows(events, Settings())
        gc.enable()
        known = args.known if mix == "steady" else 0
        results[mix] = {"mix": label}
        for backend in args.backends.split(","):
            print(f"running {mix} on {backend} …", file=sys.stderr)
            results[mix][backend] = run_on(backend, args.postgres_url, events, rows, mix, known)
            print(json.dumps(results[mix][backend]), file=sys.stderr)
    print(json.dumps(results))


def run_on(
    backend: str, postgres_url: str, events: list[dict[str, Any]], rows: list[tuple[Any, ...]], mix: str, known: int
) -> dict[str, Any]:
    """One mix on a fresh store of ``backend``."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            return run_backend(backend, f"sqlite:///{Path(folder) / 'bench.db'}", events, rows, mix, known)
    database = f"rapport_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        url = postgres_url.rsplit("/", 1)[0] + f"/{database}"
        return run_backend(backend, url, events, rows, mix, known)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
