"""Recognize benchmark: CDNOW figures (paper parameters, holdout errors per model) and the time to fit and score
100,000 synthetic BG/NBD customers. Prints progress on stderr and one JSON object on its last stdout line:
{"cdnow": ..., "synthetic_100k": ...}. Each section is one function in SECTIONS; add a section (e.g. the Instacart
next-basket evaluation) by adding its function there.

    .venv/bin/python bench/recognize.py [--customers 100000] [--sections cdnow,synthetic_100k]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from rapport.datasets.cdnow import AMOUNT, CALIBRATION_END, CUSTOMER, DATE, HORIZON_END, load_cdnow
from rapport.recognize.bgnbd import BGNBD, simulate_bgnbd_purchases
from rapport.recognize.count_forecast import errors
from rapport.recognize.purchase_forecast import forecast_purchases
from rapport.recognize.rfm import count_between, purchase_days, summarize
from rapport.recognize.transactions import prepare_transactions

PAPER = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "loglik": -9582.4},
    "paretonbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
}
SYNTHETIC_PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # CDNOW's, so the data look like it
TIME_TARGET_SECONDS = 60.0


def cdnow(_: argparse.Namespace) -> dict[str, Any]:
    """The `rapport forecast --evaluate` figures on CDNOW 1/10, checked against the paper and issue 4's target."""
    prepared = prepare_transactions(load_cdnow(), CUSTOMER, DATE, AMOUNT)
    started = time.perf_counter()
    result = forecast_purchases(prepared, CALIBRATION_END, HORIZON_END, evaluate=True)
    seconds = time.perf_counter() - started
    evaluation = result.evaluation or {}
    models = evaluation["models"]
    bg, rapport = models["bgnbd"], models["rapport"]
    reproduced = (
        all(
            abs(models[name]["params"][key] - value) <= max(5e-4, 1e-3 * abs(value))
            for name, paper in PAPER.items()
            for key, value in paper.items()
            if key != "loglik"
        )
        and abs(bg["loglik"] - PAPER["bgnbd"]["loglik"]) < 0.05
    )
    actual = evaluation["actual_total"]
    return {
        **evaluation,
        "gammagamma": result.models.get("gammagamma"),
        "rapport_backtest": {k: v for k, v in result.backtest.items() if k != "rules"},
        "paper_params_reproduced": reproduced,
        "forecaster_target": {
            "mae_at_most": 0.95 * bg["mae"],
            "rmse_below": bg["rmse"],
            "total_within": [0.85 * actual, 1.15 * actual],
            "met": rapport["mae"] <= 0.95 * bg["mae"]
            and rapport["rmse"] < bg["rmse"]
            and abs(rapport["total"] / actual - 1.0) <= 0.15,
            "mae_vs_bgnbd": rapport["mae"] / bg["mae"] - 1.0,
            "rmse_vs_bgnbd": rapport["rmse"] / bg["rmse"] - 1.0,
        },
        "seconds": seconds,
    }


def synthetic_transactions(customers: int, seed: int = 7) -> tuple[pd.DataFrame, pd.Timestamp, pd.Timestamp]:
    """Customers acquired over 12 weeks, followed 39 weeks of calibration and 39 of horizon (CDNOW's design)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    calibration_end, horizon_end = start + pd.Timedelta(days=272), start + pd.Timedelta(days=545)
    first_day = rng.integers(0, 84, customers)
    observed_weeks = (545 - first_day) / 7.0
    who, weeks = simulate_bgnbd_purchases(SYNTHETIC_PARAMS, observed_weeks, seed)
    days = np.concatenate([first_day, first_day[who] + np.floor(weeks * 7.0).astype(int)])
    ids = np.concatenate([np.arange(customers), who])
    frame = pd.DataFrame({"customer": ids.astype(str), "date": start + pd.to_timedelta(days, unit="D")})
    frame["amount"] = np.round(rng.gamma(6.0, 5.0, len(frame)), 2)
    return frame, calibration_end, horizon_end


def synthetic_100k(args: argparse.Namespace) -> dict[str, Any]:
    """Fit and score N simulated customers: BG/NBD alone (the target), then the whole `rapport forecast` service."""
    frame, calibration_end, horizon_end = synthetic_transactions(args.customers)
    prepared = prepare_transactions(frame, "customer", "date", "amount")
    summary_start = time.perf_counter()
    days = purchase_days(prepared, "customer", "date", "amount")
    summary = summarize(days, calibration_end)
    summary_seconds = time.perf_counter() - summary_start
    x, tx, T = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    started = time.perf_counter()
    model = BGNBD().fit(x, tx, T)
    expected = model.expected_transactions(39.0, x, tx, T)
    model.p_alive(x, tx, T)
    bgnbd_seconds = time.perf_counter() - started
    actual = count_between(days, calibration_end, horizon_end, summary.index).to_numpy()
    print(f"  BG/NBD fit and score: {bgnbd_seconds:.1f} s; now the full service …", file=sys.stderr)
    started = time.perf_counter()
    result = forecast_purchases(prepared, calibration_end, horizon_end, evaluate=True)
    service_seconds = time.perf_counter() - started
    return {
        "customers": len(summary),
        "transactions": len(frame),
        "true_params": SYNTHETIC_PARAMS,
        "bgnbd": {
            "params": model.params,
            "seconds_fit_and_score": bgnbd_seconds,
            "holdout": errors(expected, actual),
        },
        "summary_seconds": summary_seconds,
        "service": {
            "seconds_fit_and_score_all_models": service_seconds,
            "rule": result.models["rapport"]["params"],
            "evaluation": result.evaluation,
        },
        "target_seconds": TIME_TARGET_SECONDS,
        "target_met": bgnbd_seconds + summary_seconds < TIME_TARGET_SECONDS,
        "service_within_target": service_seconds < TIME_TARGET_SECONDS,
    }


def instacart(_: argparse.Namespace) -> dict[str, Any]:
    """Next basket on the Instacart sample, each user's last order held out, beside the personal baselines."""
    from rapport.datasets.instacart import load_instacart
    from rapport.recognize.next_basket_evaluation import evaluate_next_basket

    orders = load_instacart()
    started = time.perf_counter()
    result = evaluate_next_basket(orders, "user_id", "order_number", "product_id", "days_since_prior_order", k=10)
    methods, interval = result["methods"], result["interval"]
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["beats_baselines"] = (
        methods["rapport"]["recall@10"] > methods["top_frequency"]["recall@10"]
        and methods["rapport"]["ndcg@10"] > methods["top_frequency"]["ndcg@10"]
        and interval["rapport"]["mae"] < interval["median_interval"]["mae"]
    )
    return result


SECTIONS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "cdnow": cdnow,
    "instacart": instacart,
    "synthetic_100k": synthetic_100k,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--sections", default=",".join(SECTIONS))
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for name in args.sections.split(","):
        print(f"running {name} …", file=sys.stderr)
        results[name] = SECTIONS[name](args)
        print(json.dumps(results[name], default=str), file=sys.stderr)
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
