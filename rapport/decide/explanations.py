""" "Why did I get this?": every recent decision and contact in plain words, the data it used, "not like this".

A decision's explanation reads only the decision log (what was decided, the reasons recorded at the time, the need
and the situation), so it says why Rapport acted then, not what it would do now. "Not like this" records an outcome
that the learning of control levels reads, and proposes the setting that matches the complaint: fewer reminders (a
tighter frequency cap), another channel, or a lower control level.

Some contacts carry no decision of their own: the notice of an automatic order (the scheduler sends it under a
mandate), a reply in the customer's conversation, a sign-in link, a question from learning. They are explained
from what the outbox action carries (and the mandate and order it names), interleaved with the decisions, newest
first. Their "not like this" only offers the matching setting: there is no decision whose outcome could be recorded,
so none is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal, Protocol, get_args

from rapport.decide.contact_policy import ALL_CHANNELS, ContactStore, policy_of
from rapport.decide.control import ANY_CATEGORY, ControlStore, control_level
from rapport.decide.decision import Decision
from rapport.decide.outcomes import OutcomeLog, record_outcome
from rapport.errors import InvalidInput, NotFound
from rapport.respond.automatic import AutomaticOrder
from rapport.respond.mandates import Mandate

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


class ContactHistory(Protocol):
    """The contacts without a decision of their own (rapport.store.respond.RespondStore implements it)."""

    def recent_contacts(self, customer_id: str, limit: int) -> list[dict[str, Any]]: ...

    def get_mandate(self, mandate_id: str) -> dict[str, Any] | None: ...

    def get_automatic_order(self, order_id: str) -> dict[str, Any] | None: ...

    def answered_message(self, conversation_id: str, before: datetime) -> dict[str, Any] | None: ...


class ExplanationStore(OutcomeLog, ContactStore, ControlStore, ContactHistory, Protocol):
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

    explains: ClassVar[str] = "decision"

    def to_dict(self) -> dict[str, Any]:
        return {
            "explains": self.explains,
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

    kind: Literal["contact_policy", "control_level", "mandate", "automatic_order", "none"]
    description: str
    change: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "description": self.description, "change": self.change}


@dataclass(frozen=True)
class ContactExplanation:
    """One contact without a decision of its own, told to the customer, with the settings that match it.

    ``settings`` is what "not like this" offers; nothing is recorded, since no decision outcome exists for it.
    """

    action_id: str
    kind: str
    at: datetime
    headline: str
    why: list[str]
    data_used: dict[str, Any]
    settings: list[Proposal] = field(default_factory=list)
    explains: ClassVar[str] = "contact"

    def to_dict(self) -> dict[str, Any]:
        return {
            "explains": self.explains,
            "decision_id": None,
            "action_id": self.action_id,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "headline": self.headline,
            "why": list(self.why),
            "data_used": self.data_used,
            "not_like_this": [p.to_dict() for p in self.settings],
            "records_outcome": False,
        }


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


def recent_explanations(
    store: ExplanationStore, customer_id: str, limit: int = 20
) -> list[Explanation | ContactExplanation]:
    """The customer's latest decisions and contacts without a decision, explained, newest first."""
    found: list[Explanation | ContactExplanation] = [explain(d) for d in store.decisions_of(customer_id, limit)]
    found += [explain_contact(store, customer_id, row) for row in store.recent_contacts(customer_id, limit)]
    return sorted(found, key=lambda e: e.at, reverse=True)[:limit]


