"""The customer 360 and operations read models, on SQLite and PostgreSQL: search by identifier or name, the person
across divisions, undo a merge (with its audit entry), decide a linkage review, the dead letter and its retry, the
customer's conversations and voice items, and the customers who are hurting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rapport.conversations.service import write_from_me
from rapport.customers.ingestion import ingest
from rapport.customers.linkage.ports import Review
from rapport.errors import InvalidInput, NotFound
from rapport.respond import outbox
from rapport.respond.webhooks import HttpTransport, WebhookPolicy, deliver_due
from rapport.store.conversations import SqlConversationStore
from rapport.store.customer360 import (
    customer_360,
    decide_review_for,
    hurting_customers,
    search_customers,
    undo_merge_for,
)
from rapport.store.decisions import SqlDecisionStore
from rapport.store.linkage import linkage_store
from rapport.store.operations import operations, retry_dead_action
from rapport.store.store import Store
from rapport.voice import record_voice_items

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _events() -> list[dict]:
    at = NOW - timedelta(days=3)
    return [
        {"type": "identify", "messageId": "m1", "userId": "u-anna", "timestamp": at.isoformat(),
         "context": {"channel": "web"},
         "traits": {"email": "Anna.Berg@example.org", "first_name": "Anna", "last_name": "Bergström"}},
        {"type": "identify", "messageId": "m2", "anonymousId": "store-anna", "timestamp": (at + timedelta(hours=1)).isoformat(),
         "context": {"channel": "store"}, "traits": {"loyalty_card": "LC-4711"}},
        {"type": "track", "messageId": "m3", "anonymousId": "store-anna", "event": "Order Completed",
         "timestamp": (at + timedelta(hours=2)).isoformat(), "context": {"channel": "store"},
         "properties": {"total": 12.5, "products": [{"sku": "T-1", "category": "toner"}]}},
        {"type": "identify", "messageId": "m4", "userId": "u-carl", "timestamp": at.isoformat(),
         "context": {"channel": "call_centre"}, "traits": {"email": "carl@example.org", "first_name": "Carl",
                                                            "last_name": "Bergström"}},
    ]  # fmt: skip


def _joined(store: Store) -> None:
    """The store's record and the web account: apart at first, joined when the till sees her e-mail."""
    ingest(store, _events(), store.settings)
    seen = {"type": "identify", "messageId": "m5", "anonymousId": "store-anna", "context": {"channel": "store"},
            "timestamp": (NOW - timedelta(days=2)).isoformat(), "traits": {"email": "anna.berg@example.org "}}  # fmt: skip
    ingest(store, [seen], store.settings)


def test_search_the_360_and_undo_a_merge(store: Store) -> None:
    _joined(store)
    [anna] = search_customers(store, "anna.berg@example.org")
    assert anna["name"] == "Anna Bergström" and anna["records"] == 2
    assert [f["customer_id"] for f in search_customers(store, "LC-4711")] == [anna["customer_id"]]
    assert [f["name"] for f in search_customers(store, "anna bergström")] == ["Anna Bergström"]
    assert {f["name"] for f in search_customers(store, "Bergström")} == {"Anna Bergström", "Carl Bergström"}
    assert search_customers(store, "nobody-like-this") == []
    with pytest.raises(InvalidInput):
        search_customers(store, "  ")

    view = customer_360(store, anna["customer_id"], NOW)
    assert view["divisions"] == {"stores": 3, "online": 1}
    assert {e["division"] for e in view["timeline"]} == {"online", "stores"}
    assert view["timeline"][0]["type"] == "identify" and view["timeline"][1]["name"] == "Order Completed"
    [merge] = [m for m in view["merges"] if m["status"] == "applied"]
    with pytest.raises(NotFound):
        undo_merge_for(store, anna["customer_id"], merge["id"] + 999, "wrong", "staff:x", NOW)
    with pytest.raises(InvalidInput):
        undo_merge_for(store, anna["customer_id"], merge["id"], " ", "staff:x", NOW)
    undone = undo_merge_for(store, anna["customer_id"], merge["id"], "two people", "staff:agent@firm", NOW)
    assert undone["status"] == "undone"
    again = undo_merge_for(store, anna["customer_id"], merge["id"], "two people", "staff:agent@firm", NOW)
    assert again["status"] == "undone"  # asking again changes nothing
    after = customer_360(store, anna["customer_id"], NOW)
    assert len(after["records"]) == 1
    [entry] = [a for a in after["audit"] if a["action"] == "merge_undone"]
    assert entry["actor"] == "staff:agent@firm" and entry["details"]["reason"] == "two people"


