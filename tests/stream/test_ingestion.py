"""Ingestion through the stream: the API answers after JetStream's ack, workers store once and ack after commit."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from rapport.api.app import create_app
from rapport.customers.ingestion import ingest
from rapport.store.keys import create_key
from rapport.store.store import Store
from rapport.stream.jetstream import StreamSettings, connect, stream_state
from rapport.stream.publisher import LAG_REFRESH_SECONDS, CallPublisher
from rapport.stream.worker import INGEST_CONSUMER, IngestWorker, subscribe
from tests.stream.conftest import running_worker


@pytest.fixture
def client(store: Store, stream: StreamSettings) -> Iterator[TestClient]:
    _, key = create_key(store.engine, ["write", "read"], "web")
    app = create_app(store)
    app.state.stream = CallPublisher(stream)
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as test_client:
        yield test_client


def _track(n: int, user: str = "u") -> list[dict]:
    return [
        {"type": "track", "messageId": f"m-{uuid.uuid4().hex}", "userId": f"{user}{i % 7}", "event": "Viewed"}
        for i in range(n)
    ]


def _wait_for_events(store: Store, n: int, timeout: float = 20) -> int:
    deadline = time.monotonic() + timeout
    while (found := store.counts()["events"]) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_the_api_answers_once_jetstream_holds_the_call_and_stores_nothing_itself(
    client: TestClient, store: Store, stream: StreamSettings
) -> None:
    events = _track(30)
    assert client.post("/v1/track", json=events[0]).json() == {"success": True, "queued": True, "duplicate": False}
    answer = client.post("/v1/batch", json={"batch": [*events[1:], {"type": "track", "event": "no user"}]}).json()
    assert answer["queued"] == 29 and answer["rejected"][0]["index"] == 29, "validated before it is published"
    assert store.counts()["events"] == 0, "the API only publishes"
    assert asyncio.run(stream_state(stream, INGEST_CONSUMER))["messages"] == 2
    assert client.post("/v1/track", json={"userId": "x"}).status_code == 400


def test_workers_store_every_call_once_and_ack_it(client: TestClient, store: Store, stream: StreamSettings) -> None:
    events = _track(300)
    for i in range(0, 300, 30):
        assert client.post("/v1/batch", json={"batch": events[i : i + 30]}).is_success
    for event in events[:40]:  # the collector retries some: JetStream or the store drops them
        assert client.post("/v1/track", json=event).is_success
    with running_worker(store, stream) as first, running_worker(store, stream) as second:
        assert _wait_for_events(store, 300) == 300
        time.sleep(0.5)
    assert store.counts()["events"] == 300
    assert first.tally.stored + second.tally.stored == 300
    state = asyncio.run(stream_state(stream, INGEST_CONSUMER))
    assert state["pending"] == 0 and state["ack_pending"] == 0, "every call was acknowledged after its commit"


def test_a_batch_a_dead_worker_held_is_delivered_again_and_stored_once(
    client: TestClient, store: Store, stream: StreamSettings
) -> None:
    events = _track(50)
    for i in range(0, 50, 10):
        assert client.post("/v1/batch", json={"batch": events[i : i + 10]}).is_success
    ingest(store, events[:10], store.settings, source="web")  # a worker committed this batch, then died unacked

    async def take_and_die() -> int:  # a worker that fetched everything and died before it stored anything
        worker_client, js = await connect(stream)
        subscription = await subscribe(js, stream)
        taken = await subscription.fetch(10, timeout=2)
        await worker_client.close()
        return len(taken)

    assert asyncio.run(take_and_die()) == 5
    tally = asyncio.run(IngestWorker(store, stream).run(idle_seconds=4))
    assert (tally.stored, tally.duplicates) == (40, 10), "redelivered after ack_wait; the retry is a duplicate"
    assert store.counts()["events"] == 50


def test_without_a_stream_server_the_api_answers_503_with_retry_after(store: Store) -> None:
    _, key = create_key(store.engine, ["write"], "web")
    app = create_app(store)
    app.state.stream = CallPublisher(StreamSettings(url="nats://127.0.0.1:9"))  # nothing listens there
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as test_client:
        answer = test_client.post("/v1/track", json=_track(1)[0])
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"
    assert answer.json()["error"] == "Unavailable" and "nats://127.0.0.1:9" in answer.json()["message"]


async def _create_consumer(settings: StreamSettings) -> None:
    nc, js = await connect(settings)
    await subscribe(js, settings)
    await nc.close()


def test_the_api_answers_503_while_the_workers_are_too_far_behind_and_takes_calls_again_after(
    store: Store, stream: StreamSettings
) -> None:
    bounded = dataclasses.replace(stream, max_lag_calls=3)
    asyncio.run(_create_consumer(bounded))  # the workers' consumer exists; no worker runs yet
    _, key = create_key(store.engine, ["write"], "web")
    app = create_app(store)
    app.state.stream = CallPublisher(bounded)
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as test_client:
        accepted = [test_client.post("/v1/track", json=e).status_code for e in _track(5)]
        time.sleep(LAG_REFRESH_SECONDS + 0.1)
        late = _track(1)[0]
        refused = test_client.post("/v1/track", json=late)
        assert accepted == [200] * 5
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
        assert "5 calls behind" in refused.json()["message"] and "--stream-max-lag" in refused.json()["message"]
        with running_worker(store, bounded):
            assert _wait_for_events(store, 5) == 5
            time.sleep(LAG_REFRESH_SECONDS + 0.1)
            assert test_client.post("/v1/track", json=late).status_code == 200, "the collector's retry is taken"
            assert _wait_for_events(store, 6) == 6
    assert asyncio.run(stream_state(bounded, INGEST_CONSUMER))["messages"] == 6, "the refused call never went in"
