""" "Why did I get this?" and "not like this" on real logged decisions, on both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rapport.access.customers import send_sign_in_link
from rapport.api.access import AppAccess
from rapport.conversations import service
from rapport.decide import consent, control, explanations
from rapport.decide.contact_policy import policy_of
from rapport.decide.engine import decide
from rapport.decide.situations import Situation
from rapport.errors import InvalidInput, NotFound
from rapport.respond.automatic import cancel_automatic_order, schedule_automatic_order
from rapport.respond.mandates import create_mandate, revoke_mandate
from rapport.respond.outbox import acknowledge
from rapport.respond.scheduler import run_due
from rapport.store.conversations import SqlConversationStore
from rapport.store.decisions import SqlDecisionStore
from tests.decide.conftest import NOW, TONER_MANDATE, customer, need, store_needs, toner_order
from tests.respond.conftest import T0, consenting_customer

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


# ----- contacts without a decision of their own -----------------------------------------------------------------
def test_an_automatic_order_notice_is_explained_from_its_mandate_and_offers_the_settings(
    decisions: SqlDecisionStore,
) -> None:
    cid = consenting_customer(decisions, "notice-why", "app")
    mandate = create_mandate(decisions, cid, TONER_MANDATE, T0 - timedelta(hours=1))
    order = schedule_automatic_order(decisions, cid, mandate.id, "TON-305", 2, T0, "toner runs out in 3 days")
    run_due(decisions, T0)
    [told] = explanations.recent_explanations(decisions, cid)
    assert isinstance(told, explanations.ContactExplanation) and told.kind == "notice" and told.at == T0
    assert told.headline.startswith("We told you about an automatic order: 2 x TON-305 for ")
    assert "Your mandate for toner (at most 100.00 EUR an order, 200.00 a month) scheduled this order." in told.why
    assert "You can cancel until 03 Mar 2026, 10:00 UTC; it is not placed before then." in told.why
    assert told.data_used["mandate"]["id"] == mandate.id and told.data_used["order"]["id"] == order.id
    assert told.data_used["notice"]["cancel_until"] == "2026-03-03T10:00:00+00:00"
    settings = {s.kind: s.change for s in told.settings}
    assert settings["automatic_order"] == {"cancel": order.id}
    assert settings["mandate"] == {"mandate_id": mandate.id, "revoke": True}
    assert told.to_dict()["records_outcome"] is False and told.to_dict()["decision_id"] is None
    with pytest.raises(NotFound):  # no decision, so no outcome to record
        explanations.not_like_this(decisions, cid, told.action_id, "too_many", T0)

    other = consenting_customer(decisions, "notice-other", "app")
    assert explanations.recent_explanations(decisions, other) == [], "another customer's contacts are not theirs"

    acknowledge(decisions, cid, told.action_id, T0, "app")  # the app showed it: it reached the customer
    cancel_automatic_order(decisions, cid, order.id, T0 + timedelta(hours=1))
    revoke_mandate(decisions, cid, mandate.id, T0 + timedelta(hours=2))
    [after] = explanations.recent_explanations(decisions, cid)
    assert after.action_id == told.action_id and after.data_used["status"] == "acknowledged"
    assert any(w.startswith("It was cancelled") for w in after.why)
    assert "automatic_order" not in {s.kind for s in after.settings} and "mandate" not in {
        s.kind for s in after.settings
    }


def test_replies_and_sign_in_links_are_interleaved_with_decisions_newest_first(decisions: SqlDecisionStore) -> None:
    cid, decision_id = _reminded(decisions, "mixed")
    inbox = SqlConversationStore.over(decisions)
    wrote = service.write_from_me(inbox, cid, "Where is my parcel?", NOW + timedelta(hours=1), "k1")
    service.reply(inbox, wrote.conversation_id, "agent@firm.example", "On its way.", NOW + timedelta(hours=2))
    access = AppAccess.over(decisions)
    link, _ = send_sign_in_link(decisions, access.accounts, access.secret, cid, "email", "https://x.example",
                                NOW + timedelta(hours=3))  # fmt: skip
    told = explanations.recent_explanations(decisions, cid)
    assert [e.explains for e in told] == ["contact", "contact", "decision"], "the decision's own reminder once"
    sign_in, reply, decided = told
    assert sign_in.headline == "A sign-in link to your pages, on email." and sign_in.action_id == link.id
    assert "url" not in sign_in.data_used and "sign-in" not in str(sign_in.data_used), "the link is a key"
    assert reply.headline == "Our reply to your message of 10 Mar 2026, 13:00 UTC."
    assert reply.data_used["conversation"]["conversation_id"] == wrote.conversation_id
    assert [s.kind for s in reply.settings] == ["none"]
    assert decided.decision_id == decision_id
    assert [e.explains for e in explanations.recent_explanations(decisions, cid, limit=1)] == ["contact"]
