"""`simulate`: the same customers through each policy for the same simulated days, and the comparison.

Each policy gets its own in-memory store and the same population (same needs on the same days, same hidden
traits); the customers' reactions draw from the same seed. The result is JSON-ready.
"""

from __future__ import annotations

import multiprocessing
import queue
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapport.errors import InvalidInput
from rapport.repeat.simulator.intervals import cdnow_intervals, instacart_intervals
from rapport.repeat.simulator.policies import FixedPolicy, LearnedPolicy, Policy
from rapport.repeat.simulator.population import CATEGORIES, LEVELS, Population, Tolerance, draw_population
from rapport.repeat.simulator.report import advantage, summary
from rapport.repeat.simulator.run import START, YearRun

POLICIES = ("respond_to_desire", "coach", "automate", "learned")
ANSWER_RATE = 0.5  # share of the questions and offers learning puts that a simulated customer answers
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
    workers: int = 1  # policies run side by side in this many processes (each policy is one sequential year)

    def __post_init__(self) -> None:
        unknown = [p for p in self.policies if p not in POLICIES]
        if unknown or not self.policies:
            raise InvalidInput(f"Policies {unknown or '(none)'} are unknown; use any of {', '.join(POLICIES)} or all.")
        if not 1 <= self.days <= 3660:
            raise InvalidInput(f"days={self.days} must be from 1 to 3660.")


def make_policy(name: str, population: Population, seed: int = 0) -> Policy:
    """The policy called ``name``; the learned one asks the simulated customer when it must ask.

    The answer model, fixed before any run: a customer answers a question or an offer with probability
    ``ANSWER_RATE`` (they see it in the app and tap an answer; the others leave it), and the answer is their hidden
    preferred level that day; an offered mandate is taken only by someone whose preference that day is *do it for
    me*. The answers draw from their own seeded stream.
    """
    if name in FIXED_LEVELS:
        return FixedPolicy(name, FIXED_LEVELS[name])
    names = [x.name for x in CATEGORIES]
    answers = random.Random(seed * 1_000_003 + 17)

    def ask(customer_id: str, category: str, kind: str, now: datetime) -> str | None:
        i, c = int(customer_id[1:]), names.index(category)
        if answers.random() >= ANSWER_RATE:
            return None
        preferred = LEVELS[population.preference(i, c, (now - START).total_seconds() / 86_400)]
        if kind == "offer_mandate":
            return preferred if preferred == "do_it_for_me" else None
        return preferred

    def caps(customer_id: str, category: str) -> tuple[float, float]:
        price = float(population.price[int(customer_id[1:]), names.index(category)])
        return price * 3, price * 15  # the caps every mandate holder of the population set

    return LearnedPolicy(ask, caps)


def simulate(config: SimulationConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Run every policy of ``config`` over the same population; the figures per policy, per month, and timings."""
    started = time.perf_counter()
    population = draw_population(
        config.customers, config.seed, config.automation_share, config.contact_tolerance, config.days
    )
    workers = max(1, min(config.workers, len(config.policies)))
    if workers == 1:
        done = [_run_policy(population, config, name, progress) for name in config.policies]
    else:
        done = _in_processes(population, config, workers, progress)
    results = {name: figures for name, figures, _ in sorted(done, key=lambda d: config.policies.index(d[0]))}
    seconds = {name: took for name, _, took in done}
    return {
        "config": {
            "customers": config.customers,
            "days": config.days,
            "automation_share": config.automation_share,
            "contact_tolerance": config.contact_tolerance,
            "seed": config.seed,
            "workers": workers,
        },
        "intervals": {"instacart": instacart_intervals().summary(), "cdnow": cdnow_intervals().summary()},
        "policies": results,
        "learned_advantage": advantage(results),
        "seconds": {**seconds, "total": round(time.perf_counter() - started, 2)},
    }


def _run_policy(
    population: Population, config: SimulationConfig, name: str, progress: Progress | None
) -> tuple[str, dict[str, Any], float]:
    began = time.perf_counter()
    run = YearRun(population, make_policy(name, population, config.seed), config.days, config.seed)
    tally = run.run(None if progress is None else lambda done: progress(name, done))
    figures = {**summary(tally, config.customers), "control_level_accuracy": run.level_accuracy()}
    if isinstance(run.policy, LearnedPolicy):
        asked = run.policy
        figures.update(
            questions_asked=asked.asked, questions_answered=asked.answered, mandates_taken=asked.mandates_taken
        )
    return name, figures, round(time.perf_counter() - began, 2)


_SHARED: dict[str, Any] = {}  # what a forked worker inherits: the population, the config, the progress queue


def _worker(name: str) -> tuple[str, dict[str, Any], float]:
    updates = _SHARED["queue"]
    return _run_policy(_SHARED["population"], _SHARED["config"], name, lambda n, done: updates.put((n, done)))


def _in_processes(
    population: Population, config: SimulationConfig, workers: int, progress: Progress | None
) -> list[tuple[str, dict[str, Any], float]]:
    """One process per policy (forked, so the population is shared, not copied up front)."""
    context = multiprocessing.get_context("fork")
    updates = context.Queue()
    _SHARED.update(population=population, config=config, queue=updates)
    with context.Pool(workers) as pool:
        pending = pool.map_async(_worker, config.policies)
        while not pending.ready() or not updates.empty():
            try:
                name, done = updates.get(timeout=0.2)
            except queue.Empty:
                continue
            if progress is not None:
                progress(name, done)
        return pending.get()
