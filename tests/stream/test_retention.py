"""The stream keeps calls for --stream-keep-hours, then JetStream drops them: its disk use is bounded."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import nats
import pytest
from nats.js.api import StorageType, StreamConfig

from rapport.errors import InvalidInput
from rapport.stream.jetstream import DEFAULT_KEEP_HOURS, StreamSettings, connect, stream_state


async def _max_age(settings: StreamSettings) -> float:
    client, js = await connect(settings)
    try:
        return (await js.stream_info(settings.name)).config.max_age or 0.0
    finally:
        await client.close()


def test_a_new_stream_keeps_calls_for_a_week_by_default(stream: StreamSettings) -> None:
    assert stream.keep_hours == DEFAULT_KEEP_HOURS == 168
    assert asyncio.run(_max_age(stream)) == pytest.approx(168 * 3600)


def test_a_stream_made_without_an_age_limit_gets_one(stream: StreamSettings) -> None:
    async def make_unbounded() -> None:
        client = await nats.connect(stream.url)
        await client.jetstream().add_stream(
            StreamConfig(name=stream.name, subjects=[stream.calls_subject], storage=StorageType.FILE)
        )
        await client.close()

    asyncio.run(make_unbounded())
    assert asyncio.run(_max_age(dataclasses.replace(stream, keep_hours=24))) == pytest.approx(24 * 3600)


def test_calls_older_than_the_keep_time_leave_the_stream(stream: StreamSettings) -> None:
    short = dataclasses.replace(stream, keep_hours=1.5 / 3600)  # 1.5 s

    async def publish() -> None:
        client, js = await connect(short)
        for i in range(3):
            await js.publish(short.calls_subject, b"{}", headers={"Nats-Msg-Id": f"call-{i}"})
        await client.close()

    asyncio.run(publish())
    assert asyncio.run(stream_state(short, "nobody"))["messages"] == 3
    deadline = time.monotonic() + 15
    while asyncio.run(stream_state(short, "nobody"))["messages"] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert asyncio.run(stream_state(short, "nobody"))["messages"] == 0


def test_a_keep_time_of_zero_is_refused() -> None:
    with pytest.raises(InvalidInput, match="--stream-keep-hours"):
        StreamSettings(url="nats://127.0.0.1:4222", keep_hours=0)
