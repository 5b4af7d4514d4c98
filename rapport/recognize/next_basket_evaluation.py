"""Hold out each customer's last order; score Rapport against the personal baselines in the same run.

Items: recall@k and NDCG@k of Rapport's next-basket model vs the customer's most frequent items (``top_frequency``).
Days to the next order: mean absolute error of Rapport's shrunk interval vs the customer's median interval.
Nothing is tuned on the held-out orders: the interval model's two hyperparameters are chosen on each customer's
second-, third- and fourth-to-last orders (each predicted from the orders before it), then the models are refitted
on all known orders. The item classifier and the interval correction learn from the same earlier orders, never
from the held-out one. Items are scored over users with at least two orders; the MAE over users with at least one
known interval (three orders) and a held-out interval.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from rapport.errors import InvalidInput
from rapport.recognize.next_basket import NextBasketModel, order_gaps, order_lines, top_frequency
from rapport.recognize.order_interval import OrderIntervalModel

HALF_LIVES: tuple[float | None, ...] = (2.0, 4.0, 8.0, 16.0, 32.0, None)
CONCENTRATIONS = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)


def evaluate_next_basket(
    orders: pd.DataFrame,
    user_col: str,
    order_col: str,
    item_col: str,
    days_col: str | None = None,
    k: int = 10,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The next-basket evaluation as a JSON-ready dict:
    ``{"methods": {"top_frequency": {"recall@k", "ndcg@k"}, "rapport": {…}},
    "interval": {"median_interval": {"mae"}, "rapport": {"mae"}}}`` (MAEs are None without a days column).

    ``progress`` is called with 1 after each of the 4 steps.
    """
    if k < 1:
        raise InvalidInput(f"k={k} must be at least 1.")
    step = progress or (lambda n: None)
    lines = order_lines(orders, user_col, order_col, item_col, days_col)
    last = lines.groupby("customer")["seq"].transform("max")
    known, held = lines[lines["seq"] < last], lines[(lines["seq"] == last) & (last >= 2)]
    if held.empty:
        raise InvalidInput(f"Every user has a single order; hold-out needs users with at least two {order_col!r}.")
    step(1)
    half_life, concentration = select_interval_hyperparameters(known) if days_col else (8.0, 1.0)
    step(1)
    model = NextBasketModel(half_life=half_life, concentration=concentration).fit(known)
    step(1)
    methods = {
        "top_frequency": ranking_metrics(top_frequency(known, k), held, k),
        "rapport": ranking_metrics(model.recommend(k), held, k),
    }
    interval: dict[str, dict[str, float | None]] = {"median_interval": {"mae": None}, "rapport": {"mae": None}}
    if days_col:
        actual = order_gaps(held).set_index("customer")["gap"]
        baseline = order_gaps(known).groupby("customer")["gap"].median().dropna()
        customers = baseline.index.intersection(actual.dropna().index)
        predicted = model.days_to_next_order()["median"].reindex(customers)
        interval["median_interval"]["mae"] = _mae(baseline.reindex(customers), actual.reindex(customers))
        interval["rapport"]["mae"] = _mae(predicted, actual.reindex(customers))
    step(1)
    return {"methods": methods, "interval": interval}


def ranking_metrics(ranked: pd.DataFrame, held: pd.DataFrame, k: int) -> dict[str, float]:
    """Mean recall@k and NDCG@k (binary relevance) over the customers with a held-out basket."""
    truth = held.drop_duplicates(["customer", "item"])
    sizes = truth.groupby("customer").size()
    top = ranked[ranked["rank"] <= k]
    hits = top.merge(truth[["customer", "item"]], on=["customer", "item"], how="inner")
    gain = (1 / np.log2(hits["rank"] + 1)).groupby(hits["customer"]).sum().reindex(sizes.index, fill_value=0.0)
    found = hits.groupby("customer").size().reindex(sizes.index, fill_value=0)
    discounts = np.cumsum(1 / np.log2(np.arange(2, k + 2)))
    ideal = discounts[np.minimum(sizes.to_numpy(), k) - 1]
    return {f"recall@{k}": float((found / sizes).mean()), f"ndcg@{k}": float((gain / ideal).mean())}


def select_interval_hyperparameters(known: pd.DataFrame, validation_orders: int = 3) -> tuple[float | None, float]:
    """(half_life, concentration) with the lowest MAE on each customer's last ``validation_orders`` known orders,
    each predicted from the orders before it (one validation order alone picks noise)."""
    gaps = order_gaps(known)
    last = gaps.groupby("customer")["seq"].transform("max")
    folds = []
    for back in range(validation_orders):
        train = gaps[gaps["seq"] < last - back]
        target = gaps[gaps["seq"] == last - back].set_index("customer")["gap"].dropna()
        target = target[target.index.isin(train.dropna(subset=["gap"])["customer"].unique())]
        if not target.empty:
            folds.append((train, target))
    if not folds:
        return 8.0, 1.0
    best: tuple[float, float | None, float] = (np.inf, 8.0, 1.0)
    for half_life, concentration in itertools.product(HALF_LIVES, CONCENTRATIONS):
        errors = []
        for train, target in folds:
            model = OrderIntervalModel(half_life, concentration).fit(train, "customer", "gap")
            errors.append(np.abs(model.predict(target.index)["median"].to_numpy() - target.to_numpy()))
        mae = float(np.concatenate(errors).mean())
        if mae < best[0] - 1e-12:
            best = (mae, half_life, concentration)
    return best[1], best[2]


def _mae(predicted: pd.Series, actual: pd.Series) -> float:
    return float(np.mean(np.abs(predicted.to_numpy(dtype=float) - actual.to_numpy(dtype=float))))
