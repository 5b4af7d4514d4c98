"""Recording voice items: idempotent, linked only through the identity graph, and into the relationship."""

from __future__ import annotations

from datetime import timedelta

from rapport.decide import consent, control
from rapport.decide.engine import decide
from rapport.decide.situations import Situation
from rapport.recognize.refresh import refresh_customer_needs
from rapport.store.decisions import SqlDecisionStore
from rapport.store.store import Store
from rapport.voice import record_voice_items
from rapport.voice.service import refresh_voice_needs
from tests.decide.conftest import NOW, customer, need, store_needs, toner_order

COMPLAINT = "My toner order arrived two weeks late and nobody at support answered. Very disappointed."


def _item(external_id: str, text: str = COMPLAINT, at=NOW - timedelta(days=1), **extra: object) -> dict[str, object]:
    return {"source": "tickets", "external_id": external_id, "time": at.isoformat(), "text": text, **extra}


def test_a_retried_item_is_stored_once_and_bad_items_are_rejected_with_the_reason(store: Store) -> None:
    first = record_voice_items(store, [_item("t-1"), _item("t-2", "Great service, thanks!")], now=NOW)
    retried = record_voice_items(store, [_item("t-1"), _item("t-1"), {"source": "tickets", "text": "x"}], now=NOW)
    assert (first.stored, first.duplicates) == (2, 0)
    assert (retried.stored, retried.duplicates, len(retried.rejected)) == (0, 2, 1)
    assert "external_id" in retried.rejected[0]
    rows = store.voice.items_between(NOW - timedelta(days=30), NOW)
    assert sorted(r["label"] for r in rows) == ["negative", "positive"]


def test_items_link_only_when_an_identifier_matches_one_profile(decisions: SqlDecisionStore) -> None:
    ada = customer(decisions, "ada")
    bob = customer(decisions, "bob")
    report = record_voice_items(
        decisions,
        [
            _item("a", identifiers={"email": "ADA@example.org"}),  # normalised before the look-up
            _item("b", identifiers={"email": "nobody@example.org"}),  # unknown: kept, not linked
            _item("c", email="ada@example.org", identifiers={"user_id": "u-bob"}),  # two profiles: no guess
        ],
        now=NOW,
    )
    assert (report.stored, report.linked) == (3, 1)
    assert [r["external_id"] for r in decisions.voice.customer_items(ada)] == ["a"]
    assert decisions.voice.customer_items(bob) == []
    decisions.erase(ada)  # erasing the customer erases what they said, through the customer_id column
    left = decisions.voice.items_between(NOW - timedelta(days=30), NOW)
    assert len(left) == 2 and all(r["text"] for r in left)  # only item "a" was theirs


def test_a_negative_item_puts_service_before_selling_for_a_week(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "hurt", orders=[toner_order(2), toner_order(1)])
    store_needs(decisions, cid, need(cid))
    control.set_control_level(decisions, cid, "toner", "remind_me", NOW)
    consent.record_consent(decisions, cid, "contact:email", True, "test", NOW - timedelta(days=1))
    record_voice_items(
        decisions, [_item("happy", "Love the new toner, works great!", email="hurt@example.org")], now=NOW
    )
    assert decide(decisions, cid, Situation("need_due"), NOW).status == "act"  # a happy item raises no issue

    report = record_voice_items(decisions, [_item("late", email="hurt@example.org")], now=NOW)
    assert report.issue_needs == 1
    issue = next(n for n in decisions.read_needs(cid) if n.kind == "issue")
    assert "delivery" in issue.evidence["aspects"] and issue.evidence["source"] == "tickets"
    for day in range(6):  # no sales nudge all week, whatever else Recognize finds in between
        refresh_customer_needs(decisions, cid, NOW + timedelta(days=day))
        later = decide(decisions, cid, Situation("need_due"), NOW + timedelta(days=day))
        assert later.status == "nothing_now" and "complaint comes first" in later.reasons[-1]
    refresh_voice_needs(decisions, cid, NOW + timedelta(days=8))
    store_needs(decisions, cid, need(cid, now=NOW + timedelta(days=8)))
    assert all(n.kind != "issue" for n in decisions.read_needs(cid))
    assert decide(decisions, cid, Situation("need_due"), NOW + timedelta(days=8)).status == "act"
