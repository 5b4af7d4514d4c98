"""Under the stream the decision trigger consumes the workers' stored notices: an event still reaches a decision
within a second of the API's answer."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from rapport.api.app import create_app
from rapport.api.decide import install_decision_trigger
from rapport.decide import consent
from rapport.store.keys import create_key
from rapport.store.store import Store
from rapport.stream.jetstream import StreamSettings
from rapport.stream.publisher import CallPublisher
from tests.stream.conftest import running_worker


def _reading(user: str, level: int, at: datetime) -> dict:
    return {
        "messageId": f"lvl-{uuid.uuid4().hex}",
        "userId": user,
        "event": "Level Reported",
        "properties": {"device_id": "PRN-1", "sku": "TONER-BK-305", "category": "toner", "level_pct": level},
        "timestamp": at.isoformat(),
    }


def test_a_level_reading_through_the_stream_is_decided_on_within_a_second(store: Store, stream: StreamSettings) -> None:
    _, key = create_key(store.engine, ["write", "decide", "read"], "device-cloud")
    app = create_app(store)
    app.state.stream = CallPublisher(stream)
    trigger = install_decision_trigger(app, stream=stream)
    now = datetime.now(UTC)
    with (
        TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client,
        trigger,
        running_worker(store, stream),
    ):
        assert client.post("/v1/identify", json={"userId": "owner", "traits": {"email": "o@example.org"}}).is_success
        for days_ago, level in ((12, 50), (8, 38), (4, 26)):
            assert client.post("/v1/track", json=_reading("owner", level, now - timedelta(days=days_ago))).is_success
        deadline = time.monotonic() + 20
        while store.counts()["events"] < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the stored notice's way to the feed
        assert trigger.wait_idle(10)
        cid = client.get("/v1/customers/lookup", params={"email": "o@example.org"}).json()["customer_id"]
        consent.record_consent(app.state.decision_store, cid, "contact:push", True, "app", now - timedelta(days=30))
        last = _reading("owner", 14, now)
        sent = time.monotonic()
        assert client.post("/v1/track", json=last).json()["queued"] is True
        latest: dict = {}
        while time.monotonic() - sent < 5:
            found = client.get(f"/v1/customers/{cid}/decisions", params={"limit": 1}).json()["decisions"]
            if found and found[0]["situation"].get("message_id") == last["messageId"]:
                latest = found[0]
                break
            time.sleep(0.02)
        elapsed = time.monotonic() - sent
        app.state.stored_feed.stop()
    assert latest, "the event reached no decision"
    assert elapsed < 1.0, f"the decision came {elapsed:.2f} s after the API's answer"
    assert latest["trigger"] == "event" and latest["need"]["item"] == "TONER-BK-305"
    assert trigger.failures == 0