def test_a_linkage_review_is_confirmed_from_the_360(store: Store) -> None:
    ingest(store, _events(), store.settings)
    [anna] = search_customers(store, "u-anna")
    [carl] = search_customers(store, "u-carl")
    review = Review(0, anna["customer_id"], carl["customer_id"], 0.7, {"last_name": {"level": "exact"}}, "pending", NOW,
                    attributes={anna["customer_id"]: {"last_name": "Bergström"},
                                carl["customer_id"]: {"last_name": "Bergström"}})  # fmt: skip
    with linkage_store(store).transaction() as tx:
        review_id = tx.add_review(review)
    [waiting] = customer_360(store, carl["customer_id"], NOW)["reviews"]
    assert waiting["id"] == review_id
    decided = decide_review_for(store, review_id, "confirm", "same household", "staff:agent@firm")
    assert decided["status"] == "confirmed" and decided["note"] == "same household (staff:agent@firm)"
    joined = customer_360(store, carl["customer_id"], NOW)
    assert joined["reviews"] == [] and anna["customer_id"] in joined["records"] + [joined["customer_id"]]


def test_operations_count_the_dead_letter_and_retry_it(store: Store) -> None:
    ingest(store, _events(), store.settings)
    [anna] = search_customers(store, "u-anna")
    log = SqlDecisionStore.over(store)
    action = outbox.enqueue_action(log, anna["customer_id"], "nudge", "email", {"text": "hi"}, NOW, "k-1")
    # a real POST to a closed local port: refused, and with one attempt allowed the action is dead at once
    policy = WebhookPolicy("http://127.0.0.1:9/hook", "secret", max_attempts=1, timeout_seconds=2)
    [delivery] = deliver_due(log, policy, NOW, HttpTransport())
    assert delivery.outcome == "dead"
    ops = operations(store, NOW + timedelta(hours=1))
    assert [d["id"] for d in ops["webhooks"]["dead_letter"]] == [action.id]
    assert ops["webhooks"]["by_status"] == {"dead": 1}
    assert ops["ingestion"]["total"] == 4 and ops["ingestion"]["by_channel"]["store"] == 2
    assert retry_dead_action(store, action.id, NOW, "staff:admin@firm")["requeued"] is True
    assert retry_dead_action(store, action.id, NOW, "staff:admin@firm")["requeued"] is False  # idempotent
    assert operations(store, NOW + timedelta(hours=1))["webhooks"]["by_status"] == {"pending": 1}
    with pytest.raises(NotFound):
        retry_dead_action(store, "nope", NOW, "staff:admin@firm")


def _said(external_id: str, email: str, text: str, days_ago: float) -> dict[str, object]:
    at = NOW - timedelta(days=days_ago)
    return {"source": "tickets", "external_id": external_id, "time": at.isoformat(), "text": text,
            "identifiers": {"email": email}}  # fmt: skip


def test_the_360_shows_conversations_and_voice_and_only_the_hurting_are_listed(store: Store) -> None:
    _joined(store)
    anna = search_customers(store, "anna.berg@example.org")[0]["customer_id"]
    carl = search_customers(store, "carl@example.org")[0]["customer_id"]
    assert hurting_customers(store, NOW) == []
    record_voice_items(store, [
        _said("t-1", "anna.berg@example.org", "My toner arrived broken and support never answered. Awful.", 1),
        _said("r-1", "carl@example.org", "Great service, the toner came fast. Thank you!", 1),
        _said("t-0", "carl@example.org", "Terrible, the delivery was late and the box was wet.", 30),  # too old
    ], now=NOW)  # fmt: skip

    hurting = hurting_customers(store, NOW)
    assert [h["customer_id"] for h in hurting] == [anna]  # positive, or negative long ago: not hurting
    assert hurting[0]["name"] == "Anna Bergström" and "broken" in hurting[0]["why"]

    posted = write_from_me(SqlConversationStore.over(store), carl, "Where is my order?", NOW - timedelta(hours=1), None)
    hurting = hurting_customers(store, NOW)
    assert [h["customer_id"] for h in hurting] == [carl, anna]  # his open ticket is newer than her complaint
    assert hurting[0]["why"].startswith("open issue")

    view = customer_360(store, carl, NOW)
    [conversation] = view["conversations"]
    assert conversation["id"] == posted.conversation_id and conversation["awaiting_reply"]
    assert conversation["last"]["body"] == "Where is my order?"
    said = {v["external_id"]: v["label"] for v in view["voice"]}
    assert said["r-1"] == "positive" and said["t-0"] == "negative" and posted.message.id in said
    assert [v["external_id"] for v in view["voice"]][-1] == "t-0"  # newest first
    assert customer_360(store, anna, NOW)["conversations"] == []
