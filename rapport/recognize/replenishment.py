"""Replenishment: when will a customer buy an item again? A three-level log-normal model of repeat intervals.

``log1p(interval of customer u on item i) ~ N(theta_ui, sigma_i^2)``, ``theta_ui ~ N(mu_i, tau^2)``,
``mu_i ~ N(mu, omega^2)``. The variances are estimated by the method of moments (empirical Bayes), so a customer
with many intervals gets their own cadence, one with a few is pulled toward the item's, and a new customer (or a
new item) gets the item's (or the population's) answer. Predictions are log-normal: a median and a band.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from rapport.errors import InvalidInput, NotFound
from rapport.recognize.need import Need

_FLOOR = 0.01  # smallest variance (log scale) we let a moment estimate fall to
_EPOCH = pd.Timestamp("1970-01-01")
_DAY = pd.Timedelta(days=1)


class ReplenishmentModel:
    """Time to the next purchase of each customer x item, shrunk toward the item's and the population's cadence.

    Times are in days: a numeric column (days since any origin) or a datetime column.

    Example:
        >>> model = ReplenishmentModel().fit(purchases, "customer_id", "item", "at")
        >>> model.predict(now=pd.Timestamp("2024-05-01"))  # median next purchase and a 10-90% band
    """

    def __init__(self, within_prior_df: float = 10.0, band: tuple[float, float] = (0.1, 0.9)) -> None:
        self.within_prior_df = within_prior_df  # pseudo-intervals pulling an item's spread toward the pooled one
        self.band = band
        self.dated = False
        self.hyper: dict[str, float] = {}
        self._pairs = pd.DataFrame()
        self._items = pd.DataFrame()
        self._categories: dict[Any, Any] = {}

    # ---- fitting -------------------------------------------------------------------------------------------
    def fit(
        self,
        purchases: pd.DataFrame,
        customer_col: str = "customer_id",
        item_col: str = "item",
        time_col: str = "t",
        category_col: str | None = None,
    ) -> ReplenishmentModel:
        """Learn from purchases (one row per customer x item x purchase; rows at the same time count once)."""
        for column in (customer_col, item_col, time_col, *([category_col] if category_col else [])):
            if column not in purchases.columns:
                raise InvalidInput(f"Purchases lack the column {column!r}; they have {list(purchases.columns)}.")
        if purchases.empty:
            raise InvalidInput("No purchases to learn from: the frame is empty.")
        self.dated = pd.api.types.is_datetime64_any_dtype(purchases[time_col])
        frame = self._frame(purchases, customer_col, item_col, time_col)
        if frame["t"].isna().any():
            raise InvalidInput(f"Column {time_col!r} has empty or unreadable times; fill or drop those rows.")
        if category_col:
            self._categories = dict(zip(purchases[item_col], purchases[category_col], strict=False))
        self._fit_tables(_pair_stats(frame))
        return self

    def with_history(
        self, purchases: pd.DataFrame, customer_col: str, item_col: str, time_col: str, category_col: str | None = None
    ) -> ReplenishmentModel:
        """A copy that knows these customers' own purchases, judged against the fitted item and population levels.

        This is how one customer's needs are refreshed the moment they order: the people-like-them part stays as
        fitted (by the batch job), only the customer's own intervals are new. Their earlier pairs are replaced.
        """
        self._check_fitted()
        frame = self._frame(purchases, customer_col, item_col, time_col).dropna()
        model = ReplenishmentModel(within_prior_df=self.within_prior_df, band=self.band)
        model.dated, model.hyper, model._items = self.dated, dict(self.hyper), self._items
        model._categories = {**self._categories}
        if category_col:
            model._categories.update(zip(purchases[item_col], purchases[category_col], strict=False))
        fresh = _pair_stats(frame)[["purchases", "last", "n", "ybar"]].fillna({"ybar": 0.0})
        kept = self._pairs[~self._pairs.index.get_level_values("customer").isin(frame["customer"].unique())]
        model._pairs = pd.concat([kept, fresh]) if len(kept) else fresh
        return model

    def _frame(self, purchases: pd.DataFrame, customer_col: str, item_col: str, time_col: str) -> pd.DataFrame:
        times = self._days(purchases[time_col])
        return pd.DataFrame({"customer": purchases[customer_col], "item": purchases[item_col], "t": times})

    def _fit_tables(self, pairs: pd.DataFrame) -> None:
        rep = pairs[pairs["n"] > 0].reset_index()
        if rep.empty:
            raise InvalidInput("No customer bought any item twice: there are no repeat intervals to learn from.")
        # Level 1: spread of one customer's intervals, pooled, then per item shrunk toward the pool.
        df = (rep["n"] - 1).clip(lower=0)
        sigma2 = float(rep["ss"].sum() / df.sum()) if df.sum() > 0 else float(rep["ybar"].var() or 1.0)
        sigma2 = max(sigma2, _FLOOR)
        by_item = rep.groupby("item")
        items = pd.DataFrame({"k": by_item.size(), "ss": by_item["ss"].sum(), "df": df.groupby(rep["item"]).sum()})
        items["sigma2"] = (items["ss"] + self.within_prior_df * sigma2) / (items["df"] + self.within_prior_df)
        rep["s"] = rep["item"].map(items["sigma2"]) / rep["n"]  # sampling variance of a customer's mean
        # Level 2: customers around their item's mean (moments of the within-item deviations).
        k = rep["item"].map(items["k"])
        item_mean = by_item["ybar"].transform("mean")
        multi = k >= 2
        if multi.any():
            spread = ((rep["ybar"] - item_mean) ** 2)[multi].sum() - ((1 - 1 / k) * rep["s"])[multi].sum()
            tau2 = max(float(spread / (items["k"][items["k"] >= 2] - 1).sum()), _FLOOR)
        else:
            tau2 = sigma2
        # Level 3: items around the population mean.
        items["ybar"] = by_item["ybar"].mean()
        items["v"] = (tau2 * items["k"] + rep.groupby("item")["s"].sum()) / items["k"] ** 2
        mu = float(items["ybar"].mean())
        m = len(items)
        if m >= 2:
            spread = ((items["ybar"] - mu) ** 2).sum() - (1 - 1 / m) * items["v"].sum()
            omega2 = max(float(spread / (m - 1)), _FLOOR)
        else:
            omega2 = tau2
        precision = 1 / omega2 + 1 / items["v"]
        items["mu"] = (mu / omega2 + items["ybar"] / items["v"]) / precision
        items["mu_var"] = 1 / precision
        self.hyper = {"mu": mu, "omega2": omega2, "tau2": tau2, "sigma2": sigma2}
        self._items = items[["k", "mu", "mu_var", "sigma2"]]
        self._pairs = pairs[["purchases", "last", "n", "ybar"]].fillna({"ybar": 0.0})

    # ---- inference -----------------------------------------------------------------------------------------
    def posterior(self, customers: Any, items: Any) -> pd.DataFrame:
        """Per (customer, item): the predictive log1p-interval mean ``m`` and sd ``sd``, the number of the
        customer's own intervals ``n`` and the weight ``weight`` their own mean gets (0 = all prior)."""
        self._check_fitted()
        keys = pd.MultiIndex.from_arrays([np.asarray(customers), np.asarray(items)], names=["customer", "item"])
        own = self._pairs.reindex(keys)
        item = self._items.reindex(keys.get_level_values("item"))
        h = self.hyper
        prior_mean = item["mu"].fillna(h["mu"]).to_numpy()
        prior_var = h["tau2"] + item["mu_var"].fillna(h["omega2"]).to_numpy()
        sigma2 = item["sigma2"].fillna(h["sigma2"]).to_numpy()
        n = own["n"].fillna(0.0).to_numpy()
        ybar = own["ybar"].fillna(0.0).to_numpy()
        precision = 1 / prior_var + n / sigma2
        mean = (prior_mean / prior_var + n * ybar / sigma2) / precision
        return pd.DataFrame(
            {
                "m": mean,
                "sd": np.sqrt(sigma2 + 1 / precision),
                "n": n,
                "weight": (n / sigma2) / precision,
                "last": own["last"].to_numpy(),
                "purchases": own["purchases"].fillna(0).to_numpy(),
            },
            index=keys,
        )

    @staticmethod
    def due_probability(post: pd.DataFrame, elapsed: Any, window: Any) -> np.ndarray:
        """P(the next purchase falls within ``window`` days | not bought in the ``elapsed`` days since the last)."""
        elapsed = np.clip(np.asarray(elapsed, dtype=float), 0, None)
        window = np.clip(np.asarray(window, dtype=float), 0, None)
        m, sd = post["m"].to_numpy(), post["sd"].to_numpy()
        before = norm.cdf((np.log1p(elapsed) - m) / sd)
        by_then = norm.cdf((np.log1p(elapsed + window) - m) / sd)
        return np.clip((by_then - before) / np.clip(1 - before, 1e-12, None), 0.0, 1.0)

    def predict(self, now: Any = None, min_purchases: int = 1) -> pd.DataFrame:
        """Each known customer x item bought at least ``min_purchases`` times: the median next purchase time and
        the band (``next_low``, ``next_high``), in the fit's time unit; with ``now``, also ``overdue`` days."""
        self._check_fitted()
        pairs = self._pairs[self._pairs["purchases"] >= min_purchases]
        post = self.posterior(pairs.index.get_level_values(0), pairs.index.get_level_values(1))
        out = pd.DataFrame(index=pairs.index)
        out["purchases"] = pairs["purchases"].astype(int)
        out["intervals"] = post["n"].astype(int)
        out["weight"] = post["weight"]
        out["median_interval"] = np.expm1(post["m"])
        low, high = norm.ppf(self.band[0]), norm.ppf(self.band[1])
        for name, z in (("next_low", low), ("next_at", 0.0), ("next_high", high)):
            out[name] = self._times(pairs["last"] + np.expm1(post["m"] + z * post["sd"]))
        out["last"] = self._times(pairs["last"])
        if now is not None:
            out["overdue"] = (self._day(now) - pairs["last"]) - out["median_interval"]
        return out.reset_index()

    def needs(self, now: datetime, lead_time_days: float = 7.0, min_confidence: float = 0.0) -> list[Need]:
        """Replenish Needs for items bought at least twice whose median next purchase is before now + lead time."""
        if not self.dated:
            raise InvalidInput("Fit the model on a datetime column to get dated Needs (it was fitted on numbers).")
        table = self.predict(now=now, min_purchases=2)
        horizon = pd.Timestamp(now) + pd.Timedelta(days=lead_time_days)
        table = table[table["next_at"] <= _naive(horizon)]
        post = self.posterior(table["customer"], table["item"])
        elapsed = self._day(now) - post["last"].to_numpy()
        confidence = self.due_probability(post, elapsed, lead_time_days)
        needs = []
        for row, conf in zip(table.itertuples(index=False), confidence, strict=True):
            if conf < min_confidence:
                continue
            needs.append(self._need(row, float(conf), lead_time_days))
        return needs

    def _need(self, row: Any, confidence: float, lead_time_days: float) -> Need:
        every = row.median_interval
        reason = (
            f"Bought {row.purchases} times, about every {every:.0f} days "
            f"({'own cadence' if row.weight >= 0.5 else 'mostly like other customers of this item'}); "
            f"last on {row.last:%Y-%m-%d}, next expected {row.next_at:%Y-%m-%d} "
            f"(80% between {row.next_low:%Y-%m-%d} and {row.next_high:%Y-%m-%d})."
        )
        return Need(
            customer_id=str(row.customer),
            item=str(row.item),
            category=None if pd.isna(self._categories.get(row.item)) else str(self._categories[row.item]),
            kind="replenish",
            due_at=row.next_at.to_pydatetime().replace(tzinfo=UTC),
            confidence=confidence,
            evidence={
                "reason": reason,
                "purchases": int(row.purchases),
                "median_interval_days": float(every),
                "own_weight": float(row.weight),
                "last_purchase": row.last.isoformat(),
                "band": [row.next_low.isoformat(), row.next_high.isoformat()],
                "lead_time_days": lead_time_days,
            },
        )

    # ---- persistence ---------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the fitted model as JSON (hyperparameters and the per-item and per-customer tables)."""
        Path(path).write_text(self.to_json())

    def to_json(self, customers: bool = True) -> str:
        """The fitted model as JSON; ``customers=False`` keeps only the item and population levels (small)."""
        self._check_fitted()
        pairs = self._pairs if customers else self._pairs.iloc[0:0]
        data = {
            "kind": "rapport.replenishment",
            "within_prior_df": self.within_prior_df,
            "band": list(self.band),
            "dated": self.dated,
            "hyper": self.hyper,
            "items": self._items.reset_index().to_dict(orient="split", index=False),
            "pairs": pairs.reset_index().to_dict(orient="split", index=False),
            "categories": [[k, v] for k, v in self._categories.items()],
        }
        return json.dumps(data, default=_json_scalar)

    @classmethod
    def load(cls, path: str | Path) -> ReplenishmentModel:
        source = Path(path)
        if not source.exists():
            raise NotFound(f"No saved replenishment model at {source}.")
        return cls.from_json(source.read_text(), str(source))

    @classmethod
    def from_json(cls, text: str, where: str = "the text") -> ReplenishmentModel:
        """Inverse of :meth:`to_json`."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict) or data.get("kind") != "rapport.replenishment":
            raise InvalidInput(f"{where} is not a saved replenishment model.")
        model = cls(within_prior_df=data["within_prior_df"], band=tuple(data["band"]))
        model.dated, model.hyper = data["dated"], data["hyper"]
        model._items = pd.DataFrame(**data["items"]).set_index("item")
        model._pairs = pd.DataFrame(**data["pairs"]).set_index(["customer", "item"])
        model._categories = {k: v for k, v in data["categories"]}
        return model

    # ---- time units ----------------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not self.hyper:
            raise InvalidInput("The replenishment model is not fitted yet; call fit(purchases) first.")

    @staticmethod
    def _days(values: pd.Series) -> pd.Series:
        if pd.api.types.is_datetime64_any_dtype(values):
            values = values.dt.tz_convert(None) if values.dt.tz is not None else values
            return (values - _EPOCH) / _DAY
        return pd.to_numeric(values, errors="coerce").astype(float)

    def _day(self, when: Any) -> float:
        if self.dated:
            return float((_naive(pd.Timestamp(when)) - _EPOCH) / _DAY)
        return float(when)

    def _times(self, days: pd.Series) -> pd.Series:
        return (_EPOCH + days * _DAY).dt.round("s") if self.dated else days


def _pair_stats(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (customer, item): purchases, last time, number of repeat intervals, their mean and sum of squares (log1p)."""
    frame = frame.drop_duplicates().sort_values(["customer", "item", "t"], kind="stable")
    frame = frame.assign(y=np.log1p(frame.groupby(["customer", "item"], sort=False)["t"].diff()))
    grouped = frame.groupby(["customer", "item"], sort=False)
    pairs = pd.DataFrame({"purchases": grouped.size(), "last": grouped["t"].max(), "n": grouped["y"].count()}).astype(
        {"n": float}
    )
    pairs["ybar"] = grouped["y"].mean()
    pairs["ss"] = grouped["y"].var(ddof=0) * pairs["n"]
    return pairs


def _naive(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_convert(None) if ts.tzinfo is not None else ts


def _json_scalar(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, datetime | timedelta):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
