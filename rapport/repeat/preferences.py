"""Which experience and level of control each customer wants per category, learned from their outcomes.

Three rules, all pure functions of the latest turns (decision experience, outcome, item) of one customer in one
category, so the simulator can run them in memory and Decide runs the same code against the store:

1. **Scores** (moved here from rapport.decide.control): each non-automatic experience scores
   (positives + 1) / (weight + 2), negatives weighted (a complaint counts twice, an ignored message half). The level
   in force stays while it scores at least 0.5 or has fewer than ``MIN_EVIDENCE`` outcomes; otherwise learning moves
   to the best-scoring level, the more cautious on ties. Enough evidence is also one complaint about the level,
   or — on the firm's default, which nobody confirmed — the customer turning down (dismissing, complaining about)
   what it did. A purchase the customer made on their own visit (``Turn.inbound``: they came and bought, whatever
   the session showed) counts for *I choose*, not for the experience shown: a customer who buys without the
   reminder did not need it. Each turn carries the nudge
   bandit's arm it used (``Turn.arm``), so a rule can tell an ignored nudge on one channel and hour from ignoring
   on many; counting *ignored* only after several arms was tried and measured worse in the simulator (README).
2. **Stepping back from automation**: a customer on *do it for me* who cancels ``AUTO_CANCELS`` automatic orders in
   the category (since they last chose automation; one, for a customer whose refusals tend to end in complaints:
   rapport.repeat.contact_risk) is moved back to *remind me* — and asked: a
   ``confirm_switch_back`` prompt ("we've switched you back to reminders — keep it?") is stored, queued in the
   outbox and shown with the next decisions about the category until the customer chooses a level themselves.
3. **Offering a mandate**: a customer on *remind me* whose latest ``OFFER_AFTER`` reminders in the category were all
   accepted, for the same item, is *offered* a mandate: an ``offer_mandate`` prompt shown with the next decisions.
4. **Asking first, and after a demotion**: while the level in force is only the firm's default (nobody chose one,
   nothing was learned yet), learning asks how the customer wants to be helped in the category (one
   ``choose_level`` prompt per category, at the first outcome); and when rescoring moves a category to a level that does less for the customer (e.g.
   from *remind me* to *I choose*, where Rapport no longer reaches out and so would never see evidence to move
   back), learning asks: a ``choose_level`` prompt ("we've stopped reminding you — was that right? choose how we
   help") queued and shown like the switch-back question. The customer's answer is an explicit choice, and an
   explicit choice outranks anything learned. Two more questions, each put once: when the customer turns down
   what a learned level did (one per learned level), and when the outcomes *since* their explicit choice score
   it below 0.5 on enough evidence (one per choice; the choice stands until they answer).

Learning never grants anything: it writes learned levels (never *do it for me*) and prompts, and nothing else. A
mandate needs the customer to create it, and the automatic-execution consent needs the customer to give it.

API for the simulator (pure, O(window) per call): ``learn(turns, level, source, since=None) -> Learning`` with
``turns`` newest first as ``Turn(experience, outcome, sku=None, at=None, decision_id=None, arm=None)``; ``Learning.level`` is the new learned
level or None, ``Learning.prompt_kind`` is None, "confirm_switch_back" or "offer_mandate", ``Learning.sku``.
Against the store: ``learn_from_outcome(store, customer_id, category, now) -> Learning``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from rapport.decide.control import (
    LEARNABLE,
    ControlSetting,
    ControlStore,
    explicit_row,
    learned_row,
    resolve_level,
)
from rapport.respond.outbox import OutboxStore, enqueue_action

PromptKind = Literal["confirm_switch_back", "offer_mandate", "choose_level"]
QUESTIONS = ("confirm_switch_back", "choose_level")  # prompts that ask: queued to the app as a question too
EXPERIENCE_LEVEL = {
    "respond_to_desire": "i_choose",
    "curated_offering": "show_me_options",
    "coach_behavior": "remind_me",
}
POSITIVE = {"accepted": 1.0, "converted": 1.0}
NEGATIVE = {"dismissed": 1.0, "ignored": 0.5, "cancelled": 1.0, "complained": 2.0}
REFUSALS = ("dismissed", "complained")  # the customer saw it and turned it down (ignoring may mean not seeing it)
SELF_SERVED = "i_choose"  # the level a purchase the customer made on their own visit speaks for
MIN_EVIDENCE = 3  # outcomes of one experience before learning may move away from it
LEARNING_WINDOW = 20  # the latest outcomes in the category that learning looks at
AUTO_CANCELS = 3  # cancelled automatic orders that move a customer back to reminders
EXPLORE_AFTER_DAYS = 28  # a learned I choose is tried back up (one reminder) at most this often, and not sooner
EXPLORE_PROBABILITY = 0.5  # the chance an eligible outbound decision tries the reminder (logged as its propensity)
OFFER_AFTER = 4  # reminders accepted in a row, for the same item, before a mandate is offered
PROMPT_CHANNEL = "app"  # questions about the customer's own settings go to the app's preference centre


@dataclass(frozen=True)
class Turn:
    """One outcome of one decision about the category: the experience it used, what happened, for which item."""

    experience: str
    outcome: str
    sku: str | None = None
    at: datetime | None = None  # when the decision was made
    decision_id: str | None = None
    arm: str | None = None  # the nudge bandit's arm key the decision logged (channel and hour), if any
    inbound: bool = False  # the decision answered the customer's own visit (app, store, call centre)


@dataclass(frozen=True)
class Learning:
    """What one round of learning concluded: a new learned level (or None) and a prompt to ask (or None)."""

    level: str | None = None
    prompt_kind: PromptKind | None = None
    sku: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Prompt:
    """A question or suggestion learning puts to the customer; answering it is the customer's explicit choice."""

    id: str
    customer_id: str
    category: str
    kind: str
    message: str
    details: dict[str, Any]
    status: str
    created_at: datetime

    @property
    def prompt_key(self) -> str:
        return prompt_key(self.customer_id, self.category, self.kind, self.details)

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt_id": self.id,
            "kind": self.kind,
            "category": self.category,
            "message": self.message,
            "details": self.details,
            "created_at": self.created_at.isoformat(),
        }


