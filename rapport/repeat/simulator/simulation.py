"""`simulate`: the same customers through each policy for the same simulated days, and the comparison.

Each policy gets its own in-memory store and the same population (same needs on the same days, same hidden
traits); the customers' reactions draw from the same seed. The result is JSON-ready.
"""

from __future__ import annotations

import multiprocessing
import os
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
HEAVIEST_FIRST = ("automate", "coach", "respond_to_desire")  # the fixed policies by their CPU time a customer
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

    With ``workers`` > 1 the policies' customers are sharded over processes that run side by side (see
    :func:`_side_by_side`; a policy's seconds are then the time from the start until its last shard is done).
    Every customer draws from streams of their own and the nudge bandit reads the population's counts as of the
    start of each simulated day (every shard's counts summed then), so a sharded run gives the figures of the run
    in one process.
    """
    started = time.perf_counter()
    population = draw_population(
        config.customers, config.seed, config.automation_share, config.contact_tolerance, config.days
    )
    workers = max(1, min(config.workers, config.customers))
    if workers == 1:
        done = []
        for name in config.policies:
            began = time.perf_counter()
            tell = None if progress is None else (lambda days, name=name: progress(name, days))
            parts = [_run_shard(population, config, name, range(config.customers), tell, None)]
            done.append((name, _figures(config, parts), round(time.perf_counter() - began, 2)))
    else:
        shards, took = _side_by_side(population, config, workers, progress)
        done = [(name, _figures(config, shards[name]), took[name]) for name in config.policies]
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


_SHARED: dict[str, Any] = {}  # what a forked shard inherits: the population, the config, the queue, the barriers
SYNC_TIMEOUT = 900.0  # seconds a shard waits for the others at a day's start before the run fails
FILL_NICENESS = 3  # a fixed policy's shard runs this much nicer than a learning one (mild: it must not starve)


def _shard(name: str, shard: int, shards: int) -> None:
    updates, population, config = _SHARED["queue"], _SHARED["population"], _SHARED["config"]
    synced = name not in FIXED_LEVELS  # the fixed policies learn nothing: no counts to share
    if not synced:
        os.nice(FILL_NICENESS)

    def sync(counts: np.ndarray) -> np.ndarray:
        barrier, slots = _SHARED["barriers"][name], _SHARED["slots"][name]
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
            lambda days: updates.put(("days", name, shard, days / shards)),
            sync if synced else None,
        )
        updates.put(("done", name, shard, part))
    except BaseException as exc:
        updates.put(("error", name, shard, f"{type(exc).__name__}: {exc}"))
        raise


def _side_by_side(
    population: Population, config: SimulationConfig, workers: int, progress: Progress | None
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, float]]:
    """Every policy's shards in forked processes (the population is shared, not copied), run side by side so no
    core idles while work is left: each policy's shards, and the seconds from the start until its last was done.

    A policy that learns (``learned``) shares the population's counts at each simulated day's start, so its
    ``workers`` shards all start at once and wait for each other every day. The fixed policies share nothing:
    each is cut into ``2 * workers`` shards that fill ``workers`` more processes, the largest first, at a slightly
    lower priority (``FILL_NICENESS``): they take the cores a learning shard leaves while it waits at its day's
    barrier, the learning shards (the longest) finish well before the end, and the small fixed shards even out the
    end. The figures are those of one process whatever the order the shards finish in."""
    context = multiprocessing.get_context("fork")
    updates = context.Queue()
    size = MemoryStore().population_counts().size  # the bandit's counts and contact risk's
    synced = [name for name in config.policies if name not in FIXED_LEVELS]
    cuts = {name: workers if name in synced else min(2 * workers, config.customers) for name in config.policies}
    _SHARED.update(
        population=population,
        config=config,
        queue=updates,
        barriers={name: context.Barrier(workers, timeout=SYNC_TIMEOUT) for name in synced},
        slots={name: context.RawArray("d", workers * size) for name in synced},
    )
    waiting = [(name, s) for name in synced for s in range(cuts[name])]
    waiting += [(name, s) for name in HEAVIEST_FIRST if name in cuts for s in range(cuts[name])]
    running: dict[tuple[str, int], Any] = {}
    parts: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in config.policies}
    took: dict[str, float] = {}
    began = time.perf_counter()

    def start(name: str, shard: int) -> None:
        process = context.Process(target=_shard, args=(name, shard, cuts[name]), daemon=True)
        process.start()
        running[(name, shard)] = process

    try:
        while waiting and waiting[0][0] in synced:  # a learning policy's shards, all at once
            start(*waiting.pop(0))
        while waiting or running:
            fixed = sum(1 for name, _ in running if name not in synced)
            while waiting and fixed < workers:
                start(*waiting.pop(0))
                fixed += 1
            try:
                kind, name, shard, value = updates.get(timeout=0.5)
            except queue.Empty:
                dead = [key for key, p in running.items() if p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(f"A shard of the {dead[0][0]} policy died.") from None
                continue
            if kind == "error":
                raise RuntimeError(f"Shard {shard} of the {name} policy failed: {value}")
            if kind == "days" and progress is not None:
                progress(name, value)
            elif kind == "done":
                parts[name][shard] = value
                running.pop((name, shard)).join()
                if len(parts[name]) == cuts[name]:
                    took[name] = round(time.perf_counter() - began, 2)
    finally:
        for process in running.values():
            if process.is_alive():
                process.terminate()
            process.join()
    return {name: [parts[name][s] for s in range(cuts[name])] for name in config.policies}, took
