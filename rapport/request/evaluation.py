"""Offline evaluation of recommenders: time-based splits, recall@k, precision@k, NDCG@k, MAP@k and coverage.

Splits never look forward: ``last`` holds out each customer's last time (their last order, next-basket style),
``fraction`` each customer's latest share of interactions, ``global`` everything after a cut-off time. Recall and
NDCG are the ones Recognize's next-basket evaluation reports (:func:`rapport.recognize.next_basket_evaluation.
ranking_metrics`); precision, MAP and coverage are added here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rapport.errors import InvalidInput
from rapport.recognize.next_basket_evaluation import ranking_metrics
from rapport.request.interactions import Interactions

SplitKind = Literal["last", "fraction", "global"]
SPLIT_KINDS = ("auto", "last", "fraction", "global")
REPEAT_FLOOR = 0.01  # below this share of repeated (customer, item) pairs, items already taken are not offered


@dataclass(frozen=True)
class TimeSplit:
    """How to hold out the future. ``fraction`` is used by the ``fraction`` and ``global`` kinds."""

    kind: SplitKind = "last"
    fraction: float = 0.2

    def __post_init__(self) -> None:
        if self.kind not in SPLIT_KINDS[1:]:
            raise InvalidInput(f"Split {self.kind!r} is unknown; use one of {', '.join(SPLIT_KINDS)}.")
        if not 0.0 < self.fraction < 1.0:
            raise InvalidInput(f"Hold-out fraction {self.fraction} must be between 0 and 1.")

    @classmethod
    def choose(cls, table: pd.DataFrame, kind: str = "auto", fraction: float = 0.2) -> TimeSplit:
        """``auto``: ``last`` for baskets (two or more items per customer and time on average, and items bought
        again), else ``fraction`` (ratings, views: several may share a second, none repeats)."""
        if kind != "auto":
            return cls(kind, fraction)  # type: ignore[arg-type]
        per_time = table.groupby(["customer", "t"]).size().mean()
        repeats = table.drop_duplicates(["customer", "item", "t"]).duplicated(["customer", "item"]).mean()
        return cls("last" if per_time >= 2.0 and repeats >= REPEAT_FLOOR else "fraction", fraction)

    def apply(self, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(train, test); test keeps only customers who also have training interactions."""
        if self.kind == "last":
            latest = table.groupby("customer")["t"].transform("max")
            times = table.groupby("customer")["t"].transform("nunique")
            held = (table["t"] == latest) & (times >= 2)
        elif self.kind == "fraction":
            order = table.sort_values(["customer", "t"], kind="stable")
            position = order.groupby("customer").cumcount()
            size = order.groupby("customer")["t"].transform("size")
            cut = size - np.ceil(size * self.fraction).astype(int)
            held = pd.Series((position >= cut) & (size >= 2), index=order.index).reindex(table.index)
        else:
            cutoff = table["t"].quantile(1.0 - self.fraction)
            held = table["t"] > cutoff
        train, test = table[~held], table[held]
        test = test[test["customer"].isin(train["customer"].unique())]
        if train.empty or test.empty:
            raise InvalidInput(
                f"The {self.kind!r} time split leaves nothing to learn from or to test on ({len(train)} training, "
                f"{len(test)} test rows); customers need interactions at two or more times."
            )
        return train.reset_index(drop=True), test.reset_index(drop=True)


def top_columns(scores: np.ndarray, history: Interactions, k: int, exclude_seen: bool) -> pd.DataFrame:
    """The ``k`` best item columns per customer row of ``history`` (customer: row, item: column, score, rank)."""
    k = min(k, scores.shape[1])
    if exclude_seen:
        scores = scores.astype(np.float32, copy=True)
        seen = history.binary().tocoo()
        scores[seen.row, seen.col] = -np.inf
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    chosen = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-chosen, axis=1, kind="stable")
    ranked = pd.DataFrame(
        {
            "customer": np.repeat(np.arange(scores.shape[0]), k),
            "item": np.take_along_axis(part, order, axis=1).ravel(),
            "score": np.take_along_axis(chosen, order, axis=1).ravel(),
            "rank": np.tile(np.arange(1, k + 1), scores.shape[0]),
        }
    )
    return ranked[np.isfinite(ranked["score"])].reset_index(drop=True)


def top_items(scores: np.ndarray, history: Interactions, k: int, exclude_seen: bool) -> pd.DataFrame:
    """The ``k`` best items per customer of ``history`` (customer, item, score, rank), by their labels."""
    ranked = top_columns(scores, history, k, exclude_seen)
    ranked["customer"] = history.customers.to_numpy()[ranked["customer"].to_numpy()]
    ranked["item"] = history.items.to_numpy()[ranked["item"].to_numpy()]
    return ranked


def offline_metrics(ranked: pd.DataFrame, held: pd.DataFrame, k: int, catalogue_size: int) -> dict[str, float]:
    """recall@k, precision@k, NDCG@k, MAP@k (mean over customers with held-out items) and coverage@k (share of
    the catalogue that appears in someone's top k)."""
    truth = held.drop_duplicates(["customer", "item"])
    figures = ranking_metrics(ranked, truth, k)
    sizes = truth.groupby("customer").size()
    top = ranked[ranked["rank"] <= k]
    hits = top.merge(truth[["customer", "item"]], on=["customer", "item"], how="inner").sort_values(
        ["customer", "rank"]
    )
    found = hits.groupby("customer").size().reindex(sizes.index, fill_value=0)
    hits["precision_at_hit"] = (hits.groupby("customer").cumcount() + 1) / hits["rank"]
    average = hits.groupby("customer")["precision_at_hit"].sum().reindex(sizes.index, fill_value=0.0)
    figures[f"precision@{k}"] = float((found / k).mean())
    figures[f"map@{k}"] = float((average / np.minimum(sizes, k)).mean())
    figures[f"coverage@{k}"] = float(top["item"].nunique() / max(catalogue_size, 1))
    return {name: _finite(value) for name, value in figures.items()}


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0