class PreferenceStore(ControlStore, OutboxStore, Protocol):
    """What learning reads and writes (rapport.store.repeat.SqlRepeat, mixed into SqlDecisionStore)."""

    def category_turns(self, customer_id: str, category: str, limit: int) -> list[Turn]: ...

    def put_prompt(self, prompt: Prompt) -> tuple[Prompt, bool]: ...

    def open_prompts(self, customer_id: str, category: str) -> list[Prompt]: ...


# ----- the pure learner -------------------------------------------------------------------------------------------
def learn(
    turns: Sequence[Turn], level: str, source: str, since: datetime | None = None, auto_cancels: int = AUTO_CANCELS
) -> Learning:
    """Learn from ``turns`` (newest first) while ``level`` (from ``source``) is in force, chosen at ``since``;
    ``auto_cancels`` cancelled automatic orders step back from automation (fewer for a customer at risk)."""
    if level == "do_it_for_me":
        cancelled = [
            t for t in turns
            if t.experience == "automatic_execution" and t.outcome == "cancelled"
            and (since is None or t.at is None or t.at >= since)
        ]  # fmt: skip
        if len(cancelled) >= auto_cancels:
            evidence: dict[str, Any] = {"was": level, "step_back": True, "cancelled_automatic_orders": len(cancelled)}
            evidence["since"] = since.isoformat() if since is not None else None
            return Learning("remind_me", "confirm_switch_back", cancelled[0].sku, evidence)
        return Learning()
    if level == "remind_me":
        offer = _mandate_offer(turns)
        if offer is not None:
            return offer
    if source == "explicit":  # they chose: the choice stands; asked again only if what they do since contradicts it
        return _recheck(turns, level, since)
    if source == "learned" and level == "i_choose" and _explored_and_taken(turns, since):
        evidence = {"was": level, "explored": True, "since": since.isoformat() if since is not None else None}
        return Learning("remind_me", None, None, evidence)
    learning = _rescore(turns, level, default=source == "firm_default", since=since)
    if learning.prompt_kind is None and source == "firm_default":  # nobody chose, nothing learned yet: ask first
        evidence = {**learning.evidence, "was": level, "since": None, "first": True}
        return Learning(learning.level, "choose_level", None, evidence)
    if learning.prompt_kind is None and learning.level is None and _refused(turns, level):
        evidence = {"was": level, "since": f"refused:{level}:{since.isoformat() if since else 'default'}"}
        return Learning(None, "choose_level", None, {**evidence, "refused": turns[0].outcome})
    return learning


