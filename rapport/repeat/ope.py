"""Off-policy evaluation: a new policy's value estimated from the logs of an old one, before it meets customers.

For logged rounds (context x_i, action a_i drawn with probability p_i = pi_b(a_i | x_i), reward r_i) and a target
policy pi_e(a | x_i) given for every action of every round, with importance weight w_i = pi_e(a_i | x_i) / p_i:

- IPS (inverse propensity scoring):  V = (1/n) sum w_i r_i
- SNIPS (self-normalised IPS):      V = sum w_i r_i / sum w_i
- DR (doubly robust):               V = (1/n) sum [ sum_a pi_e(a|x_i) q(x_i, a) + w_i (r_i - q(x_i, a_i)) ]
- DM (direct method, DR's model part alone, for reference): V = (1/n) sum_a pi_e(a|x_i) q(x_i, a)

with q a reward model (``logistic_reward_model``: scikit-learn logistic regression, cross-fitted so no round's q
was fitted on that round). Each estimate comes with a percentile bootstrap interval over rounds (the reward model
held fixed).

Why not obp's estimators: on this machine ``pip install obp`` resolves to the old obp 0.4.1 (0.5.x pins versions
that conflict with our numpy/scikit-learn) and pulls torch with the CUDA wheels (gigabytes) for its neural
estimators; the three formulas are a few numpy lines, and ``rapport evaluate ope`` validates them on the Open
Bandit Dataset against the click rate logged on-policy, which is the check that matters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from rapport.errors import InvalidInput

ESTIMATORS = ("ips", "snips", "dr", "dm")
BOOT_CHUNK = 100


@dataclass(frozen=True)
class LoggedRounds:
    """What the old policy did: the action index, the reward and the probability it had of taking that action."""

    actions: np.ndarray
    rewards: np.ndarray
    propensities: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.actions)
        if n == 0 or len(self.rewards) != n or len(self.propensities) != n:
            raise InvalidInput(
                f"Logged rounds need equal, non-zero numbers of actions, rewards and propensities ({n})."
            )
        if not np.all((self.propensities > 0) & (self.propensities <= 1)):
            raise InvalidInput("Every logged propensity must lie in (0, 1]; a zero-propensity action cannot be logged.")


@dataclass(frozen=True)
class Estimate:
    """One estimator's value of the target policy and its bootstrap interval."""

    estimator: str
    value: float
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        return {"estimator": self.estimator, "value": self.value, "low": self.low, "high": self.high}


