"""Stream fixtures: the real NATS JetStream server (RAPPORT_TEST_NATS_URL, set by .ci/run), one stream per test."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from rapport.store.store import Store
from rapport.stream.jetstream import StreamSettings, delete_stream
from rapport.stream.worker import IngestWorker

NATS_URL = os.environ.get("RAPPORT_TEST_NATS_URL", "nats://127.0.0.1:4222")


@pytest.fixture
def stream() -> Iterator[StreamSettings]:
    """A stream of its own (unique name and subjects), deleted afterwards."""
    settings = StreamSettings(url=NATS_URL, name=f"RAPPORT_TEST_{uuid.uuid4().hex[:12].upper()}", ack_wait_seconds=2)
    yield settings
    asyncio.run(delete_stream(settings))


@contextmanager
def running_worker(store: Store, settings: StreamSettings, batch_calls: int = 200) -> Iterator[IngestWorker]:
    """An ingestion worker consuming in a background thread until the block ends."""
    worker = IngestWorker(store, settings, batch_calls=batch_calls)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            loop.run_until_complete(worker.run(stop))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
    assert not failure, failure
