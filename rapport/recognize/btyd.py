"""What the buy-till-you-die models share: maximum-likelihood fitting of positive parameters and JSON persistence.

Each model (BG/NBD, Pareto/NBD, Gamma-Gamma) supplies a vectorised per-customer log-likelihood; this module fits
it on the log scale of its parameters (so they stay positive) and saves the fitted parameters as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from scipy.optimize import minimize

from rapport.errors import InvalidInput, NotFound

ArrayLike = Sequence[float] | np.ndarray | Any


def as_arrays(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check and broadcast an RFM triple: frequency >= 0, 0 <= recency <= T (recency is 0 without repeats)."""
    x, tx, t_obs = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    x, tx, t_obs = np.broadcast_arrays(x, tx, t_obs)
    if not (np.isfinite(x).all() and np.isfinite(tx).all() and np.isfinite(t_obs).all()):
        raise InvalidInput("Frequency, recency and T must be finite numbers; drop customers with missing values.")
    if (x < 0).any() or (tx < 0).any():
        raise InvalidInput("Frequency and recency must be >= 0; check the purchase dates and counts.")
    if (tx > t_obs + 1e-9).any():
        raise InvalidInput("Recency is greater than T for some customer; a purchase lies after the calibration end.")
    if ((x == 0) & (tx > 0)).any():
        raise InvalidInput("A customer without repeat purchases has recency > 0; recency must be 0 for them.")
    return x, tx, t_obs


def compress(*columns: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Unique rows of the given columns and how often each occurs (the likelihood is evaluated once per row)."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return counts.astype(float), [unique[:, i] for i in range(unique.shape[1])]


def fit_positive(
    loglik: Callable[[np.ndarray], np.ndarray], weights: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, float]:
    """Maximise sum(weights * loglik(params)) over positive params; returns (params, total log-likelihood).

    L-BFGS-B on log-params with tight tolerances: the surfaces are flat along some ridges (Pareto/NBD's s and
    beta), where default tolerances stop a few units in the third decimal short of the optimum.
    """

    def objective(log_params: np.ndarray) -> float:
        with np.errstate(all="ignore"):  # far-off trial points may overflow; they score as infeasible
            values = loglik(np.exp(log_params))
        total = float(np.dot(weights, values))
        return -total if np.isfinite(total) else 1e300

    best = minimize(
        objective,
        np.log(start),
        method="L-BFGS-B",
        bounds=[(-12.0, 12.0)] * len(start),
        options={"ftol": 1e-12, "gtol": 1e-7, "maxiter": 2000},
    )
    if not np.isfinite(best.fun) or best.fun >= 1e300:
        raise InvalidInput("The model could not be fitted: the likelihood is not finite for these customers.")
    return np.exp(best.x), -float(best.fun)


class FittedParams:
    """A model whose whole state is a dict of named parameters and the log-likelihood of its fit."""

    kind: str = ""
    names: tuple[str, ...] = ()

    def __init__(self, params: dict[str, float] | None = None, loglik: float | None = None) -> None:
        self.params: dict[str, float] = dict(params) if params else {}
        self.loglik = loglik

    def _values(self) -> tuple[float, ...]:
        if not self.params:
            raise InvalidInput(f"The {self.kind} model is not fitted yet; call fit() or load() first.")
        return tuple(self.params[name] for name in self.names)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.kind, "params": self.params, "loglik": self.loglik}

    def save(self, path: str | Path) -> Path:
        """Write the parameters as JSON (the whole model: it holds no data)."""
        self._values()
        target = Path(path)
        target.write_text(json.dumps(self.to_dict(), indent=2))
        return target

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read parameters written by :meth:`save`."""
        source = Path(path)
        if not source.exists():
            raise NotFound(f"{source} does not exist; save a fitted {cls.kind} model there first.")
        try:
            data = json.loads(source.read_text())
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{source} is not JSON: {exc}.") from None
        if data.get("model") != cls.kind or set(data.get("params", {})) != set(cls.names):
            raise InvalidInput(f"{source} does not hold {cls.kind} parameters {cls.names}.")
        return cls({k: float(v) for k, v in data["params"].items()}, data.get("loglik"))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items()) or "unfitted"
        return f"{type(self).__name__}({shown})"
