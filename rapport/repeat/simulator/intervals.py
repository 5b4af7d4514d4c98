"""The real rhythms simulated needs arise on: inter-purchase intervals of CDNOW and Instacart customers.

Each simulated customer borrows the rhythm of one real customer of the data set behind a category (CDNOW for music,
Instacart for groceries): every new need comes that real customer's own intervals later (drawn with replacement),
so both the spread between customers and the variation within one customer are the data's, not ours.
CDNOW intervals are the days between a customer's distinct purchase days (customers with one purchase day have no
interval and are left out); Instacart's are ``days_since_prior_order`` (capped at 30 days in the data, kept as is; same-day top-up orders,
0 days, are left out: a need does not arise twice in a day).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from rapport.datasets.cdnow import CUSTOMER, DATE, load_cdnow
from rapport.datasets.instacart import DAYS, ORDER, USER, load_instacart
from rapport.errors import InvalidInput


@dataclass(frozen=True)
class IntervalSource:
    """The intervals (days) of the real customers of one data set: ``days[offsets[i]:offsets[i + 1]]`` is one's."""

    name: str
    days: np.ndarray
    offsets: np.ndarray

    @property
    def customers(self) -> int:
        return len(self.offsets) - 1

    def summary(self) -> dict[str, float]:
        return {
            "customers": self.customers,
            "intervals": len(self.days),
            "median_days": float(np.median(self.days)),
            "mean_days": float(np.mean(self.days)),
        }

    def draw(self, rng: np.random.Generator, owners: np.ndarray, n: int) -> np.ndarray:
        """``n`` intervals for each simulated customer, from the real customer ``owners[j]`` it borrows."""
        starts, ends = self.offsets[owners], self.offsets[owners + 1]
        picks = starts[:, None] + (rng.random((len(owners), n)) * (ends - starts)[:, None]).astype(np.int64)
        return self.days[picks]


def _grouped(name: str, keys: np.ndarray, days: np.ndarray) -> IntervalSource:
    order = np.argsort(keys, kind="stable")
    keys, days = keys[order], days[order]
    cut = np.flatnonzero(np.diff(keys)) + 1
    offsets = np.concatenate([[0], cut, [len(keys)]]).astype(np.int64)
    if len(days) == 0:
        raise InvalidInput(f"The {name} data yield no inter-purchase interval; is it the published file?")
    return IntervalSource(name, days.astype(np.float64), offsets)


@cache
def cdnow_intervals(path: str | None = None) -> IntervalSource:
    """Days between distinct purchase days of each CDNOW customer who bought on more than one day."""
    frame = load_cdnow(Path(path) if path else None)
    days = frame[[CUSTOMER, DATE]].drop_duplicates().sort_values([CUSTOMER, DATE])
    gaps = days.groupby(CUSTOMER)[DATE].diff().dt.days
    kept = gaps.notna()
    return _grouped("cdnow", days.loc[kept, CUSTOMER].to_numpy(), gaps[kept].to_numpy())


@cache
def instacart_intervals(path: str | None = None) -> IntervalSource:
    """``days_since_prior_order`` of every Instacart order after a user's first (one value per order)."""
    frame = load_instacart(Path(path) if path else None)
    orders = frame[[USER, ORDER, DAYS]].drop_duplicates([USER, ORDER])
    orders = orders[orders[DAYS].notna() & (orders[DAYS] > 0)]
    return _grouped("instacart", orders[USER].to_numpy(), orders[DAYS].to_numpy())
