"""Ingestion rejections: what the tracking API and file ingests refused, counted by reason for the operations page.

Recording is best effort by design: a rejection that cannot be written is logged and forgotten, so neither a good
event in the same call nor the clear error a bad one gets can fail because of it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError

from rapport.customers.ingestion import rejection_counts
from rapport.store.store import Store
from rapport.store.tables import ingestion_rejections

CHANNELS = ("api", "stream", "file")
log = logging.getLogger(__name__)


def record_rejections(
    store: Store, rejected: list[dict[str, Any]], channel: str, source: str, at: datetime | None = None
) -> int:
    """One row per reason with its count; returns the messages recorded (0 when nothing could be written)."""
    counts = rejection_counts(rejected)
    if not counts:
        return 0
    when = at or datetime.now(UTC)
    rows = [{"at": when, "channel": channel[:16], "source": source[:64] or "unknown", "reason": reason,
             "count": count} for reason, count in sorted(counts.items())]  # fmt: skip
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(ingestion_rejections), rows)
    except SQLAlchemyError as exc:
        log.warning("could not record %d ingestion rejection(s): %s", sum(counts.values()), exc)
        return 0
    return sum(counts.values())
