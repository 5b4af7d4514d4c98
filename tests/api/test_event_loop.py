"""Storing a batch (the embedded default, no stream) never holds up the server's other requests, even while it waits
for the database."""

from __future__ import annotations

import threading
import time

import httpx

from rapport.store.keys import create_key
from rapport.store.store import Store


def test_health_answers_while_a_large_batch_is_being_stored(server: str, store: Store) -> None:
    _, write_key = create_key(store.engine, ["write"], "loop-test")
    batch = {
        "batch": [
            {"type": "identify", "messageId": f"m-{i}", "userId": f"u-{i}", "traits": {"email": f"p{i}@example.org"}}
            for i in range(300)
        ]
    }
    finished: list[str] = []
    answers: dict[str, int] = {}

    def post_batch() -> None:
        answer = httpx.post(f"{server}/v1/batch", json=batch, auth=(write_key, ""), timeout=120)
        answers["batch"] = answer.status_code
        finished.append("batch")

    warm = httpx.post(f"{server}/v1/track", json={"userId": "u-warm", "event": "Warm"}, auth=(write_key, ""))
    assert warm.status_code == 200  # the process's first call sets up its access state (a write of its own)
    poster = threading.Thread(target=post_batch)
    with store.identity_transaction():  # an erasure, say, holds the identity lock: the batch waits for it
        poster.start()
        time.sleep(0.5)
        assert poster.is_alive(), "the batch must be waiting for the store when /health is asked"
        answers["health"] = httpx.get(f"{server}/health", timeout=30).status_code
        finished.append("health")
    poster.join(timeout=120)
    assert answers == {"batch": 200, "health": 200}
    assert finished == ["health", "batch"]
    assert store.counts()["events"] == 301
