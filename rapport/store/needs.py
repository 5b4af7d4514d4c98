"""The needs table: each customer's recognised needs, replaced whole at every refresh of that customer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from rapport.recognize.need import Need
from rapport.store.tables import customers, events, meta, needs


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
        # Needs Voice raised from what the customer said (key "voice:…") are Voice's to replace, not the refresh's.
        conn.execute(delete(needs).where(needs.c.customer_id == customer_id, ~needs.c.need_key.startswith("voice:")))
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


def most_confident_need(engine: Engine, kind: str, category: str | None = None) -> Need | None:
    """The most confident stored need of ``kind`` (in ``category`` if given), soonest due among equals."""
    query = select(needs).where(needs.c.kind == kind)
    if category is not None:
        query = query.where(needs.c.category == category)
    query = query.order_by(needs.c.confidence.desc(), needs.c.due_at, needs.c.customer_id).limit(1)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else _need(row._mapping)


def prune_needs(engine: Engine) -> int:
    """Drop the needs of records that are no longer a profile's root (merged into another since they were written)."""
    roots = select(customers.c.id).where(customers.c.id == customers.c.canonical_id)
    with engine.begin() as conn:
        return conn.execute(delete(needs).where(needs.c.customer_id.not_in(roots))).rowcount


def need_event_rows(engine: Engine, names: tuple[str, ...], canonical_id: str | None = None) -> list[dict[str, Any]]:
    """The track events named ``names`` of one profile (or of every profile), with their profile's canonical id,
    oldest first. The needs are computed from these."""
    query = (
        select(customers.c.canonical_id, events.c.timestamp, events.c.name, events.c.properties)
        .join(customers, customers.c.id == events.c.customer_id)
        .where(events.c.type == "track", events.c.name.in_(names))
        .order_by(customers.c.canonical_id, events.c.timestamp, events.c.id)
    )
    if canonical_id is not None:
        members = select(customers.c.id).where(customers.c.canonical_id == canonical_id)
        query = query.where(events.c.customer_id.in_(members))
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def save_model(engine: Engine, name: str, text: str) -> None:
    """Keep a fitted model's JSON under ``model:<name>`` (replacing the previous version)."""
    key = f"model:{name}"
    with engine.begin() as conn:
        if conn.execute(update(meta).where(meta.c.key == key).values(value=text)).rowcount == 0:
            conn.execute(insert(meta).values(key=key, value=text))


def load_model(engine: Engine, name: str) -> str | None:
    with engine.connect() as conn:
        found = conn.scalar(select(meta.c.value).where(meta.c.key == f"model:{name}"))
    return None if found is None else str(found)
