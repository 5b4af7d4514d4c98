"""Ingestion batches side by side on PostgreSQL (several workers): the same customers as one batch after the other.

Batches share the write lock there and order themselves by row locks and unique keys (rapport.store.identity), so
these tests run many small overlapping batches from several threads on one store and compare with a serial run.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from rapport.customers.ingestion import ingest
from rapport.store.invariants import check_store
from rapport.store.store import Store
from tests.conftest import make_store

PEOPLE = 120


def _people_messages(seed: int) -> list[dict[str, Any]]:
    """Each person: a user id, an e-mail, a phone and three devices (anonymous ids), seen in every combination a
    site sends, in a shuffled order. Within the kind limits, so the clusters do not depend on the order."""
    messages: list[dict[str, Any]] = []
    for p in range(PEOPLE):
        user, email, phone = f"u-{p}", f"p{p}@mail.de", f"+49 30 {5550000 + p}"
        devices = [f"a-{p}-{d}" for d in range(3)]
        for d, device in enumerate(devices):
            messages.append({"type": "page", "anonymousId": device})
            messages.append({"type": "identify", "anonymousId": device, "traits": {"email": email}})
            if d == 1:
                messages.append({"type": "identify", "anonymousId": device, "userId": user})
            if d == 2:
                messages.append({"type": "identify", "anonymousId": device, "traits": {"phone": phone}})
        messages.append({"type": "track", "userId": user, "event": "Bought"})
        messages.append({"type": "identify", "userId": user, "traits": {"email": email, "phone": phone}})
        messages.append({"type": "alias", "userId": user, "previousId": devices[0]})
    random.Random(seed).shuffle(messages)
    for n, message in enumerate(messages):
        message["messageId"] = f"m-{n}"
        message["timestamp"] = f"2026-03-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"
    return messages


def _contested_messages() -> list[dict[str, Any]]:
    """Pairs of accounts that share one e-mail (a family address): a merge the user-id limit refuses, whoever comes
    first; plus a switchboard phone seen with many people, which turns shared."""
    messages: list[dict[str, Any]] = []
    for f in range(30):
        for member in ("a", "b"):
            user = f"fam-{f}-{member}"
            messages.append({"type": "identify", "userId": user, "traits": {"email": f"family{f}@mail.de"}})
            messages.append({"type": "identify", "userId": user, "traits": {"email": f"{user}@mail.de"}})
            messages.append({"type": "track", "userId": user, "event": "Viewed"})
        messages.append(
            {
                "type": "identify",
                "anonymousId": f"desk-{f}",
                "traits": {"phone": "+49 30 9999000", "email": f"d{f}@x.de"},
            }
        )
    random.Random(7).shuffle(messages)
    for n, message in enumerate(messages):
        message["messageId"] = f"c-{n}"
        message["timestamp"] = f"2026-03-02T10:{n // 60 % 60:02d}:{n % 60:02d}Z"
    return messages


@pytest.fixture
def postgres(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield make_store("postgresql", tmp_path, request)


def _concurrently(store: Store, messages: list[dict[str, Any]], threads: int = 6, batch: int = 15) -> None:
    """Ingest ``messages`` in small batches from ``threads`` threads at once; every batch is also sent a second
    time by another thread (a redelivery), so the same messageIds race too."""
    batches = [messages[i : i + batch] for i in range(0, len(messages), batch)]
    work = batches + batches[::-1]
    start = threading.Barrier(threads)

    def run(k: int) -> None:
        start.wait()
        for b in work[k::threads]:
            report = ingest(store, b, store.settings)
            assert not report.rejected, report.rejected

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, range(threads)))


def _clusters(store: Store) -> set[frozenset[tuple[str, str]]]:
    return {frozenset((kind, value) for kind, value, _ in ids) for ids in store.profile_identifiers().values()}


def _event_profiles(store: Store) -> dict[str, frozenset[tuple[str, str]]]:
    """Each stored event's messageId and the identifiers of the profile it belongs to now."""
    by_profile = {c: frozenset((k, v) for k, v, _ in ids) for c, ids in store.profile_identifiers().items()}
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT e.message_id, c.canonical_id FROM events e JOIN customers c ON c.id = e.customer_id")
        ).all()
    return {message_id: by_profile[canonical] for message_id, canonical in rows}


def _assert_sound(store: Store, messages: list[dict[str, Any]]) -> None:
    assert [r.name for r in check_store(store.engine) if not r.holds] == []
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT message_id, count(*) FROM events GROUP BY message_id")).all()
    assert sorted(m for m, _ in stored) == sorted(m["messageId"] for m in messages)  # every one, once
    assert {count for _, count in stored} == {1}


def test_overlapping_people_from_six_threads_form_the_same_profiles_as_one_after_the_other(
    postgres: Store, tmp_path: Path
) -> None:
    messages = _people_messages(seed=3)
    _concurrently(postgres, messages)
    _assert_sound(postgres, messages)
    concurrent, events = _clusters(postgres), _event_profiles(postgres)

    serial = Store(postgres.settings.with_overrides(database_url=f"sqlite:///{tmp_path / 'serial.db'}"))
    ingest(serial, messages, serial.settings)
    assert concurrent == _clusters(serial)
    assert events == _event_profiles(serial)
    assert len(concurrent) == PEOPLE  # one profile a person: every device, e-mail and phone joined
    serial.close()


def test_refused_and_shared_merges_hold_under_concurrent_batches(postgres: Store, tmp_path: Path) -> None:
    messages = _contested_messages()
    _concurrently(postgres, messages, threads=4, batch=6)
    _assert_sound(postgres, messages)
    serial = Store(postgres.settings.with_overrides(database_url=f"sqlite:///{tmp_path / 'serial.db'}"))
    ingest(serial, messages, serial.settings)
    assert postgres.merge_status_counts() == serial.merge_status_counts()  # 32 refused, 1 undone, none applied
    serial.close()
    profiles = list(postgres.profile_identifiers().values())
    # the user-id limit of 1: the two accounts of a family never end in one profile, whichever batch came first
    assert all(sum(kind == "user_id" for kind, _, _ in ids) <= 1 for ids in profiles)
    assert sum(any(kind == "user_id" for kind, _, _ in ids) for ids in profiles) == 60
    # the switchboard phone, seen with 30 separate desks, stopped joining: no profile holds two desks' e-mails
    desks = [ids for ids in profiles if any(value.startswith("d") and kind == "email" for kind, value, _ in ids)]
    assert all(sum(kind == "email" for kind, _, _ in ids) == 1 for ids in desks)
    shared = {(kind, value) for ids in profiles for kind, value, is_shared in ids if is_shared}
    assert len(shared) == 1 and {kind for kind, _ in shared} == {"phone"}


def test_a_batch_commits_while_another_batch_is_still_open(postgres: Store) -> None:
    """Batches do not hold the store alone: a second one stores its events while the first's transaction is open."""
    opened, release = threading.Event(), threading.Event()

    def hold() -> None:
        with postgres.ingest_transaction() as tx:
            tx.existing_message_ids(["none"])
            opened.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert opened.wait(60)
        done = threading.Event()
        worker = threading.Thread(
            target=lambda: (ingest(postgres, _people_messages(seed=1)[:50], postgres.settings), done.set())
        )
        worker.start()
        assert done.wait(60), "the second batch waited for the first"
    finally:
        release.set()
        holder.join()
    assert postgres.counts()["events"] == 50
