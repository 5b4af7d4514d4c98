"""`rapport recommend`: Rapport's ranker fitted on a firm's own interaction file, top k per customer with reasons."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
import pandas as pd

from rapport.errors import InvalidInput
from rapport.request.blend import RankerSettings, RapportRanker, combine
from rapport.request.evaluation import REPEAT_FLOOR, TimeSplit, top_items
from rapport.request.interactions import Interactions, interaction_table
from rapport.request.reasons import Explainer
from rapport.request.tuning import tune

MAX_BATCH_K = 1000
BATCH = 2048  # customers scored at once


def recommend_interactions(
    frame: pd.DataFrame,
    user_col: str,
    item_col: str,
    time_col: str | None = None,
    k: int = 10,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Columns ``user_col``, ``item_col``, rank, score, reason: the top ``k`` items of every customer.

    With a time column the blend is tuned on each customer's latest interactions (a validation split) and then
    refitted on everything; without one (or with too little history to split) it keeps the default weights.
    """
    if not isinstance(k, int) or not 1 <= k <= MAX_BATCH_K:
        raise InvalidInput(f"k={k!r} must be a whole number from 1 to {MAX_BATCH_K}.")
    table = interaction_table(frame, user_col, item_col, time_col)
    data = Interactions.build(table)
    settings = RankerSettings(exclude_seen=data.repeat_share() < REPEAT_FLOOR)
    if time_col is not None:
        with contextlib.suppress(InvalidInput):  # too little history for a validation split: the defaults stand
            settings = tune(table, TimeSplit.choose(table), k).settings
    ranker = RapportRanker(settings).fit(data)
    names = ranker.items.astype(str).to_numpy().astype(object)
    categories = np.full(len(names), None, dtype=object)
    frames = []
    for start in range(0, len(data.customers), BATCH):
        batch = data.rows(data.customers[start : start + BATCH])
        explainer = Explainer(ranker, batch, names, categories, bool(table.attrs.get("days")))
        frames.append(_explained(ranker, batch, k, explainer))
        if progress:
            progress(len(batch.customers))
    ranked = pd.concat(frames, ignore_index=True)
    return ranked.rename(columns={"customer": user_col, "item": item_col})


def _explained(ranker: RapportRanker, batch: Interactions, k: int, explainer: Explainer) -> pd.DataFrame:
    parts = ranker.components(batch)
    ranked = top_items(combine(parts, ranker.weights), batch, k, ranker.settings.exclude_seen)
    rows = batch.customers.get_indexer(ranked["customer"])
    cols = ranker.items.get_indexer(ranked["item"])
    reasons = []
    for row, col in zip(rows, cols, strict=True):
        reasons.append(explainer.explain(int(row), int(col), ranker.contributions(parts, row, col))[0])
    ranked["score"] = np.round(ranked["score"].astype(float), 6)
    ranked["reason"] = reasons
    return ranked
