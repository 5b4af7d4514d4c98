"""Event-driven decisions: a level reading ingested through the real API leads to a logged decision at once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from rapport.api.app import create_app
from rapport.api.decide import install_decision_trigger
from rapport.customers.ingestion import IngestReport
from rapport.decide import consent
from rapport.decide.situations import records_to_decide
from rapport.decide.triggers import DecisionTrigger
from rapport.store.decisions import SqlDecisionStore
from rapport.store.keys import create_key
from rapport.store.store import Store


@pytest.fixture
def api(store: Store) -> Iterator[tuple[TestClient, DecisionTrigger, SqlDecisionStore]]:
    _, key = create_key(store.engine, ["write", "decide", "read"], "device-cloud")
    app = create_app(store)
    trigger = install_decision_trigger(app)
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client, trigger:
        yield client, trigger, app.state.decision_store


def _reading(user: str, level: int, at: datetime) -> dict:
    return {
        "messageId": f"lvl-{uuid.uuid4().hex}",
        "userId": user,
        "event": "Level Reported",
        "properties": {"device_id": "PRN-1", "sku": "TONER-BK-305", "category": "toner", "level_pct": level},
        "timestamp": at.isoformat(),
    }


def test_a_level_reading_leads_to_a_logged_decision(api: tuple[TestClient, DecisionTrigger, SqlDecisionStore]) -> None:
    client, trigger, store = api
    now = datetime.now(UTC)
    assert client.post(
        "/v1/identify", json={"userId": "printer-owner", "traits": {"email": "p@example.org"}}
    ).is_success
    cid = client.get("/v1/customers/lookup", params={"email": "p@example.org"}).json()["customer_id"]
    consent.record_consent(store, cid, "contact:push", True, "app", now - timedelta(days=30))
    for days_ago, level in ((12, 50), (8, 38), (4, 26)):
        assert client.post(
            "/v1/track", json=_reading("printer-owner", level, now - timedelta(days=days_ago))
        ).is_success
    assert trigger.wait_idle(10)
    last = _reading("printer-owner", 14, now)
    assert client.post("/v1/track", json=last).is_success
    assert trigger.wait_idle(10), "the decision follows the ingestion without any batch job"
    latest = client.get(f"/v1/customers/{cid}/decisions", params={"limit": 1}).json()["decisions"][0]
    assert latest["trigger"] == "event"
    assert latest["situation"]["touchpoint"] == "device_report"
    assert latest["situation"]["message_id"] == last["messageId"]
    assert latest["need"]["kind"] == "depletion" and latest["need"]["item"] == "TONER-BK-305"
    assert latest["experience"] == "coach_behavior", "the firm's default for toner is remind_me"
    assert trigger.failures == 0


def test_a_retried_event_is_not_decided_twice(api: tuple[TestClient, DecisionTrigger, SqlDecisionStore]) -> None:
    client, trigger, store = api
    reading = _reading("retry-owner", 40, datetime.now(UTC))
    for _ in range(2):
        assert client.post("/v1/track", json=reading).is_success
    assert trigger.wait_idle(10)
    cid = store.canonical_id(
        client.get("/v1/customers/lookup", params={"user_id": "retry-owner"}).json()["customer_id"]
    )
    assert [d.situation.message_id for d in store.decisions_of(cid)] == [reading["messageId"]]


def test_events_that_change_no_need_make_no_decision(api: tuple[TestClient, DecisionTrigger, SqlDecisionStore]) -> None:
    client, trigger, store = api
    assert client.post("/v1/track", json={"userId": "browser", "event": "Product Viewed", "properties": {}}).is_success
    assert trigger.wait_idle(10)
    cid = client.get("/v1/customers/lookup", params={"user_id": "browser"}).json()["customer_id"]
    assert store.decisions_of(cid) == []


def test_a_reading_and_a_view_in_one_batch_lead_to_one_decision(
    api: tuple[TestClient, DecisionTrigger, SqlDecisionStore],
) -> None:
    client, trigger, store = api
    now = datetime.now(UTC)
    reading = {"type": "track", **_reading("batch-owner", 30, now - timedelta(seconds=5))}
    viewed = {"type": "track", "userId": "batch-owner", "event": "Product Viewed", "timestamp": now.isoformat()}
    assert client.post(
        "/v1/batch", json={"batch": [reading, {**viewed, "messageId": f"v-{uuid.uuid4().hex}"}]}
    ).is_success
    assert trigger.wait_idle(10)
    cid = store.canonical_id(
        client.get("/v1/customers/lookup", params={"user_id": "batch-owner"}).json()["customer_id"]
    )
    assert [d.situation.message_id for d in store.decisions_of(cid)] == [reading["messageId"]]


def test_only_records_that_got_a_need_event_are_read_back() -> None:
    report = IngestReport(
        customer_ids=["a", "b", "a", "c", "b"], event_names=["Viewed", "Order Completed", "Level Reported", None, "x"]
    )
    assert records_to_decide(report) == ["a", "b", "a", "b"]  # every event of a record that got one: same reads
    assert records_to_decide(IngestReport(customer_ids=["c"], event_names=["Product Viewed"])) == []
