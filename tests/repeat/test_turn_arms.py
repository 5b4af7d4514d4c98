"""Each turn learning reads carries the nudge bandit's arm its decision logged (channel, hour, style), from the
store as from the simulator's memory, so learning can tell one channel and hour from another."""

from __future__ import annotations

from datetime import timedelta

from rapport.decide.engine import decide
from rapport.decide.outcomes import record_outcome
from rapport.decide.situations import Situation
from rapport.store.decisions import SqlDecisionStore
from tests.decide.conftest import NOW, customer, need, store_needs, toner_order
from tests.decide.test_engine import _grant


def test_the_store_reads_each_turns_bandit_arm(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "unseen", orders=[toner_order()])
    store_needs(decisions, cid, need(cid))
    _grant(decisions, cid, "contact:email")
    arms: list[str] = []
    for n in range(2):
        at = NOW + timedelta(days=8 * n)  # clear of the contact caps
        nudge = decide(decisions, cid, Situation("need_due"), at)
        assert nudge.experience == "coach_behavior" and nudge.action is not None, nudge.reasons
        arms.append(nudge.action["arm"]["key"])
        record_outcome(decisions, nudge.id, "ignored", at + timedelta(hours=4))
    turns = decisions.category_turns(cid, "toner", 20)
    assert [t.arm for t in turns] == arms[::-1] and all(t.arm and "|email|" in t.arm for t in turns)
    assert [t.outcome for t in turns] == ["ignored", "ignored"]
