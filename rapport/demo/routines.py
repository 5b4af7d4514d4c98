"""Replenishment, depletion and daily doses, simulated day by day for one person's habits.

A habit without a device repeats on the person's own cadence (mean interval and spread). A connected device's level
falls with daily use (fewer pages at weekends), the person orders when it runs low (or buys elsewhere, which shows
only as a refill in the telemetry), and the level jumps when the new pack is put in; readings carry sensor noise.
Dose habits take one dose a day with personal adherence, some people slipping for a while or stopping; medication
is reordered when the tablets actually run low, so skipped doses stretch the refill interval.

Readings are track "Level Reported" with properties device_id, sku (the consumable), and either level_pct (toner;
capacity = the cartridge's page yield) or units_left (pods, tablets; capacity = the most the stock can hold).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from rapport.demo.catalogue import Catalogue, Item
from rapport.demo.messages import Emitter
from rapport.demo.people import Habit, Person
from rapport.demo.plans import Plan

ELSEWHERE = 0.08  # share of refills bought from a rival: telemetry shows the refill, the firm sees no order


@dataclass(frozen=True)
class Purchase:
    """An intended order: when (days since the window's start), through which channel, which items."""

    t: float
    channel: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)


@dataclass
class Routine:
    """What a person's habits produce beside the telemetry already emitted: orders to place and doses taken."""

    purchases: list[Purchase] = field(default_factory=list)
    doses: list[tuple[float, str]] = field(default_factory=list)  # (time, medication sku)


def simulate_habits(
    rng: random.Random, person: Person, plan: Plan, catalogue: Catalogue, days: int, weekday0: int, out: Emitter
) -> Routine:
    """Run every habit of the person over the window; telemetry readings go straight to ``out``."""
    routine = Routine()
    for habit in person.habits:
        item = catalogue.item(habit.sku)
        readings = _Readings(out, person, habit.device_id or "", item.sku)
        if habit.kind == "dose":
            _doses(rng, plan, habit, item, days, routine, readings)
        elif habit.device_id and item.category == "toner":
            _printer(rng, plan, habit, item, days, weekday0, routine, readings)
        elif habit.device_id:
            _pods(rng, plan, habit, item, days, routine, readings)
        else:
            _cadence(rng, plan, habit, item, days, routine)
    return routine


def _order_channel(rng: random.Random, habit: Habit, plan: Plan) -> str:
    """Mostly the habitual channel; now and then another one the person uses."""
    if rng.random() < 0.15 and plan.segment == "online":
        others = [c for c, used in (("web", plan.web), ("app", plan.app), ("store", plan.store)) if used]
        return rng.choice(others)
    return habit.channel


def _ordering(plan: Plan, t: float) -> bool:
    return t >= plan.joined_at and (plan.churned_at is None or t < plan.churned_at)


def _cadence(rng: random.Random, plan: Plan, habit: Habit, item: Item, days: int, routine: Routine) -> None:
    if item.category == "coffee_pods":  # the interval already counts the packs the person buys at once
        quantity, step = plan.packs_per_order, habit.interval_days
    else:
        quantity = 2 if habit.interval_days < 20 and rng.random() < 0.3 else 1
        step = habit.interval_days * quantity
    t = plan.joined_at + rng.uniform(0.0, step)
    while t < days and _ordering(plan, t):
        routine.purchases.append(Purchase(t, _order_channel(rng, habit, plan), ((habit.sku, quantity),)))
        t += max(step * 0.3, rng.gauss(step, habit.jitter_days * math.sqrt(quantity)))


@dataclass(frozen=True)
class _Readings:
    """Sends one device's level readings as its cloud does: the serial is both anonymousId and device id."""

    out: Emitter
    owner: Person
    device_id: str
    sku: str

    def send(self, t: float, properties: dict[str, Any]) -> None:
        props = {"device_id": self.device_id, "sku": self.sku, **properties}
        serial = self.device_id
        self.out.track(self.owner, t, "device", "Level Reported", props, anonymous_id=serial, device_id=serial)


