"""Choosing the ranker's settings honestly: on a validation split carved from the training data only.

The training data are split again with the same time split; each component's own setting (recency half-life, EASE
regularisation, ALS factors and confidence) is chosen by NDCG@k on that validation split, then the blend weights
on a grid over the simplex. The tuned ALS and EASE are also the baselines of the evaluation, so Rapport's blend is
compared against equally tuned single models.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rapport.errors import InvalidInput
from rapport.recognize.next_basket_evaluation import ranking_metrics
from rapport.request.blend import COMPONENTS, RankerSettings, combine, scaled
from rapport.request.ease import EASE
from rapport.request.evaluation import REPEAT_FLOOR, TimeSplit, top_columns
from rapport.request.interactions import Interactions
from rapport.request.rankers import ALS, CategoryAffinity, Popularity, RepeatRanker

HALF_LIVES: tuple[float | None, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, None)
EASE_REGULARIZATIONS = (10.0, 50.0, 200.0, 500.0, 1000.0, 3000.0)
ALS_GRID = tuple(
    {"factors": factors, "regularization": 0.05, "alpha": alpha}
    for factors in (32, 64, 128)
    for alpha in (1.0, 5.0, 20.0)
)
MAX_VALIDATION_CELLS = 25_000_000  # customers x items scored at once while tuning (memory bound)
TUNING_STEPS = 5  # progress steps: split, repeat, EASE, ALS, weights


@dataclass
class Validation:
    """A validation split of the training data: fit on ``data``, score ``history``, compare with ``held``."""

    data: Interactions
    history: Interactions
    held: pd.DataFrame  # customer: history row, item: column
    k: int
    exclude_seen: bool

    @classmethod
    def carve(cls, train: pd.DataFrame, split: TimeSplit, k: int, seed: int = 0) -> Validation:
        fit_part, held = split.apply(train)
        data = Interactions.build(fit_part)
        customers = pd.Index(held["customer"].unique())
        most = max(1, MAX_VALIDATION_CELLS // max(len(data.items), 1))
        if len(customers) > most:
            customers = pd.Index(np.random.default_rng(seed).choice(customers.to_numpy(), most, replace=False))
        history = data.rows(customers)
        held = held[held["customer"].isin(history.customers)]
        # by row and column numbers (items unseen in training get numbers past the columns): fast merges
        unseen = pd.Index(held.loc[data.items.get_indexer(held["item"]) < 0, "item"].unique())
        column = data.items.get_indexer(held["item"])
        column[column < 0] = len(data.items) + unseen.get_indexer(held["item"][column < 0])
        coded = pd.DataFrame({"customer": history.customers.get_indexer(held["customer"]), "item": column})
        return cls(data, history, coded, k, data.repeat_share() < REPEAT_FLOOR)

    def quality(self, scores: np.ndarray) -> float:
        """NDCG@k of these scores on the validation items."""
        ranked = top_columns(scores, self.history, self.k, self.exclude_seen)
        return ranking_metrics(ranked, self.held, self.k)[f"ndcg@{self.k}"]


@dataclass
class Tuned:
    settings: RankerSettings
    validation: dict[str, Any] = field(default_factory=dict)  # what each choice scored


def tune(
    train: pd.DataFrame,
    split: TimeSplit,
    k: int,
    categories: pd.Series | None = None,
    progress: Callable[[int], None] | None = None,
) -> Tuned:
    """Settings for :class:`rapport.request.blend.RapportRanker` chosen on a validation split of ``train``."""
    step = progress or (lambda n: None)
    try:
        v = Validation.carve(train, split, k)
    except InvalidInput as exc:
        raise InvalidInput(f"Too little history to tune the ranker on a validation split: {exc}") from None
    step(1)
    report: dict[str, Any] = {"customers": len(v.history.customers), "exclude_seen": v.exclude_seen}
    half_life, report["repeat"] = _best(HALF_LIVES, lambda h: v.quality(RepeatRanker(h).score(v.history)))
    step(1)
    ease_reg, report["ease"] = _best(EASE_REGULARIZATIONS, lambda r: v.quality(EASE(r).fit(v.data).score(v.history)))
    step(1)
    als, report["als"] = _best(ALS_GRID, lambda p: v.quality(ALS(**p).fit(v.data).score(v.history)))  # type: ignore[arg-type]
    step(1)
    parts = {
        "repeat": RepeatRanker(half_life).score(v.history),
        "als": ALS(**als).fit(v.data).score(v.history),  # type: ignore[arg-type]
        "ease": EASE(ease_reg).fit(v.data).score(v.history),
        "popularity": Popularity().fit(v.data).score(v.history),
    }
    if categories is not None:
        parts["category"] = CategoryAffinity(categories).fit(v.data).score(v.history)
    if v.exclude_seen:
        del parts["repeat"]  # nothing is taken twice: the customer's own items are never offered
    weights, report["blend"] = best_weights({name: scaled(s) for name, s in parts.items()}, v.quality)
    step(1)
    settings = RankerSettings(weights, half_life, ease_reg, dict(als), v.exclude_seen)
    return Tuned(settings, report)


def best_weights(
    components: dict[str, np.ndarray], quality: Callable[[np.ndarray], float]
) -> tuple[dict[str, float], float]:
    """The weights on a simplex grid (steps of 1/8, 1/6 past four components) with the best validation quality."""
    names = [n for n in COMPONENTS if n in components]
    steps = 8 if len(names) <= 4 else 6
    best: tuple[float, dict[str, float]] = (-1.0, {})
    for combo in itertools.product(range(steps + 1), repeat=len(names)):
        if sum(combo) != steps:
            continue
        weights = {n: c / steps for n, c in zip(names, combo, strict=True)}
        score = quality(combine(components, weights))
        if score > best[0] + 1e-9:
            best = (score, weights)
    return best[1], best[0]


def _best(options: tuple[Any, ...], quality: Callable[[Any], float]) -> tuple[Any, dict[str, Any]]:
    scored = [(quality(option), i) for i, option in enumerate(options)]
    value, index = max(scored, key=lambda pair: (pair[0], -pair[1]))
    return options[index], {"chosen": options[index], "ndcg": value}
