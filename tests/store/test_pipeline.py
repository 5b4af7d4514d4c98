"""Statements run together (``run_together``): the same values as SQLAlchemy's reads and writes, on both stores, and
writes all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from rapport.store.engine import reading
from rapport.store.pipeline import Prepared, run_together
from rapport.store.store import Store
from rapport.store.tables import consents, decisions

AT = datetime(2026, 6, 1, 12, 30, 15, 123456, tzinfo=UTC)
_INSERT = Prepared.of(insert(decisions).values({c.name: bindparam(c.name) for c in decisions.c}))
_READ = Prepared.of(select(decisions).where(decisions.c.id == bindparam("id")))
_CONSENT = Prepared.of(
    insert(consents).values({n: bindparam(n) for n in ("customer_id", "purpose", "granted", "source", "recorded_at")})
)
_CONSENTS = Prepared.of(select(consents.c.granted, consents.c.recorded_at).where(consents.c.customer_id == "c1"))


def _row(decision_id: str, action: dict[str, object] | None) -> dict[str, object]:
    return {"id": decision_id, "customer_id": "c1", "touchpoint": "app_open", "category": None, "status": "act",
            "experience": None, "action": action, "reasons": ["a", "b"], "model_versions": {"decide": "1"},
            "need": None, "situation": {"touchpoint": "app_open"}, "trigger": "api", "created_at": AT}  # fmt: skip


def test_values_written_together_read_back_as_sqlalchemy_reads_them(store: Store) -> None:
    with store.engine.connect() as conn:
        run_together(conn, [(_INSERT, _row("d1", {"k": [1, 2.5, None]})), (_INSERT, _row("d2", None))], commit=True)
        run_together(conn, [(_CONSENT, {"customer_id": "c1", "purpose": "personalisation", "granted": False,
                                        "source": "test", "recorded_at": AT})], commit=True)  # fmt: skip
    with reading(store.engine) as conn:
        stored = {row.id: row._mapping for row in conn.execute(select(decisions))}
        found = run_together(conn, [(_READ, {"id": "d1"}), (_READ, {"id": "d2"}), (_CONSENTS, {})])
    assert set(stored) == {"d1", "d2"}
    for rows in found[:2]:
        (row,) = rows
        assert row == dict(stored[row["id"]])  # times aware in UTC, JSON parsed, None as None
    assert found[0][0]["action"] == {"k": [1, 2.5, None]} and found[0][0]["created_at"] == AT
    assert found[1][0]["action"] is None and found[1][0]["need"] is None
    assert found[2] == [{"granted": False, "recorded_at": AT}]


def test_writes_run_together_are_all_or_nothing(store: Store) -> None:
    with store.engine.connect() as conn:
        run_together(conn, [(_INSERT, _row("d1", None))], commit=True)
    with pytest.raises(IntegrityError), store.engine.connect() as conn:  # d3 first, then d1 again: a duplicate key
        run_together(conn, [(_INSERT, _row("d3", None)), (_INSERT, _row("d1", None))], commit=True)
    with store.engine.connect() as conn:  # a write left uncommitted ends with its connection
        run_together(conn, [(_INSERT, _row("d4", None))])
    with reading(store.engine) as conn:
        assert sorted(conn.scalars(select(decisions.c.id))) == ["d1"]


def test_a_naive_time_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"), store.engine.connect() as conn:
        run_together(conn, [(_INSERT, {**_row("d1", None), "created_at": AT.replace(tzinfo=None)})], commit=True)
