"""How likely this customer is to complain when a contact misses: learned from everyone and from them.

Every time a customer turns a contact down (dismisses it, cancels an automatic order's notice, complains), Repeat
counts one observation: was it a complaint? The firm learns the population's share, and each customer's own share
is shrunk towards it (empirical-Bayes shrinkage of a Beta-Bernoulli rate, as in the nudge bandit):

    population rate  m = (K + FIRM_PRIOR[0]) / (R + FIRM_PRIOR[0] + FIRM_PRIOR[1])   (others' complaints K of R)
    customer's rate  q = (k + w·m) / (r + w),  w = PRIOR_STRENGTH                       (their own k of r)

so a customer with no evidence of their own gets what people like them did, and their own complaints (or their
turning contacts down without complaining) dominate once they exist. A population whose refusals end in
complaints is one where a wrong guess costs a customer; one that shrugs them off can be guessed at.

The decision engine uses it for contacts nobody confirmed — a reminder under the firm's default level (nobody chose
it, the customer never acted on one) or one tried on a learned *I choose*: while the customer's rate is above
``MAX_UNCONFIRMED_RISK`` it sends none (the customer still sees the reminder in their own sessions and is asked how
to be helped). The customer's explicit choice of a level is never second-guessed: their contacts go as before,
except that a customer at risk who cancels an automatic order is stepped back to reminders (and asked "keep it?")
after one cancellation instead of ``AUTO_CANCELS``, the step back Repeat already makes and the customer undoes.
Nothing here grants or withdraws a consent or a mandate.

Withholding is not for good: when the order Rapport expected has not come (the customer's latest order in the
category is older than ``OVERDUE_FACTOR`` times their own usual gap between orders there: :func:`overdue`) and the
customer has never complained themselves, one reminder is tried with probability ``TRY_PROBABILITY``, at most once per ``TRY_EVERY_DAYS`` in the category, and
logged with its propensity. Someone who relies on reminders misses their purchases more often than someone who
decides alone, so the try mostly reaches those it helps; acting on it confirms reminders there
(:func:`acted_on_contact`), and turning it down is learned like any refusal of the firm's default.

Counts live in the nudge bandit's table under the name ``NAME`` (rapport.store.repeat), one "arm" ``EVENT``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from statistics import median
from typing import Protocol

import numpy as np

from rapport.repeat.preferences import AUTO_CANCELS, POSITIVE, Turn

NAME = "contact_risk"  # the bandit_counts name the counts are kept under
EVENT = "turned_down"  # its one key: successes = complaints, failures = refusals without a complaint
REFUSALS = ("dismissed", "cancelled", "complained")  # outcomes that turn a contact down
FIRM_PRIOR = (1.0, 9.0)  # before anyone has turned anything down, the firm assumes one refusal in ten is a complaint
PRIOR_STRENGTH = 5.0  # what the population's rate is worth, in the customer's own refusals
MAX_UNCONFIRMED_RISK = 0.2  # above this complaint rate, a contact nobody confirmed is not sent
AUTO_CANCELS_AT_RISK = 1  # cancelled automatic orders that step a customer at risk back to reminders (and ask)
OVERDUE_FACTOR = 1.25  # the expected order has not come: the latest is older than this many usual gaps
TRY_PROBABILITY = 0.5  # the chance a withheld reminder is tried when the expected order has not come
TRY_EVERY_DAYS = 28  # at most one reminder tried per category in this many days
POPULATION = "*"


@dataclass(frozen=True)
class ContactRisk:
    """The customer's own (complaints, refusals) and everyone else's; ``rate`` is the shrunk estimate."""

    own: tuple[float, float] = (0.0, 0.0)
    others: tuple[float, float] = (0.0, 0.0)

    @property
    def population_rate(self) -> float:
        k, r = self.others
        a, b = FIRM_PRIOR
        return (k + a) / (r + a + b)

    @property
    def rate(self) -> float:
        k, r = self.own
        return (k + PRIOR_STRENGTH * self.population_rate) / (r + PRIOR_STRENGTH)

    @property
    def withholds_unconfirmed(self) -> bool:
        """Whether a contact nobody confirmed costs more than it may do for this customer."""
        return self.rate > MAX_UNCONFIRMED_RISK

    def auto_cancels(self) -> int:
        """How many cancelled automatic orders step this customer back from automation: one when at risk (every
        further unwanted notice may lose them), else the usual number."""
        return AUTO_CANCELS_AT_RISK if self.withholds_unconfirmed else AUTO_CANCELS

    def describe(self) -> str:
        k, r = self.own
        return (
            f"complaint risk {self.rate:.2f} (their own {k:.0f} complaints in {r:.0f} refusals, everyone's "
            f"{self.population_rate:.2f}) is above {MAX_UNCONFIRMED_RISK}"
        )


def observation(outcome: str) -> float | None:
    """The outcome as one observation of the rate (1: a complaint, 0: a refusal without one), or None."""
    if outcome not in REFUSALS:
        return None
    return 1.0 if outcome == "complained" else 0.0


def acted_on_contact(turns: Sequence[Turn]) -> bool:
    """The customer acted on a contact Rapport sent about the category (outbound, accepted or bought): they
    confirmed contacts there by what they did, whatever the level's source."""
    return any(not t.inbound and t.outcome in POSITIVE for t in turns)


