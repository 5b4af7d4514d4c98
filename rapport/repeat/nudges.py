"""Decide's use of the nudge bandit: the arm for an outbound nudge, its send time, and what the decision logs.

When the bandit has learned anything (from anyone), it picks the nudge's style, channel and local send hour among
the consented channels; the contact policy then still applies (caps, quiet hours). Before that, the contact
policy's own channel and time stand, and the decision logs them as the arm taken with propensity 1, so their
outcomes are what the bandit first learns from.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np

from rapport.repeat.bandit import HOURS, NUDGES, Arm, Choice, NudgeBandit, NudgeContext
from rapport.repeat.preferences import (
    EXPLORE_PROBABILITY,
    LEARNING_WINDOW,
    Prompt,
    Turn,
    may_explore_up,
)

BANDIT_VERSION = "nudge-ts@1"


class NudgeStore(Protocol):
    """What Decide reads for Repeat: the bandit's counts and the prompts learning left (rapport.store.repeat)."""

    def nudge_bandit(self, customer_id: str) -> NudgeBandit: ...

    def open_prompts(self, customer_id: str, category: str | None = None) -> list[Prompt]: ...

    def category_turns(self, customer_id: str, category: str, limit: int) -> list[Turn]: ...


def decision_rng(decision_id: str) -> np.random.Generator:
    """The decision's own random stream: the same decision id draws the same arm (replayable logs)."""
    return np.random.default_rng(int(decision_id[:16], 16) if len(decision_id) >= 16 else abs(hash(decision_id)))


def decision_uniform(decision_id: str) -> float:
    """The decision's own uniform in [0, 1) that picks its arm: the same decision id picks the same arm.

    Thirteen hex digits of the id from the 18th on: in a uuid4's hex the 13th digit is the version and the 17th the
    variant (8 to b), so digits from the 17th on would only ever give a uniform in [0.5, 0.75)."""
    digits = decision_id[17:30] if len(decision_id) >= 30 else ""
    try:
        return int(digits, 16) / 16**13
    except ValueError:
        return float(decision_rng(decision_id).random())


def choose_arm(bandit: NudgeBandit, customer_id: str, channels: Sequence[str], decision_id: str) -> Choice | None:
    """The bandit's arm among ``channels``, or None while it has learned nothing or has no arm on them."""
    if not bandit.has_data() or not any(arm.channel in channels for arm in bandit.arms):
        return None
    context = NudgeContext(customer_id, tuple(channels))
    if bandit.draws > 0:
        return bandit.choose(context, decision_rng(decision_id))
    return bandit.choose_at(context, decision_uniform(decision_id))


def send_start(arm: Arm, timezone: str, now: datetime) -> datetime:
    """The next start of ``arm.hour`` in the customer's time zone (now, if it is that hour already)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    if local.hour == arm.hour:
        return now
    start = local.replace(hour=arm.hour, minute=0, second=0, microsecond=0)
    if start <= local:
        start += timedelta(days=1)
    return start.astimezone(now.tzinfo)


def logged_arm(choice: Choice | None, channel: str, send_at: datetime, timezone: str) -> dict[str, Any]:
    """What the decision logs about the arm: the bandit's choice, or the contact policy's (propensity 1)."""
    if choice is not None:
        return {**choice.to_dict(), "policy": BANDIT_VERSION}
    hour = send_at.astimezone(ZoneInfo(timezone)).hour
    nearest = min(HOURS, key=lambda h: (abs(h - hour), h))
    return {**Arm(NUDGES[0], channel, nearest).to_dict(), "propensity": 1.0, "policy": "contact_policy"}


def _overdue(store: Any, customer_id: str, category: str, now: datetime) -> bool:
    """The customer's latest order in ``category`` is overdue by their own rhythm (None of it known: not)."""
    from rapport.repeat.contact_risk import overdue  # (contact_risk imports preferences, as this module does)
    from rapport.respond.reorder import order_times

    if getattr(store, "order_lines", None) is None and getattr(store, "order_history", None) is None:
        return False
    return overdue(order_times(store, customer_id, category), now)


def explore_up(
    store: NudgeStore, customer_id: str, category: str, rows: Sequence[Any], bandit: NudgeBandit | None,
    decision_id: str, now: datetime,
) -> dict[str, Any] | None:  # fmt: skip
    """On a learned *I choose* whose expected purchases have not come, try one reminder with probability
    EXPLORE_PROBABILITY: what the decision logs (from, to, propensity), or None (not eligible, or not drawn)."""
    turns = store.category_turns(customer_id, category, LEARNING_WINDOW)
    if not may_explore_up(rows, category, turns, now, overdue=lambda: _overdue(store, customer_id, category, now)):
        return None
    bandit = bandit if bandit is not None else store.nudge_bandit(customer_id)
    if bandit.uniform(decision_id, customer_id) >= EXPLORE_PROBABILITY:
        return None
    return {"from": "i_choose", "to": "remind_me", "propensity": EXPLORE_PROBABILITY, "policy": "explore-up@1"}
