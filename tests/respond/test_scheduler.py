"""The scheduler: notice (through the contact policy), cancel window, consent and caps re-checked, never twice."""

from __future__ import annotations

import threading
from datetime import timedelta

from rapport.customers.service import get_profile
from rapport.decide.consent import Consent, record_consent
from rapport.respond.audit import read_audit
from rapport.respond.automatic import cancel_automatic_order, get_automatic_order, schedule_automatic_order
from rapport.respond.mandates import MandateTerms, create_mandate, revoke_mandate
from rapport.respond.orders import OrderLine, OrderRequest, get_order, place_order
from rapport.respond.outbox import acknowledge, get_action, pending_actions
from rapport.respond.scheduler import run_due
from rapport.respond.webhooks import HttpTransport, WebhookPolicy, deliver_due
from rapport.store.decisions import SqlDecisionStore
from tests.respond.conftest import T0, consenting_customer
from tests.respond.receiver import running_receiver

TONER = MandateTerms(
    "category", "toner", per_order_cap=100.0, monthly_cap=200.0, notice_hours=24, cancel_window_hours=12
)
H = timedelta(hours=1)


def _scheduled(rs: SqlDecisionStore, user: str = "u1", *channels: str, at=T0) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    customer = consenting_customer(rs, user, *(channels or ("app",)))
    mandate = create_mandate(rs, customer, TONER, at - H)
    order = schedule_automatic_order(rs, customer, mandate.id, "TON-305", 2, at, "toner runs out in 3 days")
    return customer, order.id


def test_an_automatic_order_runs_only_after_its_notice_was_sent_and_the_windows_passed(rs: SqlDecisionStore) -> None:
    customer, oid = _scheduled(rs)
    (step,) = run_due(rs, T0)
    assert (step.step, step.detail["channel"]) == ("notified", "app")
    order = get_automatic_order(rs, customer, oid)
    assert (order.status, order.notified_at, order.execute_after) == ("notified", T0, T0 + 24 * H)
    (notice,) = pending_actions(rs, customer, ["app"], T0)
    assert notice.kind == "notice" and notice.payload["automatic_order_id"] == oid
    assert [s.step for s in run_due(rs, T0 + 30 * H)] == ["waiting"]  # the app has not shown the notice yet
    assert get_automatic_order(rs, customer, oid).status == "notified"
    acknowledge(rs, customer, notice.id, T0 + 30 * H, by="app")  # shown 30 hours late: the windows start now
    assert [s.step for s in run_due(rs, T0 + 31 * H)] == ["waiting"]
    assert run_due(rs, T0 + 53 * H) == []  # not due again before 30 + 24 hours
    (executed,) = run_due(rs, T0 + 54 * H)
    assert executed.step == "executed"
    placed = get_order(rs, executed.detail["order_id"])
    assert (placed.source, placed.total, placed.address_ref, placed.payment_ref) == (
        "automatic",
        83.0,
        "addr-home",
        "pay-visa-4242",
    )
    assert run_due(rs, T0 + 100 * H) == []  # never twice
    assert get_profile(rs, customer).facts["orders"] == 5
    actions = [e.action for e in read_audit(rs, customer) if e.subject_id in (oid, notice.id)]
    assert actions == ["scheduled", "notified", "acknowledged", "executed"]


def test_quiet_hours_defer_the_notice_and_the_order_waits_for_it(rs: SqlDecisionStore) -> None:
    late = T0.replace(hour=22)  # inside the default quiet hours 21:00-08:00 (UTC)
    customer, oid = _scheduled(rs, "u1", "email", at=late)
    (step,) = run_due(rs, late)
    morning = (late + timedelta(days=1)).replace(hour=8)
    assert step.step == "notice_deferred" and step.detail["send_at"] == morning.isoformat()
    order = get_automatic_order(rs, customer, oid)
    assert (order.notified_at, order.execute_after) == (morning, morning + 24 * H)
    with running_receiver([200]) as receiver:
        policy, transport = WebhookPolicy(receiver.url, "s"), HttpTransport()
        assert deliver_due(rs, policy, late + H, transport) == []  # not before its send time
        assert [d.outcome for d in deliver_due(rs, policy, morning, transport)] == ["delivered"]
        transport.close()
    assert run_due(rs, morning + 23 * H) == []
    assert [s.step for s in run_due(rs, morning + 24 * H)] == ["executed"]


def test_consent_withdrawn_or_mandate_revoked_cancels_and_nothing_runs(rs: SqlDecisionStore) -> None:
    customer, oid = _scheduled(rs)
    run_due(rs, T0)
    change = record_consent(rs, customer, "automatic_execution", False, "preference_centre", T0 + H)
    assert change.cancelled_orders == [oid]
    order = get_automatic_order(rs, customer, oid)
    assert order.status == "cancelled" and "automatic_execution withdrawn" in (order.cancel_reason or "")
    assert get_action(rs, order.notice_action_id or "").status == "withdrawn"  # the notice never goes out
    assert run_due(rs, T0 + 100 * H) == []
    other, second = _scheduled(rs, "u2")
    mandate_id = get_automatic_order(rs, other, second).mandate_id
    revoke_mandate(rs, other, mandate_id, T0 + H)
    assert get_automatic_order(rs, other, second).status == "cancelled"


