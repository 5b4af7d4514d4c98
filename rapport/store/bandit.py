"""The nudge bandit's counts in the store: saved whole, loaded for one customer (population + own), incremented.

Increments are upserts (``successes = successes + x``), so concurrent outcomes never lose a count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, String, bindparam, delete, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from rapport.repeat.bandit import NAME, POPULATION, NudgeBandit
from rapport.store.tables import bandit_counts

_UPSERT: dict[str, Any] = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}
_COUNTS = select(bandit_counts.c.customer_id, bandit_counts.c.arm, bandit_counts.c.successes, bandit_counts.c.failures)
# What one decision reads (with the customer's state, rapport.store.decisions): the population's and ``cid``'s counts.
COUNTS_FOR_ONE = _COUNTS.where(
    bandit_counts.c.bandit == NAME,
    or_(bandit_counts.c.customer_id == POPULATION, bandit_counts.c.customer_id == bindparam("cid", type_=String())),
)


def bandit_from(rows: list[dict[str, Any]]) -> NudgeBandit:
    """The bandit of ``COUNTS_FOR_ONE``'s rows as mappings."""
    return NudgeBandit.from_rows([(r["customer_id"], r["arm"], r["successes"], r["failures"]) for r in rows])


def save_bandit(engine: Engine, bandit: NudgeBandit, now: datetime, name: str = NAME) -> int:
    """Replace the stored counts of bandit ``name`` with ``bandit``'s; returns the number of rows written."""
    rows = [
        {"bandit": name, "customer_id": cid, "arm": key, "successes": s, "failures": f, "updated_at": now}
        for cid, key, s, f in bandit.rows()
    ]
    with engine.begin() as conn:
        conn.execute(delete(bandit_counts).where(bandit_counts.c.bandit == name))
        if rows:
            conn.execute(insert(bandit_counts), rows)
    return len(rows)


def load_bandit(
    engine: Engine | Connection, customer_id: str | None = None, name: str = NAME, **options: Any
) -> NudgeBandit:
    """The stored bandit: every count, or only the population's and ``customer_id``'s (what one decision needs)."""
    query = _COUNTS.where(bandit_counts.c.bandit == name)
    if customer_id is not None:
        query = query.where(or_(bandit_counts.c.customer_id == POPULATION, bandit_counts.c.customer_id == customer_id))
    if isinstance(engine, Connection):
        rows = engine.execute(query).all()
    else:
        with engine.connect() as conn:
            rows = conn.execute(query).all()
    return NudgeBandit.from_rows([tuple(row) for row in rows], **options)


def add_reward(engine: Engine, customer_id: str, arm: str, reward: float, now: datetime, name: str = NAME) -> None:
    """Count one outcome of ``arm`` for the customer and for the population, atomically."""
    with engine.begin() as conn:
        statement = _UPSERT[conn.dialect.name](bandit_counts)
        statement = statement.on_conflict_do_update(
            index_elements=["bandit", "customer_id", "arm"],
            set_={
                "successes": bandit_counts.c.successes + statement.excluded.successes,
                "failures": bandit_counts.c.failures + statement.excluded.failures,
                "updated_at": statement.excluded.updated_at,
            },
        )
        conn.execute(
            statement,
            [
                {"bandit": name, "customer_id": who, "arm": arm, "successes": reward, "failures": 1.0 - reward,
                 "updated_at": now}
                for who in (POPULATION, customer_id)
            ],
        )  # fmt: skip
