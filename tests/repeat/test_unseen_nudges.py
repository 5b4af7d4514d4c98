"""Ignored is not dismissed: an ignored nudge may not have been seen, so learning leaves the level alone until the
nudge bandit has tried other channels and hours; a dismissed one is seen and counts at once."""

from __future__ import annotations

from datetime import timedelta

from rapport.decide import control
from rapport.decide.engine import decide
from rapport.decide.outcomes import record_outcome
from rapport.decide.situations import Situation
from rapport.repeat.preferences import MIN_EVIDENCE, RETRY_ARMS, Turn, learn
from rapport.store.decisions import SqlDecisionStore
from tests.decide.conftest import NOW, customer, need, store_needs, toner_order
from tests.decide.test_engine import _grant

ARMS = ("reminder|email|09", "reminder|push|13", "reminder|sms|18", "reminder|app|09")


def _reminders(outcome: str, arms: tuple[str, ...], n: int) -> list[Turn]:
    return [Turn("coach_behavior", outcome, "SKU", decision_id=str(k), arm=arms[k % len(arms)]) for k in range(n)]


def test_reminders_ignored_on_one_arm_do_not_move_the_level() -> None:
    turns = _reminders("ignored", ARMS[:1], 3 * MIN_EVIDENCE)
    assert learn(turns, "remind_me", "learned").level is None, "the bandit tries another channel or hour first"


def test_reminders_ignored_on_several_arms_do_move_it() -> None:
    turns = _reminders("ignored", ARMS[:RETRY_ARMS], 3 * MIN_EVIDENCE)
    moved = learn(turns, "remind_me", "learned")
    assert moved.level is not None and moved.level != "remind_me"
    fewer = _reminders("ignored", ARMS[: RETRY_ARMS - 1], 3 * MIN_EVIDENCE)
    assert learn(fewer, "remind_me", "learned").level is None


def test_dismissed_reminders_move_the_level_on_one_arm() -> None:
    turns = _reminders("dismissed", ARMS[:1], MIN_EVIDENCE)
    assert learn(turns, "remind_me", "learned").level == "i_choose"


def test_ignored_without_an_arm_still_counts() -> None:
    turns = [Turn("coach_behavior", "ignored", "SKU", decision_id=str(k)) for k in range(3 * MIN_EVIDENCE)]
    assert learn(turns, "remind_me", "learned").level is not None


def test_the_store_reads_each_turns_arm_and_the_level_waits_for_other_arms(decisions: SqlDecisionStore) -> None:
    """On the real decision path the bandit tries other email arms (hours, styles) after each ignored nudge; the
    reminders stop only once nudges on RETRY_ARMS different arms went ignored."""
    cid = customer(decisions, "unseen", orders=[toner_order()])
    store_needs(decisions, cid, need(cid))
    _grant(decisions, cid, "contact:email")
    arms: list[str] = []
    for n in range(4 * MIN_EVIDENCE):
        assert control.control_level(decisions, cid, "toner")[0] == "remind_me", arms
        at = NOW + timedelta(days=8 * n)  # clear of the contact caps
        nudge = decide(decisions, cid, Situation("need_due"), at)
        assert nudge.experience == "coach_behavior" and nudge.action is not None, nudge.reasons
        arms.append(nudge.action["arm"]["key"])
        record_outcome(decisions, nudge.id, "ignored", at + timedelta(hours=4))
        if len(set(arms)) >= RETRY_ARMS and len(arms) >= MIN_EVIDENCE:
            break
    turns = decisions.category_turns(cid, "toner", 20)
    assert [t.arm for t in turns] == arms[::-1] and all(t.outcome == "ignored" for t in turns)
    assert len(set(arms)) >= RETRY_ARMS, f"the bandit kept to {set(arms)}"
    assert control.control_level(decisions, cid, "toner") != ("remind_me", "firm_default"), "then it steps down"
