"""The decision: for a customer in a situation, which experience, which action — or nothing now — and why.

The most valuable need (confidence times urgency) meets the customer's control level for its category; consent and
the contact policy then narrow what may be done: no curated offers without personalisation consent, no channel
without its contact consent, never automatic without both the automatic-execution consent and a mandate, and a
contact is only worth making when the need's value exceeds its fatigue cost. Every decision is logged with its
reasons and the versions of the models behind it, including "nothing now".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from rapport.decide.contact_policy import Contact
from rapport.decide.decision import Decision, DecisionStatus, Experience, Trigger, new_decision_id
from rapport.decide.situations import Situation
from rapport.decide.state import CustomerState
from rapport.errors import InvalidInput
from rapport.recognize.need import Need

if TYPE_CHECKING:
    from rapport.decide.experiences import ExperienceStore

DECIDE_VERSION = "decide-rules@1"
EXPERIENCE_OF_LEVEL: dict[str, Experience] = {
    "i_choose": "respond_to_desire",
    "show_me_options": "curated_offering",
    "remind_me": "coach_behavior",
    "do_it_for_me": "automatic_execution",
}


@dataclass(frozen=True)
class DecisionRules:
    """The firm's knobs for weighing a need against a contact. Values are in [0, 1] unless a unit is named."""

    urgency_days: float = 7.0  # a need due in this many days has urgency 1/e; due or overdue: 1
    min_confidence: float = 0.3  # below: too unsure to do anything
    show_threshold: float = 0.1  # inbound: the least value (confidence times urgency) worth showing in the session
    contact_threshold: float = 0.25  # outbound: the least value, net of fatigue, worth a contact
    fatigue_weight: float = 0.5  # how much a fatigued customer's contact cost weighs against a need's value
    automatic_min_confidence: float = 0.6  # below: remind instead of ordering by itself
    delivery_days: float = 2.0  # an automatic order is scheduled this long (plus notice and cancel window) ahead
    curated_k: int = 3
    contact_channels: tuple[str, ...] = ("push", "email", "sms", "app")


DEFAULT_RULES = DecisionRules()


class DecisionStore(Protocol):
    """What the decision reads and writes beyond the policy and respond functions (rapport.store.decisions)."""

    @property
    def settings(self) -> Any: ...

    def customer_state(self, reference: str, now: datetime, outbound: bool) -> CustomerState: ...

    def save_decision(
        self,
        decision: Decision,
        contacts: Sequence[tuple[Contact, str]] = (),
        actions: Sequence[dict[str, Any]] = (),
    ) -> None: ...

    def frequent_items(self, customer_id: str, category: str | None, k: int) -> list[dict[str, Any]]: ...


@dataclass(slots=True)
class _Draft:
    """The decision as it forms: each step narrows it and says why."""

    situation: Situation
    reasons: list[str]
    versions: dict[str, str]
    need: Need | None = None
    value: float = 0.0
    experience: Experience | None = None
    status: DecisionStatus = "nothing_now"
    action: dict[str, Any] | None = None
    settled: bool = False  # an action or "nothing now" has been chosen: later steps leave it as it is
    contacts: list[tuple[Contact, str]] = field(default_factory=list)  # counted in the budget with the decision
    actions: list[dict[str, Any]] = field(default_factory=list)  # outbox rows, written with the decision

    def nothing(self, reason: str) -> None:
        self.status, self.action, self.settled = "nothing_now", None, True
        self.reasons.append(f"nothing now: {reason}")

    def act(self, action: dict[str, Any], status: DecisionStatus = "act") -> None:
        self.status, self.action, self.settled = status, action, True


def decide(
    store: ExperienceStore,
    customer_id: str,
    situation: Situation,
    now: datetime,
    *,
    trigger: Trigger = "api",
    rules: DecisionRules = DEFAULT_RULES,
) -> Decision:
    """Decide for ``customer_id`` (any record id of the profile, or any identifier) in ``situation`` at ``now``."""
    if now.tzinfo is None:
        raise InvalidInput(f"now={now.isoformat()} has no time zone; pass an aware UTC datetime.")
    from rapport.decide.experiences import attach_prompts, carry_out  # it calls into Respond: imported when needed

    state = store.customer_state(customer_id, now, outbound=not situation.inbound)
    customer_id = state.customer_id
    decision_id = new_decision_id()
    draft = _Draft(situation, [], {"decide": DECIDE_VERSION})
    _choose_need(draft, state.needs, now, rules)
    if not draft.settled:
        carry_out(store, state, decision_id, draft, now, rules)
        attach_prompts(store, state, draft)
    decision = Decision(
        id=decision_id,
        customer_id=customer_id,
        situation=situation,
        status=draft.status,
        experience=draft.experience,
        action=draft.action,
        reasons=draft.reasons,
        model_versions=draft.versions,
        need=draft.need,
        created_at=now,
        trigger=trigger,
    )
    store.save_decision(decision, draft.contacts, draft.actions)  # one transaction
    return decision


def urgency(need: Need, now: datetime, rules: DecisionRules = DEFAULT_RULES) -> float:
    """1 when the need is due (or overdue), decaying exponentially with the days until it is due."""
    days = (need.due_at - now).total_seconds() / 86_400
    return 1.0 if days <= 0 else math.exp(-days / rules.urgency_days)


def need_value(need: Need, now: datetime, rules: DecisionRules = DEFAULT_RULES) -> float:
    """What acting on the need is worth now: its confidence times its urgency."""
    return need.confidence * urgency(need, now, rules)


def _choose_need(draft: _Draft, needs: list[Need], now: datetime, rules: DecisionRules) -> None:
    """The need this decision is about: the most valuable one the situation concerns; say why when there is none."""
    situation = draft.situation
    relevant = [n for n in needs if _concerns(n, situation)]
    if not needs:
        draft.nothing("no need is recognised for this customer yet")
        return
    if not relevant:
        focus = situation.sku or situation.category
        draft.nothing(f"no recognised need concerns {focus!r}")
        return
    issues = [n for n in relevant if n.kind == "issue"]
    if issues:
        draft.need = max(issues, key=lambda n: n.due_at)
        draft.versions["needs"] = _need_version(draft.need)
        return
    best, value = relevant[0], need_value(relevant[0], now, rules)
    for need in relevant[1:]:  # the first of the most valuable, as max() picks it, each value worked out once
        if (found := need_value(need, now, rules)) > value:
            best, value = need, found
    draft.need, draft.value = best, value
    draft.versions["needs"] = _need_version(best)
    days = (best.due_at - now).total_seconds() / 86_400
    when = f"due in {days:.1f} days" if days > 0 else f"due {-days:.1f} days ago" if days < -0.05 else "due now"
    draft.reasons.append(
        f"need: {best.kind} of {best.item or best.category}, {when}, confidence {best.confidence:.2f}, "
        f"value {draft.value:.2f} ({best.reason})"
    )
    if best.confidence < rules.min_confidence:
        draft.nothing(f"confidence {best.confidence:.2f} is below {rules.min_confidence} for any action")


def _concerns(need: Need, situation: Situation) -> bool:
    if situation.sku and situation.category:
        return need.item == situation.sku or need.category == situation.category
    if situation.sku:
        return need.item == situation.sku
    if situation.category:
        return need.category == situation.category
    return True


def _need_version(need: Need) -> str:
    model = need.evidence.get("model") or need.evidence.get("model_version") or need.kind
    return str(model)
