"""The connected strategies the simulator compares, each behind one small interface.

A fixed policy is an explicit control level for every category ("*"), set the way a customer sets theirs, so the
decision engine does the rest exactly as in production: always respond-to-desire (i_choose), always coach
(remind_me), always automate (do_it_for_me: automatic orders under the customer's mandate; without a mandate the
engine itself falls back to a reminder). The learned policy starts where Rapport starts (the firm's default level,
and do_it_for_me only where the customer granted a mandate) and learns the level from each outcome with Rapport's
own learning (``record_outcome`` → ``learn_control_level``); ``ContactTiming`` picks the channel and the hour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np

from rapport.decide.control import ANY_CATEGORY, ControlSetting, clear_control_level, set_control_level
from rapport.decide.outcomes import record_outcome
from rapport.repeat.bandit import NudgeBandit, default_arms
from rapport.repeat.simulator.memory_store import MemoryStore

DEFAULT_HOUR = 9  # local time the fixed policies send at: the firm's usual morning send
CANCELS_TO_ASK = 3  # cancelled automatic orders in a category before Rapport moves back to reminders, and asks

AskCustomer = Callable[[str, str, datetime], bool]  # (customer_id, category, now) → True: keep automating


class ContactTiming(Protocol):
    """Chooses the channel (None: the contact policy's preferred order) and the local hour of an outbound contact."""

    def choose(self, customer: int) -> tuple[str | None, int]: ...

    def update(self, customer: int, channel: str | None, hour: int, reward: float) -> None: ...


class FirmDefaultTiming:
    """The firm's usual send: preferred channels in the contact policy's order, at 09:00 local."""

    def choose(self, customer: int) -> tuple[str | None, int]:
        return None, DEFAULT_HOUR

    def update(self, customer: int, channel: str | None, hour: int, reward: float) -> None:
        return None


class BanditTiming:
    """Repeat's nudge bandit (rapport.repeat.bandit): Thompson sampling over (channel, hour), the population's
    outcomes shrunk into each customer's own; only the channels the customer consented to are drawn from."""

    def __init__(self, consented: Callable[[int], tuple[str, ...]], seed: int) -> None:
        self.bandits: dict[
            tuple[str, ...], NudgeBandit
        ] = {}  # one per set of consented channels, so that only those arms are ever drawn
        self.consented = consented
        self.rng = np.random.default_rng(seed)

    def _bandit(self, channels: tuple[str, ...]) -> NudgeBandit:
        if channels not in self.bandits:
            self.bandits[channels] = NudgeBandit(default_arms(channels=channels, nudges=("reminder",)))
        return self.bandits[channels]

    def choose(self, customer: int) -> tuple[str | None, int]:
        """One Thompson draw (``choose_many``; the propensities of ``choose`` are for logging, which the
        simulator does not need, and cost 256 draws)."""
        bandit = self._bandit(self.consented(customer))
        arm = bandit.arms[int(bandit.choose_many([f"c{customer}"], self.rng)[0])]
        return arm.channel, arm.hour

    def update(self, customer: int, channel: str | None, hour: int, reward: float) -> None:
        if channel is not None:
            self._bandit(self.consented(customer)).update(f"c{customer}", f"reminder|{channel}|{hour:02d}", reward)


class Policy(Protocol):
    name: str
    timing: ContactTiming

    def set_up(self, store: MemoryStore, customer_id: str, mandated: list[str], now: datetime) -> None: ...

    def after_outcome(
        self, store: MemoryStore, decision_id: str, outcome: str, category: str, experience: str, now: datetime
    ) -> None: ...


@dataclass
class FixedPolicy:
    """The same control level for every customer and category, as an explicit setting; it never learns."""

    name: str
    level: str
    timing: ContactTiming = field(default_factory=FirmDefaultTiming)

    def set_up(self, store: MemoryStore, customer_id: str, mandated: list[str], now: datetime) -> None:
        set_control_level(store, customer_id, ANY_CATEGORY, self.level, now)

    def after_outcome(
        self, store: MemoryStore, decision_id: str, outcome: str, category: str, experience: str, now: datetime
    ) -> None:
        return None


@dataclass
class LearnedPolicy:
    """Rapport's learning: control levels from outcomes, automation only where the customer chose it."""

    ask: AskCustomer
    name: str = "learned"
    timing: ContactTiming = field(default_factory=FirmDefaultTiming)
    asked: int = 0

    def set_up(self, store: MemoryStore, customer_id: str, mandated: list[str], now: datetime) -> None:
        for category in mandated:  # granting the mandate was the customer's explicit "do it for me"
            set_control_level(store, customer_id, category, "do_it_for_me", now)

    def after_outcome(
        self, store: MemoryStore, decision_id: str, outcome: str, category: str, experience: str, now: datetime
    ) -> None:
        record_outcome(store, decision_id, outcome, now)  # learns the category's level (never towards automation)
        if outcome == "cancelled" and experience == "automatic_execution":
            self._after_cancel(store, decision_id, category, now)

    def _after_cancel(self, store: MemoryStore, decision_id: str, category: str, now: datetime) -> None:
        """Three cancelled automatic orders: back to reminders, and the customer is asked (never decided for them)."""
        subject = store.decision_subject(decision_id)
        if subject is None:
            return
        customer_id = subject[0]
        recent = store.category_outcomes(customer_id, category, CANCELS_TO_ASK)
        if len(recent) < CANCELS_TO_ASK or any(o != ("automatic_execution", "cancelled") for o in recent):
            return
        self.asked += 1
        if self.ask(customer_id, category, now):
            return
        clear_control_level(store, customer_id, category)
        evidence = {"was": "do_it_for_me", "cancelled": CANCELS_TO_ASK, "asked": True}
        store.put_control_level(ControlSetting(customer_id, category, "remind_me", "learned", now, evidence))
