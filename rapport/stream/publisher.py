"""The API's side of the stream: publish an accepted tracking call and wait until JetStream has stored it."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import nats
import orjson
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from rapport.errors import Unavailable
from rapport.stream.jetstream import INGEST_CONSUMER, StreamSettings, connect

LAG_REFRESH_SECONDS = 0.5  # how old the workers' backlog the API goes by may be
BACKLOG_RETRY_AFTER = 1  # seconds a collector is asked to wait while the workers are behind


class CallPublisher:
    """Publishes calls on the event loop that serves the API; connects on first use, once per loop.

    The message id JetStream deduplicates on (for two minutes) is the call's messageId, or a hash of the ids
    of a batch: a collector's retry of a call JetStream already holds is stored once in the stream, too.

    Backpressure: while the ingestion workers' consumer holds more than ``settings.max_lag_calls`` calls not yet
    stored, a call is answered 503 with ``Retry-After`` instead of being published, so the backlog (and the time
    from a call to its decision) stays bounded when collectors send faster than the workers store; the collectors
    keep the calls and send them again (Segment's and RudderStack's clients retry 5xx answers). The backlog is
    read from JetStream's consumer info at most every ``LAG_REFRESH_SECONDS``; before any worker has created
    the consumer there is no bound (the calls wait in the stream for the first worker).
    """

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
        self._client: Client | None = None
        self._js: JetStreamContext | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self.lag_calls = 0  # the workers' backlog as last read
        self._lag_read_at = float("-inf")
        self.refused = 0  # calls answered 503 because of the backlog

    async def publish(self, source: str, messages: list[dict[str, Any]]) -> None:
        """Return once JetStream acknowledged the call; raise Unavailable (HTTP 503) when it did not, or when the
        workers are more than ``max_lag_calls`` behind."""
        js = await self._jetstream()
        if self.settings.max_lag_calls and await self._lag(js) > self.settings.max_lag_calls:
            self.refused += 1
            busy = Unavailable(
                f"The ingestion workers are {self.lag_calls} calls behind (bound {self.settings.max_lag_calls}, "
                "--stream-max-lag); nothing was stored: retry after the Retry-After seconds."
            )
            busy.retry_after_seconds = BACKLOG_RETRY_AFTER
            raise busy
        ids = "\n".join(str(m.get("messageId")) for m in messages)
        msg_id = ids if len(messages) == 1 and len(ids) <= 200 else hashlib.sha256(ids.encode()).hexdigest()
        payload = orjson.dumps({"source": source, "messages": messages})
        try:
            await js.publish(
                self.settings.calls_subject,
                payload,
                timeout=self.settings.publish_timeout_seconds,
                headers={"Nats-Msg-Id": msg_id},
            )
        except (TimeoutError, nats.errors.Error, OSError) as exc:
            raise Unavailable(
                f"The event stream at {self.settings.url} did not acknowledge the call ({type(exc).__name__}); "
                "nothing was stored: retry after the Retry-After seconds."
            ) from exc

    async def _lag(self, js: JetStreamContext) -> int:
        now = time.monotonic()
        if now - self._lag_read_at >= LAG_REFRESH_SECONDS:
            self._lag_read_at = now  # one read at a time: the calls meanwhile go by the last one
            try:
                info = await js.consumer_info(self.settings.name, INGEST_CONSUMER, timeout=1)
                self.lag_calls = (info.num_pending or 0) + (info.num_ack_pending or 0)
            except NotFoundError:  # no worker yet
                self.lag_calls = 0
            except (TimeoutError, nats.errors.Error, OSError):  # keep the last reading; publishing will tell
                pass
        return self.lag_calls

    async def close(self) -> None:
        if self._client is not None and not self._client.is_closed:
            await self._client.close()
        self._client = self._js = None

    async def _jetstream(self) -> JetStreamContext:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (a restarted server, a test client): a new connection
            self._loop, self._lock, self._client, self._js = loop, asyncio.Lock(), None, None
        assert self._lock is not None
        async with self._lock:
            if self._js is None:
                self._client, self._js = await connect(self.settings)
        return self._js
