"""The ingestion worker: a durable pull consumer that stores tracking calls in batches, then acknowledges them.

Any number of workers share the consumer; JetStream hands each call to one of them. A batch is stored in one
ingestion call (one write transaction per key that sent it) and acknowledged only after it committed, so a
worker killed mid-batch leaves its calls to be delivered again after ``ack_wait``; the store then counts them
as duplicates of their messageId instead of storing them twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import nats
import orjson
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy.exc import DBAPIError

from rapport.customers.ingestion import IngestReport, ingest
from rapport.decide.situations import records_to_decide
from rapport.errors import ConcurrentWrite
from rapport.store.store import Store
from rapport.stream.jetstream import INGEST_CONSUMER, StreamSettings, connect

__all__ = ["INGEST_CONSUMER", "IngestWorker", "WorkerTally", "subscribe"]

log = logging.getLogger(__name__)


@dataclass
class WorkerTally:
    """What one worker did since it started."""

    batches: int = 0
    calls: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    retried: int = 0  # batches handed back because the store failed (they come again)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


class IngestWorker:
    """Stores the stream's calls through the ingestion service (rapport.customers.ingestion).

    Args:
        store: the store the service writes to (SQLite or PostgreSQL).
        settings: the stream.
        batch_calls: the most calls one batch takes (each call holds one or more events).
        on_batch: called with every committed batch's report (benchmarks read it).
    """

    def __init__(
        self,
        store: Store,
        settings: StreamSettings,
        *,
        batch_calls: int = 500,
        on_batch: Callable[[IngestReport], None] | None = None,
    ) -> None:
        self.store, self.settings, self.batch_calls, self.on_batch = store, settings, batch_calls, on_batch
        self.tally = WorkerTally()

    async def run(self, stop: asyncio.Event | None = None, idle_seconds: float | None = None) -> WorkerTally:
        """Consume until ``stop`` is set, or until no call came for ``idle_seconds`` (when given)."""
        stop = stop or asyncio.Event()
        client, js = await connect(self.settings)
        subscription = await subscribe(js, self.settings)
        idle = 0.0
        try:
            while not stop.is_set():
                try:
                    messages = await subscription.fetch(self.batch_calls, timeout=1.0)
                except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either when none came
                    idle += 1.0
                    if idle_seconds is not None and idle >= idle_seconds:
                        break
                    continue
                idle = 0.0
                await self._store(js, messages)
                await client.flush()
        finally:
            await client.close()
        return self.tally

    async def _store(self, js: Any, messages: list[Msg]) -> None:
        by_source: dict[str, list[Any]] = {}
        for msg in messages:
            try:
                call = orjson.loads(msg.data)
                by_source.setdefault(str(call["source"]), []).extend(call["messages"])
            except (orjson.JSONDecodeError, KeyError, TypeError):
                log.error("dropping an unreadable call (stream sequence %s)", msg.metadata.sequence.stream)
                await msg.term()
        try:
            report = await asyncio.to_thread(self._ingest, by_source)
        except (DBAPIError, ConcurrentWrite) as exc:  # the database is down, restarting or busy: hand the batch back
            log.warning("the store failed (%s); %d calls will be delivered again", type(exc).__name__, len(messages))
            self.tally.retried += 1
            for msg in messages:
                await msg.nak(delay=2)
            await asyncio.sleep(1)
            return
        if records := records_to_decide(report):  # the decision trigger's feed (rapport.stream.trigger)
            await js.publish(self.settings.stored_subject, orjson.dumps({"customer_ids": records}))
        for msg in messages:
            await msg.ack()
        self.tally.batches += 1
        self.tally.calls += len(messages)
        self.tally.stored += report.stored
        self.tally.duplicates += report.duplicates
        self.tally.rejected += len(report.rejected)
        if report.rejected:  # the API validated them: only a change of settings between the two gets here
            log.error("%d stored calls were rejected: %s", len(report.rejected), report.rejected[:3])
        if self.on_batch:
            self.on_batch(report)

    def _ingest(self, by_source: dict[str, list[Any]]) -> IngestReport:
        report = IngestReport()
        for source, raws in by_source.items():
            report.add(ingest(self.store, raws, self.store.settings, source=source))
        return report


async def subscribe(js: Any, settings: StreamSettings) -> Any:
    """The workers' shared durable pull consumer of the stream's calls (created by the first to ask)."""
    config = ConsumerConfig(
        durable_name=INGEST_CONSUMER,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=settings.ack_wait_seconds,
        max_ack_pending=-1,
        filter_subject=settings.calls_subject,
    )
    return await js.pull_subscribe(settings.calls_subject, durable=INGEST_CONSUMER, stream=settings.name, config=config)