def _explored_and_taken(turns: Sequence[Turn], since: datetime | None) -> bool:
    """The newest outcome is a reminder Rapport tried on a learned I choose (outbound, after it was learned) that
    the customer acted on: they wanted it after all (people who decide alone seldom act on one)."""
    newest = turns[0] if turns else None
    return (
        newest is not None and newest.experience == "coach_behavior" and not newest.inbound
        and newest.outcome in POSITIVE and (since is None or newest.at is None or newest.at >= since)
    )  # fmt: skip


def may_explore_up(
    rows: Sequence[ControlSetting],
    category: str,
    turns: Sequence[Turn],
    now: datetime,
    overdue: Callable[[], bool] = lambda: False,
) -> bool:
    """Whether an outbound decision may try one reminder on a learned (never a chosen) *I choose*: it was learned
    at least EXPLORE_AFTER_DAYS ago, the purchases Rapport expected did not come (the customer has not bought on
    their own visit since, or ``overdue()``: their latest order in the category is overdue by their own rhythm,
    rapport.repeat.contact_risk.overdue; asked only when an own purchase would otherwise stop the try, since it
    reads the order history), and no reminder was tried in the last EXPLORE_AFTER_DAYS. Trying is a
    reminder, never an order, a mandate or a consent; the decision logs it with its propensity."""
    if explicit_row(list(rows), category) is not None:
        return False
    learned = learned_row(list(rows), category)
    if learned is None or learned.level != "i_choose":
        return False
    if (now - learned.set_at).total_seconds() < EXPLORE_AFTER_DAYS * 86_400:
        return False
    recent = now.timestamp() - EXPLORE_AFTER_DAYS * 86_400
    bought_alone = False
    for turn in turns:
        if turn.at is None:
            continue
        if turn.inbound and turn.outcome in POSITIVE and turn.at >= learned.set_at:
            bought_alone = True
        if turn.experience == "coach_behavior" and not turn.inbound and turn.at.timestamp() >= recent:
            return False  # tried lately
    return not bought_alone or overdue()  # they buy by themselves: no reminder, unless their latest order is overdue


def _refused(turns: Sequence[Turn], level: str) -> bool:
    """The newest outcome is the customer turning down (dismissing, complaining about) what the level did."""
    return bool(turns) and EXPERIENCE_LEVEL.get(turns[0].experience) == level and turns[0].outcome in REFUSALS


def _recheck(turns: Sequence[Turn], level: str, since: datetime | None) -> Learning:
    """An explicit level stays; when the outcomes since the choice score it poorly, ask once whether it still fits."""
    recent = [t for t in turns if since is None or t.at is None or t.at >= since]
    learning = _rescore(recent, level)
    if learning.level is None:
        return learning
    evidence = {**learning.evidence, "was": level, "recheck": True}
    evidence["since"] = f"chosen:{since.isoformat() if since is not None else None}"  # one question per choice
    return Learning(learning.level, "choose_level", None, evidence)


def _mandate_offer(turns: Sequence[Turn]) -> Learning | None:
    """The latest OFFER_AFTER reminders were each accepted (or bought), all for the same item: offer a mandate."""
    by_decision: dict[str, list[Turn]] = {}
    order: list[str] = []
    for n, turn in enumerate(turns):
        if turn.experience != "coach_behavior":
            continue
        key = turn.decision_id or f"#{n}"
        if key not in by_decision:
            order.append(key)
        by_decision.setdefault(key, []).append(turn)
    latest = [by_decision[key] for key in order[:OFFER_AFTER]]
    if len(latest) < OFFER_AFTER:
        return None
    skus = {t.sku for outcomes in latest for t in outcomes}
    positive = all(
        any(t.outcome in POSITIVE for t in outcomes) and not any(t.outcome in NEGATIVE for t in outcomes)
        for outcomes in latest
    )
    if not positive or len(skus) != 1 or None in skus:
        return None
    sku = next(iter(skus))
    return Learning(None, "offer_mandate", sku, {"accepted_reminders": len(latest), "sku": sku})


