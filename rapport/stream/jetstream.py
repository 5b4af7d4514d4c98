"""One JetStream stream for tracking calls: its names, its creation, and the connection to it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from rapport.errors import InvalidInput, Unavailable

DEFAULT_STREAM = "RAPPORT_EVENTS"
INGEST_CONSUMER = "rapport-ingest"  # the ingestion workers' shared durable consumer
DEFAULT_MAX_LAG = 1000  # calls the workers may be behind before the API asks collectors to wait
DEFAULT_KEEP_HOURS = 168.0  # a week: calls stay replayable that long after they are stored, then JetStream drops them


@dataclass(frozen=True)
class StreamSettings:
    """Where the stream is and how it is kept.

    Args:
        url: the NATS server(s), ``nats://host:4222`` (comma-separated for a cluster).
        name: the JetStream stream; its subjects are ``<name lower-cased>.calls`` and ``….stored``.
        replicas: copies JetStream keeps (1 on one server; 3 on a three-node cluster).
        ack_wait_seconds: how long a worker may hold a batch before JetStream delivers it again.
        max_lag_calls: the API answers 503 with Retry-After while the workers' consumer holds more calls not yet
            stored (delivered or not) than this; 0 means no bound.
        keep_hours: how long JetStream keeps a call (stored or not; the stream's ``max_age``), so its disk use is
            bounded by a week of traffic, not by all traffic ever. It must exceed the longest time the workers may
            be down: a call not stored by then is dropped by JetStream.
    """

    url: str
    name: str = DEFAULT_STREAM
    replicas: int = 1
    ack_wait_seconds: float = 30.0
    publish_timeout_seconds: float = 5.0
    max_lag_calls: int = DEFAULT_MAX_LAG
    keep_hours: float = DEFAULT_KEEP_HOURS

    def __post_init__(self) -> None:
        if not self.url.startswith(("nats://", "tls://")):
            raise InvalidInput(f"--stream must be a NATS URL like nats://127.0.0.1:4222, got {self.url!r}.")
        if not self.name.replace("_", "").replace("-", "").isalnum():
            raise InvalidInput(f"--stream-name may hold letters, digits, '-' and '_' only, got {self.name!r}.")
        if self.replicas < 1:
            raise InvalidInput(f"--stream-replicas must be at least 1, got {self.replicas}.")
        if self.max_lag_calls < 0:
            raise InvalidInput(f"--stream-max-lag must be 0 (no bound) or more, got {self.max_lag_calls}.")
        if not self.keep_hours > 0:
            raise InvalidInput(f"--stream-keep-hours must be more than 0, got {self.keep_hours}.")

    @property
    def calls_subject(self) -> str:
        """Accepted tracking calls, published by the API."""
        return f"{self.name.lower()}.calls"

    @property
    def stored_subject(self) -> str:
        """The customer records each committed batch touched, published by the workers (the decision trigger)."""
        return f"{self.name.lower()}.stored"


async def connect(settings: StreamSettings) -> tuple[Client, JetStreamContext]:
    """Connect (reconnecting for ever once connected) and create the stream when it does not exist yet."""
    try:
        # Reconnect for ever once connected; the first connection gets a bounded wait (nats-py would retry it
        # for ever too with these options).
        client = await asyncio.wait_for(
            nats.connect(
                settings.url.split(","), connect_timeout=2, max_reconnect_attempts=-1, reconnect_time_wait=0.5
            ),
            timeout=4,
        )
    except (TimeoutError, OSError, nats.errors.Error) as exc:
        raise Unavailable(
            f"The event stream at {settings.url} does not answer ({exc}); start nats-server -js."
        ) from exc
    js = client.jetstream(timeout=settings.publish_timeout_seconds)
    await ensure_stream(js, settings)
    return client, js


async def ensure_stream(js: JetStreamContext, settings: StreamSettings) -> None:
    """Create the stream with these settings; a stream that exists keeps its own, except that one created without
    an age limit (by an earlier Rapport) gets ``keep_hours``, so it stops growing for ever."""
    try:
        info = await js.stream_info(settings.name)
    except NotFoundError:
        config = StreamConfig(
            name=settings.name,
            subjects=[settings.calls_subject, settings.stored_subject],
            storage=StorageType.FILE,
            num_replicas=settings.replicas,
            duplicate_window=min(120.0, settings.keep_hours * 3600),  # JetStream wants it within max_age
            max_age=settings.keep_hours * 3600,
        )
        await js.add_stream(config)
        return
    if not info.config.max_age:
        info.config.max_age = settings.keep_hours * 3600
        await js.update_stream(info.config)


async def delete_stream(settings: StreamSettings) -> None:
    """Remove the stream and everything in it (tests and benches clean up their own)."""
    client, js = await connect(settings)
    try:
        await js.delete_stream(settings.name)
    finally:
        await client.close()


async def stream_state(settings: StreamSettings, durable: str) -> dict[str, Any]:
    """Messages kept, and the named consumer's backlog (pending: not yet delivered; ack_pending: in flight)."""
    client, js = await connect(settings)
    try:
        info = await js.stream_info(settings.name)
        try:
            consumer = await js.consumer_info(settings.name, durable)
            pending, ack_pending = consumer.num_pending or 0, consumer.num_ack_pending or 0
        except NotFoundError:
            pending, ack_pending = 0, 0
        return {"messages": info.state.messages, "pending": pending, "ack_pending": ack_pending}
    finally:
        await client.close()
