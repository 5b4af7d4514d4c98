""" "Why did I get this?": a logged decision in plain words, the data it used, and "not like this".

The explanation reads only the decision log (what was decided, the reasons recorded at the time, the need and the
situation), so it says why Rapport acted then, not what it would do now. "Not like this" records an outcome that
the learning of control levels reads, and proposes the setting that matches the complaint: fewer reminders (a
tighter frequency cap), another channel, or a lower control level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, get_args

from rapport.decide.contact_policy import ALL_CHANNELS, ContactStore, policy_of
from rapport.decide.control import ControlStore, control_level
from rapport.decide.decision import Decision
from rapport.decide.outcomes import OutcomeLog, record_outcome
from rapport.errors import InvalidInput, NotFound

Feedback = Literal["too_many", "wrong_channel", "too_much_automation", "not_relevant"]
FEEDBACK: tuple[str, ...] = get_args(Feedback)
FEEDBACK_LABELS = {
    "too_many": "Too many reminders",
    "wrong_channel": "Not on this channel",
    "too_much_automation": "Do less for me automatically",
    "not_relevant": "Not relevant to me",
}
# Most automation last: "a lower level" is the next one towards the customer deciding alone.
LEVEL_ORDER = ("i_choose", "show_me_options", "remind_me", "do_it_for_me")
LEVEL_LABELS = {
    "i_choose": "I choose",
    "show_me_options": "Show me options",
    "remind_me": "Remind me",
    "do_it_for_me": "Do it for me",
}
LEVEL_MEANING = {
    "i_choose": "We never reach out. When you come to us, your usual order is one click away.",
    "show_me_options": "We show you a few options that fit when you visit; we do not send reminders.",
    "remind_me": "We remind you when you are likely to need something, within your contact limits. We never order.",
    "do_it_for_me": "We order for you under a mandate you granted, with notice and a window to cancel first. "
    "Without a mandate and your consent we only remind you.",
}
_WHAT = {
    "nudge": "a reminder",
    "curated_options": "a few options",
    "one_click_reorder": "a one-click reorder",
    "automatic_order": "an automatic order",
    "service_follow_up": "a follow-up on your open conversation",
}
_SOURCE = {
    "explicit": "you chose it",
    "learned": "learned from how you responded",
    "firm_default": "the firm's default",
}


class ExplanationStore(OutcomeLog, ContactStore, ControlStore, Protocol):
    """What explaining reads (rapport.store.decisions.SqlDecisionStore implements it)."""

    def get_decision(self, decision_id: str) -> Decision: ...

    def decisions_of(self, customer_id: str, limit: int = 50) -> list[Decision]: ...


@dataclass(frozen=True)
class Explanation:
    """One decision told to the customer: what happened, why (plain words), and the data it used."""

    decision_id: str
    at: datetime
    headline: str
    why: list[str]
    data_used: dict[str, Any]
    feedback: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "at": self.at.isoformat(),
            "headline": self.headline,
            "why": list(self.why),
            "data_used": self.data_used,
            "not_like_this": self.feedback,
        }


@dataclass(frozen=True)
class Proposal:
    """The setting that matches a "not like this": what it would change, in words and as the change itself."""

    kind: Literal["contact_policy", "control_level", "none"]
    description: str
    change: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "description": self.description, "change": self.change}


def explain(decision: Decision) -> Explanation:
    """The decision in plain words (headline and reasons) with the need, situation and models it used."""
    action = decision.action or {}
    what = _WHAT.get(str(action.get("type")), "a suggestion")
    subject = _subject(decision)
    channel = action.get("channel")
    if decision.status == "nothing_now":
        headline = f"We decided not to contact you{f' about {subject}' if subject else ''}."
    elif decision.status == "deferred":
        send_at = action.get("send_at")
        until = f"{datetime.fromisoformat(send_at):%d %b %Y, %H:%M} UTC" if isinstance(send_at, str) else "later"
        headline = f"We planned {what}{f' about {subject}' if subject else ''}, held back until {until}."
    else:
        on = f" on {channel}" if channel else ""
        headline = f"We sent you {what}{f' about {subject}' if subject else ''}{on}."
    need = decision.need
    data: dict[str, Any] = {
        "situation": decision.situation.touchpoint,
        "experience": decision.experience,
        "channel": channel,
        "model_versions": dict(decision.model_versions),
    }
    if need is not None:
        data["need"] = {
            "kind": need.kind,
            "item": need.item,
            "category": need.category,
            "due_at": need.due_at.isoformat(),
            "confidence": round(need.confidence, 2),
            "evidence": need.reason,
        }
    offered = [f for f in FEEDBACK if f != "too_much_automation" or decision.experience == "automatic_execution"]
    feedback = [{"feedback": f, "label": FEEDBACK_LABELS[f]} for f in offered]
    why = [plain for reason in decision.reasons if (plain := plain_reason(reason))]
    return Explanation(decision.id, decision.created_at, headline, why, data, feedback)


def plain_reason(reason: str) -> str:
    """One logged reason in words a customer reads (the engine's own wording when no rule matches)."""
    if found := re.match(r"need: \w+ of (.+?), (due .+?), confidence ([\d.]+), value [\d.]+ \((.*)\)$", reason):
        what, when, confidence, evidence = found.groups()
        sure = "fairly sure" if float(confidence) >= 0.6 else "not sure"
        return f"We expected you would need {what} ({when}); we were {sure}. {evidence}"
    if found := re.match(r"control level for (.+?): (\w+) \((\w+)\) → \w+$", reason):
        category, level, source = found.groups()
        label = LEVEL_LABELS.get(level, level)
        return f"Your setting for {category} is \u201c{label}\u201d ({_SOURCE.get(source, source)})."
    if reason.startswith("sent on "):
        return f"It went out on {reason[8:].split(':', 1)[0]}, within your contact limits."
    if reason.startswith("deferred by the contact policy to "):
        return "We waited for a time your quiet hours and contact limits allow."
    if reason.startswith("open issue: "):
        return "You have an open conversation with us: we answer that before suggesting anything else."
    if reason.startswith("no contact consent on "):
        return f"You have not agreed to be contacted on {reason[22:].split(':', 1)[0]}, so we did not use it."
    if reason.startswith("nothing now: "):
        return f"We held back: {reason[13:]}."
    if found := re.match(r"mandate (\S+) covers (.+?);", reason):
        return f"Your mandate {found.group(1)} covers {found.group(2)}: you get notice and can cancel before it runs."
    return reason[:1].upper() + reason[1:]


def recent_explanations(store: ExplanationStore, customer_id: str, limit: int = 20) -> list[Explanation]:
    """The customer's latest decisions, explained, newest first."""
    return [explain(d) for d in store.decisions_of(customer_id, limit)]


def explanation_for(store: ExplanationStore, customer_id: str, decision_id: str) -> Explanation:
    """One decision of this customer, explained (another customer's decision is not found, like an unknown one)."""
    return explain(_own_decision(store, customer_id, decision_id))


def not_like_this(
    store: ExplanationStore, customer_id: str, decision_id: str, feedback: str, now: datetime
) -> tuple[Proposal, bool]:
    """Record the customer's "not like this" as a dismissed outcome (Repeat learns from it); propose a setting.

    Returns the proposal and whether the outcome was new (a second click records nothing more).
    """
    if feedback not in FEEDBACK:
        raise InvalidInput(f"Feedback {feedback!r} is unknown; use one of {', '.join(FEEDBACK)}.")
    decision = _own_decision(store, customer_id, decision_id)
    _, created = record_outcome(store, decision_id, "dismissed", now, details={"feedback": feedback, "via": "me"})
    return propose(store, decision, feedback), created


def propose(store: ExplanationStore, decision: Decision, feedback: str) -> Proposal:
    """The setting that matches ``feedback`` for this decision, from the customer's settings in force."""
    customer_id = decision.customer_id
    if feedback == "too_many":
        policy = policy_of(store, customer_id)
        cap = next((c for c in policy.caps if c.channel == ALL_CHANNELS), None)
        days, limit = (cap.days, cap.limit) if cap else (7, 2)
        fewer = max(limit - 1, 0)
        change = {"caps": [{"channel": ALL_CHANNELS, "days": days, "max": fewer}]}
        return Proposal("contact_policy", f"At most {fewer} contacts per {days} days on all channels.", change)
    if feedback == "wrong_channel":
        used = (decision.action or {}).get("channel")
        others = [c for c in policy_of(store, customer_id).preferred_channels if c != used]
        if not others:
            return Proposal("none", "There is no other channel to prefer; lower the frequency instead.", {})
        return Proposal(
            "contact_policy", f"Prefer {', '.join(others)} over {used}.", {"preferred_channels": [*others, used]}
        )
    category = decision.category or "*"
    level, _source = control_level(store, customer_id, category)
    lower = LEVEL_ORDER[max(LEVEL_ORDER.index(level) - 1, 0)]
    if lower == level:
        return Proposal("none", f"{LEVEL_LABELS[level]} is already the lowest level for {category}.", {})
    return Proposal(
        "control_level",
        f"For {category}: \u201c{LEVEL_LABELS[lower]}\u201d instead of \u201c{LEVEL_LABELS[level]}\u201d. "
        f"{LEVEL_MEANING[lower]}",
        {"category": category, "level": lower},
    )


def _own_decision(store: ExplanationStore, customer_id: str, decision_id: str) -> Decision:
    try:
        decision = store.get_decision(decision_id)
    except NotFound:
        decision = None
    if decision is None or decision.customer_id != customer_id:
        raise NotFound(f"No decision {decision_id!r} for you; the list of recent decisions shows yours.")
    return decision


def _subject(decision: Decision) -> str | None:
    need = decision.need
    if need is not None:
        return need.item or need.category
    return decision.situation.sku or decision.situation.category
