"""The SQL side of store linkage: implements rapport.customers.linkage.ports (LinkageStore, LinkageTransaction)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from rapport.customers.linkage.ports import Review
from rapport.errors import NotFound
from rapport.store.engine import write_transaction
from rapport.store.identity import SqlIdentityTransaction, _chunked, insert_ignoring_conflicts, one_of
from rapport.store.store import Store
from rapport.store.tables import (
    customers,
    events,
    linkage_review_values,
    linkage_reviews,
    linkage_state,
    merges,
    meta,
)

_MODEL_KEY = "linkage_model"


class SqlLinkageTransaction(SqlIdentityTransaction):
    """Identity reads and writes plus the review queue, on one write-locked connection."""

    def refused_pairs(self) -> list[tuple[str, str]]:
        rejected = select(linkage_reviews.c.customer_id, linkage_reviews.c.other_id).where(
            linkage_reviews.c.status == "rejected"
        )
        undone = select(merges.c.survivor_id, merges.c.merged_id).where(
            merges.c.reason == "linkage", merges.c.status == "undone"
        )
        return [(a, b) for a, b in self.conn.execute(rejected)] + [(a, b) for a, b in self.conn.execute(undone)]

    def reviewed_pairs(self) -> list[tuple[str, str]]:
        query = select(linkage_reviews.c.customer_id, linkage_reviews.c.other_id).where(
            linkage_reviews.c.status != "rejected"
        )
        return [(a, b) for a, b in self.conn.execute(query)]

    def add_review(self, review: Review) -> int:
        review_id = self.conn.execute(
            insert(linkage_reviews)
            .values(
                customer_id=review.customer_id,
                other_id=review.other_id,
                match_probability=review.match_probability,
                fields=review.fields,
                status=review.status,
                created_at=review.created_at,
                note=review.note,
            )
            .returning(linkage_reviews.c.id)
        ).scalar_one()
        rows = [{"review_id": review_id, "customer_id": c, "attributes": v} for c, v in review.attributes.items()]
        if rows:
            self.conn.execute(insert(linkage_review_values), rows)
        return int(review_id)

    def review(self, review_id: int) -> Review:
        row = self.conn.execute(select(linkage_reviews).where(linkage_reviews.c.id == review_id)).first()
        if row is None:
            raise NotFound(f"No review {review_id}; list them with GET /v1/identity/reviews.")
        return _with_attributes(self.conn, [_review(row)])[0]

    def decide_review(self, review_id: int, status: str, at: datetime, merge_id: int | None, note: str | None) -> None:
        self.conn.execute(
            update(linkage_reviews)
            .where(linkage_reviews.c.id == review_id)
            .values(status=status, decided_at=at, merge_id=merge_id, note=note)
        )

    def mark_linked(self, fingerprints: dict[str, str], at: datetime) -> None:
        ids = list(fingerprints)
        for chunk in _chunked(ids):
            self.conn.execute(delete(linkage_state).where(one_of(self.conn, linkage_state.c.customer_id, chunk)))
        rows = [{"customer_id": c, "fingerprint": f, "linked_at": at} for c, f in fingerprints.items()]
        for chunk in _chunked(rows):
            self.conn.execute(insert(linkage_state), chunk)


class SqlLinkageStore:
    """Linkage's reads over a Store, and its write transactions."""

    def __init__(self, store: Store):
        self.store = store
        self.engine = store.engine

    @property
    def settings(self) -> Any:
        return self.store.settings

    def profile_traits(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(profile id, traits) of every identify call, oldest first."""
        query = (
            select(customers.c.canonical_id, events.c.traits)
            .join(customers, customers.c.id == events.c.customer_id)
            .where(events.c.type == "identify", events.c.traits.isnot(None))
            .order_by(events.c.timestamp, events.c.id)
        )
        with self.engine.connect() as conn:
            for canonical_id, traits in conn.execute(query):
                yield canonical_id, traits if isinstance(traits, dict) else {}

    def profile_identifiers(self) -> dict[str, list[tuple[str, str, bool]]]:
        return self.store.profile_identifiers()

    def linked_fingerprints(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {row.customer_id: row.fingerprint for row in conn.execute(select(linkage_state))}

    def load_model(self) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            value = conn.scalar(select(meta.c.value).where(meta.c.key == _MODEL_KEY))
        return json.loads(value) if value else None

    def save_model(self, model: dict[str, Any]) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(delete(meta).where(meta.c.key == _MODEL_KEY))
            insert_ignoring_conflicts(conn, meta, [{"key": _MODEL_KEY, "value": json.dumps(model)}], ["key"])

    def reviews(self, status: str | None, limit: int) -> list[Review]:
        """Reviews whose two profiles still exist, most likely first."""
        left, right = customers.alias("left_side"), customers.alias("right_side")
        query = (
            select(linkage_reviews)
            .join(left, left.c.id == linkage_reviews.c.customer_id)
            .join(right, right.c.id == linkage_reviews.c.other_id)
            .order_by(linkage_reviews.c.match_probability.desc(), linkage_reviews.c.id)
            .limit(limit)
        )
        if status is not None:
            query = query.where(linkage_reviews.c.status == status)
        with self.engine.connect() as conn:
            return _with_attributes(conn, [_review(row) for row in conn.execute(query)])

    @contextmanager
    def transaction(self) -> Iterator[SqlLinkageTransaction]:
        with write_transaction(self.engine) as conn:
            yield SqlLinkageTransaction(conn)


def _review(row: Any) -> Review:
    return Review(
        id=int(row.id),
        customer_id=row.customer_id,
        other_id=row.other_id,
        match_probability=float(row.match_probability),
        fields=row.fields,
        status=row.status,
        created_at=row.created_at,
        decided_at=row.decided_at,
        merge_id=row.merge_id,
        note=row.note,
    )


def _with_attributes(conn: Connection, reviews: list[Review]) -> list[Review]:
    by_id = {r.id: r for r in reviews}
    for chunk in _chunked(list(by_id)):
        query = select(linkage_review_values).where(and_(one_of(conn, linkage_review_values.c.review_id, chunk)))
        for row in conn.execute(query):
            by_id[row.review_id].attributes[row.customer_id] = row.attributes
    return reviews


def linkage_store(store: Store) -> SqlLinkageStore:
    """The LinkageStore of a Store (what the CLI, API and demo pass to rapport.customers.linkage.proposals)."""
    return SqlLinkageStore(store)
