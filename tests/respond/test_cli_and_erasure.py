"""`rapport run-scheduler` and `rapport deliver-actions` as a user runs them; erasure leaves nothing of Respond."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.respond.automatic import schedule_automatic_order
from rapport.respond.mandates import MandateTerms, create_mandate
from rapport.respond.orders import OrderLine, OrderRequest, place_order
from rapport.respond.outbox import enqueue_action
from rapport.store.decisions import SqlDecisionStore
from rapport.store.erasure import customer_tables
from rapport.store.tables import audit_log, automatic_orders, mandates, orders, outbox_actions
from tests.respond.conftest import T0, consenting_customer
from tests.respond.receiver import running_receiver

runner = CliRunner()


def _invoke(rs: SqlDecisionStore, args: list[str], **env: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, args, env={"RAPPORT_DATABASE_URL": rs.settings.database_url, **env})


def test_run_scheduler_once_takes_the_due_steps(rs: SqlDecisionStore) -> None:
    customer = consenting_customer(rs, "u1", "app")
    mandate = create_mandate(rs, customer, MandateTerms("category", "toner", 100, 200), T0)
    order = schedule_automatic_order(
        rs, customer, mandate.id, "TON-305", 2, datetime.now(UTC) - timedelta(minutes=1), "need"
    )
    result = _invoke(rs, ["run-scheduler", "--once", "--json"], RAPPORT_QUIET_HOURS="")  # any wall-clock hour
    assert result.exit_code == 0, result.output
    round_ = json.loads(result.stdout.strip().splitlines()[-1])
    assert [(s["order_id"], s["step"]) for s in round_["steps"]] == [(order.id, "notified")], round_
    again = _invoke(rs, ["run-scheduler", "--once"], RAPPORT_QUIET_HOURS="")
    assert again.exit_code == 0 and "nothing due" in again.stdout


def test_deliver_actions_signs_and_sends_and_lists_the_dead_letter(rs: SqlDecisionStore) -> None:
    customer = consenting_customer(rs)
    enqueue_action(rs, customer, "nudge", "email", {"m": 1}, datetime.now(UTC) - timedelta(seconds=1), "cli-1")
    with running_receiver([200]) as receiver:
        env = {"RAPPORT_WEBHOOK_URL": receiver.url, "RAPPORT_WEBHOOK_SECRET": "s3cret"}
        result = _invoke(rs, ["deliver-actions", "--once"], **env)
    assert result.exit_code == 0, result.output
    assert "delivered" in result.stdout and len(receiver.accepted) == 1
    unset = _invoke(rs, ["deliver-actions", "--once"])
    assert unset.exit_code == 2 and "No webhook URL is configured" in unset.stderr
    assert "dead letter" in _invoke(rs, ["deliver-actions", "--dead"]).stdout


def test_erasure_removes_every_respond_row_of_the_person(rs: SqlDecisionStore) -> None:
    customer = consenting_customer(rs)
    keep = consenting_customer(rs, "u2")
    for who in (customer, keep):
        mandate = create_mandate(rs, who, MandateTerms("category", "toner", 100, 200), T0)
        schedule_automatic_order(rs, who, mandate.id, "TON-305", 2, T0, "need")
        place_order(rs, OrderRequest(who, (OrderLine("PODS-12", 1, 5.0),)), T0, client_key=f"k-{who}")
    tables = (orders, mandates, automatic_orders, audit_log, outbox_actions)
    assert set(tables) <= set(customer_tables())
    report = rs.erase(customer)
    assert {t.name for t in tables} <= set(report["removed"])
    with rs.engine.connect() as conn:
        for table in tables:
            assert conn.scalar(select(func.count()).select_from(table).where(table.c.customer_id == customer)) == 0
            assert conn.scalar(select(func.count()).select_from(table).where(table.c.customer_id == keep)) > 0
