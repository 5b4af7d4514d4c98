"""`simulate`: the same customers through each policy for the same simulated days, and the comparison.

Each policy gets its own in-memory store and the same population (same needs on the same days, same hidden
traits); the customers' reactions draw from the same seed. The result is JSON-ready.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rapport.errors import InvalidInput
from rapport.repeat.simulator.intervals import cdnow_intervals, instacart_intervals
from rapport.repeat.simulator.policies import FixedPolicy, LearnedPolicy, Policy
from rapport.repeat.simulator.population import LEVELS, Population, Tolerance, draw_population
from rapport.repeat.simulator.report import advantage, summary
from rapport.repeat.simulator.run import YearRun

POLICIES = ("respond_to_desire", "coach", "automate", "learned")
FIXED_LEVELS = {"respond_to_desire": "i_choose", "coach": "remind_me", "automate": "do_it_for_me"}
Progress = Callable[[str, float], None]  # (policy, simulated days done since the last call)


@dataclass(frozen=True)
class SimulationConfig:
    customers: int = 10_000
    days: int = 365
    policies: tuple[str, ...] = POLICIES
    automation_share: float = 0.3
    contact_tolerance: Tolerance = "medium"
    seed: int = 7

    def __post_init__(self) -> None:
        unknown = [p for p in self.policies if p not in POLICIES]
        if unknown or not self.policies:
            raise InvalidInput(f"Policies {unknown or '(none)'} are unknown; use any of {', '.join(POLICIES)} or all.")
        if not 1 <= self.days <= 3660:
            raise InvalidInput(f"days={self.days} must be from 1 to 3660.")


def make_policy(name: str, population: Population) -> Policy:
    """The policy called ``name``; the learned one asks the simulated customer when it must ask."""
    if name in FIXED_LEVELS:
        return FixedPolicy(name, FIXED_LEVELS[name])

    def ask(customer_id: str, category: str) -> bool:  # the customer answers from their hidden preference
        from rapport.repeat.simulator.population import CATEGORIES

        i, c = int(customer_id[1:]), [x.name for x in CATEGORIES].index(category)
        return population.level[i, c] == LEVELS.index("do_it_for_me")

    return LearnedPolicy(ask)


def simulate(config: SimulationConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Run every policy of ``config`` over the same population; the figures per policy, per month, and timings."""
    started = time.perf_counter()
    population = draw_population(
        config.customers, config.seed, config.automation_share, config.contact_tolerance, config.days
    )
    results: dict[str, dict[str, Any]] = {}
    seconds: dict[str, float] = {}
    for name in config.policies:
        began = time.perf_counter()
        run = YearRun(population, make_policy(name, population), config.days, config.seed)
        tally = run.run(None if progress is None else lambda done, name=name: progress(name, done))
        results[name] = summary(tally, config.customers)
        seconds[name] = round(time.perf_counter() - began, 2)
    return {
        "config": {
            "customers": config.customers,
            "days": config.days,
            "automation_share": config.automation_share,
            "contact_tolerance": config.contact_tolerance,
            "seed": config.seed,
        },
        "intervals": {"instacart": instacart_intervals().summary(), "cdnow": cdnow_intervals().summary()},
        "policies": results,
        "learned_advantage": advantage(results),
        "seconds": {**seconds, "total": round(time.perf_counter() - started, 2)},
    }