def terms(
    rounds: LoggedRounds, target: np.ndarray, q_hat: np.ndarray | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per round, each estimator's numerator and denominator terms (the estimate is sum(num) / sum(den))."""
    n = len(rounds.actions)
    if target.ndim != 2 or target.shape[0] != n:
        raise InvalidInput(f"The target policy must give (rounds={n}, actions) probabilities, got {target.shape}.")
    rows = np.arange(n)
    weights = target[rows, rounds.actions] / rounds.propensities
    ones = np.ones(n)
    found = {"ips": (weights * rounds.rewards, ones), "snips": (weights * rounds.rewards, weights)}
    if q_hat is not None:
        if q_hat.shape != target.shape:
            raise InvalidInput(f"The reward model's shape {q_hat.shape} must match the target's {target.shape}.")
        direct = (target * q_hat).sum(axis=1)
        found["dr"] = (direct + weights * (rounds.rewards - q_hat[rows, rounds.actions]), ones)
        found["dm"] = (direct, ones)
    return found


def bootstrap_ratios(
    parts: dict[str, tuple[np.ndarray, np.ndarray]], n_boot: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """``n_boot`` bootstrap replicates of sum(num)/sum(den) for each estimator, on shared resamples of the rounds."""
    n = len(next(iter(parts.values()))[0])
    out: dict[str, list[np.ndarray]] = {name: [] for name in parts}
    for start in range(0, n_boot, BOOT_CHUNK):
        picks = rng.integers(0, n, size=(min(BOOT_CHUNK, n_boot - start), n))
        for name, (num, den) in parts.items():
            totals = den[picks].sum(axis=1)
            out[name].append(num[picks].sum(axis=1) / np.where(totals == 0, np.nan, totals))
    return {name: np.concatenate(chunks) for name, chunks in out.items()}


def estimate(
    rounds: LoggedRounds,
    target: np.ndarray,
    q_hat: np.ndarray | None = None,
    *,
    rng: np.random.Generator,
    n_boot: int = 1000,
    level: float = 0.95,
) -> dict[str, Estimate]:
    """IPS, SNIPS and (with a reward model) DR and DM, each with its percentile bootstrap interval."""
    parts = terms(rounds, target, q_hat)
    return summarise(parts, bootstrap_ratios(parts, n_boot, rng), level)


def summarise(
    parts: dict[str, tuple[np.ndarray, np.ndarray]], replicates: dict[str, np.ndarray], level: float = 0.95
) -> dict[str, Estimate]:
    """Each estimator's value (from all rounds) and the percentile interval of its bootstrap replicates."""
    tail = (1 - level) / 2 * 100
    found = {}
    for name, (num, den) in parts.items():
        low, high = np.nanpercentile(replicates[name], [tail, 100 - tail])
        found[name] = Estimate(name, float(num.sum() / den.sum()), float(low), float(high))
    return found


# ----- the reward model -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RewardDesign:
    """Features of (round, action): a one-hot action, round features (sparse) and per-(round, action) columns.

    The logit of q(x_i, a) is linear: b + w_action[a] + w_round . X_i + w_pair . P[i, a, :], so predicting every
    action of every round needs no (rounds x actions) design matrix.
    """

    n_actions: int
    round_features: sparse.csr_matrix  # (n, d)
    pair_features: np.ndarray  # (n, n_actions, k), k >= 0

    def logged(self, actions: np.ndarray) -> sparse.csr_matrix:
        n = len(actions)
        onehot = sparse.csr_matrix((np.ones(n), (np.arange(n), actions)), shape=(n, self.n_actions))
        pairs = sparse.csr_matrix(self.pair_features[np.arange(n), actions, :])
        return sparse.hstack([onehot, self.round_features, pairs], format="csr")

    def predict_all(self, model: LogisticRegression) -> np.ndarray:
        coef = model.coef_.ravel()
        d = self.round_features.shape[1]
        w_action, w_round, w_pair = coef[: self.n_actions], coef[self.n_actions : self.n_actions + d], coef[-self.k :]
        logit = model.intercept_[0] + w_action[None, :] + (self.round_features @ w_round)[:, None]
        if self.k:
            logit = logit + self.pair_features @ w_pair
        return np.asarray(1.0 / (1.0 + np.exp(-logit)))

    @property
    def k(self) -> int:
        return int(self.pair_features.shape[2])

    def rows(self, picks: np.ndarray) -> RewardDesign:
        return RewardDesign(self.n_actions, self.round_features[picks], self.pair_features[picks])


def logistic_reward_model(
    design: RewardDesign,
    rounds: LoggedRounds,
    rng: np.random.Generator,
    folds: int = 2,
    c: float = 0.1,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """q(x_i, a) for every round and action, cross-fitted: each fold's rounds are predicted by a model of the rest."""
    n = len(rounds.actions)
    fold_of = rng.permutation(n) % folds
    q_hat = np.zeros((n, design.n_actions))
    for fold in range(folds):
        train, test = np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)
        labels = rounds.rewards[train]
        if labels.min() == labels.max():  # one class only: the model is the constant rate
            q_hat[test] = labels.mean()
            continue
        model = LogisticRegression(C=c, max_iter=2000)
        model.fit(design.rows(train).logged(rounds.actions[train]), labels)
        q_hat[test] = design.rows(test).predict_all(model)
        if progress:
            progress(1)
    return q_hat


# ----- Rapport's own nudge logs -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoggedNudge:
    """One logged nudge: who, the arm taken (its key), the probability it had, and its first outcome's reward."""

    customer_id: str
    arm: str
    propensity: float
    reward: float


def evaluate_nudge_policy(
    logs: list[LoggedNudge], policy: Any, rng: np.random.Generator, n_boot: int = 1000
) -> dict[str, Any]:
    """A nudge bandit's value (``policy``: rapport.repeat.bandit.NudgeBandit) estimated from the decision logs.

    The target distribution for each logged nudge is the bandit's for that customer; the DR reward model is each
    arm's smoothed mean reward in the logs, (successes + 1) / (tries + 2). Nudges on arms the bandit does not know
    are left out. The logging policy's own value is the mean reward, for comparison.
    """
    from rapport.repeat.bandit import NudgeContext

    known = [row for row in logs if row.arm in policy.index]
    if not known:
        raise InvalidInput("No logged nudge with an arm this bandit knows: decide some nudges and record outcomes.")
    actions = np.array([policy.index[row.arm] for row in known])
    rewards = np.array([row.reward for row in known])
    rounds = LoggedRounds(actions, rewards, np.array([row.propensity for row in known]))
    target = np.vstack([policy.probabilities(NudgeContext(row.customer_id), rng) for row in known])
    tries = np.bincount(actions, minlength=len(policy.arms))
    wins = np.bincount(actions, weights=rewards, minlength=len(policy.arms))
    q_hat = np.tile((wins + 1) / (tries + 2), (len(known), 1))
    found = estimate(rounds, target, q_hat, rng=rng, n_boot=n_boot)
    return {
        "nudges": len(known),
        "logged_value": float(rewards.mean()),
        "estimates": {name: e.to_dict() for name, e in found.items()},
    }
