"""Ingestion: validate tracking-spec messages, drop retries and erased people, stitch, store. Batched for speed."""

from __future__ import annotations

import gc
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, islice
from typing import Any, Protocol

from rapport.config import Settings
from rapport.customers.events import Event, InvalidEvent, parse_event
from rapport.customers.identifiers import identifier_hash
from rapport.customers.ports import IdentityTransaction
from rapport.customers.stitching import BatchStitcher, _alias_candidates
from rapport.errors import ConcurrentWrite


class IdentityStore(Protocol):
    """A store that opens identity transactions for ingestion batches (rapport.store.Store.ingest_transaction)."""

    def ingest_transaction(self) -> Any: ...


RERUNS = 20  # a batch that lost a race with another (ConcurrentWrite) runs again, at most this many times


@dataclass
class IngestReport:
    """What happened to the messages of one ingestion call."""

    stored: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    erased: int = 0
    customer_ids: list[str] = field(default_factory=list)
    event_names: list[str | None] = field(default_factory=list)  # each stored event's name, beside its record

    def summary(self) -> dict[str, int]:
        return {"stored": self.stored, "duplicates": self.duplicates, "rejected": len(self.rejected)}

    def add(self, other: IngestReport) -> None:
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.rejected.extend(other.rejected)
        self.erased += other.erased
        self.customer_ids.extend(other.customer_ids)
        self.event_names.extend(other.event_names)


