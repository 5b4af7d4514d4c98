"""A decision's state read on PostgreSQL three ways, interleaved on the same customers: psycopg's pipeline (what
rapport.store.decisions does), one statement with a subquery per part (the LATERAL-style single query), and the
same statements one after another as prepared statements.

    .venv/bin/python bench/state_read.py [--customers 20000] [--reads 2000] [--server postgresql+psycopg://…/test]

The store is filled by bench/decide.py's population. Each way reads needs, control levels, consents, the merge
time and open prompts of the profile of a random record id (an inbound decision's reads). The last line is JSON:
{"pipeline": {"p50_ms", "p99_ms"}, "one_statement": {…}, "prepared_sequence": {…}, "load_average": …}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np
from decide import build_population
from sqlalchemy import create_engine, text

from rapport.config import Settings
from rapport.store.decisions import _STATE_READS, SqlDecisionStore
from rapport.store.pipeline import run_together

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ONE_STATEMENT = """
SELECT p.canonical_id,
  (SELECT json_agg(n ORDER BY n.due_at, n.need_key) FROM needs n WHERE n.customer_id = p.canonical_id) AS needs,
  (SELECT json_agg(c) FROM control_levels c WHERE c.customer_id = p.canonical_id) AS control,
  (SELECT json_agg(x ORDER BY x.recorded_at, x.id) FROM consents x WHERE x.customer_id IN
     (SELECT id FROM customers WHERE canonical_id = p.canonical_id UNION ALL SELECT p.canonical_id)) AS consents,
  (SELECT max(m.created_at) FROM merges m WHERE m.status = 'applied' AND m.merged_id IN
     (SELECT id FROM customers WHERE canonical_id = p.canonical_id)) AS joined,
  (SELECT json_agg(q ORDER BY q.created_at, q.id) FROM preference_prompts q
     WHERE q.customer_id = p.canonical_id AND q.status = 'open') AS prompts
FROM customers p WHERE p.id = %(ref)s
"""


def pipeline(conn: Any, ref: str) -> Any:
    values = {name: {"ref": ref} for name in _STATE_READS}
    values["needs"] = {"id": ref}
    return run_together(conn, [(_STATE_READS[n], values[n]) for n in _STATE_READS])


def one_statement(conn: Any, ref: str) -> Any:
    with conn.connection.driver_connection.cursor() as cursor:
        cursor.execute(ONE_STATEMENT, {"ref": ref}, prepare=True)
        return cursor.fetchall()


def prepared_sequence(conn: Any, ref: str) -> Any:
    values = {name: {"ref": ref} for name in _STATE_READS}
    values["needs"] = {"id": ref}
    found = []
    with conn.connection.driver_connection.cursor() as cursor:
        for name, statement in _STATE_READS.items():
            cursor.execute(statement.sql, statement.params(values[name]), prepare=True)
            found.append(cursor.fetchall())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--server", default=SERVER, help="a PostgreSQL URL; the bench makes and drops a database")
    args = parser.parse_args()
    database = f"rapport_bench_state_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        result = measure(args.server.rsplit("/", 1)[0] + f"/{database}", args.customers, args.reads)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
    print(json.dumps(result))


def measure(url: str, customers: int, reads: int) -> dict[str, Any]:
    store = SqlDecisionStore(Settings(database_url=url))
    build_population(store, customers, 11, lambda message: print(message, file=sys.stderr))
    ways = {"pipeline": pipeline, "one_statement": one_statement, "prepared_sequence": prepared_sequence}
    rng = random.Random(5)
    ids = [f"b{rng.randrange(customers):07d}" for _ in range(reads)]
    times: dict[str, list[float]] = {name: [] for name in ways}
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for ref in ids[:50]:  # warm-up: plans prepared, pages cached
            for way in ways.values():
                way(conn, ref)
        for ref in ids:  # interleaved, so that the load of the moment weighs on the three alike
            for name, way in ways.items():
                start = time.perf_counter()
                way(conn, ref)
                times[name].append((time.perf_counter() - start) * 1000)
    store.close()
    result: dict[str, Any] = {
        name: {"p50_ms": round(float(np.percentile(t, 50)), 3), "p99_ms": round(float(np.percentile(t, 99)), 3)}
        for name, t in times.items()
    }
    result["load_average"] = round(os.getloadavg()[0], 2)
    return result


if __name__ == "__main__":
    main()
