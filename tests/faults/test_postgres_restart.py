"""PostgreSQL restarted during ingestion: the API answers 503 with Retry-After while it is down, never 500, and
recovers by itself; nothing it acknowledged is lost or stored twice, with and without the stream."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from rig import DedicatedPostgres
from sqlalchemy import func, select

from rapport.api.app import create_app
from rapport.config import Settings
from rapport.store.invariants import check_store
from rapport.store.keys import create_key
from rapport.store.store import Store
from rapport.store.tables import events
from rapport.stream.jetstream import StreamSettings, delete_stream
from rapport.stream.publisher import CallPublisher
from tests.stream.conftest import running_worker

NATS_URL = os.environ.get("RAPPORT_TEST_NATS_URL", "nats://127.0.0.1:4222")


@pytest.fixture
def store(dedicated_postgres: DedicatedPostgres) -> Iterator[Store]:
    made = Store(Settings(database_url=dedicated_postgres.database()))
    yield made
    made.close()


def _batch(n: int) -> list[dict]:
    return [
        {"type": "track", "messageId": f"pg-{uuid.uuid4().hex}", "userId": f"u{i % 13}", "event": "Viewed"}
        for i in range(n)
    ]


def _send_through_restarts(
    client: TestClient, cluster: DedicatedPostgres, restarts: int = 2
) -> tuple[list[str], list[tuple[int, str | None]], list[float]]:
    """Post batches continuously while the cluster restarts; (acknowledged ids, answers, seconds to recover)."""
    acked: list[str] = []
    answers: list[tuple[int, str | None]] = []
    recovered: list[float] = []
    restarting = threading.Event()

    def restart_twice() -> None:
        for _ in range(restarts):
            time.sleep(0.5)
            restarting.set()
            cluster.restart()
            restarting.clear()

    restarter = threading.Thread(target=restart_twice)
    restarter.start()
    down_since: float | None = None
    while restarter.is_alive() or down_since is not None:
        batch = _batch(20)
        answer = client.post("/v1/batch", json={"batch": batch})
        answers.append((answer.status_code, answer.headers.get("Retry-After")))
        if answer.is_success:
            acked.extend(e["messageId"] for e in batch)
            if down_since is not None:
                recovered.append(time.monotonic() - down_since)
                down_since = None
        elif down_since is None:
            down_since = time.monotonic()
        if not restarter.is_alive() and down_since is not None and time.monotonic() - down_since > 30:
            break  # never recovered: the assertions below say so
    restarter.join()
    return acked, answers, recovered


def _stored_once(store: Store, ids: list[str]) -> tuple[int, int]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(events.c.message_id).where(events.c.message_id.in_(ids))).scalars().all()
        total, distinct = conn.execute(select(func.count(), func.count(events.c.message_id.distinct()))).one()
    assert total == distinct
    return len(set(rows)), len(rows)


def _assert_survived(answers: list[tuple[int, str | None]], recovered: list[float]) -> None:
    statuses = Counter(status for status, _ in answers)
    assert set(statuses) <= {200, 503}, statuses  # never a 500
    assert statuses[503] > 0, "the batches sent while PostgreSQL was down were refused"
    assert all(retry for status, retry in answers if status == 503), "every 503 says when to retry"
    assert recovered and max(recovered) < 30, "the API recovered by itself after each restart"
    assert answers[-1][0] == 200


def test_the_api_answers_503_while_postgresql_restarts_and_loses_nothing(
    store: Store, dedicated_postgres: DedicatedPostgres
) -> None:
    _, key = create_key(store.engine, ["write"], "web")
    app = create_app(store)
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}, raise_server_exceptions=False) as client:
        acked, answers, recovered = _send_through_restarts(client, dedicated_postgres)
    _assert_survived(answers, recovered)
    assert _stored_once(store, acked) == (len(acked), len(acked)), "every acknowledged event stored exactly once"
    assert all(result.holds for result in check_store(store.engine))


def test_under_the_stream_the_worker_hands_batches_back_while_postgresql_restarts(
    store: Store, dedicated_postgres: DedicatedPostgres
) -> None:
    stream = StreamSettings(url=NATS_URL, name=f"RAPPORT_PGDOWN_{uuid.uuid4().hex[:10].upper()}", ack_wait_seconds=3)
    _, key = create_key(store.engine, ["write"], "web")
    app = create_app(store)
    app.state.stream = CallPublisher(stream)
    try:
        with (
            running_worker(store, stream, batch_calls=5) as worker,
            TestClient(app, headers={"Authorization": f"Bearer {key}"}, raise_server_exceptions=False) as client,
        ):
            acked, answers, recovered = _send_through_restarts(client, dedicated_postgres)
            deadline = time.monotonic() + 60
            while _stored_once(store, acked)[0] < len(acked) and time.monotonic() < deadline:
                time.sleep(0.2)
        _assert_survived(answers, recovered)  # the API looks the key up in PostgreSQL: 503 while it is down
        assert _stored_once(store, acked) == (len(acked), len(acked)), "every acknowledged event stored exactly once"
        assert worker.tally.stored >= len(acked)
        assert all(result.holds for result in check_store(store.engine))
    finally:
        asyncio.run(delete_stream(stream))
