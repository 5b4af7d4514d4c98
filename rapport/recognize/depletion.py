"""Depletion from telemetry: a device reports a level (toner %, pods left, pills left); when will it be empty?

The readings since the last refill (a jump up that persists, larger than the noise) form the current segment;
its consumption rate is a Theil-Sen slope (robust to noisy and outlying readings) with a confidence interval,
which gives the empty date and its band. A segment too short to fit borrows the rate of the one before it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm, theilslopes

from rapport.errors import InvalidInput
from rapport.recognize.need import Need

_EPOCH = pd.Timestamp("1970-01-01")
_DAY = pd.Timedelta(days=1)
_CONFIDENCE = 0.9  # width of the slope interval behind every band


@dataclass(frozen=True)
class DepletionForecast:
    """The current segment's fit. Times are days (the input's unit) or datetimes if the input had datetimes;
    ``empty_at`` is None when the level is not falling, ``empty_latest`` None when a flat rate is plausible."""

    level: float
    rate_per_day: float
    rate_low: float
    rate_high: float
    last_reading_at: Any
    empty_at: Any
    empty_earliest: Any
    empty_latest: Any
    readings: int
    refills: int
    borrowed_rate: bool

    @property
    def depleting(self) -> bool:
        return self.empty_at is not None


def forecast_depletion(
    times: Any,
    levels: Any,
    empty_level: float = 0.0,
    refill_jump: float | None = None,
    confidence: float = _CONFIDENCE,
    min_readings: int = 3,
) -> DepletionForecast:
    """Fit the consumption rate on the readings since the last refill and project the empty date.

    Args:
        refill_jump: the smallest rise that counts as a refill; by default the larger of 10% of the highest
            level and five times the reading-to-reading noise.
        confidence: width of the slope's confidence interval, which gives the empty-date band.
    """
    days, values, dated = _readings(times, levels)
    starts = refill_starts(values, refill_jump)
    bounds = [*starts, len(values)]
    segments = [slice(a, b) for a, b in itertools.pairwise(bounds)]
    current = segments[-1]
    seg_days, seg_values = days[current], values[current]
    source = _rate_segment(segments, days, min_readings)
    if source is None:
        raise InvalidInput(
            f"Only {len(seg_values)} reading(s) since the last refill and none before that give a rate; "
            f"send at least {min_readings} readings at distinct times."
        )
    borrowed = source != current
    slope, intercept, low, high = theilslopes(values[source], days[source], alpha=confidence)
    if borrowed:
        intercept = float(np.median(seg_values - slope * seg_days))
    last_day = float(days[-1])
    level = float(intercept + slope * last_day)
    empty = _crossing(level, slope, empty_level, last_day)
    earliest = _crossing(level, low, empty_level, last_day)
    latest = _crossing(level, high, empty_level, last_day)
    if empty is None:
        earliest = latest = None
    convert = _to_time if dated else float
    return DepletionForecast(
        level=level,
        rate_per_day=float(-slope),
        rate_low=float(-high),
        rate_high=float(-low),
        last_reading_at=convert(last_day),
        empty_at=None if empty is None else convert(empty),
        empty_earliest=None if earliest is None else convert(earliest),
        empty_latest=None if latest is None else convert(latest),
        readings=len(seg_values),
        refills=len(starts) - 1,
        borrowed_rate=borrowed,
    )


def _rate_segment(segments: list[slice], days: np.ndarray, min_readings: int) -> slice | None:
    """The segment to fit the rate on: the current one if it has ``min_readings`` distinct times, else the latest
    earlier one that has (consumption is the customer's, not the fill's), else any with two distinct times."""
    for needed in (min_readings, 2):
        if len(np.unique(days[segments[-1]])) >= needed:
            return segments[-1]
        for segment in reversed(segments[:-1]):
            if len(np.unique(days[segment])) >= needed:
                return segment
    return None


def refill_starts(levels: np.ndarray, refill_jump: float | None = None, confirm: int = 3) -> list[int]:
    """Indices where segments start: 0, then each reading after a rise larger than the refill threshold that
    persists (the median of the next ``confirm`` readings stays above the median of the previous ones)."""
    diffs = np.diff(levels)
    if refill_jump is None:
        noise = 1.4826 * float(np.median(np.abs(diffs - np.median(diffs)))) if len(diffs) else 0.0
        refill_jump = max(0.1 * float(np.max(np.abs(levels))), 5 * noise)
    starts = [0]
    for j in np.flatnonzero(diffs > refill_jump) + 1:
        before = np.median(levels[max(starts[-1], j - confirm) : j])
        after = np.median(levels[j : j + confirm])
        if after - before > refill_jump:
            starts.append(int(j))
    return starts


def depletion_need(
    customer_id: str,
    item: str,
    times: Any,
    levels: Any,
    now: datetime,
    lead_time_days: float = 7.0,
    category: str | None = None,
    empty_level: float = 0.0,
    unit: str = "",
) -> Need | None:
    """A depletion Need when the device is forecast to be empty within ``lead_time_days`` of ``now``."""
    forecast = forecast_depletion(pd.to_datetime(pd.Series(times), utc=True), levels, empty_level=empty_level)
    now_ts = _naive(pd.Timestamp(now))
    horizon = now_ts + pd.Timedelta(days=lead_time_days)
    if forecast.empty_at is None or forecast.empty_at > horizon:
        return None
    days_left = (horizon - forecast.last_reading_at) / _DAY
    sd = (forecast.rate_high - forecast.rate_low) / (2 * norm.ppf(0.5 + _CONFIDENCE / 2))
    needed_rate = (forecast.level - empty_level) / max(days_left, 1e-9)  # the rate that empties it by the horizon
    confidence = 1.0 if sd <= 0 else float(norm.sf((needed_rate - forecast.rate_per_day) / sd))
    if forecast.level <= empty_level:
        confidence = 1.0
    latest = forecast.empty_latest
    reason = (
        f"Level {forecast.level:.1f}{unit} falling {forecast.rate_per_day:.2f}{unit}/day over "
        f"{forecast.readings} readings since the last refill; empty around {forecast.empty_at:%Y-%m-%d} "
        f"(between {forecast.empty_earliest:%Y-%m-%d} and "
        f"{'no sure date' if latest is None else format(latest, '%Y-%m-%d')})."
    )
    return Need(
        customer_id=customer_id,
        item=item,
        category=category,
        kind="depletion",
        due_at=forecast.empty_at.to_pydatetime().replace(tzinfo=UTC),
        confidence=min(max(confidence, 0.0), 1.0),
        evidence={
            "reason": reason,
            "level": forecast.level,
            "rate_per_day": forecast.rate_per_day,
            "rate_band": [forecast.rate_low, forecast.rate_high],
            "empty_at": forecast.empty_at.isoformat(),
            "empty_earliest": forecast.empty_earliest.isoformat(),
            "empty_latest": None if latest is None else latest.isoformat(),
            "readings": forecast.readings,
            "refills": forecast.refills,
            "lead_time_days": lead_time_days,
        },
    )


def _readings(times: Any, levels: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    series = pd.Series(times).reset_index(drop=True)
    dated = pd.api.types.is_datetime64_any_dtype(series)
    if dated:
        series = series.dt.tz_convert(None) if series.dt.tz is not None else series
        days = ((series - _EPOCH) / _DAY).to_numpy(dtype=float)
    else:
        days = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    values = pd.to_numeric(pd.Series(levels).reset_index(drop=True), errors="coerce").to_numpy(dtype=float)
    if len(days) != len(values):
        raise InvalidInput(f"{len(days)} times but {len(values)} levels; give one time per reading.")
    keep = np.isfinite(days) & np.isfinite(values)
    if keep.sum() < 2:
        raise InvalidInput("Fewer than two readings with a valid time and level; a rate needs at least two.")
    order = np.argsort(days[keep], kind="stable")
    return days[keep][order], values[keep][order], dated


def _crossing(level: float, slope: float, empty_level: float, last_day: float) -> float | None:
    """Day the fitted line reaches ``empty_level`` (None if it never does: flat or rising)."""
    if not slope < 0 or not math.isfinite(slope):
        return None
    return last_day + max(level - empty_level, 0.0) / -slope


def _to_time(day: float) -> pd.Timestamp:
    return (_EPOCH + day * _DAY).round("s")


def _naive(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_convert(None) if ts.tzinfo is not None else ts
