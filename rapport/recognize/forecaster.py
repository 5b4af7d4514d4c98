"""Rapport's repeat-purchase forecaster: BTYD predictive distributions, blended and turned into point forecasts
by a rule learned on a backtest inside the calibration period (the holdout is never seen).

1. BG/NBD and Pareto/NBD each give every customer a full predictive distribution of purchases in the horizon
   (closed form for BG/NBD, quadrature for Pareto/NBD), not just a mean.
2. Backtest: cut the calibration period in two halves in time, refit both models on the first half and score
   every rule of a small grid on the second: a blend weight w (w BG/NBD + (1 - w) Pareto/NBD) and a balance kappa
   between absolute and squared error (see count_forecast.balanced_point), with the points summing to the
   blend's expected total. The chosen rule has the lowest absolute error among the rules whose squared error is
   no worse than plain BG/NBD's and whose total is within ``max_total_error`` of the actual; failing that, the
   plain BG/NBD mean.
3. Refit both models on the whole calibration period and apply the chosen rule to the requested horizon.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd

from rapport.errors import InvalidInput
from rapport.recognize.bgnbd import BGNBD, bgnbd_survival
from rapport.recognize.count_forecast import errors, total_preserving_point
from rapport.recognize.paretonbd import ParetoNBD, paretonbd_survival
from rapport.recognize.rfm import count_between, summarize

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
KAPPAS = (math.inf, 8.0, 4.0, 2.0, 1.0, 0.5)
_CHUNK = 2000


@dataclass(frozen=True)
class ForecastRule:
    """How to turn the two models' distributions into one point forecast."""

    bgnbd_weight: float
    kappa: float  # inf: the blended mean

    def to_dict(self) -> dict[str, float | str]:
        return {"bgnbd_weight": self.bgnbd_weight, "kappa": "inf" if math.isinf(self.kappa) else self.kappa}


@dataclass(frozen=True)
class CountDistribution:
    """Each customer's predictive distribution of purchases in a horizon: P(Y >= k) for k = 1..K, and E[Y]."""

    survival: np.ndarray
    mean: np.ndarray


def count_distribution(model: BGNBD | ParetoNBD, t: float, summary: pd.DataFrame) -> CountDistribution:
    """The model's predictive distribution for the next t periods of every customer in ``summary``.

    K is large enough for every customer; customers are processed in chunks sorted by their expected count, each
    chunk with its own K, so a few heavy buyers do not make the quadrature of everyone else expensive. The mean
    is the model's closed form, not the (truncated) sum of the tail.
    """
    survival_of: Callable[..., np.ndarray] = bgnbd_survival if isinstance(model, BGNBD) else paretonbd_survival
    rows, inverse = np.unique(summary[["frequency", "recency", "T"]].to_numpy(dtype=float), axis=0, return_inverse=True)
    x, tx, T = rows[:, 0], rows[:, 1], rows[:, 2]  # customers with the same history share one distribution
    mean = model.expected_transactions(t, x, tx, T)
    order = np.argsort(mean, kind="stable")
    width = _enough_counts(float(mean.max())) if mean.size else 1
    out = np.zeros((x.size, width))
    for start in range(0, x.size, _CHUNK):
        chunk = order[start : start + _CHUNK]
        k = np.arange(1, min(width, _enough_counts(float(mean[chunk].max()))) + 1)
        out[chunk, : k.size] = survival_of(model._values(), t, x[chunk], tx[chunk], T[chunk], k)
    inverse = inverse.ravel()
    return CountDistribution(out[inverse], mean[inverse])


def blend(bg: CountDistribution, pn: CountDistribution, weight: float) -> CountDistribution:
    """The mixture weight * BG/NBD + (1 - weight) * Pareto/NBD of two predictive distributions."""
    width = max(bg.survival.shape[1], pn.survival.shape[1])
    a, b = (np.pad(d.survival, ((0, 0), (0, width - d.survival.shape[1]))) for d in (bg, pn))
    return CountDistribution(weight * a + (1.0 - weight) * b, weight * bg.mean + (1.0 - weight) * pn.mean)


def _enough_counts(mean: float) -> int:
    """How many counts k to tabulate so P(Y >= k) is negligible beyond: the mean plus ten rough deviations."""
    return math.ceil(mean + 10.0 * math.sqrt(mean + 1.0) + 10.0)


def score_rules(
    bg: CountDistribution,
    pn: CountDistribution,
    actual: np.ndarray,
    weights: tuple[float, ...],
    kappas: tuple[float, ...],
) -> list[dict[str, Any]]:
    """Backtest errors of every (weight, kappa) rule; the first entry is plain BG/NBD (w = 1, kappa = inf)."""
    rows = []
    for w in sorted(weights, reverse=True):
        mixed = blend(bg, pn, w)
        for kappa in kappas:
            point = total_preserving_point(mixed.survival, kappa, mixed.mean)
            rows.append({"rule": ForecastRule(w, kappa), **errors(point, actual)})
    return rows


