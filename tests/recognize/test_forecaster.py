"""Rapport's forecaster on CDNOW (rule learned inside the calibration period) and its point-forecast rules."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.datasets.cdnow import CALIBRATION_END, HORIZON_END, load_cdnow
from rapport.recognize.bgnbd import BGNBD
from rapport.recognize.count_forecast import balanced_point, errors, mean_of, total_preserving_point
from rapport.recognize.forecaster import ForecastRule, RapportForecaster, choose_rule
from rapport.recognize.rfm import count_between, purchase_days


@pytest.fixture(scope="module")
def days() -> pd.DataFrame:
    return purchase_days(load_cdnow(), "customer_id", "date", "amount")


@pytest.fixture(scope="module")
def forecaster(days: pd.DataFrame) -> RapportForecaster:
    return RapportForecaster().fit(days, CALIBRATION_END)


def test_rule_is_learned_inside_the_calibration_period(forecaster: RapportForecaster) -> None:
    backtest = forecaster.backtest
    assert backtest["end"] == str(CALIBRATION_END.date())
    assert pd.Timestamp(backtest["cut"]) < CALIBRATION_END
    assert backtest["customers"] <= 2357 and len(backtest["rules"]) == 30
    assert ForecastRule(backtest["chosen"]["bgnbd_weight"], float(backtest["chosen"]["kappa"])) == forecaster.rule


def test_holdout_no_worse_than_bgnbd(days: pd.DataFrame, forecaster: RapportForecaster) -> None:
    predicted = forecaster.predict(39.0)
    actual = count_between(days, CALIBRATION_END, HORIZON_END, predicted.index).to_numpy()
    summary = forecaster.summary
    bg = BGNBD().fit(summary["frequency"], summary["recency"], summary["T"])
    baseline = errors(bg.expected_transactions(39.0, summary["frequency"], summary["recency"], summary["T"]), actual)
    ours = errors(predicted["forecast"].to_numpy(), actual)
    assert ours["mae"] <= baseline["mae"] + 1e-9
    assert ours["rmse"] <= baseline["rmse"] + 1e-9
    assert abs(ours["total"] / actual.sum() - 1.0) <= 0.15


def test_choose_rule_honours_squared_error_and_total() -> None:
    scored = [
        {"rule": ForecastRule(1.0, math.inf), "mae": 0.60, "rmse": 1.00, "total": 100.0},
        {"rule": ForecastRule(0.5, 2.0), "mae": 0.50, "rmse": 1.01, "total": 100.0},  # worse squared error
        {"rule": ForecastRule(0.5, 4.0), "mae": 0.52, "rmse": 0.99, "total": 70.0},  # total 30% low
        {"rule": ForecastRule(0.75, 8.0), "mae": 0.55, "rmse": 0.995, "total": 95.0},
    ]
    assert choose_rule(scored, 100.0, 0.15) == ForecastRule(0.75, 8.0)
    assert choose_rule(scored[:3], 100.0, 0.15) == ForecastRule(1.0, math.inf)


def two_point(p_zero: float, high: int) -> np.ndarray:
    """P(Y >= k), k = 1..high+2, of Y = 0 with probability p_zero, else Y = high."""
    return np.array([[1.0 - p_zero if k <= high else 0.0 for k in range(1, high + 3)]])


def test_balanced_point_runs_from_median_to_mean() -> None:
    tail = two_point(0.7, 3)  # median 0, mean 0.9
    assert balanced_point(tail, math.inf)[0] == pytest.approx(0.9)
    assert balanced_point(tail, 1e-6)[0] == 0.0
    # between: the subgradient condition F(0) - 1/2 = kappa (mean - f) gives f = 0.9 - 0.2 / kappa
    assert balanced_point(tail, 1.0)[0] == pytest.approx(0.7)
    assert balanced_point(two_point(0.2, 3), 1e-6)[0] == 3.0  # median 3 above the mean 2.4


tails = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12).map(lambda v: np.sort(np.array(v))[::-1])


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(tails, min_size=1, max_size=8), kappa=st.sampled_from([0.25, 1.0, 4.0, 16.0]))
def test_point_rules(rows: list[np.ndarray], kappa: float) -> None:
    width = max(len(r) for r in rows)
    tail = np.array([np.pad(r, (0, width - len(r))) for r in rows])
    low, high = balanced_point(tail, kappa, -0.5), balanced_point(tail, kappa, 0.5)
    assert (low >= 0).all() and (low <= high + 1e-12).all()
    kept = total_preserving_point(tail, kappa)
    assert (kept >= 0).all()
    assert kept.sum() == pytest.approx(mean_of(tail).sum(), rel=1e-6, abs=1e-9)


def test_point_rule_applied_to_the_full_calibration(forecaster: RapportForecaster) -> None:
    ruled = copy.copy(forecaster)
    ruled.rule = ForecastRule(0.5, 2.0)
    predicted = ruled.predict(39.0)
    assert (predicted["forecast"] >= 0).all()
    assert predicted["forecast"].sum() == pytest.approx(predicted["mean"].sum(), rel=1e-6)
    # absolute error pulls customers whose most likely count is 0 below their mean
    assert (predicted["forecast"] < predicted["mean"]).sum() > len(predicted) / 2


@settings(max_examples=40, deadline=None)
@given(
    pmf=st.lists(st.floats(0.01, 1.0), min_size=2, max_size=8),
    kappa=st.sampled_from([0.3, 0.5, 1.0, 2.0, 8.0]),
    shift=st.floats(-1.0, 1.0),
)
def test_balanced_point_is_the_minimiser(pmf: list[float], kappa: float, shift: float) -> None:
    probability = np.array(pmf) / sum(pmf)
    counts = np.arange(probability.size)
    tail = np.clip(1.0 - np.cumsum(probability)[:-1], 0.0, 1.0)[None, :]
    target = float(counts @ probability) + shift
    grid = np.linspace(0.0, counts[-1] + 2.0, 20_001)
    objective = np.abs(counts[None, :] - grid[:, None]) @ probability + kappa * (grid - target) ** 2
    point = balanced_point(tail, kappa, shift)[0]
    best = objective.min()
    ours = np.abs(counts - point) @ probability + kappa * (point - target) ** 2
    assert ours <= best + 1e-9
