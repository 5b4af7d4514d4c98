"""The decision trigger's feed under the stream: the workers' "stored" notices, consumed by the API process.

Without the stream the API calls the trigger after it stored a call; with it, the worker that committed a batch
publishes the customer records it touched on the stream, and this feed (one durable consumer shared by every API
process) hands them to the same DecisionTrigger, so an event still reaches a decision within a second.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import nats
import orjson
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from rapport.stream.jetstream import StreamSettings, connect

log = logging.getLogger(__name__)

DECIDE_CONSUMER = "rapport-decide"


@dataclass(frozen=True)
class StoredRecords:
    """The customer records one committed batch stored events for (what DecisionTrigger reads of a report)."""

    customer_ids: list[str]


class StoredFeed:
    """Consumes the stored notices in a background thread (its own event loop) and calls ``on_stored``."""

    def __init__(self, settings: StreamSettings, on_stored: Callable[[StoredRecords], None]) -> None:
        self.settings, self.on_stored = settings, on_stored
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self, timeout: float = 10.0) -> StoredFeed:
        """Start consuming; returns once the consumer exists, so no notice published after it is missed."""
        self._thread = threading.Thread(target=self._run, name="rapport-stored-feed", daemon=True)
        self._thread.start()
        self._ready.wait(timeout)
        if self.error is not None:
            raise self.error
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            asyncio.run(self._consume())
        except BaseException as exc:  # reported to start(); a feed that dies later is logged
            self.error = exc
            self._ready.set()
            log.exception("the decision trigger's stream feed stopped")

    async def _consume(self) -> None:
        client, js = await connect(self.settings)
        config = ConsumerConfig(
            durable_name=DECIDE_CONSUMER,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.NEW,  # decisions are for what happens now, not for a stream's history
            ack_wait=30,
            filter_subject=self.settings.stored_subject,
        )
        subscription = await js.pull_subscribe(
            self.settings.stored_subject, durable=DECIDE_CONSUMER, stream=self.settings.name, config=config
        )
        self._ready.set()
        try:
            while not self._stop.is_set():
                try:
                    messages = await subscription.fetch(100, timeout=0.5)
                except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either when none came
                    continue
                for msg in messages:
                    self.on_stored(StoredRecords(list(orjson.loads(msg.data)["customer_ids"])))
                    await msg.ack()
        finally:
            await client.close()
