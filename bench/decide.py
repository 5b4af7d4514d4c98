"""Decision latency on a store of 100,000 customers: in-process, over HTTP, and from an ingested event to its decision.

    .venv/bin/python bench/decide.py [--customers 100000] [--requests 5000] [--database URL]

The store is bulk-loaded with synthetic customers (identifiers, an identify call with a time zone, three orders,
one or two needs, consents, explicit control levels for some, mandates for a few, printer readings for some).
Requests follow a fixed mix of situations over random customers (MIX below). ``in_process`` calls
``rapport.decide.engine.decide`` on the store; ``http`` posts to ``/v1/decide`` on a real ``rapport serve``
(uvicorn on 127.0.0.1, its own process) with an httpx client; ``event_to_decision`` posts a "Level Reported" to
``/v1/track`` and polls the customer's decision log until the decision for that message appears. Baselines measured
in the same run: a primary-key read through the same store (in-process) and ``GET /health`` (HTTP). The line before
the last compares with them; the last line is the JSON the README quotes.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import JSON

from rapport.config import Settings
from rapport.decide.engine import decide
from rapport.decide.situations import Situation
from rapport.store.bulk import db_json, db_timestamp, insert_values
from rapport.store.decisions import SqlDecisionStore
from rapport.store.keys import create_key
from rapport.store.tables import (
    UTCDateTime,
    consents,
    control_levels,
    customers,
    events,
    identifiers,
    mandates,
    needs,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MIX = {"app_open": 0.45, "store_visit": 0.10, "call_centre": 0.05, "need_due": 0.30, "device_report": 0.10}
PRODUCTS = [("TONER-BK-305", "toner", 59.0), ("PODS-ESP-50", "coffee_pods", 14.5), ("VITD-90", "pharmacy", 8.9)]
ZONES = ["Europe/Berlin", "Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
LEVELS = ["i_choose", "show_me_options", "remind_me", "do_it_for_me"]
CONSENT_RATES = {"personalisation": 0.7, "contact:push": 0.5, "contact:email": 0.6, "automatic_execution": 0.15}
PRINTER_SHARE = 0.05
CHUNK = 10_000


def insert_rows(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk-insert dict rows through the store's driver-level path, in stored form (times and JSON as text)."""
    if not rows:
        return
    names = list(rows[0])
    convert = [
        db_timestamp
        if isinstance(table.c[n].type, UTCDateTime)
        else db_json
        if isinstance(table.c[n].type, JSON)
        else None
        for n in names
    ]
    values = [tuple(f(row[n]) if f else row[n] for n, f in zip(names, convert, strict=True)) for row in rows]
    insert_values(conn, table.name, names, values)


def build_population(store: SqlDecisionStore, n: int, seed: int, progress: Callable[[str], None]) -> list[str]:
    """Bulk-load ``n`` synthetic customers; returns the ids of those with a printer."""
    rng = random.Random(seed)
    printers: list[str] = []
    for start in range(0, n, CHUNK):
        rows: dict[Any, list[dict[str, Any]]] = {t: [] for t in (customers, identifiers, events, needs)}
        rows.update({consents: [], control_levels: [], mandates: []})
        for i in range(start, min(n, start + CHUNK)):
            if _customer(rng, i, rows):
                printers.append(f"b{i:07d}")
        with store.engine.begin() as conn:
            for table, table_rows in rows.items():
                insert_rows(conn, table, table_rows)
        progress(f"loaded {min(n, start + CHUNK):,} customers")
    if store.dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return printers


