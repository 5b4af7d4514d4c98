"""Control levels per customer and category: how much the customer wants Rapport to do for them.

*I choose* (respond-to-desire), *show me options* (curated offering), *remind me* (coach behavior), *do it for me*
(automatic execution). The customer's explicit choice wins (for the category, then for every category, "*");
otherwise the level learned from their outcomes; otherwise the firm's cautious default for the category. Learning
(rapport.repeat.preferences, the Repeat step) moves only between the three levels that do nothing by themselves:
automation is never learned, only chosen, and even then it needs a mandate and the automatic-execution consent. The
one learned level that outranks an explicit choice is a step *back* from automation (a customer who keeps
cancelling automatic orders), and only until the customer chooses again: a newer explicit choice wins.
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
    """Explicit (category, then "*") over learned (category) over the firm's default.

    Exception: a learned step back from automation made after the explicit choice of automation wins over it.
    """
    learned = learned_row(rows, category)
    chosen = explicit_row(rows, category)
    if chosen is not None:
        if chosen.level == "do_it_for_me" and learned is not None and stepped_back(learned, chosen):
            return learned.level, "learned"
        return chosen.level, "explicit"
    if learned is not None:
        return learned.level, "learned"
    return firm_default(settings, category), "firm_default"


def explicit_row(rows: list[ControlSetting], category: str) -> ControlSetting | None:
    """The customer's own choice that applies to ``category``: for the category, else for every category."""
    by_category = {r.category: r for r in rows if r.source == "explicit"}
    return by_category.get(category) or by_category.get(ANY_CATEGORY)


def learned_row(rows: list[ControlSetting], category: str) -> ControlSetting | None:
    """The level learned for ``category`` (never automation: such a row would be ignored)."""
    found = [r for r in rows if r.source == "learned" and r.category == category and r.level in LEARNABLE]
    return found[0] if found else None


def stepped_back(learned: ControlSetting, chosen: ControlSetting) -> bool:
    """Learning stepped back from the automation the customer chose, after they chose it."""
    return bool((learned.evidence or {}).get("step_back")) and learned.set_at >= chosen.set_at


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
