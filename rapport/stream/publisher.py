"""The API's side of the stream: publish an accepted tracking call and wait until JetStream has stored it."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import nats
import orjson
from nats.aio.client import Client
from nats.js import JetStreamContext

from rapport.errors import Unavailable
from rapport.stream.jetstream import StreamSettings, connect


class CallPublisher:
    """Publishes calls on the event loop that serves the API; connects on first use, once per loop.

    The message id JetStream deduplicates on (for two minutes) is the call's messageId, or a hash of the ids
    of a batch: a collector's retry of a call JetStream already holds is stored once in the stream, too.
    """

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
        self._client: Client | None = None
        self._js: JetStreamContext | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None

    async def publish(self, source: str, messages: list[dict[str, Any]]) -> None:
        """Return once JetStream acknowledged the call; raise Unavailable (HTTP 503) when it did not."""
        js = await self._jetstream()
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
