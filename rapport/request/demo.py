"""The demo firm's offering: its stock (some items out, some only through the partner marketplace), a trained
model, and the options for one of its customers."""

from __future__ import annotations

import random
import time
from typing import Any

from rapport.demo.catalogue import Catalogue
from rapport.request.offers import OfferStore, curated_offers
from rapport.request.training import train_offer_model

OUT_OF_STOCK = 0.12  # share of items with nothing on hand
PARTNER = "partner_marketplace"  # the connected retailer's partner: delivers some items it has not got on hand


def demo_stock(catalogue: Catalogue, seed: int = 7) -> list[dict[str, Any]]:
    """Catalogue rows with stock: the same seed, the same stock."""
    rng = random.Random(seed * 104_729 + 5)
    rows = []
    for item in catalogue.items:
        out = rng.random() < OUT_OF_STOCK
        via = PARTNER if out and rng.random() < 0.5 else None
        rows.append(
            {
                "sku": item.sku,
                "name": item.name,
                "category": item.category,
                "price": item.price,
                "on_hand": 0 if out else rng.randint(1, 60),
                "deliverable_via": via,
            }
        )
    return rows


def demo_offers(store: OfferStore, catalogue: Catalogue, seed: int = 7) -> dict[str, Any]:
    """Load the stock, run `rapport train`, and offer three options to the customer with the most order lines."""
    source: Any = store.offers
    stock = demo_stock(catalogue, seed)
    source.save_catalogue(stock)
    started = time.perf_counter()
    lines = source.all_order_lines()
    model = train_offer_model(source, lines=lines)
    seconds = time.perf_counter() - started
    sample = str(lines.groupby("customer").size().idxmax())
    offers = curated_offers(store, sample, k=3)
    return {
        "model_version": model.version,
        "train_seconds": round(seconds, 2),
        "order_lines": len(lines),
        "items": len(stock),
        "out_of_stock": sum(1 for row in stock if row["on_hand"] == 0 and row["deliverable_via"] is None),
        "deliverable_via_partner": sum(1 for row in stock if row["deliverable_via"]),
        "weights": model.summary["settings"]["weights"],
        "sample": {"customer_id": sample, "offers": [{"sku": o.sku, "reason": o.reason} for o in offers]},
    }
