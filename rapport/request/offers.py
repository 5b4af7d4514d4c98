"""The curated offering: a few options that fit a customer, with the reason for each, within what may be offered.

``curated_offers`` is the one service the API, the CLI, the demo and the decision engine call. It scores on
request: the pre-trained model (cached per version), the customer's current history from their events, the
constraints from the store (stock, returns, complaints) combined with the caller's (consent, price range).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from rapport.errors import Conflict, InvalidInput
from rapport.recognize.need import Need
from rapport.request.blend import combine
from rapport.request.constraints import OfferConstraints
from rapport.request.history import PurchaseHistory
from rapport.request.interactions import Interactions
from rapport.request.model import OfferModel
from rapport.request.reasons import Explainer

MAX_OFFERS = 50
_CACHE_SIZE = 4


@dataclass(frozen=True)
class Offer:
    """One option: the item, its rank and blended score, a short true reason and the evidence behind it."""

    sku: str
    name: str | None
    category: str | None
    price: float | None
    rank: int
    score: float
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    model_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class OfferSource(Protocol):
    """What the curated offering reads from storage (rapport.store.offers implements it)."""

    def purchase_history(self, canonical_id: str) -> PurchaseHistory: ...

    def available_skus(self) -> frozenset[str] | None: ...

    def latest_model_version(self) -> str | None: ...

    def load_model(self, version: str) -> OfferModel: ...

    @property
    def identity(self) -> str: ...


class OfferStore(Protocol):
    """A store with customers and an offer source (rapport.store.store.Store)."""

    def canonical_id(self, customer_id: str) -> str: ...

    @property
    def offers(self) -> OfferSource: ...


_MODELS: OrderedDict[tuple[str, str], OfferModel] = OrderedDict()
_MODELS_LOCK = threading.Lock()  # API routes run in a thread pool


def current_model(source: OfferSource) -> OfferModel:
    """The latest trained model, loaded once per version."""
    version = source.latest_model_version()
    if version is None:
        raise Conflict("No offer model is trained yet; run `rapport train` (the demo runs it).")
    key = (source.identity, version)
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is not None:
            _MODELS.move_to_end(key)
            return model
    model = source.load_model(version)
    with _MODELS_LOCK:
        _MODELS[key] = model
        while len(_MODELS) > _CACHE_SIZE:
            _MODELS.popitem(last=False)
    return model


@dataclass(frozen=True)
class OfferList:
    """The options for one customer (their profile id) and the model version that ranked them."""

    customer_id: str
    model_version: str
    offers: list[Offer]


def curated_offers(
    store: OfferStore,
    customer_id: str,
    k: int = 5,
    need: Need | str | None = None,
    constraints: OfferConstraints | None = None,
) -> list[Offer]:
    """Up to ``k`` options for the customer, best first, each with its reason.

    Args:
        customer_id: any record id of the customer (a merged record answers for its profile).
        need: a Need (its item's or category's options), a category name or a sku (that item's category);
            None: every category.
        constraints: the caller's rules (consented categories, price range, ...), combined with the store's
            (in stock or deliverable, returned and complained-about items excluded).
    """
    return offer_list(store, customer_id, k, need, constraints).offers


def offer_list(
    store: OfferStore,
    customer_id: str,
    k: int = 5,
    need: Need | str | None = None,
    constraints: OfferConstraints | None = None,
) -> OfferList:
    """:func:`curated_offers` with the profile id and the model version (what the API answers)."""
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_OFFERS:
        raise InvalidInput(f"k={k!r} must be a whole number from 1 to {MAX_OFFERS}.")
    canonical = store.canonical_id(customer_id)
    source = store.offers
    model = current_model(source)
    past = source.purchase_history(canonical)
    rules = OfferConstraints(available_skus=source.available_skus(), excluded_skus=past.excluded)
    rules = rules.combined(need_constraints(model, need)).combined(constraints)
    return OfferList(canonical, model.version, rank_offers(model, canonical, past, rules, k))


def need_constraints(model: OfferModel, need: Need | str | None) -> OfferConstraints | None:
    """The categories a need points to: its category, or the category of its item (a sku).

    A typed reference (the API's ``need=``) that names nothing known is an error; a recognised Need whose item
    and category the model has never seen simply has no options yet.
    """
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
    if isinstance(need, Need):
        return OfferConstraints(categories=frozenset())
    raise InvalidInput(f"need={reference!r} is neither a known category nor a sku; categories: {', '.join(known)}.")


def rank_offers(
    model: OfferModel, customer: str, past: PurchaseHistory, rules: OfferConstraints, k: int
) -> list[Offer]:
    """Score every item for the customer, keep the allowed ones, and explain the top ``k``."""
    ranker = model.ranker
    lines = past.lines
    history = Interactions.of_customer(customer, lines["item"].tolist(), lines["t"].tolist(), ranker.items)
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
            )
        )
    return offers


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
