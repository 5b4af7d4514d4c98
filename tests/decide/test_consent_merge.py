"""Consent through a merge: where the joined records disagree the stricter choice wins, until the customer says
otherwise; an undo gives each record its own choices back."""

from __future__ import annotations

from datetime import timedelta

from rapport.customers.ingestion import ingest
from rapport.customers.service import merge_history, resolve_customer
from rapport.decide.consent import consents_in_force, has_consent, record_consent
from rapport.store.decisions import SqlDecisionStore
from tests.decide.conftest import NOW


def two_records(store: SqlDecisionStore) -> tuple[str, str]:
    report = ingest(
        store,
        [
            {"type": "identify", "messageId": "cm-1", "userId": "u-web", "traits": {"email": "web@example.org"}},
            {"type": "identify", "messageId": "cm-2", "anonymousId": "crm-7", "traits": {"phone": "+49 30 555123"}},
        ],
        store.settings,
    )
    assert not report.rejected
    return resolve_customer(store, "u-web"), resolve_customer(store, "crm-7")


def join(store: SqlDecisionStore) -> None:
    ingest(store, [{"type": "alias", "messageId": "cm-3", "previousId": "crm-7", "userId": "u-web"}], store.settings)


def test_the_stricter_choice_wins_until_the_customer_chooses_again(decisions: SqlDecisionStore) -> None:
    web, crm = two_records(decisions)
    record_consent(decisions, web, "contact:email", True, "web-signup", NOW - timedelta(days=9))
    record_consent(decisions, web, "personalisation", True, "web-signup", NOW - timedelta(days=9))
    record_consent(decisions, crm, "contact:email", False, "call-centre", NOW - timedelta(days=8))
    join(decisions)
    profile = resolve_customer(decisions, "crm-7")
    assert profile == resolve_customer(decisions, "u-web")
    later = NOW + timedelta(days=400)  # after the merge, which is stamped with the wall clock
    assert not has_consent(decisions, profile, "contact:email", later), "the call centre's withdrawal stands"
    assert has_consent(decisions, profile, "personalisation", later), "a record with no choice does not disagree"
    change = record_consent(decisions, profile, "contact:email", True, "preference-centre", later)
    assert change.changed
    assert has_consent(decisions, profile, "contact:email", later + timedelta(seconds=1)), "the customer said so"


def test_an_undo_gives_each_record_its_own_choices(decisions: SqlDecisionStore) -> None:
    web, crm = two_records(decisions)
    record_consent(decisions, web, "contact:email", True, "web-signup", NOW)
    record_consent(decisions, crm, "contact:email", False, "call-centre", NOW)
    join(decisions)
    profile = resolve_customer(decisions, "u-web")
    later = NOW + timedelta(days=400)
    assert consents_in_force(decisions, profile, later)["contact:email"] is False
    applied = [m for m in merge_history(decisions, profile) if m["status"] == "applied"]
    decisions.undo_merge(applied[-1]["id"], "test")
    assert has_consent(decisions, resolve_customer(decisions, "u-web"), "contact:email", later)
    assert not has_consent(decisions, resolve_customer(decisions, "crm-7"), "contact:email", later)
