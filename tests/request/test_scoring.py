"""Scoring on request with plain arrays returns exactly what scoring through the ranker's own objects returns.

``previous_offers`` below is the request path as it was before rapport.request.scoring: the customer's history as an
``Interactions`` table, ``RapportRanker.components`` (pandas and scipy), ``combine``, the ``Explainer`` over that
table, and the whole stock read up front. It is kept here as the oracle: the new path must give the same options,
in the same order, with the same scores, reasons and evidence, for every customer of the demo store and of the test
shop under every blend (all five components, recency half-lives, items already taken excluded, EASE's dual form).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rapport.customers.ingestion import ingest
from rapport.recognize.need import Need
from rapport.request.blend import RankerSettings, RapportRanker, combine
from rapport.request.constraints import OfferConstraints
from rapport.request.history import Purchases, order_lines
from rapport.request.interactions import Interactions
from rapport.request.model import OfferModel, item_table
from rapport.request.offers import Offer, model_scorer, offer_list, rank_offers
from rapport.request.reasons import Explainer
from rapport.request.scoring import OfferScorer
from rapport.store.store import Store
from tests.request.conftest import ITEMS


def _of_customer(customer: object, items: list[object], times: list[float], columns: pd.Index) -> Interactions:
    """One customer's interactions over ``columns``, as the request path built them before (kept as the oracle)."""
    col = columns.get_indexer(pd.Index(items, dtype=object)) if items else np.zeros(0, dtype=np.intp)
    t = np.asarray(times, dtype=float)
    keep = col >= 0
    pairs = np.unique(np.stack([col[keep].astype(float), t[keep]], axis=1), axis=0) if keep.any() else np.zeros((0, 2))
    distinct, inverse = np.unique(pairs[:, 1], return_inverse=True)
    table = pd.DataFrame(
        {
            "customer": np.full(len(pairs), customer, dtype=object),
            "item": columns.to_numpy()[pairs[:, 0].astype(np.intp)],
            "t": pairs[:, 1],
            "step": (len(distinct) - 1 - inverse).astype(int),
            "row": np.zeros(len(pairs), dtype=int),
            "col": pairs[:, 0].astype(np.intp),
        }
    )
    return Interactions(table, pd.Index([customer], dtype=object), columns)


def _previous_need(model: OfferModel, need: Need | str | None) -> OfferConstraints | None:
    if need is None or need == "":
        return None
    if isinstance(need, Need) and need.category:
        return OfferConstraints(categories=frozenset([need.category]))
    reference = need.item if isinstance(need, Need) else need.strip()
    items = model.items
    if reference in items.index:
        category = items.at[reference, "category"]
        return OfferConstraints(categories=frozenset([str(category)])) if pd.notna(category) else None
    known = sorted(items["category"].dropna().astype(str).unique())
    if reference in known:
        return OfferConstraints(categories=frozenset([str(reference)]))
    return OfferConstraints(categories=frozenset())


def previous_offers(
    model: OfferModel, customer: str, bought: Purchases, rules: OfferConstraints, k: int
) -> list[dict[str, Any]]:
    """The oracle: the top ``k`` allowed items and their reasons through the ranker's own objects."""
    ranker = model.ranker
    history = _of_customer(customer, list(bought.items), list(bought.times), ranker.items)
    parts = ranker.components(history)
    scores = combine(parts, ranker.weights)[0]
    skus, names, categories, prices = model.aligned()
    allowed = rules.allowed(skus, categories, prices)
    if ranker.settings.exclude_seen:
        allowed[history.table["col"].unique()] = False
    scores = np.where(allowed, scores, -np.inf)
    chosen = [int(c) for c in np.argsort(-scores, kind="stable")[:k] if np.isfinite(scores[c])]
    explainer = Explainer(ranker, history, names, categories, days=True)
    offers = []
    for rank, col in enumerate(chosen, start=1):
        reason, evidence = explainer.explain(0, col, ranker.contributions(parts, 0, col))
        offers.append(
            Offer(
                sku=str(skus[col]),
                name=_text(names[col]),
                category=_text(categories[col]),
                price=None if np.isnan(prices[col]) else float(prices[col]),
                rank=rank,
                score=round(float(scores[col]), 6),
                reason=reason,
                evidence=evidence,
                model_version=model.version,
            ).to_dict()
        )
    return offers


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _profiles(store: Store) -> list[str]:
    return sorted(store.profile_identifiers())


def _asked(model: OfferModel) -> list[tuple[int, str | None, OfferConstraints | None]]:
    """The requests each customer is asked: several k, a category and a sku as the need, a price range, a
    category withheld from personalisation."""
    categories = sorted(model.items["category"].dropna().astype(str).unique())
    some_sku = str(model.items.index[0])
    return [
        (5, None, None),
        (12, None, None),
        (3, categories[0], None),
        (4, some_sku, None),
        (6, None, OfferConstraints(min_price=5.0, max_price=60.0)),
        (6, None, OfferConstraints(withheld_categories=frozenset(categories[:1]))),
    ]