def test_execution_rechecks_consent_at_the_last_moment(rs: SqlDecisionStore) -> None:
    customer, _ = _scheduled(rs)
    run_due(rs, T0)
    (notice,) = pending_actions(rs, customer, ["app"], T0)
    acknowledge(rs, customer, notice.id, T0, by="app")
    # a withdrawal written by another system, straight to the consent log (no cancellation ran)
    rs.insert_consent(Consent(customer, "automatic_execution", False, "crm_import", T0 + 2 * H))
    (step,) = run_due(rs, T0 + 24 * H)
    assert step.step == "cancelled" and step.detail["reason"] == "the automatic_execution consent is no longer in force"
    assert rs.orders_of(customer, 10) == []


def test_a_notice_that_can_never_be_sent_cancels_the_order(rs: SqlDecisionStore) -> None:
    customer, oid = _scheduled(rs, "u1", "email")
    run_due(rs, T0)
    notice_id = get_automatic_order(rs, customer, oid).notice_action_id or ""
    with running_receiver([500]) as receiver:
        policy, transport, at = WebhookPolicy(receiver.url, "s", max_attempts=2, backoff_seconds=1), HttpTransport(), T0
        for _ in range(3):
            deliver_due(rs, policy, at, transport)
            at += H
        transport.close()
    (step,) = run_due(rs, T0 + 24 * H)
    assert step.step == "cancelled" and step.detail["reason"] == "its notice was never sent (dead)"
    assert get_action(rs, notice_id).status == "dead" and rs.orders_of(customer, 10) == []


def test_the_customer_cancels_within_the_window_and_it_never_runs(rs: SqlDecisionStore) -> None:
    customer, oid = _scheduled(rs)
    run_due(rs, T0)
    (notice,) = pending_actions(rs, customer, ["app"], T0)
    acknowledge(rs, customer, notice.id, T0, by="app")
    cancel_automatic_order(rs, customer, oid, T0 + 5 * H)
    assert run_due(rs, T0 + 48 * H) == []
    assert rs.orders_of(customer, 10) == []


def test_two_schedulers_at_once_take_each_step_once(rs: SqlDecisionStore) -> None:
    orders = [_scheduled(rs, f"u{i}") for i in range(6)]
    steps: list[str] = []
    lock = threading.Lock()

    def race(now) -> None:  # type: ignore[no-untyped-def]
        barrier = threading.Barrier(2)

        def work(worker: str) -> None:
            barrier.wait()
            for _ in range(3):
                found = run_due(rs, now, worker=worker)
                with lock:
                    steps.extend(f"{s.order_id}:{s.step}" for s in found)

        threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    race(T0)
    for customer, _ in orders:
        for notice in pending_actions(rs, customer, ["app"], T0):
            acknowledge(rs, customer, notice.id, T0, by="app")
    race(T0 + 24 * H)
    for customer, oid in orders:
        assert steps.count(f"{oid}:notified") == 1 and steps.count(f"{oid}:executed") == 1
        assert len(rs.actions_of(customer, ["acknowledged", "pending"], ["app"])) == 1  # one notice
        assert [o["source"] for o in rs.orders_of(customer, 10)] == ["automatic"]  # one order
        assert [e.action for e in read_audit(rs, customer) if e.subject_id == oid].count("executed") == 1
        assert len(rs.contacts_between(customer, T0 - H, T0 + 48 * H)) == 1  # one contact counted


def test_an_execution_left_half_done_by_a_dead_worker_is_finished_once(rs: SqlDecisionStore) -> None:
    customer, oid = _scheduled(rs)
    run_due(rs, T0)
    (notice,) = pending_actions(rs, customer, ["app"], T0)
    acknowledge(rs, customer, notice.id, T0, by="app")
    at = T0 + 24 * H
    # the worker claimed the execution, placed the order, and died before marking it executed
    assert rs.claim_automatic_order(oid, ["notified"], {"status": "executing", "claimed_by": "dead", "claimed_at": at})
    line = OrderLine("TON-305", 2, 41.5, "toner", "Ton-305")  # (since then the customer moved: another address)
    request = OrderRequest(customer, (line,), "EUR", "addr-before-the-move", "pay-visa-4242", source="automatic")
    placed = place_order(rs, request, at, client_key=f"automatic:{oid}")
    assert run_due(rs, at + timedelta(minutes=1)) == []  # a live claim is left alone
    (step,) = run_due(rs, at + 10 * H)  # a stale one is finished
    assert step.step == "executed"
    assert step.detail["order_id"] == placed.id  # the order placed before the crash, not a second
    assert len(rs.orders_of(customer, 10)) == 1