def choose_rule(scored: list[dict[str, Any]], actual_total: float, max_total_error: float) -> ForecastRule:
    """Lowest MAE among rules with RMSE <= plain BG/NBD's and the total within max_total_error of the actual."""
    reference = next(r for r in scored if r["rule"] == ForecastRule(1.0, math.inf))
    eligible = [
        r
        for r in scored
        if r["rmse"] <= reference["rmse"] + 1e-12 and abs(r["total"] - actual_total) <= max_total_error * actual_total
    ]
    if not eligible:
        return reference["rule"]
    return min(eligible, key=lambda r: (round(r["mae"], 12), -r["rule"].kappa))["rule"]


class RapportForecaster:
    """Per-customer purchases in a horizon: ``RapportForecaster().fit(days, calibration_end).predict(horizon)``.

    ``days`` has one row per customer and purchase day (rapport.recognize.rfm.purchase_days); times are in
    periods of ``period_days`` (weeks by default).
    """

    def __init__(
        self,
        weights: tuple[float, ...] = WEIGHTS,
        kappas: tuple[float, ...] = KAPPAS,
        max_total_error: float = 0.15,
        period_days: float = 7.0,
    ) -> None:
        if 1.0 not in weights or math.inf not in kappas:
            raise InvalidInput("The rule grid must contain plain BG/NBD: weight 1.0 and kappa inf.")
        self.weights, self.kappas = weights, kappas
        self.max_total_error = max_total_error
        self.period_days = period_days
        self.rule = ForecastRule(1.0, math.inf)
        self.backtest: dict[str, Any] = {}
        self.bgnbd, self.paretonbd = BGNBD(), ParetoNBD()
        self.summary = pd.DataFrame()

    def fit(self, days: pd.DataFrame, calibration_end: pd.Timestamp) -> Self:
        """Learn the rule on a backtest (first half of the calibration period -> second half), then refit on all."""
        start = days["day"].min()
        cut = (start + (calibration_end - start) / 2).normalize()
        if (calibration_end - cut).days < 2 * self.period_days:
            raise InvalidInput(
                f"The calibration period {start.date()} .. {calibration_end.date()} is too short to backtest; "
                "it needs at least four periods."
            )
        early = summarize(days, cut, self.period_days)
        actual = count_between(days, cut, calibration_end, early.index).to_numpy()
        horizon = (calibration_end - cut).days / self.period_days
        bg, pn = BGNBD().fit(*_rfm(early)), ParetoNBD().fit(*_rfm(early))
        scored = score_rules(
            count_distribution(bg, horizon, early),
            count_distribution(pn, horizon, early),
            actual,
            self.weights,
            self.kappas,
        )
        self.rule = choose_rule(scored, float(actual.sum()), self.max_total_error)
        self.backtest = {
            "cut": str(cut.date()),
            "end": str(calibration_end.date()),
            "customers": int(early.shape[0]),
            "actual_total": float(actual.sum()),
            "chosen": self.rule.to_dict(),
            "rules": [{**r["rule"].to_dict(), **{k: r[k] for k in ("mae", "rmse", "total")}} for r in scored],
        }
        self.summary = summarize(days, calibration_end, self.period_days)
        self.bgnbd.fit(*_rfm(self.summary))
        self.paretonbd.fit(*_rfm(self.summary))
        return self

    def predict(self, horizon: float) -> pd.DataFrame:
        """Per calibration customer: the point forecast and the blended mean of purchases in the next horizon periods."""
        if self.summary.empty:
            raise InvalidInput("The forecaster is not fitted yet; call fit() first.")
        w, kappa = self.rule.bgnbd_weight, self.rule.kappa
        x, tx, T = _rfm(self.summary)
        mean = w * self.bgnbd.expected_transactions(horizon, x, tx, T)
        if w < 1.0:
            mean = mean + (1.0 - w) * self.paretonbd.expected_transactions(horizon, x, tx, T)
        forecast = mean
        if not math.isinf(kappa):  # the point rule needs the whole distributions
            bg = count_distribution(self.bgnbd, horizon, self.summary)
            pn = count_distribution(self.paretonbd, horizon, self.summary)
            forecast = total_preserving_point(blend(bg, pn, w).survival, kappa, mean)
        return pd.DataFrame(
            {"forecast": forecast, "mean": mean},
            index=self.summary.index,
        )


def _rfm(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))  # type: ignore[return-value]
