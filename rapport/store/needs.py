"""The needs table: each customer's recognised needs, replaced whole at every refresh of that customer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select

from rapport.recognize.need import Need
from rapport.store.tables import needs


def need_key(need: Need) -> str:
    """One row per customer, kind and item (or category, for a need that names no item)."""
    return f"{need.kind}:{need.item or ''}:{need.category or ''}"[:440]


def write_needs(
    engine: Engine, customer_id: str, found: Iterable[Need], computed_at: datetime, model_version: str
) -> int:
    """Replace ``customer_id``'s needs with ``found`` in one transaction; returns how many were written.

    A need seen twice under one key (two models proposing the same item) keeps the more confident one.
    """
    best: dict[str, Need] = {}
    for need in found:
        key = need_key(need)
        if key not in best or need.confidence > best[key].confidence:
            best[key] = need
    rows = [
        {
            "customer_id": customer_id,
            "need_key": key,
            "kind": need.kind,
            "item": need.item,
            "category": need.category,
            "due_at": need.due_at,
            "confidence": float(need.confidence),
            "evidence": need.to_dict()["evidence"],
            "model_version": str(need.evidence.get("model") or model_version)[:64],
            "computed_at": computed_at,
        }
        for key, need in best.items()
    ]
    with engine.begin() as conn:
        conn.execute(delete(needs).where(needs.c.customer_id == customer_id))
        if rows:
            conn.execute(insert(needs), rows)
    return len(rows)


def read_needs(engine: Engine, customer_id: str) -> list[Need]:
    """The customer's stored needs, soonest due first."""
    query = select(needs).where(needs.c.customer_id == customer_id).order_by(needs.c.due_at, needs.c.need_key)
    with engine.connect() as conn:
        return [_need(row._mapping) for row in conn.execute(query)]


def needs_due(engine: Engine, before: datetime, limit: int = 10_000) -> list[Need]:
    """Needs of every customer falling due before ``before`` (the outbound ``need_due`` touchpoint), soonest first."""
    query = select(needs).where(needs.c.due_at <= before).order_by(needs.c.due_at).limit(limit)
    with engine.connect() as conn:
        return [_need(row._mapping) for row in conn.execute(query)]


def _need(row: object) -> Need:
    data = dict(row)  # type: ignore[call-overload]
    return Need(
        customer_id=data["customer_id"],
        item=data["item"],
        category=data["category"],
        kind=data["kind"],
        due_at=data["due_at"],
        confidence=float(data["confidence"]),
        evidence={**(data["evidence"] or {}), "model_version": data["model_version"]},
    )
