"""What may be offered to a customer: deliverable items, consented categories, no returned or complained-about
items, a price range, the need's categories.

``OfferConstraints`` is an explicit input to the ranking, so each source of a rule stays where it belongs: the
store gives stock and deliverability (the ``catalogue_items`` table) and returns/complaints (events); the API gives
the price range; the need gives the categories. Consent: ``withheld_categories`` are the categories the customer
withdrew from personalisation (``personalisation:<category>``, filled by rapport.decide.consent); a caller that
knows exactly which categories were consented may pass ``consented_categories`` instead (``None``: no such rule).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from rapport.errors import InvalidInput


@dataclass(frozen=True)
class OfferConstraints:
    """Rules an offer must satisfy; ``None`` leaves that rule open."""

    available_skus: frozenset[str] | None = None  # in stock or deliverable through a connection architecture
    consented_categories: frozenset[str] | None = None  # categories the customer consented to personalise
    categories: frozenset[str] | None = None  # the need's categories
    excluded_skus: frozenset[str] = frozenset()  # returned or complained about
    min_price: float | None = None
    max_price: float | None = None
    withheld_categories: frozenset[str] = frozenset()  # categories the customer withdrew from personalisation

    def __post_init__(self) -> None:
        for name in ("min_price", "max_price"):
            value = getattr(self, name)
            if value is not None and (not math.isfinite(value) or value < 0):
                raise InvalidInput(f"{name}={value} must be a non-negative number.")
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise InvalidInput(f"min_price {self.min_price} is above max_price {self.max_price}; swap them.")

    def combined(self, other: OfferConstraints | None) -> OfferConstraints:
        """Both sets of rules at once (the stricter of each)."""
        if other is None:
            return self
        return replace(
            self,
            available_skus=_both(self.available_skus, other.available_skus),
            consented_categories=_both(self.consented_categories, other.consented_categories),
            categories=_both(self.categories, other.categories),
            excluded_skus=self.excluded_skus | other.excluded_skus,
            withheld_categories=self.withheld_categories | other.withheld_categories,
            min_price=_pick(max, self.min_price, other.min_price),
            max_price=_pick(min, self.max_price, other.max_price),
        )

    def allowed(self, skus: np.ndarray, categories: np.ndarray, prices: np.ndarray) -> np.ndarray:
        """A boolean per item (aligned arrays of sku, category or None, price or NaN): may it be offered?"""
        ok = ~np.isin(skus, list(self.excluded_skus))
        if self.available_skus is not None:
            ok &= np.isin(skus, list(self.available_skus))
        if self.consented_categories is not None:
            ok &= np.isin(categories, list(self.consented_categories))
        if self.withheld_categories:
            ok &= ~np.isin(categories, list(self.withheld_categories))
        if self.categories is not None:
            ok &= np.isin(categories, list(self.categories))
        price = prices.astype(float)
        with np.errstate(invalid="ignore"):  # an unknown price (NaN) cannot be shown to fit a range
            if self.min_price is not None:
                ok &= price >= self.min_price
            if self.max_price is not None:
                ok &= price <= self.max_price
        return ok


def _both(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    return a if b is None else a & b


def _pick(choose: Callable[[list[float]], float], a: float | None, b: float | None) -> float | None:
    values = [v for v in (a, b) if v is not None]
    return choose(values) if values else None
