"""Forecast each customer's purchases after a calibration end, and score the forecasts when the file has actuals.

The one service behind `rapport forecast` and bench/recognize.py: BG/NBD, Pareto/NBD and Rapport's forecaster
fitted on the calibration period, Gamma-Gamma on spend when amounts are given. Times are in weeks.

The next purchase date is the *median* date of the customer's next purchase if they are still active: given
activity, BG/NBD's posterior rate is Gamma(r + x, alpha + T) and the wait is exponential given the rate, so the
wait is Lomax-distributed with median (alpha + T)(2^(1/(r+x)) - 1) weeks after the calibration end. Whether the
customer is still active is the separate ``p_alive`` column; read the two together. Customers with few purchases
have a wide posterior, so their median can lie years ahead; beyond 100 years it is left empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rapport.errors import InvalidInput
from rapport.recognize.count_forecast import errors
from rapport.recognize.forecaster import RapportForecaster
from rapport.recognize.gammagamma import GammaGamma
from rapport.recognize.rfm import count_between, purchase_days
from rapport.recognize.transactions import AMOUNT, CUSTOMER, DATE

WEEK_DAYS = 7.0
MAX_WAIT_DAYS = 36_525  # 100 years: later next-purchase dates are left empty
STEPS = 4  # progress units reported through ``advance``


@dataclass
class PurchaseForecast:
    """Per-customer predictions plus the fitted models and, with actuals, the side-by-side evaluation."""

    predictions: pd.DataFrame
    models: dict[str, dict[str, Any]]
    evaluation: dict[str, Any] | None = None
    backtest: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def check_period(dates: pd.Series, calibration_end: pd.Timestamp, horizon_end: pd.Timestamp, evaluate: bool) -> None:
    """The calibration end must fall inside the data and the horizon end after it."""
    calibration_end, horizon_end = calibration_end.normalize(), horizon_end.normalize()
    first, last = dates.min().normalize(), dates.max().normalize()
    if not first <= calibration_end <= last:
        raise InvalidInput(
            f"Calibration end {calibration_end.date()} is outside the data, which runs from {first.date()} to "
            f"{last.date()}; choose a date in that range."
        )
    if horizon_end <= calibration_end:
        raise InvalidInput(
            f"Horizon end {horizon_end.date()} is not after the calibration end {calibration_end.date()}; "
            "the horizon is the period to forecast, after the calibration end."
        )
    if evaluate and last <= calibration_end:
        raise InvalidInput(
            f"--evaluate needs purchases after the calibration end {calibration_end.date()} to compare with, "
            f"but the data end on {last.date()}."
        )


def forecast_purchases(
    transactions: pd.DataFrame,
    calibration_end: pd.Timestamp,
    horizon_end: pd.Timestamp,
    evaluate: bool = False,
    advance: Callable[[int], None] | None = None,
) -> PurchaseForecast:
    """Fit on purchases up to ``calibration_end`` (inclusive) and forecast (calibration_end, horizon_end].

    ``transactions`` has the columns of rapport.recognize.transactions.prepare_transactions. With ``evaluate``,
    purchases inside the horizon are the actuals (customers first seen after the calibration end are left out,
    as they are unknown at forecast time).
    """
    step = advance or (lambda n: None)
    calibration_end, horizon_end = calibration_end.normalize(), horizon_end.normalize()
    check_period(transactions[DATE], calibration_end, horizon_end, evaluate)
    has_amounts = bool(transactions[AMOUNT].notna().any())
    days = purchase_days(transactions, CUSTOMER, DATE, AMOUNT if has_amounts else None)
    horizon = (horizon_end - calibration_end).days / WEEK_DAYS
    forecaster = RapportForecaster(period_days=WEEK_DAYS).fit(days, calibration_end)
    step(2)
    summary, bg, pn = forecaster.summary, forecaster.bgnbd, forecaster.paretonbd
    x, tx, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    rapport = forecaster.predict(horizon)
    step(1)
    wait_weeks = bg.next_purchase_weeks(x, tx, T)
    predictions = pd.DataFrame(
        {
            "expected_transactions": rapport["forecast"].to_numpy(),
            "rapport_mean_transactions": rapport["mean"].to_numpy(),
            "bgnbd_expected_transactions": bg.expected_transactions(horizon, x, tx, T),
            "paretonbd_expected_transactions": pn.expected_transactions(horizon, x, tx, T),
            "p_alive": bg.p_alive(x, tx, T),
            "next_purchase_date": _dates_after(calibration_end, wait_weeks),
        },
        index=summary.index,
    )
    models: dict[str, dict[str, Any]] = {
        "bgnbd": {"params": bg.params, "loglik": bg.loglik},
        "paretonbd": {"params": pn.params, "loglik": pn.loglik},
        "rapport": {"params": forecaster.rule.to_dict()},
    }
    result = PurchaseForecast(predictions, models, backtest=forecaster.backtest)
    if has_amounts:
        try:
            models["gammagamma"] = _add_value(predictions, summary, rapport["mean"].to_numpy())
        except InvalidInput as exc:
            result.notes.append(f"No expected value: the spend model cannot be fitted ({exc})")
    if evaluate:
        actual = count_between(days, calibration_end, horizon_end, summary.index).to_numpy()
        predictions["actual_transactions"] = actual
        result.evaluation = _evaluation(predictions, models, actual)
    step(1)
    return result


def _add_value(predictions: pd.DataFrame, summary: pd.DataFrame, mean_count: np.ndarray) -> dict[str, Any]:
    """Gamma-Gamma expected value per purchase, times the expected number of purchases; returns the model."""
    spend = GammaGamma().fit(summary["frequency"], summary["monetary_value"])
    per_purchase = spend.expected_value(summary["frequency"], summary["monetary_value"])
    predictions["expected_value_per_purchase"] = per_purchase
    predictions["expected_value"] = per_purchase * mean_count
    return {"params": spend.params, "loglik": spend.loglik}


def _evaluation(predictions: pd.DataFrame, models: dict[str, dict[str, Any]], actual: np.ndarray) -> dict[str, Any]:
    columns = {
        "bgnbd": "bgnbd_expected_transactions",
        "paretonbd": "paretonbd_expected_transactions",
        "rapport": "expected_transactions",
    }
    return {
        "actual_total": int(actual.sum()),
        "models": {
            name: {**models[name], **errors(predictions[column].to_numpy(), actual)} for name, column in columns.items()
        },
    }


def _dates_after(start: pd.Timestamp, weeks: np.ndarray) -> pd.Series:
    """start + weeks, rounded to days; NaT where the wait exceeds MAX_WAIT_DAYS (or is not finite)."""
    wait = np.round(np.asarray(weeks, dtype=float) * WEEK_DAYS)
    far = ~np.isfinite(wait) | (wait > MAX_WAIT_DAYS)
    dates = start + pd.to_timedelta(np.where(far, 0.0, wait), unit="D")
    return pd.Series(dates).where(~far, pd.NaT).to_numpy()