def _customer(rng: random.Random, i: int, rows: dict[Any, list[dict[str, Any]]]) -> bool:
    cid, since = f"b{i:07d}", NOW - timedelta(days=rng.uniform(60, 400))
    rows[customers].append({"id": cid, "created_at": since, "merged_into": None, "canonical_id": cid})
    for kind, value in (("user_id", f"u{i}"), ("email", f"c{i}@bench.example")):
        rows[identifiers].append(
            {"kind": kind, "value": value, "customer_id": cid, "first_seen": since, "shared": False}
        )
    traits = {"email": f"c{i}@bench.example", "timezone": rng.choice(ZONES)}
    _event(rows, cid, f"{cid}-id", "identify", None, since, None, traits)
    main = rng.choice(PRODUCTS)
    for k in range(3):
        sku, category, price = main if k < 2 or rng.random() < 0.5 else rng.choice(PRODUCTS)
        product = {"sku": sku, "category": category, "quantity": rng.choice((1, 1, 2)), "price": price}
        at = since + timedelta(days=20 * k + rng.uniform(0, 10))
        _event(rows, cid, f"{cid}-o{k}", "track", "Order Completed", at, {"products": [product], "total": price})
    for sku, category, _ in rng.sample(PRODUCTS, rng.choice((1, 2))):
        due = NOW + timedelta(days=rng.uniform(-3, 25))
        rows[needs].append(_need(cid, sku, category, due, rng.uniform(0.2, 0.95)))
    granted = [p for p, rate in CONSENT_RATES.items() if rng.random() < rate]
    for purpose in granted:
        rows[consents].append(
            {
                "customer_id": cid,
                "purpose": purpose,
                "granted": True,
                "source": "bench",
                "recorded_at": since,
                "note": None,
            }
        )
    if rng.random() < 0.4:
        level = rng.choice(LEVELS)
        rows[control_levels].append(
            {
                "customer_id": cid,
                "category": main[1],
                "source": "explicit",
                "level": level,
                "set_at": since,
                "evidence": None,
            }
        )
        if level == "do_it_for_me" and "automatic_execution" in granted:
            rows[mandates].append(_mandate(cid, main[1], since))
    printer = rng.random() < PRINTER_SHARE
    if printer:
        for k, level_pct in enumerate((45, 35, 25)):
            props = {"device_id": f"dev-{cid}", "sku": "TONER-BK-305", "category": "toner", "level_pct": level_pct}
            _event(rows, cid, f"{cid}-lvl{k}", "track", "Level Reported", NOW - timedelta(days=9 - 3 * k), props)
    return printer


def _event(rows: dict[Any, list[dict[str, Any]]], cid: str, mid: str, kind: str, name: str | None, at: datetime,
           props: dict[str, Any] | None, traits: dict[str, Any] | None = None) -> None:  # fmt: skip
    rows[events].append(
        {
            "message_id": mid,
            "customer_id": cid,
            "type": kind,
            "name": name,
            "channel": "web",
            "source": "bench",
            "timestamp": at,
            "received_at": at,
            "user_id": f"u{cid[1:].lstrip('0') or '0'}",
            "anonymous_id": None,
            "properties": props,
            "traits": traits,
            "context": None,
        }
    )


def _need(cid: str, sku: str, category: str, due: datetime, confidence: float) -> dict[str, Any]:
    kind = "depletion" if category == "toner" else "replenish"
    evidence = {"reason": f"bench {kind} of {sku}", "model": "bench@1"}
    return {"customer_id": cid, "need_key": f"{kind}:{sku}:{category}", "kind": kind, "item": sku,
            "category": category, "due_at": due, "confidence": confidence, "evidence": evidence,
            "model_version": "bench@1", "computed_at": NOW}  # fmt: skip


def _mandate(cid: str, category: str, since: datetime) -> dict[str, Any]:
    return {"id": f"man_{cid}", "customer_id": cid, "client_key": None, "scope_kind": "category", "scope": category,
            "per_order_cap": 300.0, "monthly_cap": 600.0, "currency": "EUR", "notice_hours": 24.0,
            "cancel_window_hours": 24.0, "status": "active", "created_at": since, "revoked_at": None}  # fmt: skip


def situations(rng: random.Random, n: int) -> list[Situation]:
    names = rng.choices(list(MIX), weights=list(MIX.values()), k=n)
    return [Situation(name) for name in names]  # type: ignore[arg-type]


