"""The side-by-side evaluation: popularity, ALS, EASE, personal top-frequency and Rapport's blend in one run.

The time split gives train and test; every setting (the baselines' too) is chosen on a validation split of train;
each method is then fitted on all of train and scored on the test customers' training history.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from rapport.errors import InvalidInput
from rapport.request.blend import RapportRanker
from rapport.request.ease import EASE
from rapport.request.evaluation import TimeSplit, offline_metrics, top_items
from rapport.request.interactions import Interactions, interaction_table
from rapport.request.rankers import ALS, Popularity, TopFrequency
from rapport.request.tuning import TUNING_STEPS, tune

METHODS = ("popularity", "als", "ease", "top_frequency", "rapport")
EVALUATION_STEPS = TUNING_STEPS + len(METHODS)
SCORING_BATCH = 2048  # test customers scored at once


def evaluate_recommenders(
    frame: pd.DataFrame,
    user_col: str,
    item_col: str,
    time_col: str,
    k: int = 10,
    split: str = "auto",
    fraction: float = 0.2,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """``{"methods": {name: {"recall@k", "precision@k", "ndcg@k", "map@k", "coverage@k", "fit_seconds"}},
    "split": …, "tuning": …, "data": …}``; ``progress`` is called with 1 after each of EVALUATION_STEPS steps."""
    if k < 1:
        raise InvalidInput(f"k={k} must be at least 1.")
    table = interaction_table(frame, user_col, item_col, time_col)
    chosen = TimeSplit.choose(table, split, fraction)
    train, test = chosen.apply(table)
    tuned = tune(train, chosen, k, progress=progress)
    settings = tuned.settings
    data = Interactions.build(train)
    history = data.rows(pd.Index(test["customer"].unique()))
    rankers: dict[str, Any] = {
        "popularity": Popularity(),
        "als": ALS(**settings.als),  # type: ignore[arg-type]
        "ease": EASE(settings.ease_regularization),
        "top_frequency": TopFrequency(),
        "rapport": RapportRanker(settings),
    }
    methods: dict[str, dict[str, float]] = {}
    for name, ranker in rankers.items():
        started = time.perf_counter()
        ranker.fit(data)
        fitted = time.perf_counter() - started
        ranked = _rank(ranker, history, k, settings.exclude_seen)
        methods[name] = {**offline_metrics(ranked, test, k, len(data.items)), "fit_seconds": round(fitted, 3)}
        if progress:
            progress(1)
    return {
        "methods": methods,
        "split": {"kind": chosen.kind, "fraction": chosen.fraction if chosen.kind != "last" else None},
        "tuning": {**tuned.validation, "settings": settings.to_dict()},
        "data": {
            "interactions": len(table),
            "customers": int(table["customer"].nunique()),
            "items": int(table["item"].nunique()),
            "train_rows": len(train),
            "test_rows": len(test),
            "test_customers": len(history.customers),
            "exclude_seen": settings.exclude_seen,
        },
    }


def _rank(ranker: Any, history: Interactions, k: int, exclude_seen: bool) -> pd.DataFrame:
    frames = []
    customers = history.customers
    for start in range(0, len(customers), SCORING_BATCH):
        batch = history.rows(customers[start : start + SCORING_BATCH])
        frames.append(top_items(np.asarray(ranker.score(batch)), batch, k, exclude_seen))
    return pd.concat(frames, ignore_index=True)
