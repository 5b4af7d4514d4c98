"""One simulated year of one policy: every need, contact, automatic order and reaction, in time order.

Rapport's decision path runs unchanged over a ``MemoryStore``: ``decide`` for each outbound need (touchpoint
``need_due``) and for each visit the customer makes by themselves (``app_open``), the scheduler's notice step for
automatic orders, ``cancel_automatic_order`` when the customer cancels, ``record_consent`` and ``revoke_mandate``
when they leave. What the simulator adds: the clock (an event queue that jumps from one event to the next), the
needs Rapport recognises (the median of the intervals between the orders it saw, in place of the batch models of
rapport.recognize), the delivery of outbox actions at their send time, the execution of an automatic order once
its notice period and cancel window have passed, and the customers' reactions.
"""

from __future__ import annotations

import gc
import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import numpy as np

from rapport.decide.consent import record_consent
from rapport.decide.engine import DEFAULT_RULES, decide
from rapport.decide.situations import Situation
from rapport.recognize.need import Need
from rapport.repeat.simulator.memory_store import MemoryStore
from rapport.repeat.simulator.policies import DEFAULT_HOUR, Policy
from rapport.repeat.simulator.population import (
    CATEGORIES,
    HISTORY_ORDERS,
    LEVELS,
    TIMEZONES,
    Population,
)
from rapport.repeat.simulator.reactions import (
    CHURN_MISSED,
    COMPLAIN_UNWANTED_ORDER,
    WANTS,
    WINDOW_EARLY,
    WINDOW_LATE,
    Reactions,
)
from rapport.repeat.simulator.report import Tally, months_of
from rapport.respond.automatic import AutomaticOrder, cancel_automatic_order
from rapport.respond.mandates import Mandate, MandateTerms, create_mandate, revoke_mandate
from rapport.respond.scheduler import _notify, _refusal

START = datetime(2026, 1, 1, tzinfo=UTC)
OUTBOUND_LEAD_DAYS = 4.0  # Rapport looks at a need this long before it expects it (inside a mandate's lead time)
DELIVERY_DAYS = DEFAULT_RULES.delivery_days
ONE_DAY = timedelta(days=1)
OPEN, OUTBOUND, SELF, CLOSE, DELIVER, NOTICE, EXECUTE = range(7)
Progress = Callable[[float], None]
Event = tuple[float, int, int, int, int, int, tuple]  # (day, sequence, kind, customer, category, need, payload)
Sync = Callable[[np.ndarray], np.ndarray]  # this shard's population counts → every shard's sum


@dataclass(slots=True)
class NeedState:
    """The simulator's view of one customer's current need in one category."""

    k: int = -1
    due: float = 0.0
    level: int = 0  # the preference for this need, situation included
    met: bool = False
    auto: str | None = None  # the automatic order in flight for it
    decisions: list[str] = field(default_factory=list)
    bought: list[datetime] = field(default_factory=list)  # the orders with the firm Rapport saw, newest first
    gaps: list[float] = field(default_factory=list)  # the days between them, newest first
    # The customer's hidden traits for the category, read out of the population's arrays once (a numpy element
    # read costs several times a list's): the days between needs, the price, the preference and its drift.
    intervals: list[float] = field(default_factory=list)
    price: float = 0.0
    products: list[dict[str, object]] = field(default_factory=list)  # what one order of it holds
    preference: tuple[int, float, int] = (0, math.inf, 0)  # (level, day it drifts, level it drifts to)

    def preferred(self, day: float) -> int:
        """``Population.preference`` for this customer and category on ``day``."""
        level, drift_day, drift_level = self.preference
        return drift_level if day >= drift_day else level


