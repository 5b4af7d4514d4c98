"""Point forecasts from a predictive distribution of counts, and the errors we score them with.

A per-customer forecast of "how many purchases" is judged on absolute error (best answered by the median) and on
squared error (best answered by the mean); for most customers the median is 0 and the mean is not. The point
minimising E|Y - f| + kappa E(Y - f)^2 moves from the median (kappa -> 0) to the mean (kappa -> inf); summing the
points to the expected total keeps the forecast honest in aggregate.
"""

from __future__ import annotations

import math

import numpy as np


def mean_of(survival: np.ndarray) -> np.ndarray:
    """E[Y] from P(Y >= k), k = 1..K (columns): the sum of the tail probabilities."""
    return survival.sum(axis=1)


def balanced_point(
    survival: np.ndarray, kappa: float, shift: float = 0.0, mean: np.ndarray | None = None
) -> np.ndarray:
    """argmin_f E|Y - f| + kappa (f - mean - shift)^2 for each row of P(Y >= k), k = 1..K.

    The objective is convex with subgradient 2F(floor f) - 1 + 2 kappa (f - m), so the answer is the smallest f
    with F(floor f) - 1/2 >= kappa (m - f): on each step [j, j+1) that is max(j, m + (1/2 - F(j)) / kappa).
    Since |F - 1/2| <= 1/2 the answer lies within m +- 1/(2 kappa), so only the few steps there are examined.
    ``mean`` defaults to the sum of the tail; pass the closed-form mean when there is one (the tail is truncated).
    """
    mean = (mean_of(survival) if mean is None else mean) + shift
    if math.isinf(kappa):
        return np.maximum(mean, 0.0)
    return _balanced(_cdf(survival), kappa, mean)


def _cdf(survival: np.ndarray) -> np.ndarray:
    """P(Y <= j) for j = 0..K from P(Y >= k), k = 1..K; the last column (beyond the table) is 1."""
    return np.pad(1.0 - survival, ((0, 0), (0, 1)), constant_values=1.0)


def _balanced(cdf: np.ndarray, kappa: float, mean: np.ndarray) -> np.ndarray:
    reach = 0.5 / kappa
    first = np.floor(np.maximum(mean - reach, 0.0))
    steps = first[:, None] + np.arange(math.floor(2.0 * reach) + 2)[None, :]
    values = np.take_along_axis(cdf, np.minimum(steps, cdf.shape[1] - 1).astype(int), axis=1)
    candidate = np.maximum(steps, mean[:, None] + (0.5 - values) / kappa)
    candidate = np.where(candidate < steps + 1.0, candidate, np.inf)
    return candidate.min(axis=1)


def total_preserving_point(survival: np.ndarray, kappa: float, mean: np.ndarray | None = None) -> np.ndarray:
    """Balanced points shifted by one common amount so they add up to the expected total (bisection on the shift)."""
    mean = mean_of(survival) if mean is None else np.asarray(mean, dtype=float)
    if math.isinf(kappa) or mean.size == 0:
        return mean
    target = float(mean.sum())
    cdf = _cdf(survival)
    low, high = -float(mean.max()) - 1.0, 1.0
    while _balanced(cdf, kappa, mean + high).sum() < target:
        high *= 2.0
    for _ in range(50):
        middle = (low + high) / 2.0
        if _balanced(cdf, kappa, mean + middle).sum() < target:
            low = middle
        else:
            high = middle
    return _balanced(cdf, kappa, mean + high)


def errors(forecast: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and the forecast total of per-customer counts."""
    diff = np.asarray(forecast, dtype=float) - np.asarray(actual, dtype=float)
    return {
        "mae": float(np.mean(np.abs(diff))),
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "total": float(np.sum(forecast)),
    }