def _same_for_everyone(store: Store) -> int:
    """offer_list against the oracle for every profile of the store and every request of ``_asked``."""
    source = store.offers
    compared = 0
    for customer in _profiles(store):
        version, bought = source.model_version_and_purchases(customer)
        model = model_scorer(source, version).model
        stock = OfferConstraints(available_skus=source.available_skus(), excluded_skus=bought.excluded)
        for k, need, constraints in _asked(model):
            found = [o.to_dict() for o in offer_list(store, customer, k, need, constraints).offers]
            rules = stock.combined(_previous_need(model, need)).combined(constraints)
            assert found == previous_offers(model, customer, bought, rules, k), (customer, k, need, constraints)
            compared += len(found)
    return compared


def test_the_demo_store_gets_exactly_the_previous_offers(store: Store) -> None:
    from rapport.demo.run import run_demo

    run_demo(store, customers=120)
    ingest(store, [{"type": "identify", "messageId": "new-1", "userId": "u-new"}], store.settings)  # no orders
    assert _same_for_everyone(store) > 1000


def test_purchases_are_the_order_lines_training_reads(shop: Store) -> None:
    """The plain rows of scoring on request hold what the DataFrame of training holds, line for line."""
    for customer in _profiles(shop):
        _, bought = shop.offers.model_version_and_purchases(customer)
        rows = [{**row, "customer": customer} for row in shop.event_rows(shop.members(customer))]
        lines = order_lines(rows)
        assert list(bought.items) == lines["item"].tolist() and list(bought.times) == lines["t"].tolist()


BLENDS = {
    "every component": RankerSettings(
        weights={"repeat": 0.3, "als": 0.2, "ease": 0.2, "popularity": 0.1, "category": 0.2}, half_life=4.0
    ),
    "plain counts": RankerSettings(half_life=None),
    "items taken excluded": RankerSettings(exclude_seen=True, half_life=2.0),
    "category and popularity only": RankerSettings(weights={"popularity": 0.4, "category": 0.6}),
}


def _fitted(lines: pd.DataFrame, catalogue: pd.DataFrame, settings: RankerSettings, name: str) -> OfferModel:
    items = item_table(lines, catalogue)
    data = Interactions.build(lines[["customer", "item", "t"]], items=pd.Index(items.index))
    ranker = RapportRanker(settings, items["category"].dropna().astype(str)).fit(data)
    return OfferModel(f"test-{name}", datetime.now(UTC), ranker, items)


@pytest.mark.parametrize("blend", sorted(BLENDS))
def test_every_blend_scores_exactly_as_the_ranker(shop: Store, blend: str) -> None:
    lines, catalogue = shop.offers.all_order_lines(), shop.offers.catalogue()
    ingest(shop, [{"type": "identify", "messageId": "new-1", "userId": "u-new"}], shop.settings)
    for model in (_fitted(lines, catalogue, BLENDS[blend], blend), _few_customers(lines, catalogue, BLENDS[blend])):
        scorer = OfferScorer(model)
        for customer in _profiles(shop):
            _, bought = shop.offers.model_version_and_purchases(customer)
            for k, need, constraints in _asked(model):
                rules = OfferConstraints(excluded_skus=bought.excluded).combined(_previous_need(model, need))
                rules = rules.combined(constraints)
                found = [o.to_dict() for o in rank_offers(scorer, bought, rules, k)]
                assert found == previous_offers(model, customer, bought, rules, k), (blend, customer, k, need)


def _few_customers(lines: pd.DataFrame, catalogue: pd.DataFrame, settings: RankerSettings) -> OfferModel:
    """A model from three customers' orders: fewer customers than items, so EASE keeps its dual form."""
    few = lines[lines["customer"].isin(sorted(lines["customer"].unique())[:3])]
    model = _fitted(few, catalogue, settings, "dual")
    assert "ease" not in model.ranker.rankers or model.ranker.rankers["ease"].weights is None
    return model


def test_stock_is_read_for_the_best_candidates_until_enough_are_available(shop: Store) -> None:
    """With most items out of stock the first candidates read are not enough: more are read, and the offers are
    those the whole stock read up front gives."""
    rows = [
        {"sku": sku, "name": n, "category": c, "price": p, "on_hand": 5 if sku in ("PRN-NEW", "MED-A") else 0}
        for sku, (n, c, p, _, _) in ITEMS.items()
    ]
    shop.offers.save_catalogue(rows)
    lines, catalogue = shop.offers.all_order_lines(), shop.offers.catalogue()
    model = _fitted(lines, catalogue, BLENDS["every component"], "stock")
    scorer = OfferScorer(model)
    assert shop.offers.available_skus() == {"PRN-NEW", "MED-A"}
    assert shop.offers.in_stock(["PRN-NEW", "POD-A", "NOT-LISTED"]) == {"PRN-NEW"}
    for customer in _profiles(shop):
        _, bought = shop.offers.model_version_and_purchases(customer)
        found = [o.to_dict() for o in rank_offers(scorer, bought, OfferConstraints(), 2, shop.offers)]
        rules = OfferConstraints(available_skus=shop.offers.available_skus())
        assert found == previous_offers(model, customer, bought, rules, 2)
        assert {o["sku"] for o in found} == {"PRN-NEW", "MED-A"}
    shop.offers.save_catalogue([])
    assert shop.offers.in_stock(["POD-A"]) is None  # no catalogue: stock restricts nothing
