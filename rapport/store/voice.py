"""SQL for Voice: items (idempotent on source and external id), topics, alerts, models, and Voice's issue needs."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, desc, insert, select, tuple_, update

from rapport.customers.identifiers import Identifier
from rapport.recognize.need import Need
from rapport.store.identity import insert_ignoring_conflicts
from rapport.store.needs import _need as need_from_row  # the row → Need mapping of the needs table
from rapport.store.tables import customers, identifiers, needs, voice_alerts, voice_items, voice_models, voice_topics
from rapport.voice.items import ScoredItem

VOICE_NEED_PREFIX = "voice:"  # needs rows Voice owns; Recognize's refresh leaves them alone
_TOPIC_MODEL = "topics"


class SqlVoiceStore:
    """Implements rapport.voice.ports.VoiceStore over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def customer_for(self, wanted: tuple[Identifier, ...]) -> str | None:
        """The profile every known identifier of the item belongs to; None when none is known or they disagree."""
        if not wanted:
            return None
        query = (
            select(customers.c.canonical_id)
            .join(identifiers, identifiers.c.customer_id == customers.c.id)
            .where(tuple_(identifiers.c.kind, identifiers.c.value).in_([tuple(i) for i in wanted]))
        )
        with self.engine.connect() as conn:
            found = set(conn.scalars(query))
        return found.pop() if len(found) == 1 else None

    def existing_keys(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                query = select(voice_items.c.source, voice_items.c.external_id).where(
                    tuple_(voice_items.c.source, voice_items.c.external_id).in_(chunk)
                )
                found.update((row.source, row.external_id) for row in conn.execute(query))
        return found

    def insert_items(self, items: list[ScoredItem], received_at: datetime) -> int:
        rows = [
            {
                "source": s.item.source,
                "external_id": s.item.external_id,
                "at": s.item.at,
                "text": s.item.text,
                "author": s.item.author,
                "customer_id": s.customer_id,
                "sentiment": s.sentiment,
                "label": s.label,
                "aspects": s.aspects,
                "topic_id": s.topic_id,
                "received_at": received_at,
            }
            for s in items
        ]
        with self.engine.begin() as conn:
            insert_ignoring_conflicts(conn, voice_items, rows, ["source", "external_id"])
        return len(rows)

    def replace_voice_needs(self, customer_id: str, found: list[Need]) -> None:
        rows = [
            {
                "customer_id": customer_id,
                "need_key": f"{VOICE_NEED_PREFIX}{need.evidence['item']}"[:440],
                "kind": need.kind,
                "item": need.item,
                "category": need.category,
                "due_at": need.due_at,
                "confidence": float(need.confidence),
                "evidence": need.to_dict()["evidence"],
                "model_version": str(need.evidence.get("model", "voice"))[:64],
                "computed_at": datetime.now(UTC),
            }
            for need in found
        ]
        with self.engine.begin() as conn:
            conn.execute(
                delete(needs).where(needs.c.customer_id == customer_id, needs.c.need_key.startswith(VOICE_NEED_PREFIX))
            )
            if rows:
                conn.execute(insert(needs), rows)

    def issue_needs(self) -> list[Need]:
        """Every issue need Voice raised, most negative item first: the customers who are hurting now."""
        query = select(needs).where(needs.c.need_key.startswith(VOICE_NEED_PREFIX)).order_by(needs.c.due_at)
        with self.engine.connect() as conn:
            found = [need_from_row(row._mapping) for row in conn.execute(query)]
        return sorted(found, key=lambda n: float(n.evidence.get("sentiment", 0.0)))

    def customer_items(self, customer_id: str, since: datetime | None = None) -> list[dict[str, Any]]:
        """The items linked to any record of the profile, newest first."""
        members = select(customers.c.id).where(customers.c.canonical_id == customer_id)
        query = select(voice_items).where(voice_items.c.customer_id.in_(members))
        if since is not None:
            query = query.where(voice_items.c.at >= since)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query.order_by(desc(voice_items.c.at), voice_items.c.id))]

    def items_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        query = (
            select(voice_items.c.id, voice_items.c.at, voice_items.c.text, voice_items.c.label, voice_items.c.topic_id)
            .where(voice_items.c.at >= start, voice_items.c.at < end)
            .order_by(voice_items.c.at, voice_items.c.id)
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def all_texts(self, limit: int) -> list[tuple[int, str]]:
        query = select(voice_items.c.id, voice_items.c.text).order_by(desc(voice_items.c.at)).limit(limit)
        with self.engine.connect() as conn:
            return [(int(r.id), str(r.text)) for r in conn.execute(query)]

    def set_topics(self, assigned: dict[int, int]) -> None:
        with self.engine.begin() as conn:
            for item_id, topic_id in assigned.items():
                conn.execute(update(voice_items).where(voice_items.c.id == item_id).values(topic_id=topic_id))

    def save_topics(self, model: Any, fitted_at: datetime) -> None:
        """Keep the fitted topic model and its topics (replacing the previous ones)."""
        payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        rows = [
            {"id": t.id, "label": t.label[:300], "terms": list(t.terms), "size": t.size,
             "model_version": model.version[:64], "fitted_at": fitted_at}
            for t in model.topics
        ]  # fmt: skip
        with self.engine.begin() as conn:
            conn.execute(delete(voice_models).where(voice_models.c.name == _TOPIC_MODEL))
            conn.execute(
                insert(voice_models).values(
                    name=_TOPIC_MODEL, version=model.version[:64], trained_at=fitted_at, payload=payload
                )
            )
            conn.execute(delete(voice_topics))
            if rows:
                conn.execute(insert(voice_topics), rows)

    def load_topic_model(self) -> Any | None:
        with self.engine.connect() as conn:
            payload = conn.scalar(select(voice_models.c.payload).where(voice_models.c.name == _TOPIC_MODEL))
        return None if payload is None else pickle.loads(payload)  # written by save_topics into our own store

    def topics(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(voice_topics).order_by(voice_topics.c.id))]

    def add_alerts(self, alerts: list[dict[str, Any]]) -> int:
        """Add alerts not raised before (same topic, signal and start); returns how many are new."""
        if not alerts:
            return 0
        with self.engine.begin() as conn:
            before = len(conn.execute(select(voice_alerts.c.id)).all())
            insert_ignoring_conflicts(conn, voice_alerts, alerts, ["topic_id", "signal", "period_start"])
            return len(conn.execute(select(voice_alerts.c.id)).all()) - before

    def alerts(self, limit: int = 100) -> list[dict[str, Any]]:
        query = select(voice_alerts).order_by(desc(voice_alerts.c.raised_at), desc(voice_alerts.c.id)).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
