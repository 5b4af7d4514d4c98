"""Reasons: one short, true sentence per offer, built from the component that contributed most to its score.

Every sentence states evidence the ranker used: the customer's own purchases and their rhythm (repeat), the item
of theirs that most raises this one in EASE ("people who bought X often add Y"), the item of theirs closest in ALS'
factor space, the item's popularity, or the customer's share of purchases in its category.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from rapport.request.blend import RapportRanker
from rapport.request.interactions import Interactions

STRONG_EASE_WEIGHT = 0.1


class Explainer:
    """Reasons for offers to the customers of ``history``. ``names`` and ``categories`` (None when unknown) are
    aligned with the ranker's items; ``days``: times are days since the epoch (a store), not order numbers."""

    def __init__(
        self,
        ranker: RapportRanker,
        history: Interactions | None,
        names: np.ndarray,
        categories: np.ndarray,
        days: bool,
    ) -> None:
        self.ranker, self.history, self.days = ranker, history, days
        self.names, self.categories = names, categories
        self._rows: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._cache: dict[str, np.ndarray] = {}

    @classmethod
    def of_one(
        cls,
        ranker: RapportRanker,
        own: tuple[np.ndarray, np.ndarray, np.ndarray],
        shares: np.ndarray | None,
        names: np.ndarray,
        categories: np.ndarray,
        days: bool,
    ) -> Explainer:
        """Reasons for one customer (row 0) from their interactions already at hand: (item columns, times,
        steps) and, when the ranker has a category component, their category shares (1 x categories)."""
        explainer = cls(ranker, None, names, categories, days)
        explainer._rows[0] = own
        if shares is not None:
            explainer._cache["shares"] = shares
        return explainer

    def explain(self, row: int, col: int, contributions: dict[str, float]) -> tuple[str, dict[str, Any]]:
        """(reason, evidence) for offering item column ``col`` to customer row ``row``."""
        for name, _ in sorted(contributions.items(), key=lambda pair: -pair[1]):
            found = getattr(self, f"_{name}")(row, col)
            if found is not None:
                text, evidence = found
                return text, {"component": name, **evidence, "contributions": _rounded(contributions)}
        text, evidence = self._popularity(row, col) or self._new(col)
        return text, {"component": "popularity", **evidence, "contributions": _rounded(contributions)}

    def _new(self, col: int) -> tuple[str, dict[str, Any]]:
        """An item no one has bought yet: nothing ranked it above the others; say what it is."""
        where = f" in {_label(self.categories[col])}" if self.categories[col] else ""
        return f"new{where}: no one has bought it yet", {"customer_share": 0.0}

    def _own(self, row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The customer's (item columns, times, steps), one entry per item and time."""
        if row not in self._rows:
            assert self.history is not None, "of_one gives its customer's interactions"
            table = self.history.table
            mine = table["row"].to_numpy() == row
            self._rows[row] = tuple(table[name].to_numpy()[mine] for name in ("col", "t", "step"))  # type: ignore[assignment]
        return self._rows[row]

    def _repeat(self, row: int, col: int) -> tuple[str, dict[str, Any]] | None:
        cols, t, step = self._own(row)
        times = np.unique(t[cols == col])
        if len(times) == 0:
            return None
        evidence: dict[str, Any] = {"purchases": len(times)}
        if not self.days:
            steps = int(step[cols == col].min())
            when = "in your latest order" if steps == 0 else f"{steps} order{'s' if steps > 1 else ''} ago"
            return f"you bought this {len(times)} time{'s' if len(times) > 1 else ''}, most recently {when}", evidence
        last = datetime.fromtimestamp(float(times[-1]) * 86_400.0, UTC).date().isoformat()
        evidence["last"] = last
        if len(times) == 1:
            return f"you bought this on {last}", evidence
        every = float(times[-1] - times[0]) / (len(times) - 1)
        evidence["every_days"] = round(every, 1)
        return f"you buy this every ~{_period(every)} (last on {last})", evidence

    def _sources(self, row: int, col: int, component: str) -> np.ndarray:
        """The customer's other items, which may explain ``col`` through ``component`` (none if it is unused)."""
        sources = np.unique(self._own(row)[0])
        return sources[sources != col] if component in self.ranker.rankers else sources[:0]

    def _ease(self, row: int, col: int) -> tuple[str, dict[str, Any]] | None:
        sources = self._sources(row, col, "ease")
        if len(sources) == 0:
            return None
        weights = self.ranker.rankers["ease"].item_weights(sources, np.array([col]))[:, 0]
        best = int(np.argmax(weights))
        if weights[best] <= 0:
            return None
        source = int(sources[best])
        evidence = {"because_of": str(self.ranker.items[source]), "weight": round(float(weights[best]), 4)}
        # B > 0.1: taking the source raises the item's score markedly ("often"); smaller: a positive association
        how = "often add" if weights[best] >= STRONG_EASE_WEIGHT else "also buy"
        return f"people who bought {self.names[source]} {how} this", evidence

    def _als(self, row: int, col: int) -> tuple[str, dict[str, Any]] | None:
        sources = self._sources(row, col, "als")
        if len(sources) == 0:
            return None
        factors = self.ranker.rankers["als"].item_factors()
        target = factors[col]
        near = factors[sources] @ target / (np.linalg.norm(factors[sources], axis=1) * np.linalg.norm(target) + 1e-12)
        best = int(np.argmax(near))
        if near[best] <= 0:
            return None
        source = int(sources[best])
        evidence = {"similar_to": str(self.ranker.items[source]), "similarity": round(float(near[best]), 3)}
        return f"customers who buy what you buy choose this; it goes with {self.names[source]}", evidence

    def _popularity(self, row: int, col: int) -> tuple[str, dict[str, Any]] | None:
        share = float(self.ranker.rankers["popularity"].share[col])
        if share <= 0:
            return None
        where = f" in {_label(self.categories[col])}" if self.categories[col] else ""
        return f"popular{where}: {_percent(share)} of customers bought it", {"customer_share": round(share, 4)}

    def _category(self, row: int, col: int) -> tuple[str, dict[str, Any]] | None:
        ranker = self.ranker.rankers.get("category")
        category = self.categories[col]
        if ranker is None or not category:
            return None
        if "shares" not in self._cache:
            assert self.history is not None, "of_one gives its customer's shares"
            self._cache["shares"] = ranker.shares(self.history)
        share = float(self._cache["shares"][row, ranker.codes[col]])
        if share <= 0:
            return None
        evidence = {"category": category, "category_share": round(share, 4)}
        if float(self.ranker.rankers["popularity"].share[col]) == 0:
            return f"new in {_label(category)}, which is {_percent(share)} of your purchases", evidence
        if len(self._own(row)[0]) == 0:
            return f"{_label(category)} is {_percent(share)} of what customers buy here", evidence
        return f"you often buy {_label(category)} ({_percent(share)} of your purchases)", evidence


def _period(days: float) -> str:
    if days < 13.5:
        return f"{max(1, round(days))} day{'s' if round(days) > 1 else ''}"
    if days < 60:
        return f"{round(days / 7)} weeks"
    return f"{round(days / 30.4)} months"


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%" if share >= 0.01 else "under 1%"


def _label(category: str) -> str:
    return str(category).replace("_", " ")


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {name: round(float(v), 4) for name, v in values.items()}
