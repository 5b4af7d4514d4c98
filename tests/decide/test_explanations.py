""" "Why did I get this?" and "not like this" on real logged decisions, on both stores."""

from __future__ import annotations

import pytest

from rapport.decide import consent, control, explanations
from rapport.decide.contact_policy import policy_of
from rapport.decide.engine import decide
from rapport.decide.situations import Situation
from rapport.errors import InvalidInput, NotFound
from rapport.store.decisions import SqlDecisionStore
from tests.decide.conftest import NOW, customer, need, store_needs, toner_order

NEED_DUE = Situation("need_due")


def _reminded(store: SqlDecisionStore, name: str, level: str = "remind_me") -> tuple[str, str]:
    """A toner customer reminded by e-mail: (customer id, decision id)."""
    cid = customer(store, name, orders=[toner_order(2), toner_order(1)])
    store_needs(store, cid, need(cid))
    control.set_control_level(store, cid, "toner", level, NOW)
    consent.record_consent(store, cid, "contact:email", True, "test", NOW)
    decision = decide(store, cid, NEED_DUE, NOW)
    assert decision.status == "act", decision.reasons
    return cid, decision.id


def test_a_reminder_is_explained_in_plain_words_with_the_data_it_used(decisions: SqlDecisionStore) -> None:
    cid, decision_id = _reminded(decisions, "why")
    [explained] = explanations.recent_explanations(decisions, cid)
    assert explained.decision_id == decision_id
    assert explained.headline == "We sent you a reminder about TONER-BK-305 on email."
    assert any(w.startswith("We expected you would need TONER-BK-305 (due in 1.0 days)") for w in explained.why)
    assert "Your setting for toner is \u201cRemind me\u201d (you chose it)." in explained.why
    assert "It went out on email, within your contact limits." in explained.why
    assert explained.data_used["need"]["evidence"] == "test depletion need for TONER-BK-305"
    assert explained.data_used["channel"] == "email" and "decide" in explained.data_used["model_versions"]
    assert "too_much_automation" not in [f["feedback"] for f in explained.feedback], "only offered for automation"


def test_not_like_this_records_an_outcome_once_and_proposes_the_matching_setting(decisions: SqlDecisionStore) -> None:
    cid, decision_id = _reminded(decisions, "notlike")
    cap = next(c for c in policy_of(decisions, cid).caps if c.channel == "*")
    fewer, created = explanations.not_like_this(decisions, cid, decision_id, "too_many", NOW)
    assert created and fewer.kind == "contact_policy"
    assert fewer.change == {"caps": [{"channel": "*", "days": cap.days, "max": cap.limit - 1}]}
    [outcome] = decisions.outcomes_of(decision_id)
    assert outcome.outcome == "dismissed" and outcome.details == {"feedback": "too_many", "via": "me"}
    again, created_again = explanations.not_like_this(decisions, cid, decision_id, "not_relevant", NOW)
    assert not created_again and len(decisions.outcomes_of(decision_id)) == 1, "one outcome per decision"
    assert again.kind == "control_level" and again.change == {"category": "toner", "level": "show_me_options"}
    channel, _ = explanations.not_like_this(decisions, cid, decision_id, "wrong_channel", NOW)
    assert channel.change["preferred_channels"][-1] == "email"
    assert "email" not in channel.change["preferred_channels"][:-1]


def test_another_customers_decision_is_not_found_and_bad_feedback_is_refused(decisions: SqlDecisionStore) -> None:
    _cid, decision_id = _reminded(decisions, "owner")
    other = customer(decisions, "other")
    with pytest.raises(NotFound):
        explanations.explanation_for(decisions, other, decision_id)
    with pytest.raises(NotFound):
        explanations.not_like_this(decisions, other, decision_id, "too_many", NOW)
    with pytest.raises(InvalidInput, match="too_many"):
        explanations.not_like_this(decisions, _cid, decision_id, "meh", NOW)
    assert decisions.outcomes_of(decision_id) == []


def test_every_reason_the_engine_writes_reads_as_a_sentence() -> None:
    for reason, expected in [
        ("deferred by the contact policy to 2026-03-11T08:00:00+00:00: quiet hours", "We waited for a time"),
        ("open issue: Open complaint c1", "You have an open conversation with us"),
        ("nothing now: no contact consent on any channel", "We held back: no contact consent on any channel."),
        ("no contact consent on sms, push: not those channels", "You have not agreed to be contacted on sms, push"),
    ]:
        assert explanations.plain_reason(reason).startswith(expected)
