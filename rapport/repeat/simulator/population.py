"""Synthetic customers and their hidden traits, drawn at once with numpy from the run's parameters and seed.

The traits are parameters of the world, not of any policy: every policy meets the same customers with the same
needs on the same days. Hidden from Rapport: each customer's preferred control level per category (and when and
to what it drifts), how often the situation shifts it for one need, how many unwanted contacts a month they
tolerate, how reliably they buy on time by themselves, which channel they read and at which hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from rapport.errors import InvalidInput
from rapport.repeat.simulator.intervals import IntervalSource, cdnow_intervals, instacart_intervals

Tolerance = Literal["low", "medium", "high"]
TOLERANCE_MEAN = {"low": 0.5, "medium": 2.0, "high": 4.0}  # unwanted contacts per 30 days tolerated, on average
LEVELS = ("i_choose", "show_me_options", "remind_me", "do_it_for_me")
AUTOMATE = LEVELS.index("do_it_for_me")
# Preferred level of a customer without a mandate (i_choose, show_me_options, remind_me); with one, do_it_for_me
# holds MANDATE_KEEPS of the time and the rest is drawn like the others.
OTHER_LEVELS = np.array([0.4, 0.2, 0.4])
MANDATE_KEEPS = 0.8
DRIFT_SHARE = 0.25  # customers whose preference in one category changes once during the year
SITUATION_SHIFT = 0.15  # needs for which the situation moves the preference one step (busy week, a new album)
# How likely the customer buys on time by themselves, by preferred level (forgetful people ask to be reminded).
SELF_RELIANCE = np.array([0.8, 0.65, 0.45, 0.45])
CHANNELS = ("app", "push", "email")
TIMEZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Tokyo")
HISTORY_ORDERS = 4  # orders each customer placed before the simulated year starts (what Rapport knows at first)


@dataclass(frozen=True)
class Category:
    """A category of needs and the real data set its rhythm comes from."""

    name: str
    source: str
    share: float  # of customers who have this need
    price: float  # median amount of one order
    draws: int  # intervals drawn ahead per customer (enough for a year at the data's shortest rhythms)


CATEGORIES = (
    Category("groceries", "instacart", 0.7, 35.0, 120),
    Category("music", "cdnow", 0.5, 15.0, 40),
)


@dataclass
class Population:
    """Hidden traits of ``n`` customers; arrays indexed [customer] or [customer, category]."""

    n: int
    seed: int
    automation_share: float
    tolerance: Tolerance
    timezone: np.ndarray  # index into TIMEZONES
    has: np.ndarray  # bool [n, categories]: the customer has this need
    mandate: np.ndarray  # bool [n]: holds a mandate (and the automatic-execution consent) for their categories
    level: np.ndarray  # int [n, categories]: preferred level at the start
    drift_day: np.ndarray  # float [n, categories]: day the preference changes (inf: never)
    drift_level: np.ndarray  # int [n, categories]: what it changes to
    tolerance_per_month: np.ndarray  # int [n]
    self_reliance: np.ndarray  # float [n, levels]
    channel: np.ndarray  # index into CHANNELS: the one they read
    evening: np.ndarray  # bool [n]: reads messages in the evening (else in the morning)
    sms: np.ndarray  # bool [n]: consents to sms too
    price: np.ndarray  # float [n, categories]
    intervals: list[np.ndarray]  # per category: float [n, draws] days between needs
    first_due: np.ndarray  # float [n, categories]: days from the start to the first need

    def preference(self, i: int, c: int, day: float) -> int:
        """The customer's preferred level in category ``c`` on ``day`` (before any situational shift)."""
        return int(self.drift_level[i, c] if day >= self.drift_day[i, c] else self.level[i, c])


def draw_population(
    n: int,
    seed: int,
    automation_share: float = 0.3,
    tolerance: Tolerance = "medium",
    days: int = 365,
    sources: dict[str, IntervalSource] | None = None,
) -> Population:
    """The customers of one run: the same ``n``, ``seed`` and parameters give the same customers."""
    if n < 1:
        raise InvalidInput(f"customers={n} must be at least 1.")
    if not 0.0 <= automation_share <= 1.0:
        raise InvalidInput(f"automation_share={automation_share} must be between 0 and 1.")
    if tolerance not in TOLERANCE_MEAN:
        raise InvalidInput(f"contact tolerance {tolerance!r} is unknown; use low, medium or high.")
    sources = sources or {"instacart": instacart_intervals(), "cdnow": cdnow_intervals()}
    rng = np.random.default_rng(seed)
    k = len(CATEGORIES)
    has = rng.random((n, k)) < np.array([c.share for c in CATEGORIES])
    has[~has.any(axis=1), 0] = True
    mandate = rng.random(n) < automation_share
    level = rng.choice(3, size=(n, k), p=OTHER_LEVELS)
    keeps = mandate[:, None] & (rng.random((n, k)) < MANDATE_KEEPS)
    level[keeps] = AUTOMATE
    drift_day = np.where(rng.random((n, k)) < DRIFT_SHARE, rng.random((n, k)) * days, np.inf)
    drift_level = (level + rng.integers(1, 4, size=(n, k))) % 4
    drift_level[(drift_level == AUTOMATE) & ~mandate[:, None]] = LEVELS.index("remind_me")
    spread = rng.beta(8, 2, size=(n, 1)) / 0.8  # some people are more reliable than others at every level
    intervals, first_due = [], np.zeros((n, k))
    for c, category in enumerate(CATEGORIES):
        source = sources[category.source]
        owners = rng.integers(0, source.customers, size=n)
        drawn = source.draw(rng, owners, category.draws + 1)
        intervals.append(drawn[:, 1:])
        first_due[:, c] = rng.random(n) * drawn[:, 0]
    return Population(
        n=n,
        seed=seed,
        automation_share=automation_share,
        tolerance=tolerance,
        timezone=rng.integers(0, len(TIMEZONES), size=n),
        has=has,
        mandate=mandate,
        level=level,
        drift_day=drift_day,
        drift_level=drift_level,
        tolerance_per_month=rng.poisson(TOLERANCE_MEAN[tolerance], size=n),
        self_reliance=np.clip(SELF_RELIANCE[None, :] * spread, 0.05, 0.97),
        channel=rng.integers(0, len(CHANNELS), size=n),
        evening=rng.random(n) < 0.5,
        sms=rng.random(n) < 0.5,
        price=np.array([c.price for c in CATEGORIES])[None, :] * rng.lognormal(0.0, 0.3, size=(n, k)),
        intervals=intervals,
        first_due=first_due,
    )
