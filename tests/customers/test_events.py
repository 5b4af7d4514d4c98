"""The common-message path of parse_event accepts only what the full checks accept, and builds the same Event."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from rapport.config import Settings
from rapport.customers.events import Event, InvalidEvent, _parse_any, _parse_common, parse_event
from rapport.demo.synthetic import synthetic_events

SETTINGS = Settings()
DECLARED = Settings(identifier_fields={"loyalty": "loyalty_card", "traits.member": "member_id"})


def full(raw: Any, settings: Settings, default_type: str | None, source: str | None) -> Event | list[Any]:
    """What the full checks make of ``raw``: its Event, or the errors it is rejected with."""
    try:
        return _parse_any(raw, settings, default_type, source)
    except InvalidEvent as exc:
        return exc.errors


def agree(raw: Any, settings: Settings = SETTINGS, default_type: str | None = None, source: str | None = None) -> bool:
    """The common path gives the full checks' Event, or leaves the message to them; True when it took it."""
    common = _parse_common(raw, settings, default_type, source) if type(raw) is dict else None
    expected = full(raw, settings, default_type, source)
    if common is not None:
        assert common == expected, raw
    elif type(raw) is dict and isinstance(expected, list):
        with pytest.raises(InvalidEvent) as raised:
            parse_event(raw, settings, default_type=default_type, source=source)
        assert raised.value.errors == expected
    return common is not None


def steady(n: int) -> list[dict[str, Any]]:
    """Track, page and identify calls of known customers, as bench/ingest.py's steady mix sends them."""
    calls: list[dict[str, Any]] = []
    for i in range(n):
        who = {"userId": f"k{i % 97}"} if i % 3 else {"anonymousId": f"ka{i % 97}"}
        base = {"messageId": f"steady-{i}", "timestamp": f"2025-02-01T10:{i % 60:02d}:00.{i % 1000:03d}Z", **who}
        shapes = (
            {"type": "track", "event": "Product Viewed", "properties": {"sku": f"SKU-{i}"}},
            {"type": "page", "name": "/toner", "properties": {"path": "/toner"}},
            {"type": "identify", "userId": f"k{i % 97}", "traits": {"plan": "pro", "email": f"k{i}@x.example"}},
        )
        calls.append({**base, **shapes[i % 3]})
    return calls


def test_the_benchmark_streams_take_the_common_path_and_give_the_same_events() -> None:
    corpus = [*synthetic_events(3000, repeat_share=0.2, seed=4), *steady(3000)]
    assert all([agree(raw) for raw in corpus])
    assert all([agree(raw, DECLARED, source="file") for raw in corpus])


VALUES: list[Any] = [
    None, "", " ", "x", " padded ", "u-1", "x" * 256, "x" * 257, 0, 7, True, 1.5, [], {}, {"a": 1}, ["x"],
    "2025-02-01T10:00:00Z", "2025-02-01T10:00:00+02:00", "2025-02-01 10:00:00", "yesterday", "a@b.de",
    " Ann@Example.COM ", "not-an-email", "+4915112345678", "030 1234567", "12", "m" * 201,
]  # fmt: skip
KEYS = ["type", "userId", "anonymousId", "previousId", "messageId", "timestamp", "originalTimestamp", "event", "name",
        "groupId", "properties", "traits", "context", "channel", "loyalty"]  # fmt: skip
OBJECT_VALUES: list[Any] = [
    None, "", 3, [], {}, {"email": "a@b.de"}, {"email": "broken"}, {"email": "A@B.DE", "phone": "030 1234567"},
    {"phone": "12"}, {"loyalty_card": 99}, {"member": " m-1 "}, {"traits": "flat"}, {"traits": {"email": "c@d.io"}},
    {"channel": "Web ", "library": {"name": "analytics-ios"}, "device": {"id": "d-1"}, "source": " crm "},
    {"library": {"name": "unknown"}, "device": {"id": ""}}, {"library": "analytics.js"}, {"device": {"id": 5}},
]  # fmt: skip
TYPES = ["identify", "track", "page", "screen", "alias", "group", "order", None, 3]


GOOD: list[dict[str, Any]] = [
    {"type": "track", "event": " Order Completed ", "properties": {"total": 3}, "anonymousId": "a-1"},
    {"type": "page", "name": "/toner", "userId": " u-1 ", "context": {"library": {"name": "analytics.js"}}},
    {"type": "identify", "userId": "u-1", "traits": {"email": " Ann@Example.COM ", "phone": "030 1234567"}},
    {"type": "screen", "anonymousId": "a-2", "context": {"traits": {"email": "b@c.io"}, "device": {"id": "d-9"}}},
]


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    """A valid common message with up to three fields removed, odd or wrong."""
    raw: dict[str, Any] = {**draw(st.sampled_from(GOOD)), "messageId": "m-1", "timestamp": "2025-02-01T10:00:00.250Z"}
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=3, unique=True)):
        if draw(st.integers(0, 4)) == 0:
            raw.pop(key, None)
            continue
        pool = OBJECT_VALUES if key in ("properties", "traits", "context") else TYPES if key == "type" else VALUES
        raw[key] = draw(st.sampled_from(pool))
    return raw


@examples(max_examples=400)
@given(messages(), st.sampled_from([None, "track", "identify"]), st.sampled_from([None, "api", "s" * 80]),
       st.sampled_from([SETTINGS, DECLARED]))  # fmt: skip
def test_any_message_gets_the_full_checks_verdict(
    raw: dict[str, Any], default_type: str | None, source: str | None, settings: Settings
) -> None:
    agree(raw, settings, default_type, source)


@pytest.mark.parametrize("raw", ["a row the reader could not read", 42, ["track"], None])
def test_what_is_no_object_is_rejected_as_before(raw: Any) -> None:
    with pytest.raises(InvalidEvent) as raised:
        parse_event(raw, SETTINGS)
    assert raised.value.errors == full(raw, SETTINGS, None, None)
