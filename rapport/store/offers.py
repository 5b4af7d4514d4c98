"""SQL for the curated offering: order and complaint events, the catalogue with stock, the trained models."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, delete, desc, insert, select

from rapport.customers.profile import ORDER_EVENTS
from rapport.errors import InvalidInput, NotFound
from rapport.request.history import HISTORY_EVENTS, PurchaseHistory, order_lines, purchase_history
from rapport.request.model import OfferModel
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

    # ----- history -------------------------------------------------------------------------------------------
    def purchase_history(self, canonical_id: str) -> PurchaseHistory:
        """One profile's orders, returns and complaints, over every record merged into it (one query)."""
        records = select(customers.c.id).where(customers.c.canonical_id == canonical_id).scalar_subquery()
        query = (
            select(events.c.name, events.c.timestamp, events.c.properties)
            .where(events.c.customer_id.in_(records), events.c.type == "track", events.c.name.in_(HISTORY_EVENTS))
            .order_by(events.c.timestamp, events.c.id)
        )
        with reading(self.engine) as conn:
            rows = [{"customer": canonical_id, **row._mapping} for row in conn.execute(query)]
        return purchase_history(rows)

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
        if not rows:
            return None
        return frozenset(sku for sku, on_hand, via in rows if on_hand > 0 or via is not None)

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
