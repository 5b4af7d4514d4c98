"""Search by name through the name keys that ingestion keeps (migration 0012), on SQLite and PostgreSQL: found after
ingest (prefix, any case, with or without accents), after a merge under the surviving profile, apart again after the
merge is undone, and never after erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from rapport.customers.ingestion import ingest
from rapport.customers.names import event_name_keys, key_range, query_words
from rapport.customers.service import erase_customer
from rapport.store.customer360 import search_customers, undo_merge_for
from rapport.store.store import Store
from rapport.store.tables import customer_names

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _identify(message_id: str, who: dict[str, str], traits: dict[str, str], hours: int = 0) -> dict:
    return {"type": "identify", "messageId": message_id, **who, "traits": traits,
            "timestamp": (AT + timedelta(hours=hours)).isoformat(), "context": {"channel": "web"}}  # fmt: skip


def _names(store: Store, text: str) -> list[str]:
    return [found["customer_id"] for found in search_customers(store, text)]


def test_keys_are_words_without_case_or_accents() -> None:
    assert event_name_keys({"first_name": "Zoë", "last_name": "Smith-Jones"}, None) == {"zoe", "smith", "jones"}
    assert event_name_keys(None, {"traits": {"name": "ÅSA Öberg"}}) == {"asa", "oberg"}
    assert event_name_keys({"email": "a@b.org", "first_name": 7}, {"channel": "web"}) == set()
    assert query_words("  Anna  ANNA bergström ") == ["anna", "bergstrom"]
    assert key_range("ann") == ("ann", "ano")


def test_name_search_after_ingest_merge_undo_and_erasure(store: Store) -> None:
    anna = _identify("n1", {"userId": "u-anna"}, {"email": "anna@example.org", "first_name": "Anna",
                                                  "last_name": "Bergström"})  # fmt: skip
    till = _identify("n2", {"anonymousId": "till-7"}, {"loyalty_card": "LC-1", "first_name": "Annie"}, 1)
    carl = {"type": "track", "messageId": "n3", "userId": "u-carl", "event": "Viewed",
            "timestamp": AT.isoformat(), "context": {"channel": "app", "traits": {"name": "Carl Berg"}}}  # fmt: skip
    ingest(store, [anna, till, carl], store.settings)
    [anna_id] = _names(store, "anna bergström")
    assert _names(store, "ANNA BERGSTROM") == [anna_id] == _names(store, "ann berg") == _names(store, "bergs")
    [till_id] = _names(store, "annie")
    [carl_id] = _names(store, "carl")
    assert set(_names(store, "berg")) == {anna_id, carl_id}  # Carl's name came in a track call's context.traits
    assert _names(store, "nobody") == [] and _names(store, "anna carl") == []

    # The till sees her e-mail: the two records become one profile, found by either record's name.
    seen = _identify("n4", {"anonymousId": "till-7"}, {"email": "anna@example.org"}, 2)
    ingest(store, [seen], store.settings)
    survivor = store.canonical_id(till_id)
    assert survivor == store.canonical_id(anna_id)
    assert _names(store, "annie") == [survivor] == _names(store, "anna bergström")
    assert set(_names(store, "ann")) == {survivor}  # one profile, not one hit per record

    # Undo the merge: each record is found under its own profile again.
    [merge] = [m for m in store.merge_records(store.members(survivor)) if m.status == "applied"]
    undo_merge_for(store, survivor, merge.id, "two people", "staff:test", AT)
    assert set(_names(store, "ann")) == {anna_id, till_id}
    assert _names(store, "annie") == [till_id] and _names(store, "anna bergström") == [anna_id]

    # Erasure removes the keys with the person: no search finds them, no row is left.
    erase_customer(store, "u-anna")
    assert _names(store, "bergström") == [] and _names(store, "berg") == [carl_id]
    with store.engine.connect() as conn:
        left = conn.scalar(select(func.count()).where(customer_names.c.customer_id == anna_id))
    assert left == 0
    assert _names(store, "annie") == [till_id]  # the till record was apart again: it is not Anna's
