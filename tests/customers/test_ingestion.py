"""Ingestion in bulk: long batches, retries across batches, and the process state it leaves behind."""

from __future__ import annotations

import gc
import random
from pathlib import Path
from typing import Any

from rapport.config import Settings
from rapport.customers.ingestion import ingest
from rapport.demo.synthetic import synthetic_events
from rapport.store.store import Store


def test_retries_of_a_long_batch_are_found_in_any_batching(store: Store) -> None:
    messages = list(synthetic_events(4500, repeat_share=0.2, seed=11))
    first = ingest(store, messages, store.settings.with_overrides(ingest_batch_size=4500))
    assert first.stored == 4500 and not first.rejected
    before = store.counts()
    retried = random.Random(3).sample(messages, len(messages))
    again = ingest(store, retried, store.settings.with_overrides(ingest_batch_size=700))
    assert (again.stored, again.duplicates) == (0, 4500)
    assert store.counts() == before
    assert before["customers"] == 4500 - 900  # every repeat message found its customer among 3,600


def test_ingestion_leaves_the_garbage_collector_as_it_found_it(store: Store) -> None:
    ingest(store, list(synthetic_events(10, seed=12)), store.settings)
    assert gc.isenabled()
    gc.disable()
    try:
        ingest(store, list(synthetic_events(10, seed=13)), store.settings)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_batches_validated_ahead_report_what_one_batch_after_the_other_does(store: Store, tmp_path: Path) -> None:
    """PostgreSQL validates the next batch while one is stored; positions, retries and customers are the same as
    those of the whole stream in one batch on SQLite."""
    messages: list[Any] = list(synthetic_events(1200, repeat_share=0.2, seed=14))
    messages[5] = {"type": "track", "userId": "u-bad"}  # no event name
    messages[650] = "a row the reader could not read"
    messages[1100] = dict(messages[900])  # a retry three batches later
    report = ingest(store, messages, store.settings.with_overrides(ingest_batch_size=300), source="file")
    assert store.validates_ahead == (store.dialect == "postgresql")
    one = Store(Settings(database_url=f"sqlite:///{tmp_path / 'one.db'}"))
    expected = ingest(one, messages, one.settings.with_overrides(ingest_batch_size=1200), source="file")
    assert report.rejected == expected.rejected and [r["index"] for r in report.rejected] == [5, 650]
    assert (report.stored, report.duplicates) == (expected.stored, expected.duplicates) == (1197, 1)
    assert report.event_names == expected.event_names
    assert store.counts() == one.counts()
    one.close()