class YearRun:
    """Runs ``policy`` over ``population`` for ``days`` days on its own MemoryStore."""

    def __init__(
        self,
        population: Population,
        policy: Policy,
        days: int,
        seed: int,
        customers: Sequence[int] | None = None,
        sync: Sync | None = None,
    ) -> None:
        self.pop, self.policy, self.days = population, policy, days
        self.timezone: list[int] = population.timezone.tolist()
        self.mandated: list[bool] = population.mandate.tolist()
        self.mine = range(population.n) if customers is None else customers  # this run's share of the population
        self.sync = sync
        self.store = MemoryStore(seed=seed)
        self.react = Reactions(population, seed)
        self.tally = Tally(months_of(days))
        # The events in time order: those of the day being run in a heap, later ones in a list per day, heapified
        # when their day comes (one heap of the whole run's events costs more levels per event at scale).
        self.queue: list[Event] = []
        self.later: dict[int, list[Event]] = {}
        self.queue_day = 0
        self.seq = 0
        self.needs: dict[tuple[int, int], NeedState] = {}
        self.churned: set[int] = set()
        self.churned_at: dict[int, float] = {}
        self.zones = [ZoneInfo(z) for z in TIMEZONES]
        self.offsets: dict[int, list[float]] = {}  # zone → its UTC offset in days, hour by hour from START
        self.contacts_seen: list[tuple[int, str, datetime]] = []  # (customer, channel, send time): for the tests
        self.keep_contacts = False
        self._at: tuple[float, datetime] = (0.0, START)
        self._situations: dict[tuple[str, int], Situation] = {}  # immutable: one per touchpoint and category

    # ----- the clock -------------------------------------------------------------------------------------------
    def at(self, day: float) -> datetime:
        if day != self._at[0]:  # an event's handlers ask for its moment several times: made once
            self._at = (day, START + timedelta(days=day))
        return self._at[1]

    def push(self, day: float, kind: int, i: int, c: int, k: int, payload: tuple = ()) -> None:
        if day <= self.days:
            self.seq += 1
            event = (day, self.seq, kind, i, c, k, payload)
            d = int(day)
            if d <= self.queue_day:
                heapq.heappush(self.queue, event)
            elif (events := self.later.get(d)) is not None:
                events.append(event)
            else:
                self.later[d] = [event]

    def run(self, progress: Progress | None = None) -> Tally:
        for i in self.mine:
            self._set_up(i)
        # The run holds millions of long-lived objects and makes no reference cycles (gc.collect() after a year
        # with the collector off finds none, every policy): reference counting frees everything, and the cyclic
        # collector's passes over the growing heap were a quarter of the time at 4,000 customers, more beyond.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run(progress)
        finally:
            if enabled:
                gc.enable()

    def _run(self, progress: Progress | None) -> Tally:
        handlers = (self._open, self._outbound, self._self, self._close, self._deliver, self._notice, self._execute)
        reported = today = 0
        queue, pop, churned, later = self.queue, heapq.heappop, self.churned, self.later
        while queue or later:
            if not queue:
                self.queue_day = min(later)
                queue = self.queue = later.pop(self.queue_day)
                heapq.heapify(queue)
            day, _, kind, i, c, k, payload = pop(queue)
            if day >= today + 1:
                today = self._new_days(today, int(day))
            if i in churned:
                continue
            handlers[kind](day, i, c, k, payload)
            if progress is not None and int(day) > reported:
                progress(int(day) - reported)
                reported = int(day)
        self._new_days(today, self.days)
        self._count_exposure()
        if progress is not None:
            progress(self.days - reported)
        return self.tally

    def _new_days(self, today: int, to: int) -> int:
        """Each simulated day from ``today + 1`` to ``to`` begins: the population's counts learning reads (the
        bandit's, contact risk's) are refreshed (summed over every shard of a sharded run, through ``sync``)."""
        store = self.store
        for _ in range(today, to):
            store.refresh(None if self.sync is None else self.sync(store.population_counts()))
        return to

    def level_accuracy(self) -> float:
        """Share of the remaining customers' categories whose level in force at the end is the one they prefer then
        (the truth only the simulator knows)."""
        hits, total = self.level_hits()
        return round(hits / total, 4) if total else 0.0

    def level_hits(self) -> tuple[int, int]:
        """(categories whose level in force at the end is the preferred one, categories) of remaining customers."""
        hits = total = 0
        for (i, c), _state in self.needs.items():
            if i in self.churned:
                continue
            level, _ = self.store.customer_state(f"c{i}", self.at(self.days), False).control_level(CATEGORIES[c].name)
            hits += level == LEVELS[self.pop.preference(i, c, float(self.days))]
            total += 1
        return hits, total

    def _count_exposure(self) -> None:
        for i in self.mine:
            end = self.churned_at.get(i, float(self.days))
            for month in range(self.tally.months):
                lo, hi = month * 365.25 / 12, min((month + 1) * 365.25 / 12, self.days)
                stay = max(0.0, min(hi, end) - lo)
                if stay:
                    self.tally.add("active_customer_days", lo, stay)

    # ----- customers -------------------------------------------------------------------------------------------
    def _set_up(self, i: int) -> None:
        pop, store, cid = self.pop, self.store, f"c{i}"
        store.add_customer(cid, TIMEZONES[pop.timezone[i]])
        before = self.at(-60.0)
        purposes = ["personalisation", "contact:app", "contact:push", "contact:email"]
        purposes += ["contact:sms"] if pop.sms[i] else []
        purposes += ["automatic_execution"] if pop.mandate[i] else []
        for purpose in purposes:
            record_consent(store, cid, purpose, True, "simulator", before)
        mandated = []
        for c, category in enumerate(CATEGORIES):
            if not pop.has[i, c]:
                continue
            price = float(pop.price[i, c])
            gaps = pop.intervals[c][i]
            due = float(pop.first_due[i, c])
            state = NeedState(due=due, intervals=gaps.tolist(), price=price)
            state.products = [self._product(category.name, price)]
            state.preference = (int(pop.level[i, c]), float(pop.drift_day[i, c]), int(pop.drift_level[i, c]))
            for j in range(HISTORY_ORDERS, 0, -1):  # the orders before the year: what Rapport knows at first
                at = self.at(due - float(gaps[-j:].sum()))
                store.record_order(cid, at, state.products)
                state.bought.insert(0, at)
            state.gaps = [(a - b).total_seconds() / 86_400 for a, b in pairwise(state.bought)]
            if pop.mandate[i]:
                terms = MandateTerms("category", category.name, per_order_cap=price * 3, monthly_cap=price * 15)
                create_mandate(store, cid, terms, before)
                mandated.append(category.name)
            self.needs[(i, c)] = state
            self.push(0.0, OPEN, i, c, 0)
        self.policy.set_up(store, cid, mandated, before)

    @staticmethod
    def _product(category: str, price: float) -> dict[str, object]:
        return {"sku": f"{category}:usual", "quantity": 1, "price": round(price, 2), "category": category}

    def _churn(self, day: float, i: int) -> None:
        """The customer leaves: they withdraw their consents (Rapport's own path stops what depended on them)."""
        store, cid, now = self.store, f"c{i}", self.at(day)
        for consent in list(store.consent_rows(cid)):
            if consent.granted and consent.purpose != "personalisation":
                record_consent(store, cid, consent.purpose, False, "simulator:churn", now)
        for mandate in store.mandates_of(cid, "active"):
            revoke_mandate(store, cid, mandate["id"], now)
        self.churned.add(i)
        self.churned_at[i] = day
        self.tally.add("churned", day)

    # ----- needs -----------------------------------------------------------------------------------------------
    def _open(self, day: float, i: int, c: int, k: int, payload: tuple) -> None:
        """A new need of customer ``i`` in category ``c``: Rapport forecasts it; the customer will run out."""
        state = self.needs[(i, c)]
        state.k += 1
        if state.k > 0:
            gaps = state.intervals
            state.due += gaps[(state.k - 1) % len(gaps)]
        state.met, state.auto, state.decisions = False, None, []
        state.level = self.react.situation(i, state.preferred(state.due), self.mandated[i])
        forecast = self._forecast(i, c, day)
        expected = (forecast.due_at - START).total_seconds() / 86_400
        self.push(self._local(i, max(day, expected - OUTBOUND_LEAD_DAYS), DEFAULT_HOUR), OUTBOUND, i, c, state.k)
        self.push(self._local(i, state.due, 10 + (i + state.k) % 10), SELF, i, c, state.k)
        self.push(state.due + WINDOW_LATE, CLOSE, i, c, state.k)

    def _forecast(self, i: int, c: int, day: float) -> Need:
        """Rapport's need for the category: the median interval between the orders it saw, after the last one."""
        cid, category = f"c{i}", CATEGORIES[c].name
        state = self.needs[(i, c)]
        seen, gaps = state.bought, state.gaps
        step = max(_median(gaps), 1.0) if gaps else 14.0
        confidence = min(0.9, 0.35 + 0.12 * len(gaps))
        now = self.at(day)
        every = timedelta(days=step)
        due = seen[0] + every if seen else now
        late = now - ONE_DAY
        while due < late:  # not bought with us since: assume they bought elsewhere
            due += every
            confidence *= 0.8
        need = Need(
            cid,
            f"{category}:usual",
            category,
            "replenish",
            due,
            round(confidence, 3),
            {"reason": f"usually every {step:.0f} days", "model": "simulator:median-interval"},
        )
        others = [n for n in self.store.customers[cid].needs if n.category != category]
        self.store.set_needs(cid, [*others, need])
        return need

    def _local(self, i: int, day: float, hour: int) -> float:
        """``day`` moved to ``hour`` o'clock in the customer's time zone (never before ``day`` itself)."""
        zone = self.timezone[i]
        table = self.offsets.get(zone)
        if table is None:
            self._offset(zone, day)
            table = self.offsets[zone]
        h = math.floor(day * 24)  # (the offsets' table read inline: ``_offset``, twice an event)
        offset = table[h] if 0 <= h < len(table) else self._offset_at(zone, h)
        local = day + offset  # days since START on the customer's wall clock
        target = math.floor(local) + hour / 24
        if target < local - 1e-9:  # (a moment already at that hour, up to float rounding, stays)
            target += 1.0
        utc = target - offset
        h = math.floor(utc * 24)
        moved = table[h] if 0 <= h < len(table) else self._offset_at(zone, h)
        found = target - moved if moved != offset else utc
        return round(found * 86_400e6) / 86_400e6  # to the microsecond, as a datetime would hold it

    def _offset(self, zone: int, day: float) -> float:
        """The zone's UTC offset in days at ``day`` (constant within a UTC hour: zones change at whole hours)."""
        hour = math.floor(day * 24)
        table = self.offsets.get(zone)
        if table is None:  # every hour of the run (and a margin), read once per zone
            table = self.offsets[zone] = [self._offset_at(zone, h) for h in range((self.days + 40) * 24)]
        return table[hour] if 0 <= hour < len(table) else self._offset_at(zone, hour)

    def _offset_at(self, zone: int, hour: int) -> float:
        delta = self.at(hour / 24).astimezone(self.zones[zone]).utcoffset()
        return delta.total_seconds() / 86_400 if delta is not None else 0.0

    def _met(self, day: float, i: int, c: int, state: NeedState) -> None:
        state.met = True
        price = state.price
        at = self.at(day)
        self.store.record_order(f"c{i}", at, state.products)
        if state.bought:
            state.gaps = [(at - state.bought[0]).total_seconds() / 86_400, *state.gaps[:4]]
        state.bought = [at, *state.bought[:5]]
        self.tally.add("revenue", day, price)
        if state.due - WINDOW_EARLY <= day <= state.due + WINDOW_LATE:
            self.tally.add("needs_met_on_time", state.due)

    def _close(self, day: float, i: int, c: int, k: int, payload: tuple) -> None:
        state = self.needs[(i, c)]
        self.tally.add("needs", state.due)
        if not state.met:
            self.tally.add("needs_missed", state.due)
        for decision_id in state.decisions:
            self.store.forget_decision(decision_id)
        self.store.drop_settled_orders(f"c{i}")
        if not state.met and self.react.chance(i, CHURN_MISSED):
            self._churn(day, i)
            return
        self.push(day, OPEN, i, c, k + 1)

    def _learn(self, day: float, decision_id: str, outcome: str, c: int, experience: str) -> None:
        if self.store.decision_subject(decision_id) is None:
            return  # its need is closed and the store let the decision go
        self.policy.after_outcome(self.store, decision_id, outcome, CATEGORIES[c].name, experience, self.at(day))

    def _decide(self, day: float, i: int, c: int, touchpoint: str):  # type: ignore[no-untyped-def]
        situation = self._situations.get((touchpoint, c))
        if situation is None:
            situation = self._situations[(touchpoint, c)] = Situation(touchpoint, category=CATEGORIES[c].name)  # type: ignore[arg-type]
        decision = decide(self.store, f"c{i}", situation, self.at(day), trigger="event")
        self.tally.add("decisions", day)
        if decision.status != "nothing_now":
            self.needs[(i, c)].decisions.append(decision.id)
        return decision

    # ----- Rapport's initiative --------------------------------------------------------------------------------
    def _outbound(self, day: float, i: int, c: int, k: int, payload: tuple) -> None:
        state = self.needs[(i, c)]
        if state.k != k or state.met:
            return
        decision = self._decide(day, i, c, "need_due")
        action = decision.action or {}
        if action.get("type") == "automatic_order":
            state.auto = action["order_id"]
            self.tally.add("automatic_orders", day)
            self.push(day, NOTICE, i, c, k, (action["order_id"], decision.id))
        elif action.get("outbox_action_id"):
            kind = "offer" if action["type"] == "curated_options" else "nudge"
            send = (datetime.fromisoformat(action["send_at"]) - START).total_seconds() / 86_400
            self.push(send, DELIVER, i, c, k, (action["outbox_action_id"], decision.id, kind, decision.experience))

    def _notice(self, day: float, i: int, c: int, k: int, payload: tuple) -> None:
        """The scheduler's own notice step: a mandatory contact, planned by the contact policy, then the wait."""
        order_id, decision_id = payload
        row = self.store.get_automatic_order(order_id)
        if row is None or row["status"] != "scheduled":
            return
        for step in _notify(self.store, AutomaticOrder.from_row(row), self.at(day), "simulator"):
            if step.step in ("notified", "notice_deferred"):
                send = (datetime.fromisoformat(step.detail["send_at"]) - START).total_seconds() / 86_400
                runs = (datetime.fromisoformat(step.detail["execute_after"]) - START).total_seconds() / 86_400
                notice = (step.detail["notice_action_id"], decision_id, "notice", "automatic_execution", order_id)
                self.push(send, DELIVER, i, c, k, notice)
                self.push(runs, EXECUTE, i, c, k, (order_id, decision_id))

    def _execute(self, day: float, i: int, c: int, k: int, payload: tuple) -> None:
        """Once notice and cancel window have passed: the order runs (mandate, consent and caps checked again)."""
        order_id, decision_id = payload
        row = self.store.get_automatic_order(order_id)
        if row is None or row["status"] != "notified":
            return
        order, now = AutomaticOrder.from_row(row), self.at(day)
        mandate = Mandate.from_row(self.store.get_mandate(order.mandate_id) or {})
        refusal = _refusal(self.store, order, mandate, now)  # type: ignore[arg-type]
        values = {"status": "cancelled", "cancelled_at": now, "cancel_reason": refusal} if refusal else {}
        self.store.claim_automatic_order(order_id, ["notified"], values or {"status": "executed", "executed_at": now})
        if refusal:
            return
        state = self.needs[(i, c)]
        if state.auto == order_id:
            state.auto = None
        self._learn(day, decision_id, "converted", c, "automatic_execution")
        if state.k == k and not state.met:
            self._met(day + DELIVERY_DAYS, i, c, state)
            if state.level != LEVELS.index("do_it_for_me") and self.react.chance(i, COMPLAIN_UNWANTED_ORDER):
                self.tally.add("complaints", day)
                self._learn(day, decision_id, "complained", c, "automatic_execution")
        else:
            self.tally.add("revenue", day, state.price)  # a second order they did not need
            if self.react.chance(i, COMPLAIN_UNWANTED_ORDER):
                self.tally.add("complaints", day)

    # ----- the customer ----------------------------------------------------------------------------------------
    def _deliver(self, day: float, i: int, c: int, k: int, payload: tuple) -> None:
        """An outbox action goes out at its send time; the customer sees it (or not) and reacts."""
        action_id, decision_id, kind, experience = payload[:4]
        store, now = self.store, self.at(day)
        row = store.get_action(action_id)
        if row is None or row["status"] != "pending":
            return  # withdrawn before it went out
        store.claim_action(action_id, ["pending"], {"status": "delivered", "delivered_at": now})
        channel = row["channel"]
        if self.keep_contacts:
            self.contacts_seen.append((i, channel, row["send_at"]))
        state = self.needs[(i, c)]
        stale = state.k != k or state.met
        wanted = kind in WANTS[state.level] and not stale
        self.tally.add("contacts", day)
        hour = now.astimezone(self.zones[self.timezone[i]]).hour
        seen = self.react.seen(i, channel, hour)
        outcome = "ignored"
        if kind == "notice":
            if seen and self.react.cancels(i, wanted):
                cancel_automatic_order(store, f"c{i}", payload[4], now, reason="the customer cancelled")
                self.tally.add("auto_cancelled", day)
                if state.auto == payload[4]:
                    state.auto = None
                outcome = "cancelled"
            else:
                outcome = ""
        elif seen and not stale and day >= state.due - WINDOW_EARLY and self.react.accepts(i, kind, wanted):
            self._met(day, i, c, state)
            outcome = "accepted"
        elif seen and not wanted:
            outcome = "dismissed"
        if outcome:
            self._learn(day, decision_id, outcome, c, experience)
        if not wanted:
            self.tally.add("unwanted_contacts", day)
            complains, churns = self.react.annoyed(i, day)
            if complains:
                self.tally.add("complaints", day)
                self._learn(day, decision_id, "complained", c, experience)
            if churns:
                self._churn(day, i)

    def _self(self, day: float, i: int, c: int, k: int, payload: tuple) -> None:
        """The need is due: the customer may set out to buy by themselves (a visit: an inbound decision)."""
        state = self.needs[(i, c)]
        if state.k != k or state.met:
            return
        if state.auto is not None and state.level == LEVELS.index("do_it_for_me"):
            return  # they wait for the automatic order
        if not self.react.attempts(i, state.level):
            return
        decision = self._decide(day, i, c, "app_open")
        shown = (decision.action or {}).get("type")
        if not self.react.buys(i, shown):
            return  # they bought elsewhere
        self._met(day, i, c, state)
        if decision.status != "nothing_now":
            self._learn(day, decision.id, "accepted", c, decision.experience or "")
        if state.auto is not None:  # bought by themselves: they stop the automatic order still pending
            cancel_automatic_order(self.store, f"c{i}", state.auto, self.at(day), reason="bought it already")
            self.tally.add("auto_cancelled", day)
            state.auto = None


def _median(values: list[float]) -> float:
    """``statistics.median`` of a few floats (the same value, without its checks and conversions)."""
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
