"""The store's invariants, checked by ``rapport check``: what must hold whatever crashed, retried or raced.

Each check is one query (the merge forest is walked in Python: a cycle is no query's business) and names the first
offending rows, so an operator sees what is broken and where.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, text

EXAMPLES = 5


@dataclass(frozen=True)
class InvariantResult:
    """One invariant: its name, what it means, how many rows break it and the first of them."""

    name: str
    meaning: str
    broken: int
    examples: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return self.broken == 0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "meaning": self.meaning, "holds": self.holds, "broken": self.broken,
                "examples": self.examples}  # fmt: skip


def _rows(conn: Connection, sql: str) -> list[str]:
    return [" ".join(str(v) for v in row) for row in conn.execute(text(sql))]


def _events_have_customers(conn: Connection) -> list[str]:
    return _rows(
        conn,
        "SELECT e.message_id, e.customer_id FROM events e LEFT JOIN customers c ON c.id = e.customer_id "
        "WHERE c.id IS NULL",
    )


def _identifiers_point_to_live_records(conn: Connection) -> list[str]:
    return _rows(
        conn,
        "SELECT i.kind, i.value, i.customer_id FROM identifiers i LEFT JOIN customers c ON c.id = i.customer_id "
        "WHERE c.id IS NULL",
    )


def _merges_form_a_forest(conn: Connection) -> list[str]:
    """Every record's merged_into chain ends, without a cycle, at a live root that is its canonical id; every
    merged record has exactly one applied merge, to the record it points at."""
    parent: dict[str, str | None] = {}
    canonical: dict[str, str] = {}
    for rid, merged_into, canonical_id in conn.execute(text("SELECT id, merged_into, canonical_id FROM customers")):
        parent[rid], canonical[rid] = merged_into, canonical_id
    broken: list[str] = []
    root_of: dict[str, str] = {}
    for start in parent:
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in root_of:
            if node in path:
                broken.append(f"{start}: cycle through {node}")
                break
            if node not in parent:
                broken.append(f"{start}: merged into missing record {node}")
                break
            path.append(node)
            node = parent[node]
        else:
            root = root_of[node] if node is not None else path[-1]
            root_of.update(dict.fromkeys(path, root))
            if canonical[start] != root:
                broken.append(f"{start}: canonical id {canonical[start]} but its root is {root}")
    applied: dict[str, list[str]] = {}
    for merged_id, survivor_id in conn.execute(
        text("SELECT merged_id, survivor_id FROM merges WHERE status = 'applied'")
    ):
        applied.setdefault(merged_id, []).append(survivor_id)
    for rid, merged_into in parent.items():
        survivors = applied.get(rid, [])
        if merged_into is not None and survivors != [merged_into]:
            broken.append(f"{rid}: merged into {merged_into} by applied merges to {survivors}")
    broken.extend(f"{rid}: applied merges to {s} but merged into nothing" for rid, s in applied.items()
                  if rid in parent and parent[rid] is None)  # fmt: skip
    return broken


def _automatic_orders_executed_once(conn: Connection) -> list[str]:
    twice = _rows(
        conn,
        "SELECT order_id, count(*) FROM automatic_orders WHERE order_id IS NOT NULL GROUP BY order_id "
        "HAVING count(*) > 1",
    )
    unplaced = _rows(
        conn,
        "SELECT a.id, a.order_id FROM automatic_orders a LEFT JOIN orders o ON o.id = a.order_id "
        "WHERE a.status = 'executed' AND o.id IS NULL",
    )
    stray = _rows(
        conn,
        "SELECT o.id, o.client_key FROM orders o LEFT JOIN automatic_orders a ON a.order_id = o.id "
        "WHERE o.source = 'automatic' AND a.id IS NULL AND o.status = 'fulfilled'",
    )
    return (
        [f"order {r} placed for several automatic orders" for r in twice]
        + [f"automatic order {r}: executed without its order" for r in unplaced]
        + [f"order {r}: placed automatically for no executed automatic order" for r in stray]
    )


INVARIANTS: list[tuple[str, str, Callable[[Connection], list[str]]]] = [
    ("events_have_customers", "every event's customer record exists", _events_have_customers),
    (
        "identifiers_point_to_live_records",
        "every identifier points to an existing record",
        _identifiers_point_to_live_records,
    ),
    ("merges_form_a_forest", "merges form a forest whose roots are the canonical ids", _merges_form_a_forest),
    (
        "automatic_orders_executed_once",
        "no automatic order is executed twice or without its order",
        _automatic_orders_executed_once,
    ),
]


def check_store(engine: Engine) -> list[InvariantResult]:
    """Check every invariant in one read transaction (a consistent snapshot on PostgreSQL)."""
    results = []
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        for name, meaning, check in INVARIANTS:
            broken = check(conn)
            results.append(InvariantResult(name, meaning, len(broken), broken[:EXAMPLES]))
    return results