def explain_contact(store: ExplanationStore, customer_id: str, action: dict[str, Any]) -> ContactExplanation:
    """An outbox action without a decision in plain words, from what it carries, with the settings that match."""
    kind, channel, payload = action["kind"], action["channel"], action["payload"] or {}
    data: dict[str, Any] = {"channel": channel, "sent_at": action["send_at"].isoformat(), "status": action["status"]}
    told = (action["id"], kind, action["send_at"])
    if payload.get("type") == "automatic_order_notice":
        return _notice_explained(store, customer_id, told, payload, data)
    if kind == "conversation_reply":
        answered = store.answered_message(str(payload.get("conversation_id")), action["created_at"])
        of = f" of {answered['occurred_at']:%d %b %Y, %H:%M} UTC" if answered else ""
        why = [f"You wrote to us{of}; a member of staff answered on {channel}."]
        data["conversation"] = {
            "conversation_id": payload.get("conversation_id"),
            "reply_id": payload.get("message_id"),
        }
        if answered:
            data["conversation"]["your_message_at"] = answered["occurred_at"].isoformat()
        nothing = Proposal("none", "A reply answers your message: there is nothing to change.", {})
        return ContactExplanation(*told, f"Our reply to your message{of}.", why, data, [nothing])
    if kind == "sign_in_link":
        expires = payload.get("expires_at")
        data["expires_at"] = expires  # never the link itself: it is a key to the customer's pages
        why = ["You or the firm asked for a sign-in link to your pages; it works once and only for a short time."]
        nothing = Proposal("none", "Nothing to change: a sign-in link is sent only when someone asks for one.", {})
        return ContactExplanation(*told, f"A sign-in link to your pages, on {channel}.", why, data, [nothing])
    if kind == "question":
        category = str(payload.get("category") or ANY_CATEGORY)
        why = ["How you responded lately suggested another setting; we asked you instead of changing it."]
        data["category"] = category
        answer = Proposal("none", "Answer it on your control-levels page, or choose another level there.", {})
        return ContactExplanation(*told, f"We asked you about your setting for {category}.", why, data, [answer])
    message = payload.get("message")
    why = [str(message)] if message else [f"The firm sent you a {kind.replace('_', ' ')} through Rapport."]
    return ContactExplanation(*told, f"We sent you a {kind.replace('_', ' ')} on {channel}.", why, data, [])


def _notice_explained(
    store: ExplanationStore,
    customer_id: str,
    told: tuple[str, str, datetime],
    payload: dict[str, Any],
    data: dict[str, Any],
) -> ContactExplanation:
    """The notice of an automatic order: the mandate that scheduled it, its caps, and until when to cancel."""
    mandate_row = store.get_mandate(str(payload.get("mandate_id")))
    order_row = store.get_automatic_order(str(payload.get("automatic_order_id")))
    mandate = Mandate.from_row(mandate_row) if mandate_row and mandate_row["customer_id"] == customer_id else None
    order = AutomaticOrder.from_row(order_row) if order_row and order_row["customer_id"] == customer_id else None
    until = datetime.fromisoformat(str(payload["runs_not_before"]))
    what = f"{payload.get('quantity')} x {payload.get('sku')} for {float(payload.get('amount') or 0):.2f} "
    what += str(payload.get("currency"))
    headline = f"We told you about an automatic order: {what}."
    data["notice"] = {"cancel_until": until.isoformat()}
    why: list[str] = []
    settings: list[Proposal] = []
    if mandate is not None:
        caps = f"at most {mandate.per_order_cap:.2f} {mandate.currency} an order, {mandate.monthly_cap:.2f} a month"
        why.append(f"Your mandate for {mandate.scope} ({caps}) scheduled this order.")
        data["mandate"] = {
            k: getattr(mandate, k)
            for k in ("id", "scope_kind", "scope", "per_order_cap", "monthly_cap", "currency", "status")
        } | {"notice_hours": mandate.notice_hours, "cancel_window_hours": mandate.cancel_window_hours}
        if mandate.status == "active":
            settings.append(
                Proposal(
                    "mandate",
                    f"Revoke your mandate for {mandate.scope}, or change its caps.",
                    {"mandate_id": mandate.id, "revoke": True},
                )
            )
        category = mandate.scope if mandate.scope_kind == "category" else ANY_CATEGORY
        lower = lower_level(store, customer_id, category)
        if lower.kind != "none":
            settings.append(lower)
    if order is not None:
        why.append(f"Why now: {order.reason}.")
        data["order"] = {"id": order.id, "sku": order.sku, "quantity": order.quantity, "amount": order.amount}
        data["order"] |= {"currency": order.currency, "status": order.status}
        if order.status in ("scheduled", "notified"):
            why.append(f"You can cancel until {until:%d %b %Y, %H:%M} UTC; it is not placed before then.")
            settings.insert(
                0,
                Proposal("automatic_order", f"Cancel this order before {until:%d %b %H:%M} UTC.", {"cancel": order.id}),
            )
        elif order.status == "cancelled":
            why.append(f"It was cancelled ({order.cancel_reason or 'no reason given'}); nothing was ordered.")
        elif order.status == "executed":
            why.append("The cancel window passed and the order was placed.")
    why.append("A notice always goes out before an automatic order, whatever your contact limits.")
    return ContactExplanation(*told, headline, why, data, settings)


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
    return lower_level(store, customer_id, decision.category or ANY_CATEGORY)


def lower_level(store: ControlStore, customer_id: str, category: str) -> Proposal:
    """The next control level towards the customer deciding alone, for ``category``."""
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