def percentiles(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p99_ms": round(float(np.percentile(ms, 99)), 3)}


def in_process(
    store: SqlDecisionStore, ids: list[str], n: int, seed: int
) -> tuple[list[float], list[float], Counter[str]]:
    """Wall-clock and CPU (thread) milliseconds per decision, and what was decided."""
    rng = random.Random(seed)
    made: Counter[str] = Counter()
    latencies, cpu = [], []
    for situation in situations(rng, n):
        cid = rng.choice(ids)
        start, start_cpu = time.perf_counter(), time.thread_time()
        decision = decide(store, cid, situation, NOW)
        latencies.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        made[f"{decision.status}:{decision.experience}"] += 1
    return latencies, cpu, made


def baseline_read(store: SqlDecisionStore, ids: list[str], n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    latencies = []
    for _ in range(n):
        start = time.perf_counter()
        store.canonical_id(rng.choice(ids))
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    """``rapport serve`` in its own process (the event-driven trigger installed), once it answers /health."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-c", "from rapport.cli.main import app; app()", "serve", "--database", url,
               "--port", str(port)]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return server, base
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("rapport serve did not answer /health within 30 s")


def over_http(client: httpx.Client, ids: list[str], n: int, seed: int) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    latencies, health = [], []
    for situation in situations(rng, n):
        body = {
            "customer_id": rng.choice(ids),
            "situation": {"touchpoint": situation.touchpoint},
            "at": NOW.isoformat(),
        }
        start = time.perf_counter()
        response = client.post("/v1/decide", json=body)
        latencies.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
        start = time.perf_counter()
        client.get("/health").raise_for_status()
        health.append((time.perf_counter() - start) * 1000)
    return latencies, health


def event_to_decision(client: httpx.Client, printers: list[str], n: int, seed: int) -> list[float]:
    """From posting a level reading to its decision showing in the customer's decision log."""
    rng = random.Random(seed)
    latencies = []
    for cid in rng.sample(printers, min(n, len(printers))):
        mid = f"bench-{uuid.uuid4().hex}"
        props = {"device_id": f"dev-{cid}", "sku": "TONER-BK-305", "category": "toner", "level_pct": 12}
        body = {"messageId": mid, "userId": f"u{cid[1:].lstrip('0') or '0'}", "event": "Level Reported",
                "properties": props, "timestamp": datetime.now(UTC).isoformat()}  # fmt: skip
        start = time.perf_counter()
        client.post("/v1/track", json=body).raise_for_status()
        while time.perf_counter() - start < 10:
            found = client.get(f"/v1/customers/{cid}/decisions", params={"limit": 1}).json()["decisions"]
            if found and found[0]["situation"].get("message_id") == mid:
                break
            time.sleep(0.002)
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--database", default=None, help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="rapport-bench-decide-"))
    url = args.database or f"sqlite:///{workdir / 'rapport.db'}"
    store = SqlDecisionStore(Settings(database_url=url))
    say = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    started = time.perf_counter()
    printers = build_population(store, args.customers, args.seed, say)
    say(f"population of {args.customers:,} in {time.perf_counter() - started:.1f} s ({len(printers):,} printers)")
    ids = [f"b{i:07d}" for i in range(args.customers)]
    gc.collect()
    gc.freeze()  # the population's ids stay: collections need not walk them on every request
    in_process(store, ids, 200, args.seed + 1)  # warm-up: caches, prepared statements
    local, local_cpu, made = in_process(store, ids, args.requests, args.seed + 2)
    baseline = baseline_read(store, ids, args.requests, args.seed + 3)
    _, key = create_key(store.engine, ["decide", "write", "read"], "bench")
    server, base = serve(url)
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            over_http(client, ids, 100, args.seed + 4)  # warm-up
            remote, health = over_http(client, ids, args.requests, args.seed + 5)
            events_ms = event_to_decision(client, printers, args.events, args.seed + 6)
    finally:
        server.terminate()
        server.wait(10)
    comparison = {
        "in_process_cpu": percentiles(local_cpu),
        "in_process_vs_primary_key_read": {
            **percentiles(baseline),
            "ratio_p50": _ratio(local, baseline, 50),  # the target's figure: p50 <= 4x
            "ratio_p99": _ratio(local, baseline),
        },
        "http_vs_get_health": {**percentiles(health), "ratio_p99": _ratio(remote, health)},
        "decisions_made": dict(sorted(made.items())),
        "store": store.dialect,
        "load_average": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(comparison))
    result = {
        "customers": args.customers,
        "in_process": percentiles(local),
        "http": percentiles(remote),
        "event_to_decision": {"p99_ms": round(float(np.percentile(events_ms, 99)), 3)},
        "mix": {**MIX, "requests": args.requests, "events": len(events_ms)},
    }
    store.close()
    shutil.rmtree(workdir, ignore_errors=True)  # the SQLite file of 100,000 customers is a few hundred MB
    print(json.dumps(result))


def _ratio(measured: list[float], baseline: list[float], q: int = 99) -> float:
    return round(float(np.percentile(measured, q) / np.percentile(baseline, q)), 2)


if __name__ == "__main__":
    main()
