"""Emerging issues: a topic whose volume (or number of negative items) rises beyond its normal variation.

Per topic, the counts per period are variance-stabilised (Anscombe: 2·sqrt(x + 3/8) is close to unit-variance
normal for Poisson counts) and segmented by PELT (`ruptures`, Killick et al. 2012) with a BIC-like penalty. When
the newest segment starts recently and its level sits clearly above the segment before it, the topic is bursting:
an alert names the topic, the signal, when the rise began, the level before and now. Run period by period (online),
each rise raises one alert, keyed by (topic, signal, start period), so re-scanning never repeats it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import ruptures
from ruptures.base import BaseCost

Signal = str  # "volume" or "negativity"


@dataclass(frozen=True)
class BurstRules:
    """How unusual a rise must be to raise an alert."""

    penalty: float = 3.0  # times log(n): PELT's cost of one more change point
    min_history: int = 14  # periods of history before a topic can alert
    recent: int = 7  # the rise began within this many periods of the newest one (a weekly scan sees it)
    min_ratio: float = 2.0  # the new level is at least this many times the one before
    min_level: float = 2.0  # ... and at least this many items per period
    min_gap: float = 1.0  # ... and at least this far above on the Anscombe scale (≈ standard deviations)
    window: int = 90  # periods of history the segmentation looks at (older ones no longer shape "normal")


DEFAULT_BURST_RULES = BurstRules()


@dataclass(frozen=True)
class Burst:
    """A rise in one series: from ``start`` (period index) on, ``observed`` per period against ``baseline``."""

    start: int
    observed: float
    baseline: float


class _SquaredError(BaseCost):
    """ruptures' L2 cost (squared deviations from the segment mean) in O(1) per segment from cumulative sums;
    ruptures' own CostL2 recomputes each segment's variance, which makes a replay of thousands of fits slow."""

    model = "l2-cumulative"
    min_size = 2

    def fit(self, signal: np.ndarray) -> _SquaredError:
        self.signal = np.asarray(signal, dtype=float).reshape(-1, 1)
        values = self.signal[:, 0]
        self._sum = np.concatenate([[0.0], np.cumsum(values)])
        self._squares = np.concatenate([[0.0], np.cumsum(values**2)])
        return self

    def error(self, start: int, end: int) -> float:
        total = self._sum[end] - self._sum[start]
        return float(self._squares[end] - self._squares[start] - total * total / (end - start))


def anscombe(counts: np.ndarray) -> np.ndarray:
    return 2.0 * np.sqrt(np.asarray(counts, dtype=float) + 0.375)


def latest_burst(counts: Sequence[float] | np.ndarray, rules: BurstRules = DEFAULT_BURST_RULES) -> Burst | None:
    """The rise the newest periods of ``counts`` are in, if they are in one (judged on ``counts`` alone)."""
    series = np.asarray(counts, dtype=float)[-rules.window :]
    n = len(series)
    if n < rules.min_history:
        return None
    signal = anscombe(series).reshape(-1, 1)
    search = ruptures.Pelt(custom_cost=_SquaredError(), min_size=2, jump=1)
    breaks = search.fit(signal).predict(pen=rules.penalty * np.log(n))
    starts = [0, *breaks[:-1]]
    if len(starts) < 2 or starts[-1] < n - rules.recent:
        return None
    before = series[starts[-2] : starts[-1]]
    after = series[starts[-1] :]
    observed, baseline = float(after.mean()), float(before.mean())
    gap = float(anscombe(after).mean() - anscombe(before).mean())
    if observed < rules.min_level or observed < rules.min_ratio * max(baseline, 0.5) or gap < rules.min_gap:
        return None
    offset = len(counts) - n  # periods before the window
    return Burst(start=offset + starts[-1], observed=round(observed, 3), baseline=round(baseline, 3))


def online_bursts(
    counts: Sequence[float] | np.ndarray, rules: BurstRules = DEFAULT_BURST_RULES
) -> list[tuple[int, Burst]]:
    """Replay ``counts`` period by period: (period the alert is raised at, burst), one alert per distinct rise."""
    raised: list[tuple[int, Burst]] = []
    seen_starts: set[int] = set()
    last_start = -(10**9)
    for t in range(rules.min_history, len(counts) + 1):
        burst = latest_burst(counts[:t], rules)
        # A rise re-segmented a period later (start moves by one or two) is the same rise, not a new alert.
        if burst is None or burst.start in seen_starts or burst.start - last_start <= rules.recent:
            continue
        seen_starts.add(burst.start)
        last_start = burst.start
        raised.append((t - 1, burst))
    return raised
