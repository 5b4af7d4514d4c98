"""Consent per purpose: timestamped with its source, history kept, cautious without a record; withdrawing stops
what depended on it (queued messages on the channel, pending automatic orders)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.decide import consent
from rapport.errors import InvalidInput
from rapport.store.decisions import SqlDecisionStore
from tests.decide.conftest import NOW, customer


def test_nothing_is_consented_without_a_record(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "fresh")
    assert not any(consent.consents_in_force(decisions, cid, NOW).values())


def test_grant_withdraw_history_and_retry(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "history")
    first = consent.record_consent(decisions, cid, "personalisation", True, "app", NOW)
    assert first.changed and consent.has_consent(decisions, cid, "personalisation", NOW)
    again = consent.record_consent(decisions, cid, "personalisation", True, "web", NOW + timedelta(minutes=1))
    assert not again.changed and again.consent.source == "app", "a retry keeps the first record"
    consent.record_consent(decisions, cid, "personalisation", False, "call_centre", NOW + timedelta(days=1), "asked")
    assert consent.has_consent(decisions, cid, "personalisation", NOW + timedelta(hours=1)), "as it was then"
    assert not consent.has_consent(decisions, cid, "personalisation", NOW + timedelta(days=2))
    history = consent.consent_history(decisions, cid)
    assert [(c.granted, c.source, c.note) for c in history] == [(True, "app", None), (False, "call_centre", "asked")]
    assert history[1].recorded_at == NOW + timedelta(days=1)


def test_unknown_purpose_and_missing_source_are_refused(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "strict")
    with pytest.raises(InvalidInput, match="marketing"):
        consent.record_consent(decisions, cid, "marketing", True, "app", NOW)
    with pytest.raises(InvalidInput, match="source"):
        consent.record_consent(decisions, cid, "personalisation", True, "", NOW)
    with pytest.raises(InvalidInput, match="marketing"):
        consent.has_consent(decisions, cid, "marketing", NOW)


def test_presumed_consents_never_cover_automation(decisions: SqlDecisionStore) -> None:
    firm = SqlDecisionStore(
        decisions.settings.with_overrides(presumed_consents=("contact:app", "automatic_execution")),
        engine=decisions.engine,
    )
    cid = customer(firm, "presumed")
    assert consent.has_consent(firm, cid, "contact:app", NOW)
    assert not consent.has_consent(firm, cid, "automatic_execution", NOW)
    consent.record_consent(firm, cid, "contact:app", False, "app", NOW)
    assert not consent.has_consent(firm, cid, "contact:app", NOW), "a withdrawal beats the presumption"


def test_withdrawing_a_channel_withdraws_its_queued_messages_and_frees_the_budget(decisions: SqlDecisionStore) -> None:
    from rapport.decide import contact_policy
    from rapport.respond.outbox import enqueue_action, get_action

    cid = customer(decisions, "channel")
    consent.record_consent(decisions, cid, "contact:email", True, "web", NOW)
    consent.record_consent(decisions, cid, "contact:push", True, "web", NOW)
    email = enqueue_action(decisions, cid, "nudge", "email", {"m": 1}, NOW + timedelta(hours=5), "k-email")
    push = enqueue_action(decisions, cid, "nudge", "push", {"m": 2}, NOW + timedelta(hours=5), "k-push")
    contact_policy.record_contact(decisions, cid, "nudge", "email", NOW + timedelta(hours=5), key="k-email")
    contact_policy.record_contact(decisions, cid, "nudge", "push", NOW + timedelta(hours=5), key="k-push")
    assert contact_policy.contact_cost(decisions, cid, NOW) == 1.0
    change = consent.record_consent(decisions, cid, "contact:email", False, "web", NOW + timedelta(hours=1))
    assert change.withdrawn_actions == [email.id]
    assert get_action(decisions, email.id).status == "withdrawn"
    assert get_action(decisions, push.id).status != "withdrawn", "other channels keep their messages"
    assert contact_policy.contact_cost(decisions, cid, NOW) == 0.5, "the withdrawn message no longer counts"


@given(
    changes=st.lists(
        st.tuples(st.sampled_from(consent.PURPOSES), st.booleans(), st.integers(min_value=0, max_value=100)),
        max_size=30,
    ),
    at=st.integers(min_value=0, max_value=100),
)
def test_the_latest_record_at_or_before_now_is_in_force(changes: list[tuple[str, bool, int]], at: int) -> None:
    from rapport.config import Settings
    from rapport.decide.consent import Consent

    records = [Consent("c", p, g, "test", NOW + timedelta(hours=h)) for p, g, h in sorted(changes, key=lambda c: c[2])]
    found = consent.in_force(records, Settings(), NOW + timedelta(hours=at))
    for purpose in consent.PURPOSES:
        earlier = [r for r in records if r.purpose == purpose and r.recorded_at <= NOW + timedelta(hours=at)]
        assert found[purpose] is (earlier[-1].granted if earlier else False)
