"""`simulate`: the same customers through each policy for the same simulated days, and the comparison.

Each policy gets its own in-memory store and the same population (same needs on the same days, same hidden
traits); the customers' reactions draw from the same seed. The result is JSON-ready.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from rapport.errors import InvalidInput
from rapport.repeat.simulator.intervals import cdnow_intervals, instacart_intervals
from rapport.repeat.simulator.memory_store import MemoryStore
from rapport.repeat.simulator.policies import FixedPolicy, LearnedPolicy, Policy
from rapport.repeat.simulator.population import CATEGORIES, LEVELS, Population, Tolerance, draw_population
from rapport.repeat.simulator.report import Tally, advantage, months_of, summary
from rapport.repeat.simulator.run import START, Sync, YearRun
from rapport.repeat.simulator.streams import CustomerStreams

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
    workers: int = 1  # each policy's customers are sharded over this many processes (the figures stay the same)

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
    answers = CustomerStreams(seed, 3)  # each customer's own stream: a sharded run answers alike

    def ask(customer_id: str, category: str, kind: str, now: datetime) -> str | None:
        i, c = int(customer_id[1:]), names.index(category)
        if answers.random(i) >= ANSWER_RATE:
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
    """Run every policy of ``config`` over the same population; the figures per policy, per month, and timings.

    With ``workers`` > 1 each policy's customers are sharded over that many processes, one policy after the
    other. Every customer draws from streams of their own and the nudge bandit reads the population's counts as
    of the start of each simulated day (every shard's counts summed then), so a sharded run gives the figures of
    the run in one process.
    """
    started = time.perf_counter()
    population = draw_population(
        config.customers, config.seed, config.automation_share, config.contact_tolerance, config.days
    )
    workers = max(1, min(config.workers, config.customers))
    done = []
    for name in config.policies:
        began = time.perf_counter()
        if workers == 1:
            tell = None if progress is None else (lambda days, name=name: progress(name, days))
            parts = [_run_shard(population, config, name, range(config.customers), tell, None)]
        else:
            parts = _in_processes(population, config, name, workers, progress)
        done.append((name, _figures(config, parts), round(time.perf_counter() - began, 2)))
    results = {name: figures for name, figures, _ in done}
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


def _run_shard(
    population: Population,
    config: SimulationConfig,
    name: str,
    customers: Sequence[int],
    progress: Callable[[float], None] | None,
    sync: Sync | None,
) -> dict[str, Any]:
    """One policy's year for ``customers`` (all, or one shard): the counts and what the figures are made of."""
    policy = make_policy(name, population, config.seed)
    run = YearRun(population, policy, config.days, config.seed, customers, sync)
    tally = run.run(progress)
    hits, total = run.level_hits()
    part: dict[str, Any] = {"counts": tally.counts, "hits": hits, "total": total}
    if isinstance(policy, LearnedPolicy):
        part.update(asked=policy.asked, answered=policy.answered, mandates_taken=policy.mandates_taken)
    return part


def _figures(config: SimulationConfig, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The policy's figures from its shards' counts."""
    tally = Tally(months_of(config.days))
    for part in parts:
        tally.counts += part["counts"]
    hits, total = sum(p["hits"] for p in parts), sum(p["total"] for p in parts)
    figures = {**summary(tally, config.customers), "control_level_accuracy": round(hits / total, 4) if total else 0.0}
    if "asked" in parts[0]:
        figures.update(
            questions_asked=sum(p["asked"] for p in parts),
            questions_answered=sum(p["answered"] for p in parts),
            mandates_taken=sum(p["mandates_taken"] for p in parts),
        )
    return figures


_SHARED: dict[str, Any] = {}  # what a forked shard inherits: the population, the config, the queue, the barrier
SYNC_TIMEOUT = 900.0  # seconds a shard waits for the others at a day's start before the run fails


def _shard(name: str, shard: int, shards: int) -> None:
    updates, barrier, slots = _SHARED["queue"], _SHARED["barrier"], _SHARED["slots"]
    population, config = _SHARED["population"], _SHARED["config"]

    def sync(counts: np.ndarray) -> np.ndarray:
        table = np.frombuffer(slots, dtype=float).reshape(shards, *counts.shape)
        table[shard] = counts
        barrier.wait()
        total = table.sum(axis=0)  # whole counts: the same sum in any order
        barrier.wait()  # nobody writes the next day's counts before everyone has read these
        return total

    try:
        part = _run_shard(
            population,
            config,
            name,
            range(shard, config.customers, shards),
            lambda days: updates.put(("days", shard, days / shards)),
            sync if name not in FIXED_LEVELS else None,  # the fixed policies learn nothing: no counts to share
        )
        updates.put(("done", shard, part))
    except BaseException as exc:
        updates.put(("error", shard, f"{type(exc).__name__}: {exc}"))
        raise


def _in_processes(
    population: Population, config: SimulationConfig, name: str, shards: int, progress: Progress | None
) -> list[dict[str, Any]]:
    """One policy's customers sharded over ``shards`` forked processes (the population is shared, not copied)."""
    context = multiprocessing.get_context("fork")
    updates = context.Queue()
    size = MemoryStore().population_counts().size  # the bandit's counts and contact risk's
    _SHARED.update(
        population=population,
        config=config,
        queue=updates,
        barrier=context.Barrier(shards, timeout=SYNC_TIMEOUT),
        slots=context.RawArray("d", shards * size),
    )
    processes = [context.Process(target=_shard, args=(name, s, shards), daemon=True) for s in range(shards)]
    for process in processes:
        process.start()
    parts: dict[int, dict[str, Any]] = {}
    try:
        while len(parts) < shards:
            try:
                kind, shard, value = updates.get(timeout=0.5)
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in processes):
                    raise RuntimeError(f"A shard of the {name} policy died.") from None
                continue
            if kind == "error":
                raise RuntimeError(f"Shard {shard} of the {name} policy failed: {value}")
            if kind == "days" and progress is not None:
                progress(name, value)
            elif kind == "done":
                parts[shard] = value
    finally:
        for process in processes:
            if process.is_alive() and len(parts) < shards:
                process.terminate()
            process.join()
    return [parts[s] for s in range(shards)]
