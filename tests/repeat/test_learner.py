"""The in-memory learner learns exactly what Decide learns against the store, outcome by outcome."""

from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rapport.decide import control
from rapport.decide.decision import Decision, new_decision_id
from rapport.decide.outcomes import record_outcome
from rapport.decide.situations import Situation
from rapport.repeat.learner import Learner
from rapport.repeat.preferences import AUTO_CANCELS
from rapport.store.decisions import SqlDecisionStore
from tests.decide.conftest import NOW, customer, need

EXPERIENCES = ["respond_to_desire", "curated_offering", "coach_behavior", "automatic_execution"]


def test_three_cancels_then_accepted_reminders_in_memory() -> None:
    from rapport.config import Settings

    learner = Learner(Settings())
    learner.choose_level("c", "toner", "do_it_for_me", NOW)
    for n in range(AUTO_CANCELS):
        learner.observe("c", "toner", "automatic_execution", "cancelled", "SKU", NOW + timedelta(hours=n), f"a{n}")
    assert learner.level("c", "toner") == ("remind_me", "learned")
    for n in range(4):
        learner.observe("c", "toner", "coach_behavior", "accepted", "SKU", NOW + timedelta(days=n + 1), f"r{n}")
    assert [p.kind for p in learner.prompts("c")] == ["confirm_switch_back", "offer_mandate"]
    assert learner.level("c", "toner") == ("remind_me", "learned"), "offered, never granted"


def test_learning_asks_first_and_after_a_demotion_and_the_answer_is_the_customers_choice() -> None:
    from rapport.config import Settings

    learner = Learner(Settings())
    first = learner.observe("c", "groceries", "coach_behavior", "ignored", "SKU", NOW, "d0")
    assert first.prompt_kind == "choose_level" and first.level is None, "nobody chose yet: ask how to help"
    for n in range(1, 4):
        learner.observe("c", "groceries", "coach_behavior", "dismissed", "SKU", NOW + timedelta(days=n), f"d{n}")
    assert learner.level("c", "groceries") == ("i_choose", "learned")
    asked = [p for p in learner.prompts("c") if p.kind == "choose_level"]
    assert [p.details.get("switched_to") for p in asked] == [None, "i_choose"], "one question first, one on demotion"
    assert "was that right?" in asked[1].message
    learner.choose_level("c", "groceries", "remind_me", NOW + timedelta(days=4))  # the customer's answer
    assert learner.level("c", "groceries") == ("remind_me", "explicit"), "an explicit answer outranks learning"
    again = learner.observe("c", "groceries", "coach_behavior", "accepted", "SKU", NOW + timedelta(days=5), "d5")
    assert again.prompt_kind is None, "a customer who chose is not asked again"


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    stream=st.lists(
        st.tuples(st.sampled_from(EXPERIENCES), st.sampled_from(["accepted", "dismissed", "cancelled", "ignored"])),
        min_size=1,
        max_size=14,
    ),
    automate=st.booleans(),
)
@example(  # a level learned from an outcome is judged on later decisions only (found by Hypothesis)
    stream=[("respond_to_desire", "dismissed")] * 3
    + [("curated_offering", "dismissed")] * 2
    + [("coach_behavior", "dismissed")]
    + [("respond_to_desire", "accepted")] * 6
    + [("coach_behavior", "accepted"), ("coach_behavior", "dismissed")],
    automate=False,
)
def test_the_learner_matches_the_store(
    decisions: SqlDecisionStore, stream: list[tuple[str, str]], automate: bool
) -> None:
    cid = customer(decisions, f"twin-{uuid.uuid4().hex[:10]}")
    learner = Learner(decisions.settings)
    if automate:
        control.set_control_level(decisions, cid, "toner", "do_it_for_me", NOW)
        learner.choose_level(cid, "toner", "do_it_for_me", NOW)
    for n, (experience, outcome) in enumerate(stream):
        at = NOW + timedelta(hours=n + 1)
        situation = Situation("app_open" if n % 3 == 2 else "need_due")  # some turns answer their own visit
        decision = Decision(new_decision_id(), cid, situation, "act", experience, {"type": "x"}, [], {}, need(cid), at)  # type: ignore[arg-type]
        decisions.save_decision(decision)
        record_outcome(decisions, decision.id, outcome, at + timedelta(minutes=1))
        learner.observe(
            cid, "toner", experience, outcome, "TONER-BK-305", at, decision.id,
            inbound=situation.inbound, outcome_at=at + timedelta(minutes=1),
        )  # fmt: skip
        assert learner.level(cid, "toner") == control.control_level(decisions, cid, "toner"), (n, stream)
    stored = {p.kind for p in decisions.open_prompts(cid, "toner")}
    assert {p.kind for p in learner.prompts(cid)} == stored
