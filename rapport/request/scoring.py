"""Scoring one customer on request with plain arrays: the trained model's parts, extracted once per version.

The offer model is fitted with pandas and scipy (:mod:`rapport.request.blend`). Scoring a single customer through
those objects costs milliseconds of object overhead for microseconds of arithmetic, so ``OfferScorer`` holds the
same numbers as numpy arrays and dicts and computes what ``RapportRanker.components`` computes for a one-customer
history: the same float32 operations in the same order, so the scores, the ranking and the reasons are identical
(tests/request/test_scoring.py checks it against the ranker itself).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from implicit.cpu import _als
from scipy import sparse

from rapport.request.blend import RapportRanker, scaled
from rapport.request.constraints import OfferConstraints
from rapport.request.history import Purchases
from rapport.request.model import OfferModel
from rapport.request.reasons import Explainer

# How many ranked candidates to check against the stock at first; more are read only if too few are available.
FIRST_STOCK_READ = 8


@dataclass(frozen=True)
class CustomerScores:
    """One customer's blended score per item column, each weighted component's (1 x items, for the reasons), and
    their interactions: item column, time and step (0 = their latest time), sorted by column and time."""

    scores: np.ndarray
    parts: dict[str, np.ndarray]
    cols: np.ndarray
    t: np.ndarray
    step: np.ndarray
    shares: np.ndarray | None  # 1 x categories: their share of purchases per category (the category component)


@dataclass(frozen=True)
class Option:
    """A ranked item column with its score and reason, before it becomes an Offer."""

    col: int
    score: float
    reason: str
    evidence: dict[str, Any]


class OfferScorer:
    """The parts of one trained model that scoring needs, as arrays: built once per model version and process."""

    def __init__(self, model: OfferModel) -> None:
        ranker: RapportRanker = model.ranker
        self.model, self.ranker = model, ranker
        self.skus, self.names, self.categories, self.prices = model.aligned()
        self.column = {sku: col for col, sku in enumerate(ranker.items.tolist())}
        self.weights = {name: np.float32(w) for name, w in ranker.weights.items()}
        self.half_life = ranker.settings.half_life
        self.exclude_seen = ranker.settings.exclude_seen
        rankers = ranker.rankers
        share = rankers["popularity"].share
        self.popularity = scaled(np.tile(share.astype(np.float32), (1, 1)))[0]
        self.als = rankers.get("als") if "als" in self.weights else None
        if self.als is not None:
            fitted = self.als.model
            self.item_factors = np.asarray(fitted.item_factors)
            self.yty = fitted.YtY
            self.als_alpha, self.als_regularization = fitted.alpha, fitted.regularization
            self.als_factors, self.als_dtype, self.als_threads = fitted.factors, fitted.dtype, fitted.num_threads
        self.ease = rankers.get("ease") if "ease" in self.weights else None
        self.category = rankers.get("category")
        category_of = model.items["category"]
        self.item_category = {
            sku: (str(value) if pd.notna(value) else None)
            for sku, value in zip(model.items.index.tolist(), category_of.tolist(), strict=True)
        }
        self.known_categories = sorted(category_of.dropna().astype(str).unique())

    # ----- scores ----------------------------------------------------------------------------------------------
    def score(self, bought: Purchases) -> CustomerScores:
        """Every weighted component for one customer, scaled, and their blend (``RapportRanker.score``)."""
        cols, t, step = self._interactions(bought)
        unique_cols, counts = np.unique(cols, return_counts=True)  # distinct times per item: the counts matrix
        counts32 = counts.astype(np.float32)
        parts: dict[str, np.ndarray] = {}
        shares = self._shares(unique_cols, counts32) if self.category is not None else None
        for name in self.weights:
            if name == "repeat":
                raw = self._repeat(cols, step)
            elif name == "als":
                raw = self._als(unique_cols, counts32)
            elif name == "ease":
                raw = self._ease(unique_cols)
            elif name == "popularity":
                parts[name] = self.popularity[None, :]
                continue
            else:
                assert shares is not None and self.category is not None
                raw = (shares[:, self.category.codes] * self.category.standing[None, :]).astype(np.float32)
            parts[name] = scaled(raw)
        total = np.zeros(len(self.skus), dtype=np.float32)
        for name, w in self.weights.items():
            total += w * parts[name][0]
        return CustomerScores(total, parts, cols, t, step, shares)

    def _interactions(self, bought: Purchases) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct (item column, time) pairs of the items the model knows, and each time's step."""
        column = self.column
        pairs = sorted(
            {(column[item], t) for item, t in zip(bought.items, bought.times, strict=True) if item in column}
        )
        cols = np.fromiter((c for c, _ in pairs), dtype=np.intp, count=len(pairs))
        t = np.fromiter((x for _, x in pairs), dtype=float, count=len(pairs))
        distinct, inverse = np.unique(t, return_inverse=True)
        return cols, t, (len(distinct) - 1 - inverse).astype(int)

    def _repeat(self, cols: np.ndarray, step: np.ndarray) -> np.ndarray:
        steps = step.astype(float)
        weights = np.ones_like(steps) if self.half_life is None else 0.5 ** (steps / self.half_life)
        out = np.zeros((1, len(self.skus)), dtype=np.float32)
        np.add.at(out[0], cols, weights.astype(np.float32))  # in order, as the sparse matrix sums duplicates
        return out

    def _als(self, unique_cols: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The customer's factors solved from their history (implicit's own solver, as ``recalculate_user``
        calls it), times the item factors."""
        factors = np.zeros((1, self.als_factors), dtype=self.als_dtype)
        indptr = np.array([0, len(unique_cols)], dtype=np.int32)
        confidence = (counts * self.als_alpha).astype(np.float32)
        _als._least_squares(
            self.yty,
            indptr,
            unique_cols.astype(np.int32),
            confidence,
            factors,
            self.item_factors,
            self.als_regularization,
            num_threads=self.als_threads,
        )
        return factors @ self.item_factors.T

    def _ease(self, unique_cols: np.ndarray) -> np.ndarray:
        assert self.ease is not None
        if self.ease.weights is None:  # the dual form (more items than customers): the model's own product
            ones = np.ones(len(unique_cols), dtype=np.float32)
            indptr = np.array([0, len(unique_cols)], dtype=np.int32)
            row = sparse.csr_matrix((ones, unique_cols.astype(np.int32), indptr), shape=(1, len(self.skus)))
            return self.ease.score_matrix(row)
        out = np.zeros(len(self.skus), dtype=np.float32)
        for col in unique_cols.tolist():  # row by row in column order, as the sparse product adds them
            out += self.ease.weights[col]
        return out[None, :]

    def _shares(self, unique_cols: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """1 x categories: the customer's share of purchases in each (everyone's shares when they have none)."""
        assert self.category is not None
        per_category = np.zeros(len(self.category.labels), dtype=np.float32)
        np.add.at(per_category, self.category.codes[unique_cols], counts)
        total = per_category.sum()
        if total > 0:
            return (per_category / np.maximum(total, np.float32(1e-9)))[None, :]
        return self.category.overall[None, :].copy()

    # ----- ranking ---------------------------------------------------------------------------------------------
    def rank(
        self,
        bought: Purchases,
        rules: OfferConstraints,
        k: int,
        in_stock: Callable[[Sequence[str]], frozenset[str] | None] | None = None,
    ) -> list[Option]:
        """The ``k`` best allowed items with their reasons. ``in_stock`` (the store's stock of some skus; None:
        no catalogue) is asked only about the best candidates, more of them only while too few are available."""
        scored = self.score(bought)
        allowed = rules.allowed(self.skus, self.categories, self.prices)
        if self.exclude_seen:
            allowed[scored.cols] = False
        candidates = np.flatnonzero(allowed & np.isfinite(scored.scores))
        ordered = candidates[np.argsort(-scored.scores[candidates], kind="stable")].tolist()
        chosen = ordered[:k] if in_stock is None else _available(ordered, k, self.skus, in_stock)
        explainer = Explainer.of_one(
            self.ranker, (scored.cols, scored.t, scored.step), scored.shares, self.names, self.categories, days=True
        )
        options = []
        for col in chosen:
            reason, evidence = explainer.explain(0, col, self.ranker.contributions(scored.parts, 0, col))
            options.append(Option(col, round(float(scored.scores[col]), 6), reason, evidence))
        return options


def _available(
    ordered: list[int], k: int, skus: np.ndarray, in_stock: Callable[[Sequence[str]], frozenset[str] | None]
) -> list[int]:
    """The first ``k`` of ``ordered`` that are in stock, reading the stock of a few candidates at a time."""
    chosen: list[int] = []
    start, size = 0, max(FIRST_STOCK_READ, 2 * k)
    while len(chosen) < k and start < len(ordered):
        batch = ordered[start : start + size]
        found = in_stock([str(skus[col]) for col in batch])
        if found is None:  # no catalogue: stock restricts nothing
            return ordered[:k]
        chosen += [col for col in batch if str(skus[col]) in found][: k - len(chosen)]
        start, size = start + len(batch), size * 4
    return chosen
