"""Validating the off-policy estimators on the Open Bandit Dataset: Bernoulli TS's click rate from random logs.

The evaluation policy is Bernoulli TS as it ran in the logs: for each position, the distribution over the 80
items that BTS showed there. obp's example (``examples/obd``) replays BTS from its production prior by Monte Carlo
(``BernoulliTS(is_zozotown_prior=True).compute_batch_action_dist``), a context-free distribution per position; we
estimate the same per-position distribution from the BTS log itself, two ways:

- ``empirical``: the share of the BTS log's impressions at position k that showed item a (an unbiased estimate of
  BTS's average probability of item a at position k over the week);
- ``propensity``: the mean logged propensity_score of item a at position k, renormalised over items (the brief's
  "BTS propensities per item and position"; it over-weights items BTS was sure of, as each is averaged over the
  rounds where it was shown).

Only the *random* log's clicks enter the estimates; the BTS log gives the policy and, separately, the ground truth:
its own click rate (the on-policy value, as obp's ``calc_on_policy_policy_value_estimate``). Relative error is
|estimate - truth| / truth, with a bootstrap interval that resamples both logs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.preprocessing import OneHotEncoder

from rapport.datasets.open_bandit import AFFINITIES, N_ITEMS, N_POSITIONS, USER_FEATURES, load_open_bandit
from rapport.repeat import ope
from rapport.repeat.ope import LoggedRounds, RewardDesign

TARGETS = ("empirical", "propensity")
STEPS = 4  # progress: loading, the two reward-model folds, the estimates


def bts_distribution(bts: pd.DataFrame, how: str) -> np.ndarray:
    """(positions, items): BTS's probability of each item at each position, from its own log."""
    table = np.zeros((N_POSITIONS, N_ITEMS))
    if how == "empirical":
        np.add.at(table, (bts["position"].to_numpy(), bts["item_id"].to_numpy()), 1.0)
    elif how == "propensity":
        sums, counts = np.zeros_like(table), np.zeros_like(table)
        np.add.at(sums, (bts["position"].to_numpy(), bts["item_id"].to_numpy()), bts["propensity_score"].to_numpy())
        np.add.at(counts, (bts["position"].to_numpy(), bts["item_id"].to_numpy()), 1.0)
        table = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    else:
        raise ValueError(how)
    return table / table.sum(axis=1, keepdims=True)


def reward_design(log: pd.DataFrame) -> RewardDesign:
    """Item one-hot; position and hashed user features one-hot; the user's affinity to each item."""
    categorical = log[["position", *USER_FEATURES]].astype(str)
    rounds = OneHotEncoder(handle_unknown="ignore").fit_transform(categorical)
    affinity = log[AFFINITIES].to_numpy(dtype=float) if set(AFFINITIES) <= set(log.columns) else None
    pairs = affinity[:, :, None] if affinity is not None else np.zeros((len(log), N_ITEMS, 0))
    return RewardDesign(N_ITEMS, sparse.csr_matrix(rounds), pairs)


def validate_open_bandit(
    random_path: str | Path,
    bts_path: str | Path,
    *,
    rows: int | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The OPE table: each estimator's estimate of BTS's click rate from the random log, against the truth."""
    step = progress or (lambda _n: None)
    random_log, bts = load_open_bandit(random_path), load_open_bandit(bts_path)
    if rows is not None:
        random_log, bts = random_log.head(rows), bts.head(rows)
    step(1)
    rng = np.random.default_rng(seed)
    rounds = LoggedRounds(
        random_log["item_id"].to_numpy(),
        random_log["click"].to_numpy(dtype=float),
        random_log["propensity_score"].to_numpy(dtype=float),
    )
    q_hat = ope.logistic_reward_model(reward_design(random_log), rounds, rng, folds=2, progress=step)
    truth_clicks = bts["click"].to_numpy(dtype=float)
    on_policy = {"on_policy": (truth_clicks, np.ones(len(truth_clicks)))}
    truth_replicates = ope.bootstrap_ratios(on_policy, n_boot, np.random.default_rng(seed + 1))
    truth = ope.summarise(on_policy, truth_replicates)["on_policy"]
    positions = random_log["position"].to_numpy()
    targets: dict[str, Any] = {}
    for how in TARGETS:
        target = bts_distribution(bts, how)[positions]
        parts = ope.terms(rounds, target, q_hat)
        replicates = ope.bootstrap_ratios(parts, n_boot, np.random.default_rng(seed + 2))
        found = ope.summarise(parts, replicates)
        targets[how] = {
            name: {
                **found[name].to_dict(),
                "relative_error": abs(found[name].value - truth.value) / truth.value,
                **_relative_interval(replicates[name], truth_replicates["on_policy"]),
            }
            for name in ope.ESTIMATORS
        }
    step(1)
    return {
        "data": "Open Bandit Dataset sample, campaign all",
        "behavior_policy": "random",
        "evaluation_policy": "bts",
        "rounds": {"random": len(random_log), "bts": len(bts)},
        "random_click_rate": float(rounds.rewards.mean()),
        # the baseline: "the new policy will do as the old one did" (no OPE at all)
        "naive_relative_error": abs(float(rounds.rewards.mean()) - truth.value) / truth.value,
        "on_policy": truth.to_dict(),
        "bootstrap": n_boot,
        "targets": targets,
    }


def _relative_interval(estimates: np.ndarray, truths: np.ndarray) -> dict[str, float]:
    errors = np.abs(estimates - truths) / np.where(truths == 0, np.nan, truths)
    low, high = np.nanpercentile(errors, [2.5, 97.5])
    return {"relative_error_low": float(low), "relative_error_high": float(high)}
