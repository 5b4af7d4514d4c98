"""Event-driven decisions: an ingested event that changes a need leads to a decision for that customer at once.

The API calls ``DecisionTrigger`` with every IngestReport (``create_app(store, after_ingest=trigger)``); the call
only queues the touched customer records, so ingestion never waits. A background thread reads the events just
stored for those records, keeps the ones that change a need (a level reading, an order, a complaint), refreshes
that customer's needs and decides — no batch job or cron in between. Latencies from the hook call to the logged
decision are kept so the path can be measured.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from rapport.decide.decision import Decision
from rapport.decide.engine import DEFAULT_RULES, DecisionRules, decide
from rapport.decide.experiences import ExperienceStore
from rapport.decide.situations import Situation, records_to_decide, situation_for_event

log = logging.getLogger(__name__)

NeedsRefresh = Callable[[Any, str, datetime], Any]
DecisionListener = Callable[[Decision, float], None]


class TriggerStore(ExperienceStore, Protocol):
    """The decision store plus the read of the events stored last for one customer record."""

    def canonical_id(self, customer_id: str) -> str: ...

    def latest_events(self, record_id: str, n: int) -> list[dict[str, Any]]: ...


class IngestedRecords(Protocol):
    """What the trigger needs of an IngestReport: the customer record of every stored event (and, when it has
    them, the events' names as ``event_names``)."""

    customer_ids: list[str]


@dataclass(frozen=True)
class _Job:
    records: Counter[str]
    queued_at: float  # time.perf_counter() when the hook was called


class DecisionTrigger:
    """Decides, in a background thread, for customers whose freshly ingested events change a need.

    Args:
        store: the decision store (rapport.store.decisions.SqlDecisionStore).
        refresh_needs: recomputes one customer's needs from their events, ``(store, customer_id, now)``.
        clock: the time decisions are made at (tests pass a fixed one).
    """

    def __init__(
        self,
        store: TriggerStore,
        refresh_needs: NeedsRefresh | None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rules: DecisionRules = DEFAULT_RULES,
        keep_latencies: int = 100_000,
    ) -> None:
        self.store, self.refresh_needs, self.clock, self.rules = store, refresh_needs, clock, rules
        self.latencies_ms: deque[float] = deque(maxlen=keep_latencies)
        self.decisions = 0
        self.failures = 0
        self.listeners: list[DecisionListener] = []
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._seen: OrderedDict[str, None] = OrderedDict()  # message ids already decided on (bounded)
        self._pending = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    # ----- the ingestion hook ----------------------------------------------------------------------------------
    def __call__(self, report: IngestedRecords) -> None:
        """Queue the customer records an ingestion touched (the API's ``after_ingest`` hook); returns at once."""
        records = records_to_decide(report)
        if not records:
            return
        self.start()
        with self._idle:
            self._pending += 1
        self._queue.put(_Job(Counter(records), time.perf_counter()))

    # ----- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> DecisionTrigger:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="rapport-decision-trigger", daemon=True)
                self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the queued work, then end the thread."""
        thread = self._thread
        if thread is None:
            return
        self._queue.put(None)
        thread.join(timeout)
        self._thread = None

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until every queued ingestion has been decided on; False if ``timeout`` seconds pass first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def __enter__(self) -> DecisionTrigger:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- the worker ------------------------------------------------------------------------------------------
    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            try:
                self.process(job.records, job.queued_at)
            except Exception:  # one bad event must not stop decisions for everyone else
                self.failures += 1
                log.exception("event-driven decision failed for records %s", list(job.records))
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def process(self, records: Counter[str], queued_at: float | None = None) -> list[Decision]:
        """Decide for every customer among ``records`` (record id → events just stored) whose events change a need."""
        latest: dict[str, Situation] = {}
        for record_id, n in records.items():
            for row in reversed(self.store.latest_events(record_id, n)):  # oldest first: the last event wins
                situation = situation_for_event(row["name"], row["properties"], row["message_id"])
                if situation is None or not self._first_time(row["message_id"]):
                    continue
                latest[self.store.canonical_id(record_id)] = situation
        made = []
        for customer_id, situation in latest.items():
            now = self.clock()
            if self.refresh_needs is not None:
                self.refresh_needs(self.store, customer_id, now)
            decision = decide(self.store, customer_id, situation, now, trigger="event", rules=self.rules)
            elapsed_ms = (time.perf_counter() - queued_at) * 1000 if queued_at is not None else 0.0
            self.latencies_ms.append(elapsed_ms)
            self.decisions += 1
            for listener in self.listeners:
                listener(decision, elapsed_ms)
            made.append(decision)
        return made

    def _first_time(self, message_id: str) -> bool:
        if message_id in self._seen:
            return False
        self._seen[message_id] = None
        if len(self._seen) > 100_000:
            self._seen.popitem(last=False)
        return True
