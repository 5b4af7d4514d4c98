"""Depletion: noisy device readings with refills give a time-to-empty near the truth, with a band around it."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.errors import InvalidInput
from rapport.recognize.depletion import depletion_need, forecast_depletion, refill_starts
from rapport.recognize.need import Need

START = pd.Timestamp("2024-01-01", tz="UTC")


def toner(seed: int, rate: float = 1.5, refill_day: float = 40.0, until: float = 60.0, noise: float = 2.0):
    """Toner % read about daily: full at day 0, refilled to 100 at ``refill_day``, Gaussian noise and one glitch."""
    rng = np.random.default_rng(seed)
    days = np.cumsum(rng.uniform(0.5, 1.5, 200))
    days = days[days < until]
    truth = np.where(days < refill_day, 100 - rate * days, 100 - rate * (days - refill_day))
    levels = truth + rng.normal(0, noise, len(days))
    levels[len(levels) // 2] += 25  # a one-off bad reading, not a refill
    return days, levels, refill_day + 100 / rate


@pytest.mark.parametrize("seed", range(8))
def test_time_to_empty_after_a_refill_is_near_the_truth(seed: int) -> None:
    days, levels, empty_day = toner(seed, noise=1.0)  # integer-percent readings: about +-1 of noise
    forecast = forecast_depletion(days, levels)
    assert forecast.refills == 1
    remaining = empty_day - days[-1]  # about 47 days ahead of the last reading
    assert abs(forecast.empty_at - empty_day) < 0.1 * remaining
    assert forecast.empty_earliest <= forecast.empty_at <= forecast.empty_latest
    assert abs(forecast.rate_per_day - 1.5) < 0.15


def test_noisier_readings_widen_the_band_and_it_mostly_covers_the_truth() -> None:
    covered, errors, widths = [], [], {1.0: [], 3.0: []}
    for seed in range(40):
        for noise in widths:
            days, levels, empty_day = toner(seed, noise=noise)
            forecast = forecast_depletion(days, levels)
            widths[noise].append(forecast.empty_latest - forecast.empty_earliest)
            if noise == 3.0:
                covered.append(forecast.empty_earliest <= empty_day <= forecast.empty_latest)
                errors.append(abs(forecast.empty_at - empty_day) / (empty_day - days[-1]))
    assert np.median(widths[3.0]) > 2 * np.median(widths[1.0])
    assert np.median(errors) < 0.1
    assert np.mean(covered) >= 0.75  # a 90% band on the slope; Theil-Sen's interval is approximate


def test_datetimes_and_a_need_within_the_lead_time() -> None:
    days, levels, empty_day = toner(3, noise=1.0)
    times = START + pd.to_timedelta(days, unit="D")
    now = (START + pd.Timedelta(days=60)).to_pydatetime()
    assert depletion_need("c1", "toner", times, levels, now=now, lead_time_days=20) is None
    need = depletion_need("c1", "toner", times, levels, now=now, lead_time_days=55, unit="%")
    assert isinstance(need, Need) and need.kind == "depletion"
    assert abs((need.due_at - (START + pd.Timedelta(days=empty_day)).to_pydatetime()).days) <= 5
    assert need.confidence > 0.5 and "since the last refill" in need.reason
    assert Need.from_dict(need.to_dict()) == need


def test_a_short_segment_borrows_the_previous_rate() -> None:
    pods = [20, 19, 18, 16, 15, 14, 13, 11, 10, 9, 8, 6, 5, 20, 19]  # refill, then only two readings
    forecast = forecast_depletion(np.arange(len(pods), dtype=float), pods)
    assert forecast.borrowed_rate and forecast.refills == 1
    assert forecast.empty_at == pytest.approx(14 + 19 / forecast.rate_per_day, rel=0.15)


def test_too_few_readings() -> None:
    with pytest.raises(InvalidInput, match="readings at distinct times"):
        forecast_depletion([0.0, 1.0, 2.0], [10.0, 60.0, 100.0])  # every reading a refill: no rate
    with pytest.raises(InvalidInput, match="two readings"):
        forecast_depletion([0.0, float("nan")], [50.0, 40.0])


def test_an_already_empty_device_is_due_now() -> None:
    forecast = forecast_depletion(np.arange(10.0), np.linspace(30, -2, 10))
    assert forecast.empty_at == pytest.approx(9.0)
    now = datetime(2024, 1, 10, tzinfo=UTC)
    need = depletion_need("c", "pods", START + pd.to_timedelta(np.arange(10.0), unit="D"), np.linspace(30, -2, 10), now)
    assert need is not None and need.confidence == 1.0


levels_strategy = st.lists(st.floats(0, 50, allow_nan=False), min_size=3, max_size=40)


@settings(max_examples=150, deadline=None)
@given(steps=levels_strategy, start=st.floats(0, 100))
def test_a_non_decreasing_series_never_empties(steps: list[float], start: float) -> None:
    levels = start + np.cumsum(steps)
    try:
        forecast = forecast_depletion(np.arange(len(levels), dtype=float), levels)
    except InvalidInput as exc:  # every reading a refill (steep steps): no rate, said so
        assert "none before that give a rate" in str(exc)
        return
    assert forecast.empty_at is None and forecast.empty_latest is None


@settings(max_examples=150, deadline=None)
@given(
    drops=st.lists(st.floats(0.01, 5, allow_nan=False), min_size=3, max_size=40),
    gaps=st.lists(st.floats(0.1, 3, allow_nan=False), min_size=40, max_size=40),
)
def test_a_falling_series_empties_after_its_last_reading_with_an_ordered_band(
    drops: list[float], gaps: list[float]
) -> None:
    levels = 200 - np.cumsum(drops)
    days = np.cumsum(gaps[: len(levels)])
    forecast = forecast_depletion(days, levels)
    assert forecast.empty_at is not None and forecast.empty_at >= days[-1]
    assert forecast.empty_earliest <= forecast.empty_at
    assert forecast.empty_latest is None or forecast.empty_at <= forecast.empty_latest


def test_refills_need_a_persistent_jump() -> None:
    levels = np.array([50, 49, 48, 80, 47, 46, 45, 44, 95, 94, 93, 92], dtype=float)
    assert refill_starts(levels) == [0, 8]
