"""Days until a customer's next order: their own recent intervals, shrunk toward the population's.

The predictive distribution is a Dirichlet-process posterior: the customer's intervals, each weighted by recency
(``half_life`` in orders), plus ``concentration`` pseudo-intervals drawn from the population's distribution (the
base measure). A new customer gets the population's answer; one with many orders gets their own. The predictive
median minimises the expected absolute error; its quantiles give the band.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rapport.errors import InvalidInput, NotFound

_BASE_POINTS = 99  # the population distribution, summarised by this many quantiles


class OrderIntervalModel:
    """Fit on each customer's intervals between orders (oldest first); predict the next one."""

    def __init__(
        self, half_life: float | None = 8.0, concentration: float = 1.0, band: tuple[float, float] = (0.1, 0.9)
    ) -> None:
        if half_life is not None and half_life <= 0:
            raise InvalidInput(f"half_life {half_life} must be positive (orders), or None for equal weights.")
        if concentration < 0:
            raise InvalidInput(f"concentration {concentration} must be zero or positive.")
        self.half_life = half_life
        self.concentration = concentration
        self.band = band
        self.base = np.empty(0)
        self.table = pd.DataFrame()

    def fit(
        self, intervals: pd.DataFrame, customer_col: str = "customer_id", gap_col: str = "gap"
    ) -> OrderIntervalModel:
        """Learn from rows (customer, gap in days), in time order within each customer; empty gaps are skipped."""
        for column in (customer_col, gap_col):
            if column not in intervals.columns:
                raise InvalidInput(f"Intervals lack the column {column!r}; they have {list(intervals.columns)}.")
        gaps = intervals[[customer_col, gap_col]].dropna()
        if gaps.empty:
            raise InvalidInput("No intervals between orders to learn from (every customer has a single order).")
        if (gaps[gap_col] < 0).any():
            raise InvalidInput(f"Column {gap_col!r} has negative intervals; days between orders cannot be negative.")
        values = gaps[gap_col].to_numpy(dtype=float)
        self.base = np.quantile(values, (np.arange(_BASE_POINTS) + 0.5) / _BASE_POINTS)
        codes, uniques = pd.factorize(gaps[customer_col], sort=False)
        counts = np.bincount(codes, minlength=len(uniques))
        quantiles = self._all_quantiles(codes, values, counts, (0.5, *self.band))
        own = np.array([self._own_share(int(n)) for n in counts]) if len(counts) else np.empty(0)
        self.table = pd.DataFrame(
            {"median": quantiles[0], "low": quantiles[1], "high": quantiles[2], "intervals": counts, "own_weight": own},
            index=pd.Index(uniques),
        )
        return self

    def predict(self, customers: Any = None) -> pd.DataFrame:
        """Median days to the next order with its band, per customer; unknown customers get the population's."""
        if not len(self.base):
            raise InvalidInput("The order-interval model is not fitted yet; call fit(intervals) first.")
        if customers is None:
            return self.table.copy()
        keys = pd.Index(np.asarray(customers))
        out = self.table.reindex(keys)
        unknown = out["median"].isna().to_numpy()
        if unknown.any():
            out.loc[unknown, ["median", "low", "high"]] = self._quantiles(np.empty(0), (0.5, *self.band))
            out.loc[unknown, ["intervals", "own_weight"]] = 0.0
        return out

    def _weights(self, n: int) -> np.ndarray:
        if self.half_life is None:
            return np.ones(n)
        return 0.5 ** ((n - 1 - np.arange(n)) / self.half_life)

    def _own_share(self, n: int) -> float:
        own = float(self._weights(n).sum())
        return own / (own + self.concentration) if own + self.concentration > 0 else 0.0

    def _all_quantiles(
        self, codes: np.ndarray, values: np.ndarray, counts: np.ndarray, qs: tuple[float, ...]
    ) -> list[np.ndarray]:
        """Posterior quantiles of every customer at once: their own recency-weighted gaps plus the base points."""
        n, points = len(counts), len(self.base)
        rank = np.empty(len(codes), dtype=np.int64)  # position of each gap within its customer, oldest first
        order = np.argsort(codes, kind="stable")
        rank[order] = np.arange(len(codes)) - np.repeat(np.cumsum(counts) - counts, counts)
        age = counts[codes] - 1 - rank
        own_weight = np.ones(len(codes)) if self.half_life is None else 0.5 ** (age / self.half_life)
        all_codes = np.concatenate([codes, np.repeat(np.arange(n), points)])
        all_values = np.concatenate([values, np.tile(self.base, n)])
        all_weights = np.concatenate([own_weight, np.full(n * points, self.concentration / points)])
        order = np.lexsort((all_values, all_codes))
        group, value, weight = all_codes[order], all_values[order], all_weights[order]
        sizes = counts + points
        starts = np.cumsum(sizes) - sizes
        cumulative = np.cumsum(weight)
        within = cumulative - np.repeat(cumulative[starts] - weight[starts], sizes)
        totals = within[starts + sizes - 1]
        results = []
        for q in qs:
            below = within < q * totals[group] * (1 - 1e-12)  # first position reaching the q-th weight
            picks = starts + np.minimum(np.add.reduceat(below, starts), sizes - 1)
            results.append(value[picks])
        return results

    def _quantiles(self, own: np.ndarray, qs: tuple[float, ...]) -> list[float]:
        values = np.concatenate([own, self.base])
        weights = np.concatenate(
            [self._weights(len(own)), np.full(len(self.base), self.concentration / len(self.base))]
        )
        if weights.sum() <= 0:  # no own data and no prior weight: fall back on the population
            values, weights = self.base, np.ones(len(self.base))
        order = np.argsort(values, kind="stable")
        cumulative = np.cumsum(weights[order])
        picks = np.searchsorted(cumulative, np.asarray(qs) * cumulative[-1])
        return [float(v) for v in values[order][np.minimum(picks, len(values) - 1)]]

    def save(self, path: str | Path) -> None:
        """Write the fitted model as JSON."""
        data = {
            "kind": "rapport.order_interval",
            "half_life": self.half_life,
            "concentration": self.concentration,
            "band": list(self.band),
            "base": self.base.tolist(),
            "table": self.table.reset_index(names="customer").to_dict(orient="split", index=False),
        }
        Path(path).write_text(json.dumps(data, default=lambda v: v.item()))

    @classmethod
    def load(cls, path: str | Path) -> OrderIntervalModel:
        source = Path(path)
        if not source.exists():
            raise NotFound(f"No saved order-interval model at {source}.")
        data = json.loads(source.read_text())
        if data.get("kind") != "rapport.order_interval":
            raise InvalidInput(f"{source} is not a saved order-interval model.")
        model = cls(data["half_life"], data["concentration"], tuple(data["band"]))
        model.base = np.asarray(data["base"], dtype=float)
        model.table = pd.DataFrame(**data["table"]).set_index("customer").rename_axis(None)
        return model


TIMING_FEATURES = ["shrunk", "low", "high", "own_weight", "intervals", "median", "mean", "std", "last", "previous"]


def timing_features(gaps: pd.DataFrame, model: OrderIntervalModel, customers: Any) -> pd.DataFrame:
    """Per customer: the shrunk median and band, and plain summaries of their own gaps (columns customer, gap, in
    time order), the inputs of a learned correction of the shrunk interval."""
    keys = pd.Index(np.asarray(customers))
    shrunk = model.predict(keys)
    own = gaps.dropna(subset=["gap"]).groupby("customer")["gap"]
    out = pd.DataFrame(
        {
            "shrunk": shrunk["median"],
            "low": shrunk["low"],
            "high": shrunk["high"],
            "own_weight": shrunk["own_weight"],
            "intervals": shrunk["intervals"],
        },
        index=keys,
    )
    summary = pd.DataFrame(
        {
            "median": own.median(),
            "mean": own.mean(),
            "std": own.std(),
            "last": own.last(),
            "previous": own.agg(lambda s: s.iloc[-2] if len(s) > 1 else np.nan),
        }
    )
    return out.join(summary)
