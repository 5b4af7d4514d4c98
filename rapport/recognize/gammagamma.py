"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"): what a customer's purchases are worth.

Each purchase's value is Gamma(p, nu) with the customer's nu ~ Gamma(q, gamma); the model is fitted on the mean
value m_x of each customer's x > 0 repeat purchases and assumes spend is independent of purchase frequency.
"""

from __future__ import annotations

from typing import Self

import numpy as np
from scipy.special import gammaln

from rapport.errors import InvalidInput
from rapport.recognize.btyd import ArrayLike, FittedParams, compress, fit_positive


def gammagamma_loglik(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Log-likelihood of each mean value m_x over x purchases under (p, q, gamma) (x > 0, m > 0)."""
    p, q, gamma = params
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1.0) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + m * x)
    )


def _spend_arrays(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x, m = np.broadcast_arrays(np.asarray(frequency, dtype=float), np.asarray(monetary_value, dtype=float))
    if not (np.isfinite(x).all() and np.isfinite(m).all()) or (x < 0).any() or (m < 0).any():
        raise InvalidInput("Frequencies and mean values must be finite and >= 0; check the amount column.")
    return x, m


class GammaGamma(FittedParams):
    """Expected value per purchase: ``GammaGamma().fit(frequency, monetary_value).expected_value(...)``."""

    kind = "gammagamma"
    names = ("p", "q", "gamma")

    def fit(self, frequency: ArrayLike, monetary_value: ArrayLike) -> Self:
        """Fit on the customers with repeat purchases of positive mean value (the others carry no spend data)."""
        x, m = _spend_arrays(frequency, monetary_value)
        keep = (x > 0) & (m > 0)
        if keep.sum() < 3:
            raise InvalidInput("Fitting spend needs at least 3 customers with repeat purchases of positive amount.")
        weights, (xs, ms) = compress(x[keep], m[keep])
        start = np.array([1.0, 1.0, float(np.mean(ms))])
        values, loglik = fit_positive(lambda prm: gammagamma_loglik(prm, xs, ms), weights, start)
        self.params = dict(zip(self.names, (float(v) for v in values), strict=True))
        self.loglik = loglik
        return self

    def expected_value(self, frequency: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
        """E[value of a purchase | x, m_x] = (gamma + m_x x) p / (p x + q - 1); the population mean when x = 0.

        The conditional mean is a weighted average of the population mean p gamma / (q - 1) and the customer's
        own m_x; it needs q > 1 (a finite population mean).
        """
        p, q, gamma = self._values()
        if q <= 1.0:
            raise InvalidInput(f"Fitted q = {q:.3f} <= 1: mean spend has no finite expectation; check the amounts.")
        x, m = _spend_arrays(frequency, monetary_value)
        return (gamma + m * x) * p / (p * x + q - 1.0)
