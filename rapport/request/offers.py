"""The curated offering: a few options that fit a customer, with the reason for each, within what may be offered.

``curated_offers`` is the one service the API, the CLI, the demo and the decision engine call. It scores on
request: the pre-trained model (held as arrays once per version and process, :mod:`rapport.request.scoring`), the
customer's current history from their events, the constraints from the store (stock, returns, complaints) combined
with the caller's (consent, price range).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from rapport.errors import Conflict, InvalidInput
from rapport.recognize.need import Need
from rapport.request.constraints import OfferConstraints
from rapport.request.history import Purchases
from rapport.request.model import OfferModel
from rapport.request.scoring import OfferScorer

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

    def model_version_and_purchases(self, canonical_id: str) -> tuple[str | None, Purchases]:
        """The latest trained model's version (None: none yet) and the profile's purchases, read together."""
        ...

    def in_stock(self, skus: Sequence[str]) -> frozenset[str] | None:
        """Which of ``skus`` are on hand or deliverable; None when no catalogue is loaded (no stock rule)."""
        ...

    def latest_model_version(self) -> str | None: ...

    def load_model(self, version: str) -> OfferModel: ...

    @property
    def identity(self) -> str: ...


class OfferStore(Protocol):
    """A store with customers and an offer source (rapport.store.store.Store)."""

    def canonical_id(self, customer_id: str) -> str: ...

    @property
    def offers(self) -> OfferSource: ...


_SCORERS: OrderedDict[tuple[str, str], OfferScorer] = OrderedDict()
_SCORERS_LOCK = threading.Lock()  # the decision engine and the CLI may score from several threads


def model_scorer(source: OfferSource, version: str | None) -> OfferScorer:
    """The trained model of ``version`` as arrays, loaded once per version and process (a few are kept)."""
    if version is None:
        raise Conflict("No offer model is trained yet; run `rapport train` (the demo runs it).")
    key = (source.identity, version)
    with _SCORERS_LOCK:
        scorer = _SCORERS.get(key)
        if scorer is not None:
            _SCORERS.move_to_end(key)
            return scorer
    scorer = OfferScorer(source.load_model(version))
    with _SCORERS_LOCK:
        _SCORERS[key] = scorer
        while len(_SCORERS) > _CACHE_SIZE:
            _SCORERS.popitem(last=False)
    return scorer


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
    *,
    profile: bool = False,
    personal: bool = True,
) -> OfferList:
    """:func:`curated_offers` with the profile id and the model version (what the API answers).

    ``profile``: ``customer_id`` is a profile id already resolved (the API's ``customer_scope`` found it, the
    decision's state holds it), so it is not looked up again. ``personal=False`` (no personalisation consent): the
    customer's history is not read; the options are the ones anyone would get (popularity and standing within the
    same constraints), never ranked on what they bought.
    """
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_OFFERS:
        raise InvalidInput(f"k={k!r} must be a whole number from 1 to {MAX_OFFERS}.")
    canonical = customer_id if profile else store.canonical_id(customer_id)
    source = store.offers
    if personal:
        version, bought = source.model_version_and_purchases(canonical)
    else:
        version, bought = source.latest_model_version(), Purchases([], [], frozenset())
    scorer = model_scorer(source, version)
    rules = OfferConstraints(excluded_skus=bought.excluded).combined(need_constraints(scorer, need))
    return OfferList(
        canonical, scorer.model.version, rank_offers(scorer, bought, rules.combined(constraints), k, source)
    )


def need_constraints(scorer: OfferScorer, need: Need | str | None) -> OfferConstraints | None:
    """The categories a need points to: its category, or the category of its item (a sku).

    A typed reference (the API's ``need=``) that names nothing known is an error; a recognised Need whose item
    and category the model has never seen simply has no options yet.
    """
    if need is None or need == "":
        return None
    if isinstance(need, Need) and need.category:
        return OfferConstraints(categories=frozenset([need.category]))
    reference = need.item if isinstance(need, Need) else need.strip()
    if reference in scorer.item_category:
        category = scorer.item_category[reference]
        return OfferConstraints(categories=frozenset([category])) if category is not None else None
    known = scorer.known_categories
    if reference in known:
        return OfferConstraints(categories=frozenset([str(reference)]))
    if isinstance(need, Need):
        return OfferConstraints(categories=frozenset())
    raise InvalidInput(f"need={reference!r} is neither a known category nor a sku; categories: {', '.join(known)}.")


def rank_offers(
    scorer: OfferScorer, bought: Purchases, rules: OfferConstraints, k: int, stock: OfferSource | None = None
) -> list[Offer]:
    """Score every item for the customer, keep the allowed ones (in stock per ``stock``'s catalogue, asked about
    the best candidates only), and explain the top ``k``."""
    options = scorer.rank(bought, rules, k, stock.in_stock if stock is not None else None)
    skus, names, categories, prices = scorer.skus, scorer.names, scorer.categories, scorer.prices
    return [
        Offer(
            sku=str(skus[o.col]),
            name=_text(names[o.col]),
            category=_text(categories[o.col]),
            price=None if np.isnan(prices[o.col]) else float(prices[o.col]),
            rank=rank,
            score=o.score,
            reason=o.reason,
            evidence=o.evidence,
            model_version=scorer.model.version,
        )
        for rank, o in enumerate(options, start=1)
    ]


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
