"""SQL for the curated offering: order and complaint events, the catalogue with stock, the trained models."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pandas as pd
from sqlalchemy import Engine, delete, desc, insert, select

from rapport.customers.profile import ORDER_EVENTS
from rapport.errors import InvalidInput, NotFound
from rapport.request.history import HISTORY_EVENTS, Purchases, order_lines, purchases
from rapport.request.model import OfferModel
from rapport.store.bulk import fetch_rows, json_value, list_param, one_of_sql, utc_time
from rapport.store.engine import reading
from rapport.store.tables import catalogue_items, customers, events, offer_models

CATALOGUE_FIELDS = ("sku", "name", "category", "price", "on_hand", "deliverable_via")


class SqlOfferSource:
    """Implements rapport.request.offers.OfferSource over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def identity(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    # ----- what scoring on request reads ---------------------------------------------------------------------
    def model_version_and_purchases(self, canonical_id: str) -> tuple[str | None, Purchases]:
        """The latest model's version and one profile's orders, returns and complaints (over every record merged
        into it), read together: on PostgreSQL in one pipeline, on SQLite through the driver (orjson, no per-value
        type processing). The version is read on every request, so a model trained elsewhere is used at once."""
        if self.engine.dialect.name == "postgresql":
            from rapport.store.pipeline import run_together

            version_read, history_read = _pg_request_reads()
            with reading(self.engine) as conn:
                found = run_together(conn, [(version_read, {}), (history_read, {"cid": canonical_id})])
            version = found[0][0]["version"] if found[0] else None
            return version, purchases(found[1])
        with reading(self.engine) as conn:
            versions = fetch_rows(conn, _VERSION_SQL, [])
            rows = fetch_rows(conn, _SQLITE_HISTORY, [canonical_id, *HISTORY_EVENTS])
        history = [
            {"name": name, "timestamp": utc_time(timestamp), "properties": json_value(properties)}
            for name, timestamp, properties in rows
        ]
        return (versions[0][0] if versions else None), purchases(history)

    def in_stock(self, skus: Sequence[str]) -> frozenset[str] | None:
        """Which of ``skus`` are on hand or deliverable through a connection architecture; None when no catalogue
        is loaded (then stock cannot restrict offers)."""
        with reading(self.engine) as conn:
            sql = f"SELECT sku, on_hand, deliverable_via FROM catalogue_items WHERE {one_of_sql(conn, 'sku')}"
            rows = fetch_rows(conn, sql, [list_param(conn, skus)])
            if not rows and not fetch_rows(conn, "SELECT 1 FROM catalogue_items LIMIT 1", []):
                return None
        return _available(rows)

    def all_order_lines(self) -> pd.DataFrame:
        """Every order line in the store, by profile (canonical id): what `rapport train` learns from."""
        query = (
            select(customers.c.canonical_id.label("customer"), events.c.name, events.c.timestamp, events.c.properties)
            .join(customers, customers.c.id == events.c.customer_id)
            .where(events.c.type == "track", events.c.name.in_(ORDER_EVENTS))
        )
        with reading(self.engine) as conn:
            return order_lines(dict(row._mapping) for row in conn.execute(query))

    # ----- catalogue and stock -------------------------------------------------------------------------------
    def save_catalogue(self, items: Iterable[dict[str, Any]]) -> int:
        """Replace the catalogue with ``items`` (dicts with CATALOGUE_FIELDS); idempotent."""
        now = datetime.now(UTC)
        rows = []
        for item in items:
            if not item.get("sku"):
                raise InvalidInput(f"A catalogue item needs a sku: {item!r}.")
            row = {f: item.get(f) for f in CATALOGUE_FIELDS}
            for text in ("sku", "name", "category", "deliverable_via"):  # ids read from files may be numbers
                row[text] = None if row[text] is None else str(row[text])
            row["price"] = None if row["price"] is None else float(row["price"])
            rows.append({**row, "on_hand": int(item.get("on_hand") or 0), "updated_at": now})
        with self.engine.begin() as conn:
            conn.execute(delete(catalogue_items))
            if rows:
                conn.execute(insert(catalogue_items), rows)
        return len(rows)

    def catalogue(self) -> pd.DataFrame:
        """The catalogue (index sku: name, category, price, on_hand, deliverable_via); empty if none was loaded."""
        with reading(self.engine) as conn:
            rows = [dict(row._mapping) for row in conn.execute(select(catalogue_items))]
        frame = pd.DataFrame(rows, columns=[*CATALOGUE_FIELDS, "updated_at"])
        return frame.set_index("sku")

    def available_skus(self) -> frozenset[str] | None:
        """Items on hand or deliverable through a connection architecture; None when no catalogue is loaded (then
        stock cannot restrict offers)."""
        query = select(catalogue_items.c.sku, catalogue_items.c.on_hand, catalogue_items.c.deliverable_via)
        with reading(self.engine) as conn:
            rows = conn.execute(query).all()
        return _available(rows) if rows else None

    # ----- models --------------------------------------------------------------------------------------------
    def save_model(self, model: OfferModel) -> None:
        row = {"version": model.version, "trained_at": model.trained_at, "summary": model.summary}
        with self.engine.begin() as conn:
            conn.execute(delete(offer_models).where(offer_models.c.version == model.version))
            conn.execute(insert(offer_models).values(**row, payload=model.dumps()))

    def latest_model_version(self) -> str | None:
        query = select(offer_models.c.version).order_by(desc(offer_models.c.trained_at)).limit(1)
        with reading(self.engine) as conn:
            return conn.scalar(query)

    def load_model(self, version: str) -> OfferModel:
        with reading(self.engine) as conn:
            payload = conn.scalar(select(offer_models.c.payload).where(offer_models.c.version == version))
        if payload is None:
            raise NotFound(f"No offer model {version!r}; `rapport train` makes one.")
        return OfferModel.loads(bytes(payload))

    def model_versions(self) -> list[dict[str, Any]]:
        """Every trained version, newest first, with its summary."""
        query = select(offer_models.c.version, offer_models.c.trained_at, offer_models.c.summary).order_by(
            desc(offer_models.c.trained_at)
        )
        with reading(self.engine) as conn:
            return [dict(row._mapping) for row in conn.execute(query)]


def _available(rows: Iterable[Any]) -> frozenset[str]:
    """The skus of catalogue rows (sku, on_hand, deliverable_via) that are on hand or deliverable."""
    return frozenset(sku for sku, on_hand, via in rows if on_hand > 0 or via is not None)


# What scoring on request reads: the latest model's version and the profile's history events (oldest first).
_VERSION_SQL = "SELECT version FROM offer_models ORDER BY trained_at DESC LIMIT 1"
_HISTORY_SQL = (
    "SELECT name, timestamp, properties FROM events"
    " WHERE customer_id IN (SELECT id FROM customers WHERE canonical_id = {cid}) AND type = 'track'"
    " AND name {names} ORDER BY timestamp, id"
)
_SQLITE_HISTORY = _HISTORY_SQL.format(cid="?", names=f"IN ({', '.join('?' * len(HISTORY_EVENTS))})")


@cache
def _pg_request_reads() -> tuple[Any, ...]:
    from rapport.store.pipeline import Prepared

    history = _HISTORY_SQL.format(cid="%(cid)s", names="= ANY(%(names)s)")
    return Prepared(_VERSION_SQL, {}), Prepared(history, {"names": list(HISTORY_EVENTS)})