def _printer(
    rng: random.Random,
    plan: Plan,
    habit: Habit,
    item: Item,
    days: int,
    weekday0: int,
    routine: Routine,
    readings: _Readings,
) -> None:
    device_id = habit.device_id or ""
    registered, pages = plan.device_registered[device_id], plan.printer_pages
    remaining = item.pack_size * rng.uniform(0.3, 1.0)
    low, replace_at = rng.uniform(0.08, 0.25), rng.uniform(0.0, 0.05)
    arrival: int | None = None
    waits = False
    next_report = registered
    for day in range(int(plan.device_start[device_id]), days):
        weekend = (weekday0 + day) % 7 >= 5
        remaining = max(0.0, remaining - max(0.0, rng.gauss(pages, 0.5 * pages)) * (0.3 if weekend else 1.0))
        level = remaining / item.pack_size
        if arrival is None and level < low:
            arrival, waits = _reorder(rng, plan, habit, day, routine), rng.random() < 0.5
        refilled = arrival is not None and day >= arrival and (not waits or level <= replace_at)
        if refilled:
            remaining, level, arrival = float(item.pack_size), 1.0, None
        if day >= registered and (day >= next_report or refilled):
            noisy = min(100, max(0, round(100 * level + rng.gauss(0.0, 1.5))))
            props = {"level_pct": noisy, "capacity": item.pack_size}
            readings.send(day + rng.uniform(0.3, 0.95), props)
            next_report = day + rng.randint(4, 8)


def _reorder(rng: random.Random, plan: Plan, habit: Habit, day: int, routine: Routine, quantity: int = 1) -> int:
    """Order a refill (or buy it elsewhere); the day it arrives."""
    t = day + rng.uniform(0.3, 0.95)
    if _ordering(plan, t) and rng.random() > ELSEWHERE:
        routine.purchases.append(Purchase(t, _order_channel(rng, habit, plan), ((habit.sku, quantity),)))
        return day + rng.randint(1, 3)
    return day + rng.randint(0, 5)


def _pods(
    rng: random.Random, plan: Plan, habit: Habit, item: Item, days: int, routine: Routine, readings: _Readings
) -> None:
    device_id = habit.device_id or ""
    registered, per_day = plan.device_registered[device_id], plan.pods_per_day
    order = plan.packs_per_order * item.pack_size
    low = per_day * rng.uniform(2.0, 6.0)
    capacity = order + int(low)  # reorders happen at or below ``low``: the stock never exceeds this
    stock = rng.randint(item.pack_size // 2, capacity)
    arrival: int | None = None
    next_report = registered
    spread = 0.6 * math.sqrt(per_day) + 0.4
    for day in range(int(plan.device_start[device_id]), days):
        stock = max(0, stock - max(0, round(rng.gauss(per_day, spread))))
        if arrival is None and stock <= low:
            arrival = _reorder(rng, plan, habit, day, routine, plan.packs_per_order)
        refilled = arrival is not None and day >= arrival
        if refilled:
            stock, arrival = stock + order, None
        if day >= registered and (day >= next_report or refilled):
            miscount = rng.choice((-1, 1)) if rng.random() < 0.1 else 0
            props = {"units_left": min(capacity, max(0, stock + miscount)), "capacity": capacity}
            readings.send(day + rng.uniform(0.3, 0.95), props)
            next_report = day + rng.randint(3, 7)


def _adherence_by_day(rng: random.Random, habit: Habit, start: int, days: int) -> list[float]:
    """The chance of taking the dose each day: steady, or with a slip of one to three weeks, or stopping."""
    base = habit.adherence or 0.95
    chances = [base] * days
    roll = rng.random()
    if roll < 0.25:
        slip = rng.randint(max(start, int(days * 0.2)), max(start + 1, int(days * 0.95)))
        for day in range(slip, min(days, slip + rng.randint(7, 21))):
            chances[day] = 0.15
    elif roll < 0.35:
        for day in range(max(start, days - rng.randint(21, 45)), days):
            chances[day] = 0.0
    return chances


def _doses(
    rng: random.Random, plan: Plan, habit: Habit, item: Item, days: int, routine: Routine, readings: _Readings
) -> None:
    per_day = max(1, round(item.pack_size / (item.days_per_pack or item.pack_size)))
    capacity = item.pack_size + 7 * per_day  # a dispenser holds a pack and a week's reserve
    stock = round(item.pack_size * rng.uniform(0.2, 1.0))
    hour = rng.uniform(5.5, 9.0)
    device_id = habit.device_id
    next_report = plan.device_registered.get(device_id or "", 0.0)
    start = int(plan.joined_at)
    end = min(days, math.ceil(plan.churned_at)) if plan.churned_at is not None else days
    chances = _adherence_by_day(rng, habit, start, days)
    arrival: int | None = None
    for day in range(start, end):
        if stock >= per_day and rng.random() < chances[day]:
            stock -= per_day
            routine.doses.append((day + (hour + rng.gauss(0.0, 0.5)) / 24.0, habit.sku))
        if arrival is None and stock <= per_day * rng.uniform(3.0, 7.0):
            arrival = _reorder(rng, plan, habit, day, routine)
        if arrival is not None and day >= arrival:
            stock, arrival = min(capacity, stock + item.pack_size), None
        if device_id and day >= next_report:
            props = {"units_left": stock, "capacity": capacity}
            readings.send(day + rng.uniform(0.4, 0.99), props)
            next_report = day + rng.randint(2, 3)
