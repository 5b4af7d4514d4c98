"""The offer model: a fitted Rapport ranker with the item table it ranks, versioned, trained from order lines.

Training carves each customer's last order off as the validation split, tunes the blend on it
(:mod:`rapport.request.tuning`), then refits on every order. The version string names the training time and a
digest of the data and settings, and is saved with the model (``rapport train``).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from rapport.errors import InvalidInput
from rapport.request.blend import RankerSettings, RapportRanker
from rapport.request.evaluation import REPEAT_FLOOR, TimeSplit
from rapport.request.interactions import Interactions
from rapport.request.tuning import tune

ITEM_COLUMNS = ["name", "category", "price"]


@dataclass
class OfferModel:
    """What scoring on request needs: the ranker, the items (index sku: name, category, price), the version."""

    version: str
    trained_at: datetime
    ranker: RapportRanker
    items: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)

    def aligned(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(skus, names, categories, prices) aligned with the ranker's item columns (computed once)."""
        cached: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = self.__dict__.get("_aligned")
        if cached is None:
            info = self.items.reindex(self.ranker.items)
            skus = np.asarray(self.ranker.items.astype(str), dtype=object)
            named, known = info["name"].notna().to_numpy(), info["category"].notna().to_numpy()
            names = np.asarray(np.where(named, info["name"].to_numpy(dtype=object), skus), dtype=object)
            categories = np.asarray(np.where(known, info["category"].to_numpy(dtype=object), None), dtype=object)
            prices = pd.to_numeric(info["price"], errors="coerce").to_numpy(dtype=float)
            cached = self.__dict__["_aligned"] = (skus, names, categories, prices)
        return cached

    def dumps(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def loads(cls, payload: bytes) -> OfferModel:
        """Load a model this store saved (pickle: load only payloads Rapport wrote)."""
        model = pickle.loads(payload)
        if not isinstance(model, cls):
            raise InvalidInput("The stored payload is not an offer model; retrain with `rapport train`.")
        return model


def item_table(lines: pd.DataFrame, catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every item ordered or listed: the catalogue's name, category and price, else the latest order line's."""
    latest = lines.sort_values("t", kind="stable").groupby("item")[ITEM_COLUMNS].last()
    if catalogue is None or catalogue.empty:
        return latest
    listed = catalogue[ITEM_COLUMNS]
    return listed.combine_first(latest)[ITEM_COLUMNS]


def fit_offer_model(
    lines: pd.DataFrame, catalogue: pd.DataFrame | None = None, k: int = 10, now: datetime | None = None
) -> OfferModel:
    """Fit the ranker on order lines (customer, item, t in days, name, category, price)."""
    if lines.empty:
        raise InvalidInput(
            "No order lines to learn from: ingest 'Order Completed' events whose properties.products name a sku."
        )
    started = time.perf_counter()
    items = item_table(lines, catalogue)
    categories = items["category"].dropna().astype(str)
    categories = categories if not categories.empty else None
    table = lines[["customer", "item", "t"]]
    try:
        tuned = tune(table, TimeSplit("last"), k, categories)
        settings, validation = tuned.settings, tuned.validation
    except InvalidInput as exc:  # too few customers with two orders: keep the defaults, say so
        repeats = Interactions.build(table).repeat_share()
        settings, validation = RankerSettings(exclude_seen=repeats < REPEAT_FLOOR), {"untuned": str(exc)}
    data = Interactions.build(table, items=pd.Index(items.index))
    ranker = RapportRanker(settings, categories).fit(data)
    trained_at = now or datetime.now(UTC)
    summary = {
        "order_lines": len(lines),
        "customers": len(data.customers),
        "items": len(data.items),
        "settings": settings.to_dict(),
        "validation": validation,
        "fit_seconds": round(time.perf_counter() - started, 3),
    }
    digest = hashlib.sha256(
        json.dumps([len(lines), float(lines["t"].max()), summary["settings"]], default=str).encode()
    ).hexdigest()
    version = f"request-{trained_at:%Y%m%dT%H%M%SZ}-{digest[:8]}"
    return OfferModel(version, trained_at, ranker, items, {"version": version, **summary})
