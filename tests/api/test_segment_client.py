"""The real Segment Python client, pointed at a running Rapport server, delivers its events."""

from __future__ import annotations

import pytest
import segment.analytics as analytics
from segment.analytics.request import APIError

from rapport.customers.service import get_profile
from rapport.store.keys import create_key
from rapport.store.store import Store


def _point_client_at(server: str, write_key: str) -> None:
    """The module keeps one default client built on first use; drop it so the new host and key take effect."""
    analytics.default_client = None
    analytics.write_key = write_key
    analytics.host = server
    analytics.sync_mode = True


def test_events_sent_by_the_segment_client_arrive(server: str, store: Store) -> None:
    _, write_key = create_key(store.engine, ["write"], "segment-python")
    _point_client_at(server, write_key)
    errors: list[Exception] = []
    analytics.on_error = lambda error, _items: errors.append(error)
    analytics.identify("u-seg", {"email": "Seg.Ment@Example.com", "plan": "pro"})
    analytics.track("u-seg", "Order Completed", {"total": 30, "order_id": "o-9"})
    analytics.page("u-seg", "Docs", "Install")
    analytics.screen("u-seg", "App", "Basket")
    analytics.group("u-seg", "team-1", {"name": "Team"})
    analytics.alias("anon-seg", "u-seg")
    analytics.flush()
    assert errors == []
    profile = get_profile(store, "seg.ment@example.com")
    assert sorted(e["type"] for e in profile.events) == ["alias", "group", "identify", "page", "screen", "track"]
    assert profile.traits["plan"] == "pro"
    assert profile.facts["orders"] == 1


def test_a_bad_key_is_refused_to_the_segment_client(server: str, store: Store) -> None:
    _point_client_at(server, "rk_wrong_key")
    with pytest.raises(APIError) as refused:  # sync mode raises what the server answered
        analytics.track("u-x", "Anything")
    assert refused.value.status == 401 and refused.value.code == "unauthorized"
    assert store.counts()["events"] == 0