def ingest(
    store: IdentityStore,
    messages: Iterable[Any],
    settings: Settings,
    *,
    default_type: str | None = None,
    source: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Store every valid message once; report duplicates and rejected messages by their position."""
    chunks = _chunks(iter(messages), settings.ingest_batch_size or getattr(store, "ingest_batch_size", 5000))
    if getattr(store, "validates_ahead", False):
        # Only a call of several batches has one to validate ahead: a request's one batch starts no thread.
        first, second = next(chunks, None), next(chunks, None)
        chunks = chain([c for c in (first, second) if c is not None], chunks)
        if second is not None:
            return _ingest_validating_ahead(store, chunks, settings, default_type, source, progress)
    report = IngestReport()
    offset = 0
    for chunk in chunks:
        with _collector_paused():
            report.add(_ingest_batch(store, chunk, offset, settings, default_type, source))
        offset += len(chunk)
        if progress:
            progress(len(chunk))
    return report


def _ingest_validating_ahead(
    store: IdentityStore,
    chunks: Iterator[list[Any]],
    settings: Settings,
    default_type: str | None,
    source: str | None,
    progress: Callable[[int], None] | None,
) -> IngestReport:
    """``ingest`` with each batch validated in a thread while the one before it is stored.

    For a store whose writes wait on a server (``validates_ahead``: PostgreSQL works in its own process, and the
    driver releases the interpreter while it waits), parsing fills those waits. Validation reads nothing from the
    store, so the outcome is that of one batch after the other. On SQLite, whose driver releases the interpreter
    for every row it steps, the two threads would only take turns.
    """
    report = IngestReport()
    offset = 0
    with _collector_paused(), ThreadPoolExecutor(1, thread_name_prefix="rapport-validate") as validator:

        def validated(chunk: list[Any] | None, at: int) -> Future[tuple[IngestReport, list[Event]]] | None:
            return validator.submit(_validated, chunk, at, settings, default_type, source) if chunk else None

        chunk = next(chunks, None)
        ahead = validated(chunk, offset)
        while chunk is not None and ahead is not None:
            batch, parsed = ahead.result()
            following = next(chunks, None)
            ahead = validated(following, offset + len(chunk))
            if parsed:
                batch.add(_store_parsed(store, parsed, settings))
            report.add(batch)
            offset += len(chunk)
            if progress:
                progress(len(chunk))
            chunk = following
    return report


def _validated(
    raws: list[Any], offset: int, settings: Settings, default_type: str | None, source: str | None
) -> tuple[IngestReport, list[Event]]:
    report = IngestReport()
    return report, validate(raws, settings, report, offset=offset, default_type=default_type, source=source)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one batch (for the whole call when validating ahead).

    A batch allocates some ten tracked objects per message (events, identifiers, rows) and holds them until it
    ends, so the collector would run a hundred times per batch and walk them, and every long-lived object of the
    process, again and again: it took about a third of the parsing and stitching time. They form no cycles
    and are freed by reference counting when the batch ends; a process that disabled the collector keeps it so.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(items, size)):
        yield chunk


def _ingest_batch(
    store: IdentityStore,
    raws: list[Any],
    offset: int,
    settings: Settings,
    default_type: str | None,
    source: str | None,
) -> IngestReport:
    report = IngestReport()
    parsed = validate(raws, settings, report, offset=offset, default_type=default_type, source=source)
    if parsed:
        report.add(_store_parsed(store, parsed, settings))
    return report


def _store_parsed(store: IdentityStore, parsed: list[Event], settings: Settings) -> IngestReport:
    """Store one validated batch, running it again when it lost a race with another batch (ConcurrentWrite)."""
    for rerun in range(RERUNS + 1):
        try:
            return _store_batch(store, parsed, settings)
        except ConcurrentWrite:
            if rerun == RERUNS:
                raise
            time.sleep(random.uniform(0, 0.01 * (rerun + 1)))  # apart from the batch it collided with
    raise AssertionError("unreachable: the last rerun returns or raises")


def _store_batch(store: IdentityStore, parsed: list[Event], settings: Settings) -> IngestReport:
    """Stitch and store validated events in one transaction (all of it, or nothing when it raises)."""
    report = IngestReport()
    now = datetime.now(UTC)
    with store.ingest_transaction() as tx:
        existing = tx.existing_message_ids([e.message_id for e in parsed])
        report.duplicates += len(existing)
        fresh = [e for e in parsed if e.message_id not in existing]
        fresh = _drop_erased(tx, fresh, report)
        stitcher = BatchStitcher(tx, settings, now)
        stitcher.preload(fresh)
        for event in fresh:
            customer_id = stitcher.resolve(event)
            stitcher.writes.events.append((event, customer_id, now))
            report.customer_ids.append(customer_id)
            report.event_names.append(event.name)
        stitcher.flush()
        report.stored += stitcher.written
    return report


def validate(
    raws: list[Any],
    settings: Settings,
    report: IngestReport,
    *,
    offset: int = 0,
    default_type: str | None = None,
    source: str | None = None,
    kept: list[Any] | None = None,
) -> list[Event]:
    """Parse every message; the rejected and the repeats within ``raws`` are counted in ``report``, not returned.

    ``kept``, when given, receives the raw message of each event returned, in the same order.

    The stream's publishing API calls it alone (it answers the collector before anything is stored), ingestion
    calls it before the write transaction.
    """
    parsed: list[Event] = []
    seen: set[str] = set()
    for position, raw in enumerate(raws, start=offset):
        try:
            event = parse_event(raw, settings, default_type=default_type, source=source)
        except InvalidEvent as exc:
            message_id = raw.get("messageId") if isinstance(raw, dict) else None
            report.rejected.append({"index": position, "messageId": message_id, "errors": exc.errors})
            continue
        if event.message_id in seen:
            report.duplicates += 1
            continue
        seen.add(event.message_id)
        parsed.append(event)
        if kept is not None:
            kept.append(raw)
    return parsed


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_NUMBER = re.compile(r"(?<![\w-])\+?\d+(?:\.\d+)?(?![\w-])")
REASON_LENGTH = 200


def rejection_reason(errors: list[dict[str, Any]]) -> str:
    """Why a message was rejected, short and without its payload: each field and reason, with quoted values (an
    e-mail, a name, an id the message carried) as "…" and numbers (a phone, a line of a file) as "#", so one
    reason is one kind of mistake."""
    said = "; ".join(f"{e.get('field', '?')}: {e.get('reason', '')}" for e in errors) or "rejected"
    plain = _NUMBER.sub("#", _QUOTED.sub("…", said))
    return plain if len(plain) <= REASON_LENGTH else plain[: REASON_LENGTH - 1] + "…"


def rejection_counts(rejected: list[dict[str, Any]]) -> Counter[str]:
    """How many rejected messages (entries of ``IngestReport.rejected``) each reason stands for."""
    return Counter(rejection_reason(entry.get("errors") or []) for entry in rejected)


def _drop_erased(tx: IdentityTransaction, events: list[Event], report: IngestReport) -> list[Event]:
    """Late or retried events of an erased person are dropped, recognised by the one-way hash of an identifier."""
    if not tx.has_erasures():
        return events
    pepper = tx.pepper()
    hashes = {
        id(event): [identifier_hash(i, pepper) for i in [*event.identifiers, *_alias_candidates(event)]]
        for event in events
    }
    erased = tx.erased_hashes([h for hs in hashes.values() for h in hs])
    kept = [e for e in events if not erased.intersection(hashes[id(e)])]
    report.erased += len(events) - len(kept)
    return kept
