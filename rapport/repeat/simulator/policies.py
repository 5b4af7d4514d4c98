"""The connected strategies the simulator compares, each behind one small interface.

A fixed policy is an explicit control level for every category ("*"), set the way a customer sets theirs, so the
decision engine does the rest exactly as in production: always respond-to-desire (i_choose), always coach
(remind_me), always automate (do_it_for_me: automatic orders under the customer's mandate; without a mandate the
engine itself falls back to a reminder). The fixed policies record no outcomes, so they learn nothing: their nudges
go out on the contact policy's preferred channel at the firm's usual hour.

The learned policy starts where Rapport starts (the firm's default level, and do_it_for_me only where the customer
granted a mandate) and every outcome goes through Rapport's own Repeat step (``record_outcome`` →
``rapport.repeat.turns.learn_from_turn``): the level learned per category (``rapport.repeat.preferences``,
never towards automation, three cancelled automatic orders step back to reminders and ask) and the nudge bandit's
counts, from which the decision engine itself picks each nudge's channel and hour. The simulator only plays the
customer: when learning asks "we've switched you back to reminders — keep it?", the customer answers from their
hidden preference, by choosing a level themselves (the way a customer answers in the product).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from rapport.decide.control import ANY_CATEGORY, set_control_level
from rapport.decide.outcomes import record_outcome
from rapport.repeat.simulator.memory_store import MemoryStore

DEFAULT_HOUR = 9  # local time Rapport looks at an outbound need: the firm's usual morning send
ANSWER_DELAY = timedelta(minutes=5)  # the customer answers a question after it was asked

AskCustomer = Callable[[str, str, datetime], bool]  # (customer_id, category, now) → True: keep automating


class Policy(Protocol):
    name: str

    def set_up(self, store: MemoryStore, customer_id: str, mandated: list[str], now: datetime) -> None: ...

    def after_outcome(
        self, store: MemoryStore, decision_id: str, outcome: str, category: str, experience: str, now: datetime
    ) -> None: ...


@dataclass
class FixedPolicy:
    """The same control level for every customer and category, as an explicit setting; it never learns."""

    name: str
    level: str

    def set_up(self, store: MemoryStore, customer_id: str, mandated: list[str], now: datetime) -> None:
        set_control_level(store, customer_id, ANY_CATEGORY, self.level, now)

    def after_outcome(
        self, store: MemoryStore, decision_id: str, outcome: str, category: str, experience: str, now: datetime
    ) -> None:
        return None


@dataclass
class LearnedPolicy:
    """Rapport's learning: control levels and nudge arms from outcomes, automation only where the customer chose it."""

    ask: AskCustomer
    name: str = "learned"
    asked: int = 0

    def set_up(self, store: MemoryStore, customer_id: str, mandated: list[str], now: datetime) -> None:
        for category in mandated:  # granting the mandate was the customer's explicit "do it for me"
            set_control_level(store, customer_id, category, "do_it_for_me", now)

    def after_outcome(
        self, store: MemoryStore, decision_id: str, outcome: str, category: str, experience: str, now: datetime
    ) -> None:
        subject = store.decision_subject(decision_id)
        record_outcome(store, decision_id, outcome, now)  # the Repeat step: the level learned, the bandit's counts
        if subject is None or outcome != "cancelled" or experience != "automatic_execution":
            return
        customer_id = subject[0]
        asked = [p for p in store.open_prompts(customer_id, category) if p.kind == "confirm_switch_back"]
        if any(p.created_at == now for p in asked):  # learning stepped back just now, and asks
            self.asked += 1
            if self.ask(customer_id, category, now):  # "no, keep ordering for me": the customer's own choice
                set_control_level(store, customer_id, category, "do_it_for_me", now + ANSWER_DELAY)
