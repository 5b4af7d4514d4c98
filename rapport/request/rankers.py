"""The single rankers: popularity, the customer's own repeat behaviour, implicit ALS and category affinity.

Each ranker has ``fit(data)`` and ``score(history) -> customers x items`` (higher is better), where ``history``
holds the customers to score over the same item columns as ``data``. Scoring folds a customer's current history
in, so a customer who was not in the training data (or bought since) is scored from what they did, not dropped.
EASE lives in :mod:`rapport.request.ease`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import threadpoolctl
from scipy import sparse

from rapport.errors import InvalidInput
from rapport.request.interactions import Interactions


class Popularity:
    """Share of customers who took each item: the same list for everyone."""

    def fit(self, data: Interactions) -> Popularity:
        self.share = np.asarray(data.binary().sum(axis=0)).ravel() / max(len(data.customers), 1)
        return self

    def score(self, history: Interactions) -> np.ndarray:
        return np.tile(self.share.astype(np.float32), (len(history.customers), 1))


class TopFrequency:
    """The personal baseline: the customer's most often taken items (ties: the more recent first), then the most
    popular items."""

    def fit(self, data: Interactions) -> TopFrequency:
        self.popularity = Popularity().fit(data)
        return self

    def score(self, history: Interactions) -> np.ndarray:
        counts = history.matrix().toarray()
        latest = history.matrix(1.0 / (1.0 + history.table["step"].to_numpy())).toarray()
        recency = np.zeros_like(counts)
        np.divide(latest, counts, out=recency, where=counts > 0)  # mean of 1/(1+step): in (0, 1]
        fill = self.popularity.score(history) / 2.0  # < 1: always below any own item
        return np.where(counts > 0, 1.0 + counts + recency / 2.0, fill).astype(np.float32)


class RepeatRanker:
    """What the customer takes again, weighted by recency: each past time counts 0.5 ** (steps ago / half_life)
    (``half_life`` None: plain counts). Items they never took score 0."""

    def __init__(self, half_life: float | None = 4.0) -> None:
        self.half_life = half_life

    def fit(self, data: Interactions) -> RepeatRanker:
        return self

    def score(self, history: Interactions) -> np.ndarray:
        steps = history.table["step"].to_numpy(dtype=float)
        weights = np.ones_like(steps) if self.half_life is None else 0.5 ** (steps / self.half_life)
        return history.matrix(weights).toarray()


class ALS:
    """Implicit-feedback matrix factorisation (Hu, Koren & Volinsky 2008) with the ``implicit`` library; a
    customer's factors are solved from their history at scoring time (fold-in)."""

    def __init__(
        self, factors: int = 64, regularization: float = 0.05, alpha: float = 5.0, iterations: int = 15, seed: int = 0
    ) -> None:
        self.params = {"factors": factors, "regularization": regularization, "alpha": alpha, "iterations": iterations}
        self.seed = seed
        self.model: object | None = None

    def fit(self, data: Interactions) -> ALS:
        from implicit.cpu.als import AlternatingLeastSquares

        with warnings.catch_warnings(), threadpoolctl.threadpool_limits(1, "blas"):
            warnings.simplefilter("ignore", RuntimeWarning)  # implicit's BLAS-threads warning: limited just above
            model = AlternatingLeastSquares(**self.params, random_state=self.seed, num_threads=1)
            model.fit(data.matrix(), show_progress=False)
        model.user_factors = None  # customers are folded in at scoring: keep no per-customer factors
        self.model = model
        return self

    def customer_factors(self, matrix: sparse.csr_matrix) -> np.ndarray:
        if self.model is None:
            raise InvalidInput("Fit the ALS ranker before scoring.")
        # implicit solves with its own native code here (num_threads=1): no BLAS thread pool to limit
        return np.asarray(self.model.recalculate_user(np.arange(matrix.shape[0]), matrix))  # type: ignore[attr-defined]

    def item_factors(self) -> np.ndarray:
        return np.asarray(self.model.item_factors)  # type: ignore[union-attr]

    def score(self, history: Interactions) -> np.ndarray:
        return self.customer_factors(history.matrix()) @ self.item_factors().T


class CategoryAffinity:
    """Item attributes for cold items and new customers: the customer's share of purchases in the item's category
    (everyone's shares for a customer with no history), times the item's standing in its category; an item no one
    has taken yet stands at its category's average."""

    def __init__(self, categories: pd.Series) -> None:
        self.categories = categories  # item -> category

    def fit(self, data: Interactions) -> CategoryAffinity:
        labels = self.categories.reindex(data.items).fillna("").astype(str).to_numpy()
        self.labels, codes = np.unique(labels, return_inverse=True)
        self.codes = codes
        self.one_hot = sparse.csr_matrix(
            (np.ones(len(codes), dtype=np.float32), (np.arange(len(codes)), codes)),
            shape=(len(codes), len(self.labels)),
        )
        taken = np.asarray(data.binary().sum(axis=0)).ravel()
        best = np.zeros(len(self.labels))
        np.maximum.at(best, codes, taken)
        mean = np.bincount(codes, weights=taken, minlength=len(self.labels)) / np.bincount(
            codes, minlength=len(self.labels)
        )
        standing = np.where(taken > 0, taken, mean[codes]) / np.maximum(best[codes], 1.0)
        self.standing = standing.astype(np.float32)
        totals = np.asarray((data.matrix() @ self.one_hot).sum(axis=0)).ravel()
        self.overall = (totals / max(totals.sum(), 1.0)).astype(np.float32)
        return self

    def shares(self, history: Interactions) -> np.ndarray:
        """Customers x categories: the share of each customer's purchases in each category."""
        per_category = np.asarray((history.matrix() @ self.one_hot).todense())
        totals = per_category.sum(axis=1, keepdims=True)
        return np.where(totals > 0, per_category / np.maximum(totals, 1e-9), self.overall[None, :])

    def score(self, history: Interactions) -> np.ndarray:
        return (self.shares(history)[:, self.codes] * self.standing[None, :]).astype(np.float32)
