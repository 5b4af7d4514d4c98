"""`rapport run-scheduler` and `rapport deliver-actions`: automatic orders' due steps, and the outbox's webhooks."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime

import typer
from rich.table import Table

from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors, console, print_json
from rapport.respond.scheduler import Step, run_due
from rapport.respond.webhooks import Delivery, HttpTransport, WebhookPolicy, deliver_due
from rapport.store.decisions import SqlDecisionStore

_DB = typer.Option(None, "--database", help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)")
_ONCE = typer.Option(False, "--once", help="Run one round and exit")
_INTERVAL = typer.Option(10.0, "--interval", min=0.1, help="Seconds between rounds")


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _open(database: str | None) -> SqlDecisionStore:
    with cli_errors():
        return SqlDecisionStore.over(open_store(database))


@app.command("run-scheduler")
def run_scheduler(
    once: bool = _ONCE,
    interval: float = _INTERVAL,
    as_json: bool = typer.Option(False, "--json", help="Print each round's steps as JSON"),
    database: str | None = _DB,
) -> None:
    """Move automatic orders on (notice → execution) and deliver due webhooks; safe to run on several machines."""
    store, worker = _open(database), _worker()
    policy = WebhookPolicy.from_settings(store.settings)
    transport = HttpTransport() if policy.url and policy.secret else None
    if transport is None and not as_json:
        console.print("[yellow]no webhook URL or secret set:[/] push-channel actions stay queued")

    def one_round(now: datetime) -> None:
        steps = run_due(store, now, worker=worker)
        deliveries = deliver_due(store, policy, now, transport, worker) if transport else []
        _report(steps, deliveries, now, as_json)

    _rounds(one_round, once, interval, transport)


@app.command("deliver-actions")
def deliver_actions(
    once: bool = _ONCE,
    interval: float = _INTERVAL,
    dead: bool = typer.Option(False, "--dead", help="List the dead letter (actions that failed every try) and exit"),
    database: str | None = _DB,
) -> None:
    """Deliver due outbox actions to the firm's webhook (signed, retried with back-off, dead-lettered)."""
    store, worker = _open(database), _worker()
    if dead:
        _dead_letter(store)
        return
    policy, transport = WebhookPolicy.from_settings(store.settings), HttpTransport()
    _rounds(
        lambda now: _report([], deliver_due(store, policy, now, transport, worker), now, False),
        once,
        interval,
        transport,
    )


def _rounds(
    one_round: Callable[[datetime], None], once: bool, interval: float, transport: HttpTransport | None
) -> None:
    """Run rounds at the wall-clock time until interrupted (or once); a RapportError ends it with its message."""
    try:
        while True:
            with cli_errors():
                one_round(datetime.now(UTC))
            if once:
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        console.print("stopped")
    finally:
        if transport is not None:
            transport.close()


def _report(steps: list[Step], deliveries: list[Delivery], now: datetime, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "at": now.isoformat(),
                "steps": [s.to_dict() for s in steps],
                "deliveries": [d.to_dict() for d in deliveries],
            }
        )
        return
    if not steps and not deliveries:
        console.print(f"{now:%H:%M:%S} nothing due")
        return
    if steps:
        table = Table("automatic order", "customer", "step", "detail", title=f"{now:%H:%M:%S} scheduler")
        for step in steps:
            detail = step.detail.get("reason") or step.detail.get("order_id") or step.detail.get("channel") or ""
            table.add_row(step.order_id, step.customer_id, step.step, str(detail))
        console.print(table)
    if deliveries:
        table = Table("action", "attempt", "outcome", "status", "error", title=f"{now:%H:%M:%S} webhooks")
        for d in deliveries:
            table.add_row(d.action_id, str(d.attempt), d.outcome, str(d.status_code or ""), d.error or "")
        console.print(table)


def _dead_letter(store: SqlDecisionStore) -> None:
    table = Table("action", "customer", "kind", "channel", "attempts", "last error", title="dead letter")
    for row in store.actions_in("dead", 1000):
        table.add_row(
            row["id"], row["customer_id"], row["kind"], row["channel"], str(row["attempts"]), row["last_error"] or ""
        )
    console.print(table)
