"""Off-policy estimators: unbiased on a simulated log whose truth is known, checked against the formulas on the Open
Bandit Dataset, and the one command that prints the validation table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.datasets.open_bandit import load_open_bandit, open_bandit_path
from rapport.errors import InvalidInput
from rapport.repeat import ope
from rapport.repeat.ope import LoggedRounds, RewardDesign
from rapport.repeat.validation import bts_distribution, validate_open_bandit

K = 5


RATES = np.array([[0.1, 0.2, 0.5, 0.3, 0.05], [0.4, 0.1, 0.1, 0.2, 0.6]])
LOGITS = np.array([-2.0, -1.0, 0.0, -0.5, -1.5])
ADDITIVE = 1 / (1 + np.exp(-(LOGITS[None, :] + np.array([[0.0], [1.2]]))))  # action and group effects add up


def _simulated_log(n: int, seed: int, table: np.ndarray = RATES) -> tuple[LoggedRounds, np.ndarray, np.ndarray, float]:
    """Contexts in two groups, a logging policy that favours action 0, a target that favours the best action."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n)
    rates = table[group]  # (n, K)
    behaviour = np.array([0.4, 0.15, 0.15, 0.15, 0.15])
    actions = rng.choice(K, size=n, p=behaviour)
    rewards = (rng.random(n) < rates[np.arange(n), actions]).astype(float)
    target = np.full((n, K), 0.05)
    target[np.arange(n), rates.argmax(axis=1)] = 0.8
    truth = float((target * rates).sum(axis=1).mean())
    return LoggedRounds(actions, rewards, behaviour[actions]), target, rates, truth


def test_each_estimator_recovers_a_known_value_and_dr_with_the_true_model_is_tighter() -> None:
    rounds, target, rates, truth = _simulated_log(20_000, seed=7)
    found = ope.estimate(rounds, target, rates, rng=np.random.default_rng(1), n_boot=400)
    assert truth > rounds.rewards.mean() + 0.1, "the target policy really is better than the logging one"
    for name in ("ips", "snips", "dr"):
        assert found[name].low <= truth <= found[name].high, (name, found[name], truth)
        assert abs(found[name].value - truth) < 0.02
    width = {name: found[name].high - found[name].low for name in found}
    assert width["dr"] < width["ips"], "a correct reward model removes most of the variance"
    assert found["dm"].value == pytest.approx(truth, abs=0.01)


def test_cross_fitted_logistic_reward_model_learns_the_groups() -> None:
    rounds, _target, rates, _truth = _simulated_log(6000, seed=3, table=ADDITIVE)
    group = (rates[:, 0] > ADDITIVE[0, 0]).astype(int)
    from scipy import sparse

    design = RewardDesign(K, sparse.csr_matrix(np.eye(2)[group]), np.zeros((len(group), K, 0)))
    q_hat = ope.logistic_reward_model(design, rounds, np.random.default_rng(0), folds=2, c=10.0)
    assert q_hat.shape == (6000, K)
    assert np.abs(q_hat - rates).mean() < 0.03, "additive in action and group: close to the true rates"


def test_bad_logs_are_refused() -> None:
    with pytest.raises(InvalidInput, match="propensity"):
        LoggedRounds(np.array([0]), np.array([1.0]), np.array([0.0]))
    with pytest.raises(InvalidInput, match="equal"):
        LoggedRounds(np.array([0, 1]), np.array([1.0]), np.array([0.5]))
    rounds = LoggedRounds(np.array([0, 1]), np.array([1.0, 0.0]), np.array([0.5, 0.5]))
    with pytest.raises(InvalidInput, match="target"):
        ope.terms(rounds, np.ones((3, 2)) / 2)
    with pytest.raises(InvalidInput, match="Open Bandit log"):
        load_open_bandit("/nonexistent/open-bandit")


def test_open_bandit_validation_matches_the_formulas_written_out_with_pandas() -> None:
    result = validate_open_bandit(open_bandit_path("random"), open_bandit_path("bts"), rows=4000, n_boot=100)
    random_log = pd.read_csv(open_bandit_path("random"), index_col=0).head(4000)
    bts = pd.read_csv(open_bandit_path("bts"), index_col=0).head(4000)
    assert result["on_policy"]["value"] == pytest.approx(bts["click"].mean())
    shown = bts.groupby(["position", "item_id"]).size() / bts.groupby("position").size()
    pi_e = random_log.apply(lambda r: shown.get((r["position"], r["item_id"]), 0.0), axis=1)
    ips = float((random_log["click"] * pi_e / random_log["propensity_score"]).mean())
    snips = float((random_log["click"] * pi_e / random_log["propensity_score"]).sum() / (pi_e / 0.0125).sum())
    empirical = result["targets"]["empirical"]
    assert empirical["ips"]["value"] == pytest.approx(ips)
    assert empirical["snips"]["value"] == pytest.approx(snips)
    for row in empirical.values():
        assert row["low"] <= row["value"] <= row["high"]
        assert row["relative_error"] == pytest.approx(abs(row["value"] - bts["click"].mean()) / bts["click"].mean())
    distribution = bts_distribution(load_open_bandit(open_bandit_path("bts")), "propensity")
    assert distribution.shape == (3, 80) and np.allclose(distribution.sum(axis=1), 1.0)


def test_rapport_evaluate_ope_prints_the_table_and_its_json() -> None:
    args = ["evaluate", "ope", "--rows", "2000", "--bootstrap", "60"]
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "doubly robust" in table.stdout and "relative error" in table.stdout
    as_json = CliRunner().invoke(app, [*args, "--json"])
    result = json.loads(as_json.stdout)
    assert set(result["targets"]["empirical"]) == {"ips", "snips", "dr", "dm"}
    assert result["rounds"] == {"random": 2000, "bts": 2000}
