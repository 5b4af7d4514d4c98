"""Rapport's ranker: the customer's own repeat behaviour, ALS, EASE, popularity and category affinity, blended.

Each component's scores are scaled per customer to [-1, 1] (divided by the customer's largest absolute score), then
weighted and summed. The weights and each component's settings are chosen on a validation split carved from the
training data (:mod:`rapport.request.tuning`), never on the test split.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rapport.errors import InvalidInput
from rapport.request.ease import EASE
from rapport.request.interactions import Interactions
from rapport.request.rankers import ALS, CategoryAffinity, Popularity, RepeatRanker

COMPONENTS = ("repeat", "als", "ease", "popularity", "category")
DEFAULT_WEIGHTS = {"repeat": 0.5, "als": 0.15, "ease": 0.2, "popularity": 0.05, "category": 0.1}


@dataclass
class RankerSettings:
    """What the blend is made of; ``exclude_seen`` drops items the customer already took (data with no repeats)."""

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    half_life: float | None = 4.0
    ease_regularization: float = 250.0
    als: dict[str, float] = field(default_factory=lambda: {"factors": 64, "regularization": 0.05, "alpha": 5.0})
    exclude_seen: bool = False

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weights) - set(COMPONENTS))
        if unknown:
            raise InvalidInput(f"Unknown ranker component(s) {unknown}; the blend has {list(COMPONENTS)}.")
        if any(w < 0 for w in self.weights.values()) or sum(self.weights.values()) <= 0:
            raise InvalidInput(f"Blend weights {self.weights} must be non-negative and not all zero.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def scaled(scores: np.ndarray) -> np.ndarray:
    """Each row divided by its largest absolute value (rows of zeros stay zero)."""
    top = np.abs(scores).max(axis=1, keepdims=True)
    return np.divide(scores, top, out=np.zeros_like(scores, dtype=np.float32), where=top > 0)


class RapportRanker:
    """The blend. ``categories`` (item -> category) enables the category component.

    Example:
        >>> ranker = RapportRanker(RankerSettings()).fit(Interactions.build(table))
        >>> ranker.score(history)            # customers x items
        >>> ranker.components(history)       # the scaled score of each component, for reasons
    """

    def __init__(self, settings: RankerSettings | None = None, categories: pd.Series | None = None) -> None:
        self.settings = settings or RankerSettings()
        weights = dict(self.settings.weights)
        if categories is None:
            weights.pop("category", None)
        self.weights = {name: w for name, w in weights.items() if w > 0}
        if not self.weights:
            raise InvalidInput(f"No usable blend component in {self.settings.weights}.")
        self.categories = categories
        self.rankers: dict[str, Any] = {}

    def fit(self, data: Interactions) -> RapportRanker:
        s = self.settings
        self.rankers = {"popularity": Popularity().fit(data), "repeat": RepeatRanker(s.half_life).fit(data)}
        if "als" in self.weights:
            self.rankers["als"] = ALS(**s.als).fit(data)  # type: ignore[arg-type]
        if "ease" in self.weights:
            self.rankers["ease"] = EASE(s.ease_regularization).fit(data)
        if self.categories is not None:
            self.rankers["category"] = CategoryAffinity(self.categories).fit(data)
        self.items = data.items
        return self

    def components(self, history: Interactions) -> dict[str, np.ndarray]:
        """The scaled scores of every weighted component for the customers in ``history``."""
        if not self.rankers:
            raise InvalidInput("Fit the ranker before scoring.")
        return {name: scaled(self.rankers[name].score(history)) for name in self.weights}

    def score(self, history: Interactions) -> np.ndarray:
        return combine(self.components(history), self.weights)

    def contributions(self, parts: dict[str, np.ndarray], row: int, col: int) -> dict[str, float]:
        """Each component's weighted share of one customer's score for one item (what a reason explains)."""
        return {name: self.weights[name] * float(part[row, col]) for name, part in parts.items()}


def combine(components: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """The weighted sum of scaled component scores."""
    first = next(iter(components.values()))
    total = np.zeros_like(first, dtype=np.float32)
    for name, w in weights.items():
        if w > 0 and name in components:
            total += np.float32(w) * components[name]
    return total
