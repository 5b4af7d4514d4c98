"""The Repeat step on each recorded outcome: the customer's preferred level, the nudge that works, contact risk.

Called by rapport.decide.outcomes.record_outcome for every new outcome, so the next decision already uses it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from rapport.repeat.bandit import REWARD
from rapport.repeat.contact_risk import ContactRiskStore, learn_contact_risk
from rapport.repeat.preferences import AUTO_CANCELS, PreferenceStore, learn_from_outcome

if TYPE_CHECKING:
    from rapport.decide.outcomes import Outcome


class RepeatStore(PreferenceStore, ContactRiskStore, Protocol):
    """Learning's store: preferences, the bandit arm each decision logged, contact risk (rapport.store.repeat)."""

    def decision_arm(self, decision_id: str) -> tuple[str | None, int]: ...

    def add_nudge_reward(self, customer_id: str, arm: str, reward: float, now: datetime) -> None: ...


def learn_from_turn(store: RepeatStore, outcome: Outcome, category: str | None, now: datetime) -> None:
    """Learn from a newly recorded outcome. The bandit counts a decision once: its first outcome is its reward;
    contact risk counts every refusal."""
    learn_contact_risk(store, outcome.customer_id, outcome.outcome, now)
    if category is not None:
        cancels = store.contact_risk(outcome.customer_id).auto_cancels() if outcome.outcome == "cancelled" else None
        learn_from_outcome(store, outcome.customer_id, category, now, cancels or AUTO_CANCELS)
    arm, outcomes = store.decision_arm(outcome.decision_id)
    if arm is not None and outcomes == 1 and outcome.outcome in REWARD:
        store.add_nudge_reward(outcome.customer_id, arm, REWARD[outcome.outcome], now)
