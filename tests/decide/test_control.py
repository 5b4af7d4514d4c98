"""Control levels: explicit choices win, then the learned level, then the firm's cautious default; never learned
into automation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.decide import control
from rapport.decide.control import LEARNABLE, ControlSetting, resolve_level
from rapport.decide.decision import Decision, new_decision_id
from rapport.decide.outcomes import record_outcome
from rapport.decide.situations import Situation
from rapport.errors import InvalidInput
from rapport.store.decisions import SqlDecisionStore
from tests.decide.conftest import NOW, customer, need


def test_firm_default_then_explicit_then_cleared(decisions: SqlDecisionStore) -> None:
    firm = SqlDecisionStore(
        decisions.settings.with_overrides(default_control_levels={"*": "i_choose", "coffee": "show_me_options"}),
        engine=decisions.engine,
    )
    cid = customer(firm, "ctl")
    assert control.control_level(firm, cid, "coffee") == ("show_me_options", "firm_default")
    assert control.control_level(firm, cid, "toner") == ("i_choose", "firm_default")
    control.set_control_level(firm, cid, "toner", "do_it_for_me", NOW)
    control.set_control_level(firm, cid, "*", "remind_me", NOW)
    assert control.control_level(firm, cid, "toner") == ("do_it_for_me", "explicit")
    assert control.control_level(firm, cid, "coffee") == ("remind_me", "explicit"), "'*' covers other categories"
    control.set_control_level(firm, cid, "toner", "show_me_options", NOW + timedelta(days=1))
    assert control.control_level(firm, cid, "toner") == ("show_me_options", "explicit")
    assert control.clear_control_level(firm, cid, "toner") is True
    assert control.control_level(firm, cid, "toner") == ("remind_me", "explicit")
    assert [(s.category, s.level) for s in control.control_levels(firm, cid)] == [("*", "remind_me")]


def test_a_firm_default_of_automation_falls_back_to_remind_me(decisions: SqlDecisionStore) -> None:
    firm = SqlDecisionStore(
        decisions.settings.with_overrides(default_control_levels={"*": "do_it_for_me"}), engine=decisions.engine
    )
    assert control.control_level(firm, customer(firm, "auto"), "toner") == ("remind_me", "firm_default")


def test_unknown_level_and_bad_category_are_refused(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "bad")
    with pytest.raises(InvalidInput, match="always"):
        control.set_control_level(decisions, cid, "toner", "always", NOW)
    with pytest.raises(InvalidInput, match="Category"):
        control.set_control_level(decisions, cid, "", "remind_me", NOW)


@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["toner", "*", "coffee"]),
            st.sampled_from(["explicit", "learned"]),
            st.sampled_from(control.LEVELS),
        ),
        max_size=6,
        unique_by=lambda r: (r[0], r[1]),
    )
)
def test_resolution_order_and_learning_never_automates(rows: list[tuple[str, str, str]]) -> None:
    from rapport.config import Settings

    stored = [ControlSetting("c", category, level, source, NOW) for category, source, level in rows]
    level, source = resolve_level(stored, Settings(), "toner")
    explicit = {s.category: s.level for s in stored if s.source == "explicit"}
    if "toner" in explicit:
        assert (level, source) == (explicit["toner"], "explicit")
    elif "*" in explicit:
        assert (level, source) == (explicit["*"], "explicit")
    else:
        assert level in LEARNABLE, "without an explicit choice the level is never automatic"
        assert source in ("learned", "firm_default")


def _reminded(store: SqlDecisionStore, cid: str, n: int, outcome: str) -> None:
    """The n-th logged reminder about toner, and what the customer did with it."""
    decision = Decision(
        new_decision_id(), cid, Situation("need_due"), "act", "coach_behavior", {"type": "nudge"}, [], {},
        need(cid), NOW + timedelta(days=n),
    )  # fmt: skip
    store.save_decision(decision)
    record_outcome(store, decision.id, outcome, NOW + timedelta(days=n, hours=1))


def test_learning_moves_away_from_dismissed_reminders_but_never_to_automation(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "learner")
    _reminded(decisions, cid, 0, "dismissed")
    level, source = control.control_level(decisions, cid, "toner")
    assert (level, source) == ("i_choose", "learned"), "the firm's unconfirmed default gives way to a refusal"
    learned = [s for s in control.control_levels(decisions, cid) if s.source == "learned"]
    assert learned[0].evidence["was"] == "remind_me" and learned[0].evidence["outcomes"] == {"remind_me": 1}
    chosen_at = NOW + timedelta(hours=2)
    control.set_control_level(decisions, cid, "toner", "remind_me", chosen_at)
    assert control.control_level(decisions, cid, "toner") == ("remind_me", "explicit"), "explicit beats learned"
    for n in range(1, 4):
        _reminded(decisions, cid, n, "dismissed")
        assert control.control_level(decisions, cid, "toner") == ("remind_me", "explicit"), "the choice stands"
    rechecks = [p for p in decisions.open_prompts(cid, "toner") if p.details.get("since", "").startswith("chosen:")]
    assert len(rechecks) == 1 and rechecks[0].kind == "choose_level", "three refusals since the choice: asked once"
    assert rechecks[0].details["since"] == f"chosen:{chosen_at.isoformat()}"


def test_accepted_reminders_keep_the_level(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "happy")
    for n in range(5):
        _reminded(decisions, cid, n, "accepted" if n % 2 else "converted")
    assert control.control_level(decisions, cid, "toner") == ("remind_me", "firm_default")