def _rescore(turns: Sequence[Turn], current: str, default: bool = False, since: datetime | None = None) -> Learning:
    """Move off ``current`` when it scores below 0.5 on enough evidence: MIN_EVIDENCE outcomes, or one complaint,
    or — on the firm's ``default``, a guess nobody confirmed — the customer turning down what it did. The level
    in force is judged on the outcomes since it was learned (``since``); the others on every turn in the window."""
    scores, counts = scores_of(turns)
    if since is not None:
        recent = [t for t in turns if t.at is None or t.at >= since]
        own, own_counts = scores_of(recent)
        scores[current], counts[current] = own[current], own_counts.get(current, 0)
    complained = any(
        t.outcome == "complained" and EXPERIENCE_LEVEL.get(t.experience) == current
        for t in turns if since is None or t.at is None or t.at >= since
    )  # fmt: skip
    enough = counts.get(current, 0) >= MIN_EVIDENCE or complained or (default and _refused(turns, current))
    if current not in LEARNABLE or not enough or scores[current] >= 0.5:
        return Learning()
    best = max(LEARNABLE, key=lambda level: (scores[level], -LEARNABLE.index(level)))
    evidence: dict[str, Any] = {"scores": {k: round(v, 3) for k, v in scores.items()}, "outcomes": counts}
    evidence["was"] = current
    if LEARNABLE.index(best) < LEARNABLE.index(current):  # less help than before: ask whether that is right
        newest = next((t.at for t in turns if t.at is not None), None)
        evidence["since"] = newest.isoformat() if newest is not None else None
        return Learning(best, "choose_level", None, evidence)
    return Learning(best, None, None, evidence)


def scores_of(turns: Sequence[Turn]) -> tuple[dict[str, float], dict[str, int]]:
    """Each learnable level's score from the turns, and how many outcomes each had."""
    positive = dict.fromkeys(LEARNABLE, 0.0)
    weight = dict.fromkeys(LEARNABLE, 0.0)
    counts: dict[str, int] = {}
    for turn in turns:
        level = EXPERIENCE_LEVEL.get(turn.experience)
        if level is None or (turn.outcome not in POSITIVE and turn.outcome not in NEGATIVE):
            continue
        if turn.inbound and turn.outcome in POSITIVE:
            level = SELF_SERVED  # they came by themselves and bought: evidence for deciding alone, not for the nudge
        counts[level] = counts.get(level, 0) + 1
        positive[level] += POSITIVE.get(turn.outcome, 0.0)
        weight[level] += POSITIVE.get(turn.outcome, 0.0) + NEGATIVE.get(turn.outcome, 0.0)
    return {level: (positive[level] + 1) / (weight[level] + 2) for level in LEARNABLE}, counts


# ----- against the store ------------------------------------------------------------------------------------------
def learn_from_outcome(
    store: PreferenceStore, customer_id: str, category: str, now: datetime, auto_cancels: int = AUTO_CANCELS
) -> Learning:
    """Learn from the customer's latest outcomes in ``category``; store the learned level and the prompt, if any."""
    rows = store.control_rows(customer_id)
    turns = store.category_turns(customer_id, category, LEARNING_WINDOW)
    learning = learn_in_force(rows, store.settings, category, turns, auto_cancels)
    setting = learned_setting(rows, customer_id, category, learning, now)
    if setting is not None:
        store.put_control_level(setting)
    if learning.prompt_kind is not None:
        stored, created = store.put_prompt(new_prompt(customer_id, category, learning, now))
        if created and stored.kind in QUESTIONS:
            payload = {"type": "preference_question", **stored.to_dict()}
            enqueue_action(store, customer_id, "question", PROMPT_CHANNEL, payload, now, f"repeat:prompt:{stored.id}")
    return learning


def learn_in_force(
    rows: list[ControlSetting], settings: Any, category: str, turns: Sequence[Turn], auto_cancels: int = AUTO_CANCELS
) -> Learning:
    """:func:`learn` under the level in force for ``category`` given the customer's stored rows."""
    level, source = resolve_level(rows, settings, category)
    chosen = explicit_row(rows, category) if source == "explicit" else learned_row(rows, category)
    return learn(turns, level, source, chosen.set_at if chosen is not None else None, auto_cancels)