def overdue(times: Sequence[datetime], now: datetime) -> bool:
    """The order Rapport expected by now has not come: ``times`` (the customer's orders in the category, newest
    first, at least two) put the latest one more than OVERDUE_FACTOR times their median gap before ``now``."""
    if len(times) < 2:
        return False
    usual = median((a - b).total_seconds() for a, b in pairwise(times))
    return usual > 0 and (now - times[0]).total_seconds() > OVERDUE_FACTOR * usual


def tried_lately(turns: Sequence[Turn], now: datetime) -> bool:
    """A reminder went out (outbound) about the category in the last TRY_EVERY_DAYS."""
    recent = now.timestamp() - TRY_EVERY_DAYS * 86_400
    return any(
        t.experience == "coach_behavior" and not t.inbound and t.at is not None and t.at.timestamp() >= recent
        for t in turns
    )


class ContactRiskStore(Protocol):
    """Where the counts are kept (rapport.store.repeat.SqlRepeat; the simulator's MemoryStore)."""

    def add_contact_refusal(self, customer_id: str, complained: float, now: datetime) -> None: ...

    def contact_risk(self, customer_id: str) -> ContactRisk: ...


def learn_contact_risk(store: ContactRiskStore, customer_id: str, outcome: str, now: datetime) -> None:
    """Count a newly recorded outcome, if it turned a contact down, for the customer and the population."""
    seen = observation(outcome)
    if seen is not None:
        store.add_contact_refusal(customer_id, seen, now)


class RiskCounts:
    """The counts in memory: the population's and each customer's (complaints, refusals)."""

    def __init__(self) -> None:
        self.population = np.zeros(2)
        self.customers: dict[str, np.ndarray] = {}

    def add(self, customer_id: str, complained: float) -> None:
        own = self.customers.get(customer_id)
        if own is None:
            own = self.customers[customer_id] = np.zeros(2)
        for counts in (own, self.population):
            counts[0] += complained
            counts[1] += 1.0

    def risk(self, customer_id: str, population: np.ndarray | None = None) -> ContactRisk:
        """The customer's risk; ``population`` replaces the current population counts (a snapshot, say)."""
        own = self.customers.get(customer_id)
        total = self.population if population is None else population
        if own is None:
            return ContactRisk((0.0, 0.0), (float(total[0]), float(total[1])))
        return ContactRisk(
            (float(own[0]), float(own[1])), (max(0.0, float(total[0] - own[0])), max(0.0, float(total[1] - own[1])))
        )
