"""Control levels per customer and category: how much the customer wants Rapport to do for them.

*I choose* (respond-to-desire), *show me options* (curated offering), *remind me* (coach behavior), *do it for me*
(automatic execution). The customer's explicit choice wins (for the category, then for every category, "*");
otherwise the level learned from their outcomes; otherwise the firm's cautious default for the category. Learning
moves only between the three levels that do nothing by themselves: automation is never learned, only chosen, and
even then it needs a mandate and the automatic-execution consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, get_args

from rapport.errors import InvalidInput

ControlLevel = Literal["i_choose", "show_me_options", "remind_me", "do_it_for_me"]
LEVELS: tuple[str, ...] = get_args(ControlLevel)
LEARNABLE: tuple[str, ...] = ("i_choose", "show_me_options", "remind_me")  # most cautious first: ties go there
LevelSource = Literal["explicit", "learned", "firm_default"]
ANY_CATEGORY = "*"
EXPERIENCE_LEVEL = {
    "respond_to_desire": "i_choose",
    "curated_offering": "show_me_options",
    "coach_behavior": "remind_me",
}
POSITIVE = {"accepted": 1.0, "converted": 1.0}
NEGATIVE = {"dismissed": 1.0, "ignored": 0.5, "cancelled": 1.0, "complained": 2.0}
MIN_EVIDENCE = 3  # outcomes of one experience before learning may move away from it
LEARNING_WINDOW = 20  # the latest outcomes in the category that learning looks at


@dataclass(frozen=True)
class ControlSetting:
    """A stored level: the customer's explicit choice or the level learned from outcomes."""

    customer_id: str
    category: str
    level: str
    source: str  # explicit | learned
    set_at: datetime
    evidence: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "level": self.level,
            "source": self.source,
            "set_at": self.set_at.isoformat(),
            "evidence": self.evidence,
        }


class ControlStore(Protocol):
    """Where control levels are kept (rapport.store.consents)."""

    @property
    def settings(self) -> Any: ...

    def control_rows(self, customer_id: str) -> list[ControlSetting]: ...

    def put_control_level(self, setting: ControlSetting) -> None: ...

    def delete_control_level(self, customer_id: str, category: str, source: str) -> bool: ...

    def category_outcomes(self, customer_id: str, category: str, limit: int) -> list[tuple[str, str]]: ...


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise InvalidInput(f"Control level {level!r} is unknown; use one of {', '.join(LEVELS)}.")
    return level


def check_category(category: str) -> str:
    if not isinstance(category, str) or not category or len(category) > 200:
        raise InvalidInput(f"Category {category!r} must be a non-empty string of at most 200 characters ('*': all).")
    return category


def firm_default(settings: Any, category: str) -> str:
    """The firm's configured level for ``category`` (or for "*"), never automatic; remind_me if none is set."""
    defaults: dict[str, str] = settings.default_control_levels
    level = defaults.get(category) or defaults.get(ANY_CATEGORY) or "remind_me"
    return level if level in LEARNABLE else "remind_me"


def control_level(store: ControlStore, customer_id: str, category: str) -> tuple[str, str]:
    """The level in force for ``customer_id`` and ``category`` and where it comes from."""
    return resolve_level(store.control_rows(customer_id), store.settings, category)


def resolve_level(rows: list[ControlSetting], settings: Any, category: str) -> tuple[str, str]:
    """Explicit (category, then "*") over learned (category) over the firm's default."""
    by_key = {(r.category, r.source): r.level for r in rows if r.source == "explicit" or r.level in LEARNABLE}
    for key in ((category, "explicit"), (ANY_CATEGORY, "explicit"), (category, "learned")):
        if key in by_key:
            return by_key[key], key[1]
    return firm_default(settings, category), "firm_default"


def control_levels(store: ControlStore, customer_id: str) -> list[ControlSetting]:
    """Every stored level of the customer (explicit and learned), for the preference centre."""
    return sorted(store.control_rows(customer_id), key=lambda row: (row.category, row.source))


def set_control_level(
    store: ControlStore, customer_id: str, category: str, level: str, now: datetime
) -> ControlSetting:
    """Record the customer's explicit choice for ``category`` ("*" for all); setting it again is harmless."""
    setting = ControlSetting(customer_id, check_category(category), check_level(level), "explicit", now)
    store.put_control_level(setting)
    return setting


def clear_control_level(store: ControlStore, customer_id: str, category: str) -> bool:
    """Forget the explicit choice for ``category``: the learned level or the firm's default applies again."""
    return store.delete_control_level(customer_id, check_category(category), "explicit")


def learn_control_level(store: ControlStore, customer_id: str, category: str, now: datetime) -> ControlSetting | None:
    """Learn the level from the latest outcomes in ``category``; returns the stored learned level, if any.

    Each non-automatic experience scores (positives + 1) / (weight + 2), negatives weighted (a complaint counts
    twice, an ignored message half); an experience never tried scores the prior 0.5. Learning leaves the level in
    force while it scores at least 0.5 or has fewer than ``MIN_EVIDENCE`` outcomes; otherwise it moves to the best
    scoring level, the more cautious one on ties.
    """
    outcomes = store.category_outcomes(customer_id, category, LEARNING_WINDOW)
    scores, counts = _scores(outcomes)
    current, _ = resolve_level(
        [r for r in store.control_rows(customer_id) if r.source == "learned"], store.settings, category
    )
    if current not in LEARNABLE or counts.get(current, 0) < MIN_EVIDENCE or scores[current] >= 0.5:
        return None
    best = max(LEARNABLE, key=lambda level: (scores[level], -LEARNABLE.index(level)))
    evidence = {"scores": {k: round(v, 3) for k, v in scores.items()}, "outcomes": counts, "was": current}
    setting = ControlSetting(customer_id, category, best, "learned", now, evidence)
    store.put_control_level(setting)
    return setting


def _scores(outcomes: list[tuple[str, str]]) -> tuple[dict[str, float], dict[str, int]]:
    positive = dict.fromkeys(LEARNABLE, 0.0)
    weight = dict.fromkeys(LEARNABLE, 0.0)
    counts: dict[str, int] = {}
    for experience, outcome in outcomes:
        level = EXPERIENCE_LEVEL.get(experience)
        if level is None or (outcome not in POSITIVE and outcome not in NEGATIVE):
            continue
        counts[level] = counts.get(level, 0) + 1
        positive[level] += POSITIVE.get(outcome, 0.0)
        weight[level] += POSITIVE.get(outcome, 0.0) + NEGATIVE.get(outcome, 0.0)
    return {level: (positive[level] + 1) / (weight[level] + 2) for level in LEARNABLE}, counts
