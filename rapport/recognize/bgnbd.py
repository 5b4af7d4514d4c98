"""BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): who is still buying, and how much.

While active, a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); after each purchase they
drop out with probability p ~ Beta(a, b). Fitted by maximum likelihood on (frequency, recency, T); every quantity
is computed on the log scale (gammaln, betaln, logaddexp) so customers with hundreds of purchases stay finite.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

import numpy as np
from scipy.special import betaln, expit, gammaln, hyp2f1, roots_jacobi
from scipy.stats import nbinom

from rapport.recognize.btyd import ArrayLike, FittedParams, as_arrays, compress, fit_positive


def bgnbd_loglik(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Log-likelihood of each customer's (x, t_x, T) under BG/NBD parameters (r, alpha, a, b): eq. (6) of the paper."""
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    still_active = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    repeat = x > 0
    dropped = np.full_like(x, -np.inf)
    xr = x[repeat]
    dropped[repeat] = betaln(a + 1.0, b + xr - 1.0) - (r + xr) * np.log(alpha + tx[repeat])
    return common + np.logaddexp(still_active, dropped)


class BGNBD(FittedParams):
    """The BG/NBD model: ``BGNBD().fit(frequency, recency, T)``, then p_alive / expected_transactions.

    Example:
        >>> model = BGNBD().fit(summary["frequency"], summary["recency"], summary["T"])
        >>> model.expected_transactions(39.0, summary["frequency"], summary["recency"], summary["T"])
    """

    kind = "bgnbd"
    names = ("r", "alpha", "a", "b")

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Self:
        """Maximum-likelihood parameters for these customers (times in any unit, e.g. weeks)."""
        weights, (x, tx, t_obs) = compress(*as_arrays(frequency, recency, T))
        scale = float(np.mean(t_obs)) or 1.0
        start = np.array([1.0, scale, 1.0, 1.0])
        values, loglik = fit_positive(lambda p: bgnbd_loglik(p, x, tx, t_obs), weights, start)
        self.params = dict(zip(self.names, (float(v) for v in values), strict=True))
        self.loglik = loglik
        return self

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Each customer's log-likelihood under the fitted parameters."""
        return bgnbd_loglik(np.array(self._values()), *as_arrays(frequency, recency, T))

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """P(still active at T | history): 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)) if x > 0, else 1."""
        r, alpha, a, b = self._values()
        x, tx, t_obs = as_arrays(frequency, recency, T)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = np.log(a) - np.log(b + x - 1.0) + (r + x) * (np.log(alpha + t_obs) - np.log(alpha + tx))
        return np.where(x > 0, expit(-log_odds), 1.0)

    def expected_transactions(self, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Expected purchases in (T, T + t] given the history: eq. (10) of the paper, P(alive) times
        the expected purchases of an active customer (see ``active_mean``)."""
        r, alpha, a, b = self._values()
        x, tx, t_obs = as_arrays(frequency, recency, T)
        return self.p_alive(x, tx, t_obs) * active_mean((r, alpha, a, b), t, x, t_obs)

    def expected_transactions_new(self, t: ArrayLike) -> np.ndarray:
        """Expected purchases in (0, t] of a customer just acquired (no history): eq. (7) of the paper."""
        r, alpha, a, b = self._values()
        times = np.asarray(t, dtype=float)
        zeros = np.zeros_like(times)
        return active_mean((r, alpha, a, b), times, zeros, zeros)

    def next_purchase_weeks(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Median time from T to the next purchase of a customer who is still active.

        Given activity, the rate's posterior is Gamma(r + x, alpha + T) and the wait is exponential given the rate,
        so the wait is Lomax(r + x, alpha + T): median (alpha + T) (2^(1/(r+x)) - 1).
        """
        r, alpha, _, _ = self._values()
        x, _, t_obs = as_arrays(frequency, recency, T)
        return (alpha + t_obs) * np.expm1(np.log(2.0) / (r + x))


def active_mean(params: tuple[float, float, float, float], t: ArrayLike, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """E[purchases in (T, T + t] | active at T, x purchases]: posterior lambda ~ Gamma(r+x, alpha+T), p ~ Beta(a, b+x).

    Closed form (a+b+x-1)/(a-1) [1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)], z = t/(alpha+T+t), written with
    Euler's transformation of the paper's 2F1 so its arguments do not grow with x. Its third argument
    c = a+b+x-1 is <= 0 for customers without repeats when a + b <= 1, where the series breaks down; there we
    integrate E_p[(1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p] by Gauss-Jacobi quadrature over the Beta(a, b) weight.
    """
    r, alpha, a, b = params
    x, T, times = np.broadcast_arrays(np.asarray(x, float), np.asarray(T, float), np.asarray(t, float))
    out = np.empty(x.shape)
    closed = a + b + x - 1.0 >= 0.01
    if closed.any():
        z = times[closed] / (alpha + T[closed] + times[closed])
        xs = x[closed]
        out[closed] = _mean_near_one(a, lambda a_: _growth(r, a_, b, xs, z))
    if (~closed).any():
        u, w = roots_jacobi(64, b - 1.0, a - 1.0)  # only x = 0 reaches here: weight p^(a-1) (1-p)^(b-1)
        p = (1.0 + u) / 2.0
        scale = (times[~closed] / (alpha + T[~closed]))[:, None]
        out[~closed] = (-np.expm1(-r * np.log1p(p[None, :] * scale)) / p[None, :]) @ (w / w.sum())
    return out


def _growth(r: float, a: float, b: float, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(a+b+x-1)/(a-1) [1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)]; the 2F1 may be negative when a < 1."""
    c = a + b + x - 1.0
    series = hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_term = (a - 1.0) * np.log1p(-z) + np.log(np.abs(series))
    bracket = np.where(series > 0, -np.expm1(log_term), 1.0 - np.sign(series) * np.exp(log_term))
    return c / (a - 1.0) * bracket


def _mean_near_one(a: float, f: Callable[[float], np.ndarray], eps: float = 1e-4) -> np.ndarray:
    """f(a), or the mean of f(1 - eps) and f(1 + eps) where a = 1 makes the closed form 0/0 (error O(eps^2))."""
    if abs(a - 1.0) >= eps:
        return f(a)
    return 0.5 * (f(1.0 - eps) + f(1.0 + eps))


def simulate_bgnbd_purchases(params: dict[str, float], T: ArrayLike, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Draw repeat purchases of customers observed for T periods after their first purchase.

    Returns (customer index, time since that customer's first purchase) of every repeat purchase, in time order
    per customer: rate lambda ~ Gamma(r, alpha), drop-out p ~ Beta(a, b) tossed after each repeat purchase.
    """
    rng = np.random.default_rng(seed)
    t_obs = np.asarray(T, dtype=float)
    n = t_obs.size
    rate = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    drop = rng.beta(params["a"], params["b"], n)
    now = np.zeros(n)
    active = np.ones(n, dtype=bool)
    who: list[np.ndarray] = []
    when: list[np.ndarray] = []
    while active.any():
        idx = np.flatnonzero(active)
        now[idx] += rng.exponential(1.0 / rate[idx])
        bought = now[idx] <= t_obs[idx]
        buyers = idx[bought]
        who.append(buyers)
        when.append(now[buyers])
        active[idx[~bought]] = False
        active[buyers[rng.random(buyers.size) < drop[buyers]]] = False
    customers, times = np.concatenate(who), np.concatenate(when)
    order = np.lexsort((times, customers))
    return customers[order], times[order]


def simulate_bgnbd(params: dict[str, float], T: ArrayLike, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw (frequency, recency, T) for customers observed for T periods after their first purchase."""
    t_obs = np.asarray(T, dtype=float)
    customers, times = simulate_bgnbd_purchases(params, t_obs, seed)
    x = np.bincount(customers, minlength=t_obs.size).astype(float)
    tx = np.zeros(t_obs.size)
    np.maximum.at(tx, customers, times)
    return x, tx, t_obs


def bgnbd_survival(
    params: tuple[float, float, float, float], t: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray, k: np.ndarray
) -> np.ndarray:
    """P(at least k purchases in (T, T + t] | history) for each customer (rows) and count k >= 1 (columns).

    Given activity at T the posterior is lambda ~ Gamma(r+x, alpha+T), p ~ Beta(a, b+x), independent; the customer
    makes k more purchases iff the Poisson clock ticks k times (a negative binomial tail once lambda is integrated
    out) and they survive the k-1 drop-out coins in between (B(a, b+x+k-1) / B(a, b+x)).
    """
    r, alpha, a, b = params
    pa = BGNBD(dict(zip(BGNBD.names, params, strict=True))).p_alive(x, tx, T)
    kk = k[None, :]
    ticks = nbinom.sf(kk - 1, (r + x)[:, None], ((alpha + T) / (alpha + T + t))[:, None])
    survive = np.exp(betaln(a, b + x[:, None] + kk - 1.0) - betaln(a, b + x[:, None]))
    return pa[:, None] * ticks * survive
