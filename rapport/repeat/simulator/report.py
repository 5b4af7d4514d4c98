"""What a simulated year shows, per policy and per month: needs met on time, contacts, cancellations, churn, revenue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

COUNTS = (
    "needs",
    "needs_met_on_time",
    "needs_missed",
    "contacts",
    "unwanted_contacts",
    "automatic_orders",
    "auto_cancelled",
    "complaints",
    "churned",
    "revenue",
    "active_customer_days",
    "decisions",
)
MONTH_DAYS = 365.25 / 12
_COLUMN = {name: j for j, name in enumerate(COUNTS)}


@dataclass
class Tally:
    """Counts per month of the simulated year (a need counts in the month it fell due)."""

    months: int
    # Plain floats while the run adds to them (a numpy element update costs several times a list's); the same
    # additions in the same order, so the same sums.
    _rows: list[list[float]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rows = [[0.0] * len(COUNTS) for _ in range(self.months)]

    @property
    def counts(self) -> np.ndarray:
        """The counts, [month, COUNTS]."""
        return np.array(self._rows)

    @counts.setter
    def counts(self, values: np.ndarray) -> None:
        self._rows = np.asarray(values, dtype=float).tolist()

    def add(self, name: str, day: float, amount: float = 1.0) -> None:
        month = int(day / MONTH_DAYS)
        if month < 0:
            month = 0
        elif month >= self.months:
            month = self.months - 1
        self._rows[month][_COLUMN[name]] += amount

    def total(self, name: str) -> float:
        return float(self.counts[:, COUNTS.index(name)].sum())

    def monthly(self, name: str) -> np.ndarray:
        return self.counts[:, COUNTS.index(name)]


def months_of(days: int) -> int:
    return max(1, int(np.ceil(days / MONTH_DAYS - 1e-9)))


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def summary(tally: Tally, customers: int) -> dict[str, Any]:
    """The policy's figures over the whole run (rates per customer-year of customers still with the firm)."""
    years = tally.total("active_customer_days") / 365.0
    needs = tally.total("needs")
    return {
        "needs": int(needs),
        "needs_met_on_time": int(tally.total("needs_met_on_time")),
        "needs_met_on_time_share": round(_ratio(tally.total("needs_met_on_time"), needs), 4),
        "needs_missed": int(tally.total("needs_missed")),
        "contacts_per_customer_year": round(_ratio(tally.total("contacts"), years), 3),
        "unwanted_contacts_per_customer_year": round(_ratio(tally.total("unwanted_contacts"), years), 3),
        "automatic_orders": int(tally.total("automatic_orders")),
        "auto_cancel_rate": round(_ratio(tally.total("auto_cancelled"), tally.total("automatic_orders")), 4),
        "complaints": int(tally.total("complaints")),
        "churn": round(_ratio(tally.total("churned"), customers), 4),
        "churned": int(tally.total("churned")),
        "revenue": round(tally.total("revenue"), 2),
        "decisions": int(tally.total("decisions")),
        "monthly": monthly(tally),
    }


def monthly(tally: Tally) -> dict[str, list[float]]:
    """Per month: the share of needs met on time and unwanted contacts per customer-year."""
    needs = tally.monthly("needs")
    years = tally.monthly("active_customer_days") / 365.0
    return {
        "needs_met_on_time_share": [
            round(float(_ratio(m, n)), 4) for m, n in zip(tally.monthly("needs_met_on_time"), needs, strict=True)
        ],
        "unwanted_contacts_per_customer_year": [
            round(float(_ratio(u, y)), 3) for u, y in zip(tally.monthly("unwanted_contacts"), years, strict=True)
        ],
        "revenue": [round(float(r), 2) for r in tally.monthly("revenue")],
    }


def advantage(policies: dict[str, dict[str, Any]], learned: str = "learned") -> dict[str, Any]:
    """The learned policy's lead in needs met on time (share, percentage points) over the best fixed policy, by
    month, and whether it grows (the slope of a straight line through the months, points per month)."""
    if learned not in policies or len(policies) < 2:
        return {}
    fixed = {name: p for name, p in policies.items() if name != learned}
    ours = np.array(policies[learned]["monthly"]["needs_met_on_time_share"])
    best = np.max([p["monthly"]["needs_met_on_time_share"] for p in fixed.values()], axis=0)
    lead = (ours - best) * 100
    slope = float(np.polyfit(np.arange(len(lead)), lead, 1)[0]) if len(lead) > 1 else 0.0
    coach = policies.get("coach", {}).get("unwanted_contacts_per_customer_year")
    mine = policies[learned]["unwanted_contacts_per_customer_year"]
    return {
        "lead_over_best_fixed_pp_by_month": [round(float(x), 2) for x in lead],
        "lead_slope_pp_per_month": round(slope, 3),
        "grows": slope > 0,
        "meets_more_needs_than_every_fixed": all(
            policies[learned]["needs_met_on_time"] > p["needs_met_on_time"] for p in fixed.values()
        ),
        "unwanted_vs_coach": round(_ratio(mine, coach), 4) if coach else None,
        "at_least_50pct_fewer_unwanted_than_coach": bool(coach) and mine <= 0.5 * coach,
    }
