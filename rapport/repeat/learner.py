"""Rapport's learned policy in memory: the same preference learning and nudge bandit as Decide, with no store.

For the simulator (rapport.repeat.simulator) and anyone replaying logs fast: one ``Learner`` holds, per customer and
category, the latest turns, the explicit choice and the learned level, and resolves the level in force exactly as
Decide does (rapport.decide.control.resolve_level over the same rows), so what it learns is what production would
learn. O(window) per outcome, O(1) per level look-up, no I/O.

    learner = Learner(settings)                       # the firm's settings (default control levels)
    learner.choose_level("c1", "toner", "do_it_for_me", at)      # the customer's own choice
    level, source = learner.level("c1", "toner")
    learning = learner.observe("c1", "toner", "automatic_execution", "cancelled", "SKU", at)
    learner.prompts("c1")                              # [Prompt...]: asked or offered, never granted
    choice = learner.bandit.choose(NudgeContext("c1", ("email",)), rng); learner.bandit.update("c1", choice.arm, 1.0)
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any

from rapport.decide.control import ControlSetting, check_level, resolve_level
from rapport.repeat.bandit import NudgeBandit
from rapport.repeat.preferences import (
    AUTO_CANCELS,
    LEARNING_WINDOW,
    Learning,
    Prompt,
    Turn,
    learn_in_force,
    learned_setting,
    new_prompt,
)

AFTER_DECISION = timedelta(microseconds=1)  # an outcome without its own time: just after its decision


class Learner:
    """Preferences and the nudge bandit for many customers, in memory."""

    def __init__(self, settings: Any, bandit: NudgeBandit | None = None) -> None:
        self.settings = settings
        self.bandit = bandit if bandit is not None else NudgeBandit()
        self._turns: dict[tuple[str, str], deque[Turn]] = {}
        self._rows: dict[str, dict[tuple[str, str], ControlSetting]] = {}
        self._prompts: dict[str, dict[str, Prompt]] = {}

    def rows(self, customer_id: str) -> list[ControlSetting]:
        return list(self._rows.get(customer_id, {}).values())

    def level(self, customer_id: str, category: str) -> tuple[str, str]:
        """The level in force and where it comes from (explicit, learned, firm_default), as Decide resolves it."""
        return resolve_level(self.rows(customer_id), self.settings, category)

    def choose_level(self, customer_id: str, category: str, level: str, at: datetime) -> None:
        """The customer's explicit choice (what answering a prompt means)."""
        setting = ControlSetting(customer_id, category, check_level(level), "explicit", at)
        self._rows.setdefault(customer_id, {})[(category, "explicit")] = setting

    def observe(
        self, customer_id: str, category: str, experience: str, outcome: str, sku: str | None, at: datetime,
        decision_id: str | None = None, arm: str | None = None, inbound: bool = False,
        outcome_at: datetime | None = None, auto_cancels: int = AUTO_CANCELS,
    ) -> Learning:  # fmt: skip
        """Record one outcome of a decision about ``category`` and learn from it (the same rules as Decide).

        ``at`` is when the decision was made, ``outcome_at`` when its outcome came (Decide learns then, so a level
        learned from this outcome is judged on later decisions only, never on the one it came from); without it, the
        outcome is taken to come just after the decision. ``auto_cancels`` is the number of cancelled automatic
        orders that step back to reminders; Decide lowers it for a customer at contact risk
        (rapport.repeat.contact_risk), which this class does not track.
        """
        learned_at = outcome_at if outcome_at is not None else at + AFTER_DECISION
        turns = self._turns.setdefault((customer_id, category), deque(maxlen=LEARNING_WINDOW))
        turns.appendleft(Turn(experience, outcome, sku, at, decision_id, arm, inbound))
        rows = self.rows(customer_id)
        learning = learn_in_force(rows, self.settings, category, list(turns), auto_cancels)
        setting = learned_setting(rows, customer_id, category, learning, learned_at)
        if setting is not None:
            self._rows.setdefault(customer_id, {})[(category, "learned")] = setting
        if learning.prompt_kind is not None:
            prompt = new_prompt(customer_id, category, learning, learned_at)
            self._prompts.setdefault(customer_id, {}).setdefault(prompt.prompt_key, prompt)
        return learning

    def prompts(self, customer_id: str) -> list[Prompt]:
        """Everything learning asked or offered this customer, oldest first."""
        return sorted(self._prompts.get(customer_id, {}).values(), key=lambda p: p.created_at)
