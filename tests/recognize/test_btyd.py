"""BTYD models on CDNOW: the published parameters, agreement with `lifetimes`, stable likelihoods, invariants."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from rapport.datasets.cdnow import CALIBRATION_END, HORIZON_END, load_cdnow
from rapport.errors import InvalidInput
from rapport.recognize.bgnbd import BGNBD, bgnbd_survival, simulate_bgnbd
from rapport.recognize.gammagamma import GammaGamma
from rapport.recognize.paretonbd import ParetoNBD, paretonbd_loglik, paretonbd_survival
from rapport.recognize.rfm import count_between, purchase_days, summarize


@pytest.fixture(scope="module")
def days() -> pd.DataFrame:
    return purchase_days(load_cdnow(), "customer_id", "date", "amount")


@pytest.fixture(scope="module")
def summary(days: pd.DataFrame) -> pd.DataFrame:
    return summarize(days, CALIBRATION_END)


def rfm(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return summary["frequency"].to_numpy(), summary["recency"].to_numpy(), summary["T"].to_numpy()


@pytest.fixture(scope="module")
def bgnbd(summary: pd.DataFrame) -> BGNBD:
    return BGNBD().fit(*rfm(summary))


@pytest.fixture(scope="module")
def paretonbd(summary: pd.DataFrame) -> ParetoNBD:
    return ParetoNBD().fit(*rfm(summary))


def test_cdnow_calibration_and_holdout(days: pd.DataFrame, summary: pd.DataFrame) -> None:
    assert len(load_cdnow()) == 6919
    assert len(summary) == 2357
    assert summary["frequency"].sum() == 2457  # repeat purchase days in weeks 1-39
    assert count_between(days, CALIBRATION_END, HORIZON_END, summary.index).sum() == 1882


def test_summary_counts_purchase_days_in_weeks() -> None:
    start = pd.Timestamp("2024-01-01")
    purchases = pd.DataFrame(
        {
            "c": ["a", "a", "a", "a", "b"],
            "at": [
                start,
                start + pd.Timedelta(days=10),
                start + pd.Timedelta(days=10, hours=5),
                start + pd.Timedelta(days=24),
                start,
            ],
            "v": [5.0, 10.0, 2.0, 6.0, 1.0],
        }
    )
    out = summarize(purchase_days(purchases, "c", "at", "v"), start + pd.Timedelta(days=40))
    assert out.loc["a", ["frequency", "recency", "T"]].tolist() == [2.0, 24 / 7, 40 / 7]
    assert out.loc["a", "monetary_value"] == pytest.approx(9.0)  # (12 + 6) / 2 repeat days
    assert out.loc["b", ["frequency", "recency", "monetary_value"]].tolist() == [0.0, 0.0, 0.0]


def test_bgnbd_reproduces_fader_hardie_lee(bgnbd: BGNBD) -> None:
    paper = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in paper.items():
        assert bgnbd.params[name] == pytest.approx(value, abs=5e-4), name
    assert bgnbd.loglik == pytest.approx(-9582.4, abs=0.05)


def test_paretonbd_reproduces_fader_hardie_lee(paretonbd: ParetoNBD) -> None:
    paper = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    for name, value in paper.items():
        # the likelihood moves by < 1e-6 over beta 11.668 .. 11.672: the optimum is that flat
        assert paretonbd.params[name] == pytest.approx(value, rel=1e-3), name
    assert paretonbd.loglik == pytest.approx(-9595.0, abs=0.05)


def test_gammagamma_reproduces_fader_hardie_lee(summary: pd.DataFrame) -> None:
    spend = GammaGamma().fit(summary["frequency"], summary["monetary_value"])
    for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert spend.params[name] == pytest.approx(value, abs=0.006), name
    value = spend.expected_value(summary["frequency"], summary["monetary_value"])
    p, q, gamma = spend.params["p"], spend.params["q"], spend.params["gamma"]
    assert value[summary["frequency"].to_numpy() == 0] == pytest.approx(p * gamma / (q - 1))


def test_agrees_with_lifetimes(summary: pd.DataFrame, bgnbd: BGNBD, paretonbd: ParetoNBD) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifetimes imports the deprecated pkg_resources
        from lifetimes import BetaGeoFitter, ParetoNBDFitter

    x, tx, T = rfm(summary)
    theirs = BetaGeoFitter().fit(x, tx, T)
    for name in ("r", "alpha", "a", "b"):
        assert bgnbd.params[name] == pytest.approx(theirs.params_[name], rel=1e-3)
    theirs.params_ = pd.Series(bgnbd.params)  # same parameters: the formulas must agree
    expected = theirs.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, T)
    np.testing.assert_allclose(bgnbd.expected_transactions(39.0, x, tx, T), expected, rtol=1e-6)
    np.testing.assert_allclose(bgnbd.p_alive(x, tx, T), theirs.conditional_probability_alive(x, tx, T), rtol=1e-6)
    pareto = ParetoNBDFitter()
    pareto.params_ = pd.Series(paretonbd.params)
    expected = pareto.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, T)
    np.testing.assert_allclose(paretonbd.expected_transactions(39.0, x, tx, T), expected, rtol=1e-6)
    np.testing.assert_allclose(paretonbd.p_alive(x, tx, T), pareto.conditional_probability_alive(x, tx, T), rtol=1e-6)


def paretonbd_by_integration(params: tuple[float, float, float, float], x: float, tx: float, T: float) -> float:
    """The Pareto/NBD likelihood by integrating the individual likelihood over both gamma rate distributions.

    Both integrals run over log-rates so the integrands are smooth and nothing underflows.
    """
    r, alpha, s, beta = params

    def log_gamma_pdf(v: float, shape: float, rate: float) -> float:
        return shape * math.log(rate) + (shape - 1) * math.log(v) - rate * v - math.lgamma(shape)

    def given_rate(lam: float) -> float:
        alive = math.exp(-lam * T) * (beta / (beta + T)) ** s

        def died(w: float) -> float:  # died at some time in (tx, T] with death rate mu = e^w
            mu = math.exp(w)
            k = lam + mu
            gap = math.log(-math.expm1(-k * (T - tx)))
            return math.exp(w + math.log(mu) + log_gamma_pdf(mu, s, beta) - k * tx + gap - math.log(k))

        return alive + (quad(died, -40, 8, limit=1000, epsabs=0, epsrel=1e-11)[0] if tx < T else 0.0)

    def over_rate(u: float) -> float:
        lam = math.exp(u)
        return math.exp(u + x * u + log_gamma_pdf(lam, r, alpha)) * given_rate(lam)

    return quad(over_rate, -40, 6, limit=1000, epsabs=0, epsrel=1e-11)[0]


@pytest.mark.parametrize(
    "params",
    [(0.553, 10.578, 0.606, 11.669), (0.8, 6.0, 1.3, 6.0), (0.8, 6.0, 1.3, 6.0 + 1e-9), (2.0, 3.0, 0.7, 25.0)],
    ids=["cdnow", "alpha=beta", "alpha~beta", "alpha<beta"],
)
def test_paretonbd_likelihood_matches_integration(params: tuple[float, float, float, float]) -> None:
    x, tx, T = np.array([0.0, 2.0, 7.0]), np.array([0.0, 10.5, 30.0]), np.array([38.0, 25.0, 31.0])
    ours = paretonbd_loglik(np.array(params), x, tx, T)
    direct = [math.log(paretonbd_by_integration(params, *row)) for row in zip(x, tx, T, strict=True)]
    np.testing.assert_allclose(ours, direct, rtol=1e-8)


def test_paretonbd_is_continuous_where_alpha_meets_beta() -> None:
    x, tx, T = np.array([0.0, 3.0, 40.0]), np.array([0.0, 20.0, 36.0]), np.array([39.0, 39.0, 39.0])
    at = paretonbd_loglik(np.array([0.5, 9.0, 0.8, 9.0]), x, tx, T)
    for beta in (9.0 - 1e-7, 9.0 + 1e-7):
        np.testing.assert_allclose(paretonbd_loglik(np.array([0.5, 9.0, 0.8, beta]), x, tx, T), at, rtol=1e-8)


def test_heavy_buyers_stay_finite(bgnbd: BGNBD, paretonbd: ParetoNBD) -> None:
    x, tx, T = np.array([500.0, 2000.0]), np.array([39.0, 39.0]), np.array([39.0, 39.0])  # bought on the last day
    for model in (bgnbd, paretonbd):
        assert np.isfinite(model.log_likelihood(x, tx, T)).all()
        expected = model.expected_transactions(39.0, x, tx, T)
        assert np.isfinite(expected).all() and (expected > 100).all()


def test_count_distributions_match_the_means(summary: pd.DataFrame, bgnbd: BGNBD, paretonbd: ParetoNBD) -> None:
    x, tx, T = rfm(summary)
    k = np.arange(1, 121)
    for model, survival in ((bgnbd, bgnbd_survival), (paretonbd, paretonbd_survival)):
        tail = survival(model._values(), 39.0, x, tx, T, k)
        assert (np.diff(tail, axis=1) <= 1e-12).all() and (tail >= 0).all() and (tail <= 1).all()
        np.testing.assert_allclose(tail.sum(axis=1), model.expected_transactions(39.0, x, tx, T), rtol=1e-6)


def test_recovers_simulated_parameters() -> None:
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 3.0}
    T = np.random.default_rng(1).uniform(20.0, 52.0, 20_000)
    model = BGNBD().fit(*simulate_bgnbd(truth, T, seed=2))
    for name, value in truth.items():
        assert model.params[name] == pytest.approx(value, rel=0.15), name


def test_save_and_load(tmp_path: Path, bgnbd: BGNBD, paretonbd: ParetoNBD) -> None:
    for model in (bgnbd, paretonbd):
        loaded = type(model).load(model.save(tmp_path / f"{model.kind}.json"))
        assert loaded.params == model.params and loaded.loglik == model.loglik
    with pytest.raises(InvalidInput, match="does not hold paretonbd"):
        ParetoNBD.load(tmp_path / "bgnbd.json")
    with pytest.raises(InvalidInput, match="not fitted"):
        BGNBD().p_alive([1.0], [1.0], [2.0])


def test_rejects_impossible_histories(bgnbd: BGNBD) -> None:
    with pytest.raises(InvalidInput, match="greater than T"):
        bgnbd.p_alive([2.0], [10.0], [5.0])
    with pytest.raises(InvalidInput, match=">= 0"):
        bgnbd.p_alive([-1.0], [0.0], [5.0])


histories = st.integers(0, 60).flatmap(
    lambda x: st.tuples(
        st.just(float(x)),
        st.floats(0.5, 120.0),
        st.floats(0.0, 1.0) if x > 0 else st.just(0.0),
    )
)
positive = st.floats(0.05, 20.0)


@settings(max_examples=60, deadline=None)
@given(history=histories, params=st.tuples(positive, positive, positive, positive))
def test_invariants(history: tuple[float, float, float], params: tuple[float, float, float, float]) -> None:
    x, T, share = history
    tx = share * T
    times = np.array([1.0, 5.0, 20.0, 80.0])
    for model in (
        BGNBD(dict(zip(BGNBD.names, params, strict=True))),
        ParetoNBD(dict(zip(ParetoNBD.names, params, strict=True))),
    ):
        alive = float(model.p_alive([x], [tx], [T])[0])
        assert 0.0 <= alive <= 1.0
        expected = np.array([model.expected_transactions(t, [x], [tx], [T])[0] for t in times])
        assert np.isfinite(expected).all() and (expected >= 0).all()
        assert (np.diff(expected) >= -1e-9 * (1 + expected[1:])).all()
        assert np.isfinite(model.log_likelihood([x], [tx], [T])).all()