def learned_setting(
    rows: list[ControlSetting], customer_id: str, category: str, learning: Learning, at: datetime
) -> ControlSetting | None:
    """The learned row to store for ``learning`` (None: nothing changes); a step back stays marked as one."""
    if learning.level is None:
        return None
    evidence = dict(learning.evidence)
    previous = learned_row(rows, category)
    if previous is not None and (previous.evidence or {}).get("step_back"):
        evidence["step_back"] = True  # still stepped back from the automation the customer once chose
    return ControlSetting(customer_id, category, learning.level, "learned", at, evidence)


def new_prompt(customer_id: str, category: str, learning: Learning, now: datetime) -> Prompt:
    assert learning.prompt_kind is not None
    what = learning.sku or category
    if learning.prompt_kind == "confirm_switch_back":
        count = learning.evidence.get("cancelled_automatic_orders", AUTO_CANCELS)
        message = (
            f"You cancelled {count} automatic orders of {what}, so we've switched you back to reminders for "
            f"{category} — keep it? (Choose 'do it for me' again any time.)"
        )
        details: dict[str, Any] = {"switched_to": "remind_me", "was": "do_it_for_me", "cancelled": count}
        details["since"] = learning.evidence.get("since")  # the choice of automation stepped back from
    elif learning.prompt_kind == "choose_level" and ("recheck" in learning.evidence or "refused" in learning.evidence):
        was = learning.evidence.get("was", "remind_me")
        if "recheck" in learning.evidence:  # their own choice, contradicted since: it stands until they answer
            message = (
                f"You chose '{was}' for {category}, but your answers since suggest it no longer fits — is it still "
                "right? Choose how we help: I choose, show me options, or remind me. Until you do, your choice stands."
            )
        else:
            message = (
                f"You turned down our last {'reminder' if was == 'remind_me' else 'suggestion'} about {category}. "
                "How should we help? Choose: I choose (we never reach out), show me options, or remind me."
            )
        details = {"was": was, "since": learning.evidence.get("since"), "choices": list(LEARNABLE)}
    elif learning.prompt_kind == "choose_level" and learning.evidence.get("first"):
        message = (
            f"How should we help with {category}? Choose: I choose (we never reach out), show me options, or "
            "remind me. You can change it any time."
        )
        details = {"was": learning.evidence.get("was"), "since": None, "choices": list(LEARNABLE)}
    elif learning.prompt_kind == "choose_level":
        level, was = learning.level or "i_choose", learning.evidence.get("was", "remind_me")
        doing = {"i_choose": "reach out to you", "show_me_options": "send you reminders"}.get(level, "do as much")
        message = (
            f"Your last answers suggested we should not {doing} about {category}, so we've switched you from "
            f"'{was}' to '{level}' — was that right? Choose how we help: I choose, show me options, or remind me."
        )
        details = {
            "switched_to": level,
            "was": was,
            "since": learning.evidence.get("since"),
            "choices": list(LEARNABLE),
        }
    else:
        message = (
            f"You reorder {what} each time we remind you. Would you like us to order it for you? You set the "
            "limits, get notice before each order and can cancel any of them."
        )
        details = {"sku": learning.sku, "suggested_level": "do_it_for_me", "needs": ["mandate", "consent"]}
    key = prompt_key(customer_id, category, learning.prompt_kind, details)
    return Prompt(key[:32], customer_id, category, learning.prompt_kind, message, details, "open", now)


def prompt_key(customer_id: str, category: str, kind: str, details: dict[str, Any]) -> str:
    """One offer per item, one switch-back question per choice of automation: asking again would teach nothing."""
    subject = details.get("sku") if kind == "offer_mandate" else details.get("since")  # one question per demotion
    raw = f"{customer_id}|{category}|{kind}|{subject}"
    return hashlib.sha256(raw.encode()).hexdigest()


def pending_prompts(prompts: Sequence[Prompt], rows: Sequence[ControlSetting], category: str) -> list[Prompt]:
    """The open prompts for ``category`` the customer has not answered by choosing a level themselves since."""
    chosen = explicit_row(list(rows), category)
    return [p for p in prompts if p.status == "open" and (chosen is None or chosen.set_at < p.created_at)]
