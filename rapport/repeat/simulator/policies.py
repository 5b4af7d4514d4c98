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
customer: when learning asks ("we've switched you back to reminders — keep it?", "we've stopped reminding you —
was that right?") or offers a mandate, the customer may answer, from their hidden preference, by choosing a level
themselves (and, for an offer, by giving the consent and setting up the mandate themselves), the way a customer
answers in the product. Learning itself never grants anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from rapport.decide.consent import record_consent
from rapport.decide.control import ANY_CATEGORY, set_control_level
from rapport.decide.outcomes import record_outcome
from rapport.repeat.simulator.memory_store import MemoryStore
from rapport.respond.mandates import MandateTerms, create_mandate

DEFAULT_HOUR = 9  # local time Rapport looks at an outbound need: the firm's usual morning send
ANSWER_DELAY = timedelta(minutes=5)  # the customer answers a question after it was asked

# (customer_id, category, prompt kind, now) → the level the customer chooses in answer, or None: no answer
AskCustomer = Callable[[str, str, str, datetime], str | None]
# (customer_id, category) → the caps of the mandate the customer would set up themselves (per order, per month)
MandateCaps = Callable[[str, str], tuple[float, float]]


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
    caps: MandateCaps | None = None
    name: str = "learned"
    asked: int = 0  # questions and offers learning put to the customers
    answered: int = 0  # of those, answered by the customer choosing a level (or setting up a mandate) themselves
    mandates_taken: int = 0

    def set_up(self, store: MemoryStore, customer_id: str, mandated: list[str], now: datetime) -> None:
        for category in mandated:  # granting the mandate was the customer's explicit "do it for me"
            set_control_level(store, customer_id, category, "do_it_for_me", now)

    def after_outcome(
        self, store: MemoryStore, decision_id: str, outcome: str, category: str, experience: str, now: datetime
    ) -> None:
        subject = store.decision_subject(decision_id)
        record_outcome(store, decision_id, outcome, now)  # the Repeat step: the level learned, the bandit's counts
        if subject is None:
            return
        customer_id = subject[0]
        for prompt in store.open_prompts(customer_id, category):
            if prompt.created_at != now:  # only what learning asked just now: each prompt is put once
                continue
            self.asked += 1
            level = self.ask(customer_id, category, prompt.kind, now)
            if level is None:
                continue
            self.answered += 1
            at = now + ANSWER_DELAY
            offer = prompt.kind == "offer_mandate"
            if offer and not (level == "do_it_for_me" and self._take_mandate(store, customer_id, category, at)):
                continue
            set_control_level(store, customer_id, category, level, at)  # the customer's own choice

    def _take_mandate(self, store: MemoryStore, customer_id: str, category: str, at: datetime) -> bool:
        """The customer accepts the offer: they give the consent and set up the mandate themselves."""
        if self.caps is None:
            return False
        per_order, monthly = self.caps(customer_id, category)
        if not any(m["status"] == "active" for m in store.mandates_of(customer_id)):
            record_consent(store, customer_id, "automatic_execution", True, "customer:offer_accepted", at)
        terms = MandateTerms("category", category, per_order_cap=per_order, monthly_cap=monthly)
        create_mandate(store, customer_id, terms, at)
        self.mandates_taken += 1
        return True
