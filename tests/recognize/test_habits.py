"""Habits: a miss beyond the person's own normal variation flags; variation within it, or no routine, does not."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from rapport.errors import InvalidInput
from rapport.recognize.habits import habit_need, habit_needs, learn_cadence
from rapport.recognize.need import Need

START = pd.Timestamp("2024-03-04 07:30", tz="UTC")  # a Monday


def daily_doses(days: int = 40, seed: int = 0) -> list[pd.Timestamp]:
    """A morning pill taken every day, give or take an hour."""
    rng = np.random.default_rng(seed)
    return [START + pd.Timedelta(days=d, hours=float(rng.normal(0, 1))) for d in range(days)]


def workouts(weeks: int = 16, skip_every: int = 11, seed: int = 0) -> list[pd.Timestamp]:
    """Monday, Wednesday and Friday evenings; now and then one session is skipped (every ``skip_every``-th)."""
    rng = np.random.default_rng(seed)
    sessions = []
    for week in range(weeks):
        for day in (0, 2, 4):
            sessions.append(START + pd.Timedelta(days=7 * week + day, hours=11 + float(rng.normal(0, 1.5))))
    return [s for i, s in enumerate(sessions) if (i + 1) % skip_every != 0]


def at(when: pd.Timestamp) -> datetime:
    return when.round("s").to_pydatetime()


def test_daily_medication_missed_three_days_flags() -> None:
    doses = daily_doses()
    need = habit_need("p1", "medication", doses, now=at(doses[-1] + pd.Timedelta(days=4, hours=1)))
    assert isinstance(need, Need) and need.kind == "habit" and need.item == "medication"
    assert need.confidence > 0.99
    assert need.evidence["current_gap_days"] > 4
    assert need.evidence["normal_upper_gap_days"] < 1.6
    assert "usually every" in need.reason
    assert need.due_at < at(doses[-1] + pd.Timedelta(days=2))  # overdue since well before now
    assert Need.from_dict(need.to_dict()) == need


def test_daily_medication_on_time_does_not_flag() -> None:
    doses = daily_doses()
    assert habit_need("p1", "medication", doses, now=at(doses[-1] + pd.Timedelta(hours=20))) is None


def test_three_workouts_a_week_skipping_one_session_does_not_flag() -> None:
    sessions = workouts()
    friday = max(s for s in sessions if s.dayofweek == 4)
    # They skip the next Monday: next Wednesday evening it is five days since Friday, as after their usual skips.
    now = at(friday + pd.Timedelta(days=5))
    assert habit_need("p2", "workout", sessions, now=now) is None


def test_three_workouts_a_week_stopping_for_ten_days_flags() -> None:
    sessions = workouts()
    need = habit_need("p2", "workout", sessions, now=at(sessions[-1] + pd.Timedelta(days=10)))
    assert need is not None and need.confidence > 0.99
    assert 4 <= need.evidence["normal_upper_gap_days"] < 10


def test_someone_without_a_routine_is_never_flagged() -> None:
    rng = np.random.default_rng(7)
    visits = list(START + pd.to_timedelta(np.cumsum(rng.exponential(6.0, 30)), unit="D"))
    assert learn_cadence(pd.Series(visits)) is None
    assert habit_need("p3", "store visit", visits, now=at(visits[-1] + pd.Timedelta(days=40))) is None


def test_too_few_events_are_no_routine() -> None:
    doses = daily_doses(days=5)
    assert habit_need("p4", "medication", doses, now=at(doses[-1] + pd.Timedelta(days=6))) is None


def test_own_variation_sets_the_threshold() -> None:
    strict, loose = learn_cadence(pd.Series(workouts(skip_every=1000))), learn_cadence(pd.Series(workouts()))
    assert strict is not None and loose is not None
    assert strict.upper_gap(0.01) < loose.upper_gap(0.01)
    assert loose.survival(5.0) > 0.01 > strict.survival(5.0)


def test_batch_over_a_frame_and_bad_input() -> None:
    doses = daily_doses()
    events = pd.DataFrame(
        {"customer_id": ["p1"] * len(doses) + ["p2"] * 3, "activity": "medication", "timestamp": doses + doses[:3]}
    )
    needs = habit_needs(events, now=at(doses[-1] + pd.Timedelta(days=4)))
    assert [n.customer_id for n in needs] == ["p1"]
    with pytest.raises(InvalidInput, match="'timestamp'"):
        habit_needs(events.drop(columns="timestamp"), now=at(doses[-1]))
    with pytest.raises(InvalidInput, match="alpha"):
        habit_need("p1", "medication", doses, now=at(doses[-1]), alpha=2)
