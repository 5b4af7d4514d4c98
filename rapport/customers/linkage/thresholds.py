"""Choosing the match threshold without labels, from the model's own match probabilities.

If the model's probabilities are right, the pairs above a threshold t hold sum(p) true matches among n(t) pairs, and
all blocked pairs hold sum(p) matches in total. So expected precision is mean(p | p >= t), expected recall
sum(p | p >= t) / sum(p), and the default threshold is the t that maximises their harmonic mean (expected F1).
A pair raises expected F1 exactly when its probability exceeds half the best expected F1, so the threshold is
F*/2: about 0.5 when the model separates matches well, lower when it expects to miss many.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FALLBACK = 0.5  # no pairs at all: any threshold is as good; 0.5 is "more likely a match than not"


@dataclass(frozen=True)
class ThresholdChoice:
    """The chosen threshold and what the model expects of it."""

    threshold: float
    expected_precision: float
    expected_recall: float
    expected_matches: float

    @property
    def expected_f1(self) -> float:
        p, r = self.expected_precision, self.expected_recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def choose_threshold(probabilities: np.ndarray, floor: float = 0.05) -> ThresholdChoice:
    """The threshold that maximises expected F1 over the scored pairs (pairs below ``floor`` never count)."""
    p = np.sort(np.asarray(probabilities, dtype=float))[::-1]
    p = p[p >= floor]
    if p.size == 0:
        return ThresholdChoice(FALLBACK, 0.0, 0.0, 0.0)
    total = float(p.sum())
    kept = np.cumsum(p)
    n = np.arange(1, p.size + 1)
    f1 = 2 * kept / (n + total)
    best = float(f1.max())
    cut = max(floor, best / 2)
    above = p >= cut
    return ThresholdChoice(
        threshold=round(cut, 6),
        expected_precision=float(p[above].mean()) if above.any() else 1.0,
        expected_recall=float(p[above].sum() / total),
        expected_matches=total,
    )


def expected_precision_above(probabilities: np.ndarray, threshold: float) -> float:
    """The share of pairs at or above ``threshold`` the model expects to be true matches."""
    p = np.asarray(probabilities, dtype=float)
    above = p[p >= threshold]
    return float(above.mean()) if above.size else 1.0
