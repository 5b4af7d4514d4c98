"""Ingestion in bulk: long batches, retries across batches, and the process state it leaves behind."""

from __future__ import annotations

import gc
import random

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
