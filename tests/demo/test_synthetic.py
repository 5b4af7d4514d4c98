"""The benchmark stream: valid messages, unique ids, deterministic, and exactly the promised share of repeats."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from rapport.config import Settings
from rapport.customers.events import parse_event
from rapport.demo.synthetic import synthetic_events
from rapport.errors import InvalidInput
from tests.demo.segment_spec import spec_errors

N = 100_000


@pytest.fixture(scope="module")
def stream() -> list[dict]:
    return list(synthetic_events(N, repeat_share=0.2, seed=1))


def test_count_unique_message_ids_and_valid_messages(stream: list[dict]) -> None:
    assert len(stream) == N
    assert len({m["messageId"] for m in stream}) == N
    assert [m for m in stream if spec_errors(m)] == []
    assert Counter(m["type"] for m in stream).keys() == {"identify", "track"}
    assert {m["context"]["channel"] for m in stream} == {"web", "app"}
    stamps = [m["timestamp"] for m in stream]
    assert stamps == sorted(stamps)
    orders = [m["properties"] for m in stream if m.get("event") == "Order Completed"]
    assert orders and all(
        o["total"] == round(sum(p["price"] * p["quantity"] for p in o["products"]), 2) for o in orders
    )


def test_deterministic_for_a_seed() -> None:
    assert list(synthetic_events(2000, seed=5)) == list(synthetic_events(2000, seed=5))
    other = list(synthetic_events(2000, seed=6))
    assert other != list(synthetic_events(2000, seed=5))
    assert {m["anonymousId"] for m in other}.isdisjoint(m["anonymousId"] for m in synthetic_events(2000, seed=5))


def test_exactly_the_share_of_repeat_customers(stream: list[dict]) -> None:
    """A repeat carries an identifier (as Rapport normalises it) seen in an earlier message; a new customer's
    message carries none."""
    settings = Settings()
    seen: set[tuple[str, str]] = set()
    repeats = 0
    kinds: Counter[str] = Counter()
    for message in stream:
        identifiers = {(i.kind, i.value) for i in parse_event(message, settings).identifiers}
        kinds.update(kind for kind, _ in identifiers)
        repeats += bool(identifiers & seen)
        seen |= identifiers
    assert repeats == int(N * 0.2)
    assert {"user_id", "anonymous_id", "email", "phone", "device_id"} <= set(kinds)


def test_repeats_use_messy_identifiers_that_normalise(stream: list[dict]) -> None:
    emails = [t["email"] for m in stream for t in (m.get("traits"), m["context"].get("traits")) if t and "email" in t]
    phones = [t["phone"] for m in stream for t in (m.get("traits"), m["context"].get("traits")) if t and "phone" in t]
    assert any(e != e.strip().lower() for e in emails)
    assert any(p.startswith("0") for p in phones) and any(p.startswith("+49") for p in phones)


@pytest.mark.parametrize("share", [0.0, 0.5, 0.9])
def test_other_shares(share: float) -> None:
    messages = list(synthetic_events(5000, repeat_share=share, seed=3))
    users = {m["anonymousId"].split("-")[1] for m in messages}  # s3-a{k}[-{i}]: k numbers the customers
    assert len(users) == 5000 - int(5000 * share)


def test_lazy_and_validated() -> None:
    assert len(list(itertools.islice(synthetic_events(10**12), 3))) == 3  # a stream, not a list
    with pytest.raises(InvalidInput, match=r"repeat_share=1\.0"):
        synthetic_events(10, repeat_share=1.0)
    with pytest.raises(InvalidInput, match="n=-1"):
        synthetic_events(-1)
