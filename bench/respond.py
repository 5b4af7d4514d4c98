"""Respond's throughput: automatic orders through the scheduler with one worker and with two, webhook delivery.

    .venv/bin/python bench/respond.py [--orders 400] [--database URL]

Each customer has three earlier orders, the automatic_execution and app-contact consents, a toner mandate and one
scheduled automatic order. Half the orders go through ``run_due`` with one worker, the other half with two workers
racing (threads) on the same due steps: the notice (contact policy, outbox, contact log), the app's
acknowledgement, then the execution (consent and caps re-checked, the order placed and ingested as an event).
Baselines measured in the same run: ``place_order`` called directly for as many orders (what an execution costs
beyond its checks and claims), and the same webhook bodies POSTed by a bare httpx client to the same local
receiver (what signing, leasing and bookkeeping add). The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from rapport.config import Settings
from rapport.customers.identifiers import Identifier
from rapport.customers.ingestion import ingest
from rapport.decide.consent import record_consent
from rapport.respond.automatic import schedule_automatic_order
from rapport.respond.mandates import MandateTerms, create_mandate
from rapport.respond.orders import OrderLine, OrderRequest, place_order
from rapport.respond.outbox import acknowledge, enqueue_action, pending_actions
from rapport.respond.scheduler import run_due
from rapport.respond.webhooks import HttpTransport, WebhookPolicy, deliver_due, webhook_body
from rapport.store.decisions import SqlDecisionStore

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # noon: outside the default quiet hours
TERMS = MandateTerms("category", "toner", 200.0, 400.0, notice_hours=24, cancel_window_hours=24)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=400, help="automatic orders (half per worker setting)")
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = SqlDecisionStore(Settings(database_url=url))
        result = {"orders": args.orders, "store": store.dialect, **run(store, args.orders)}
        store.close()
    print(json.dumps(result))


def run(store: SqlDecisionStore, n: int) -> dict[str, Any]:
    started = time.perf_counter()
    people = _customers(store, n)
    half = n // 2
    one, two = people[:half], people[half:]
    _schedule(store, one, NOW)
    _schedule(store, two, NOW + timedelta(days=10))
    setup = time.perf_counter() - started
    single = _lifecycle(store, one, NOW, workers=1)
    racing = _lifecycle(store, two, NOW + timedelta(days=10), workers=2)
    baseline = _timed(lambda: [_direct_order(store, c, i) for i, c in enumerate(one)])
    webhooks = _webhooks(store, people)
    executed = [o for c in people for o in store.orders_of(c, 10) if o["source"] == "automatic"]
    return {
        "setup_s": round(setup, 1),
        "one_worker": single,
        "two_workers": racing,
        "baseline_place_order_per_s": round(len(one) / baseline, 1),
        "execute_vs_place_order": round((len(one) / baseline) / single["execute_per_s"], 2),
        "webhooks": webhooks,
        "checks": {"automatic_orders_placed": len(executed), "each_exactly_once": len(executed) == n},
    }


def _customers(store: SqlDecisionStore, n: int) -> list[str]:
    history = []
    for i in range(n):
        for days, quantity in ((90, 2), (60, 2), (30, 1)):
            at = NOW - timedelta(days=days)
            history.append(
                {
                    "type": "track",
                    "event": "Order Completed",
                    "userId": f"b{i}",
                    "messageId": f"b{i}-{days}",
                    "timestamp": at.isoformat(),
                    "properties": {
                        "currency": "EUR",
                        "address_ref": f"a{i}",
                        "products": [{"sku": "TON-305", "category": "toner", "quantity": quantity, "price": 41.5}],
                    },
                }
            )
    ingest(store, history, store.settings, source="bench")
    people = [store.customer_by_identifier(Identifier("user_id", f"b{i}")) for i in range(n)]
    for customer in people:
        for purpose in ("automatic_execution", "contact:app"):
            record_consent(store, customer, purpose, True, "bench", NOW - timedelta(days=1))
    return people


def _schedule(store: SqlDecisionStore, people: list[str], at: datetime) -> None:
    for customer in people:
        mandate = create_mandate(store, customer, TERMS, at - timedelta(hours=1))
        schedule_automatic_order(store, customer, mandate.id, "TON-305", 2, at, "bench need")


def _lifecycle(store: SqlDecisionStore, people: list[str], at: datetime, workers: int) -> dict[str, float]:
    notify = _timed(lambda: _race(store, at, workers))
    for customer in people:
        for notice in pending_actions(store, customer, ["app"], at):
            acknowledge(store, customer, notice.id, at, by="app")
    execute = _timed(lambda: _race(store, at + timedelta(hours=24), workers))
    return {"notify_per_s": round(len(people) / notify, 1), "execute_per_s": round(len(people) / execute, 1)}


def _race(store: SqlDecisionStore, now: datetime, workers: int) -> None:
    """``workers`` threads run the scheduler at ``now`` until none finds a step."""

    def work(name: str) -> None:
        while run_due(store, now, worker=name, limit=50):
            pass

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _direct_order(store: SqlDecisionStore, customer: str, i: int) -> None:
    line = OrderLine("TON-305", 2, 41.5, "toner")
    place_order(store, OrderRequest(customer, (line,), "EUR", f"a{i}", source="api"), NOW, client_key=f"direct-{i}")


def _webhooks(store: SqlDecisionStore, people: list[str]) -> dict[str, float]:
    actions = [enqueue_action(store, c, "nudge", "email", {"m": "toner"}, NOW, f"bench-nudge-{c}") for c in people]
    delivered: list[int] = []
    with _receiver() as url:
        transport = HttpTransport()
        policy = WebhookPolicy(url, "bench-secret")
        delivering = _timed(lambda: delivered.append(_deliver_all(store, policy, transport)))
        transport.close()
        bodies = [webhook_body(a) for a in actions]
        with httpx.Client() as client:
            bare = _timed(lambda: [client.post(url, content=b) for b in bodies])
    per_s, bare_per_s = delivered[0] / delivering, len(bodies) / bare
    return {
        "actions": delivered[0],  # the nudges and every order handed to the firm's systems
        "delivered_per_s": round(per_s, 1),
        "bare_httpx_per_s": round(bare_per_s, 1),
        "bare_post_vs_delivery": round(bare_per_s / per_s, 2),
    }


def _deliver_all(store: SqlDecisionStore, policy: WebhookPolicy, transport: HttpTransport) -> int:
    later = NOW + timedelta(days=30)  # past every action's send time, so all pending ones are due
    count = 0
    while found := deliver_due(store, policy, later, transport, limit=200):
        count += sum(d.outcome == "delivered" for d in found)
    return count


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _receiver() -> Iterator[str]:
    """A local receiver answering 200 to every POST (http.server in a thread)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()
        server.server_close()


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
