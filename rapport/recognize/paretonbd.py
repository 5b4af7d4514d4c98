"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987): purchases at rate lambda ~ Gamma(r, alpha) until an
exponential lifetime with rate mu ~ Gamma(s, beta) ends.

The likelihood follows Fader & Hardie's note "Deriving an expression for P(X(t) = x) under the Pareto/NBD model"
(2005), whose A0 term is a difference of two Gauss hypergeometric functions with a branch on alpha >= beta.
Both branches are rewritten with Euler's transformation into 2F1(1, .; .; z), a series of positive terms that
converges on [0, 1), so the two branches meet smoothly at alpha = beta (where z = 0 and 2F1 = 1) and the
difference is taken on the log scale (log1p(-exp(.))) instead of between two rounded large numbers.
"""

from __future__ import annotations

from typing import Self

import numpy as np
from scipy.special import betainc, expit, gammaln, hyp2f1

from rapport.recognize.btyd import ArrayLike, FittedParams, as_arrays, compress, fit_positive


def _log_term(r: float, alpha: float, s: float, beta: float, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """log of 2F1(r+s+x, b; r+s+x+1; z(t)) / (max(alpha, beta) + t)^(r+s+x), the two halves of A0."""
    if alpha >= beta:
        z = (alpha - beta) / (alpha + t)
        return np.log(hyp2f1(1.0, r + x, r + s + x + 1.0, z)) - (r + x) * np.log(alpha + t) - s * np.log(beta + t)
    z = (beta - alpha) / (beta + t)
    return (
        np.log(hyp2f1(1.0, s + 1.0, r + s + x + 1.0, z))
        + (1.0 - r - x) * np.log(alpha + t)
        - (s + 1.0) * np.log(beta + t)
    )


def _log_parts(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log of the 'alive at T' part, log of the 'died in (t_x, T]' part) of the likelihood, without constants."""
    r, alpha, s, beta = params
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    start = _log_term(r, alpha, s, beta, x, tx)
    end = _log_term(r, alpha, s, beta, x, T)
    with np.errstate(divide="ignore"):
        # A0 = term(t_x) - term(T) >= 0; it is exactly 0 when the last purchase is at T.
        log_a0 = start + np.log(-np.expm1(np.minimum(end - start, 0.0)))
    died = np.log(s) - np.log(r + s + x) + log_a0
    return alive, died


def paretonbd_loglik(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Log-likelihood of each customer's (x, t_x, T) under Pareto/NBD parameters (r, alpha, s, beta)."""
    r, alpha, s, beta = params
    alive, died = _log_parts(params, x, tx, T)
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.logaddexp(alive, died)


class ParetoNBD(FittedParams):
    """The Pareto/NBD model: ``ParetoNBD().fit(frequency, recency, T)``, then p_alive / expected_transactions."""

    kind = "paretonbd"
    names = ("r", "alpha", "s", "beta")

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Self:
        """Maximum-likelihood parameters for these customers (times in any unit, e.g. weeks)."""
        weights, (x, tx, t_obs) = compress(*as_arrays(frequency, recency, T))
        scale = float(np.mean(t_obs)) or 1.0
        start = np.array([1.0, scale, 1.0, scale])
        values, loglik = fit_positive(lambda p: paretonbd_loglik(p, x, tx, t_obs), weights, start)
        self.params = dict(zip(self.names, (float(v) for v in values), strict=True))
        self.loglik = loglik
        return self

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Each customer's log-likelihood under the fitted parameters."""
        return paretonbd_loglik(np.array(self._values()), *as_arrays(frequency, recency, T))

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """P(still active at T | history): the 'alive' share of the likelihood."""
        alive, died = _log_parts(np.array(self._values()), *as_arrays(frequency, recency, T))
        return expit(alive - died)

    def expected_transactions(self, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Expected purchases in (T, T + t]: P(alive) (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]."""
        r, alpha, s, beta = self._values()
        x, tx, t_obs = as_arrays(frequency, recency, T)
        rate = (r + x) / (alpha + t_obs)
        return self.p_alive(x, tx, t_obs) * rate * _lifetime_within(s, beta + t_obs, t)

    def expected_transactions_new(self, t: ArrayLike) -> np.ndarray:
        """Expected purchases in (0, t] of a customer just acquired: r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]."""
        r, alpha, s, beta = self._values()
        return r / alpha * _lifetime_within(s, np.asarray(beta, dtype=float), np.asarray(t, dtype=float))

    def next_purchase_weeks(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Median time from T to the next purchase of a customer still active (Lomax(r + x, alpha + T) wait)."""
        r, alpha, _, _ = self._values()
        x, _, t_obs = as_arrays(frequency, recency, T)
        return (alpha + t_obs) * np.expm1(np.log(2.0) / (r + x))


def _lifetime_within(s: float, scale: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """E[min(lifetime, t)] for a lifetime ~ Exp(mu), mu ~ Gamma(s, scale): scale/(s-1) [1 - (scale/(scale+t))^(s-1)].

    Computed as scale * -expm1(-(s-1) u)/(s-1) with u = log1p(t/scale), which tends to scale * u as s -> 1.
    """
    u = np.log1p(t / scale)
    k = s - 1.0
    if abs(k) < 1e-8:
        return scale * u
    return scale * -np.expm1(-k * u) / k


_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(48)


def paretonbd_survival(
    params: tuple[float, float, float, float], t: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray, k: np.ndarray
) -> np.ndarray:
    """P(at least k purchases in (T, T + t] | history) for each customer (rows) and count k >= 1 (columns).

    Given activity at T, lambda ~ Gamma(R = r+x, A = alpha+T) and mu ~ Gamma(s, B = beta+T). The k-th purchase
    comes at S_k and counts iff S_k <= t and the customer is still alive then, which has probability
    (B / (B + S_k))^s once mu is integrated out. With V = S_k / (A + S_k) ~ Beta(k, R) after integrating lambda,
    P = E[1{V <= v_t} w(V)], w(v) = (B(1-v) / (B(1-v) + A v))^s, v_t = t / (A + t). Integrating by parts turns
    the (possibly very peaked) Beta density into its smooth CDF, integrated by 48-point Gauss-Legendre:
    P = I_{v_t}(k, R) w(v_t) - int_0^{v_t} I_v(k, R) w'(v) dv.
    """
    r, alpha, s, beta = params
    pa = ParetoNBD(dict(zip(ParetoNBD.names, params, strict=True))).p_alive(x, tx, T)
    shape = (r + x)[:, None, None]
    a_, b_ = (alpha + T)[:, None, None], (beta + T)[:, None, None]
    v_t = (t / (alpha + T + t))[:, None, None]
    kk = k[None, :, None].astype(float)
    v = v_t * (_NODES[None, None, :] + 1.0) / 2.0

    def weight(u: np.ndarray) -> np.ndarray:
        return (b_ * (1.0 - u) / (b_ * (1.0 - u) + a_ * u)) ** s

    slope = weight(v) * s * (-1.0 / (1.0 - v) - (a_ - b_) / (b_ * (1.0 - v) + a_ * v))
    inner = (betainc(kk, shape, v) * slope * _WEIGHTS[None, None, :]).sum(axis=2) * v_t[:, :, 0] / 2.0
    edge = betainc(kk[:, :, 0], shape[:, :, 0], v_t[:, :, 0]) * weight(v_t)[:, :, 0]
    return pa[:, None] * np.clip(edge - inner, 0.0, 1.0)
