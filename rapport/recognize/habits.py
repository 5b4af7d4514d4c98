"""Habits and adherence: a customer with a recurring activity who misses it beyond their own normal variation.

A person's cadence is the distribution of their gaps between activity events (the most recent ones), smoothed as a
kernel density on the log scale so that a gap between two seen ones is not a surprise. The current gap is
unusual when the chance of a gap at least that long is below ``alpha``; then a *habit* Need is raised (the coach
trigger). People without a recurring pattern (too few events, or gaps as irregular as random visits) raise none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.stats import norm

from rapport.errors import InvalidInput
from rapport.recognize.need import Need

_SAME_EVENT_DAYS = 1 / 24  # events closer than an hour are one occurrence (a double tap, a retry)
_MIN_BANDWIDTH = 0.1  # on the log scale: a gap ~25% longer than any seen one is not yet unusual


@dataclass(frozen=True)
class Cadence:
    """A person's gaps between occurrences (days, most recent last) and the smoothing bandwidth (log scale)."""

    gaps: tuple[float, ...]
    bandwidth: float

    @property
    def median_gap(self) -> float:
        return float(np.median(self.gaps))

    @property
    def variation(self) -> float:
        """Coefficient of variation of the gaps (about 1 for random visits, small for a routine)."""
        return float(np.std(self.gaps) / np.mean(self.gaps))

    def survival(self, gap: float) -> float:
        """P(a gap at least ``gap`` days long) under the person's smoothed gap distribution."""
        if gap <= 0:
            return 1.0
        logs = np.log(np.asarray(self.gaps))
        return float(np.mean(norm.sf((math.log(gap) - logs) / self.bandwidth)))

    def upper_gap(self, alpha: float) -> float:
        """The gap whose survival is ``alpha``: longer than this is beyond the person's normal variation."""
        low, high = min(self.gaps) * 1e-3, max(self.gaps) * math.exp(10 * self.bandwidth) * 10
        return float(brentq(lambda g: self.survival(g) - alpha, low, high))


def learn_cadence(times: Any, min_events: int = 8, max_variation: float = 0.8, recent: int = 60) -> Cadence | None:
    """The person's cadence from their activity times (datetimes or days), or None if there is no recurring
    pattern: fewer than ``min_events`` occurrences or gaps more irregular than ``max_variation``."""
    days = np.sort(_days(times))
    if len(days) < 2:
        return None
    gaps = np.diff(days)
    gaps = gaps[gaps >= _SAME_EVENT_DAYS][-recent:]
    if len(gaps) + 1 < min_events:
        return None
    logs = np.log(gaps)
    spread = min(float(np.std(logs, ddof=1)), float(np.subtract(*np.percentile(logs, [75, 25]))) / 1.349)
    bandwidth = max(0.9 * spread * len(gaps) ** -0.2, _MIN_BANDWIDTH)  # Silverman's rule
    cadence = Cadence(gaps=tuple(float(g) for g in gaps), bandwidth=bandwidth)
    return cadence if cadence.variation <= max_variation else None


def habit_need(
    customer_id: str,
    activity: str,
    times: Any,
    now: datetime,
    alpha: float = 0.01,
    category: str | None = None,
) -> Need | None:
    """A habit Need if the time since the last occurrence is beyond the person's normal variation."""
    if not 0 < alpha < 1:
        raise InvalidInput(f"alpha {alpha} must be between 0 and 1 (e.g. 0.01).")
    stamps = pd.to_datetime(pd.Series(times), utc=True).dropna()
    cadence = learn_cadence(stamps)
    if cadence is None:
        return None
    last = stamps.max()
    now_ts = pd.Timestamp(now)
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts
    current = (now_ts - last) / pd.Timedelta(days=1)
    surprise = cadence.survival(current)
    if surprise >= alpha:
        return None
    upper = cadence.upper_gap(alpha)
    usual = cadence.median_gap
    reason = (
        f"{activity} usually every {_span(usual)} (gaps up to {_span(upper)} are normal for this person, "
        f"from {len(cadence.gaps)} gaps); now {_span(current)} since the last one."
    )
    return Need(
        customer_id=customer_id,
        item=activity,
        category=category,
        kind="habit",
        due_at=(last + pd.Timedelta(days=upper)).round("s").to_pydatetime().astimezone(UTC),
        confidence=float(1.0 - surprise),
        evidence={
            "reason": reason,
            "usual_gap_days": usual,
            "normal_upper_gap_days": upper,
            "current_gap_days": float(current),
            "chance_of_gap_this_long": surprise,
            "gaps_seen": len(cadence.gaps),
            "last_at": last.round("s").isoformat(),
        },
    )


def habit_needs(
    events: pd.DataFrame,
    now: datetime,
    customer_col: str = "customer_id",
    activity_col: str = "activity",
    time_col: str = "timestamp",
    alpha: float = 0.01,
) -> list[Need]:
    """Habit Needs for every (customer, activity) in a frame of activity events."""
    for column in (customer_col, activity_col, time_col):
        if column not in events.columns:
            raise InvalidInput(f"Activity events lack the column {column!r}; they have {list(events.columns)}.")
    needs = []
    for (customer, activity), group in events.groupby([customer_col, activity_col], sort=True):
        need = habit_need(str(customer), str(activity), group[time_col], now, alpha=alpha)
        if need is not None:
            needs.append(need)
    return needs


def _days(times: Any) -> np.ndarray:
    series = pd.Series(times).dropna()
    if pd.api.types.is_datetime64_any_dtype(series):
        series = series.dt.tz_convert(None) if series.dt.tz is not None else series
        return ((series - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    values = pd.to_numeric(series, errors="coerce")
    if values.isna().any():
        raise InvalidInput(f"Activity time {series[values.isna()].iloc[0]!r} is neither a datetime nor a number.")
    return values.to_numpy(dtype=float)


def _span(days: float) -> str:
    if days < 2:
        return f"{days * 24:.0f} hours" if days < 1.5 else f"{days:.1f} days"
    return f"{days:.1f} days"
