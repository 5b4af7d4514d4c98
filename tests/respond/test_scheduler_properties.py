"""Invariants of the automatic order under any interleaving of clock ticks, acknowledgements, cancels and consent."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.customers.identifiers import Identifier
from rapport.decide.consent import record_consent
from rapport.decide.contact_policy import record_contact
from rapport.errors import Conflict, NotFound
from rapport.respond.automatic import cancel_automatic_order, get_automatic_order, schedule_automatic_order
from rapport.respond.mandates import MandateTerms, create_mandate
from rapport.respond.outbox import acknowledge, get_action
from rapport.respond.scheduler import run_due
from rapport.store.decisions import SqlDecisionStore
from tests.respond.conftest import T0, consenting_customer, with_settings

TERMS = MandateTerms(
    "category", "toner", per_order_cap=100.0, monthly_cap=200.0, notice_hours=24, cancel_window_hours=12
)
H = timedelta(hours=1)
_START = itertools.count()

moves = st.lists(
    st.one_of(
        st.tuples(st.just("tick"), st.integers(1, 40)),
        st.tuples(st.just("ack"), st.just(0)),
        st.tuples(st.just("cancel"), st.just(0)),
        st.tuples(st.just("withdraw"), st.just(0)),
    ),
    min_size=1,
    max_size=10,
)


def _customer(rs: SqlDecisionStore) -> str:
    try:
        return rs.customer_by_identifier(Identifier("user_id", "u1"))
    except NotFound:
        return consenting_customer(rs, "u1", "app")


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=moves)
def test_never_before_the_notice_and_its_windows_never_after_a_cancel_or_withdrawal_never_twice(
    rs: SqlDecisionStore, steps: list[tuple[str, int]]
) -> None:
    customer = _customer(rs)
    start = T0 + next(_START) * 1000 * H  # each example in its own stretch of time (and contact budget)
    record_consent(rs, customer, "automatic_execution", True, "test", start)
    mandate = create_mandate(rs, customer, TERMS, start)
    oid = schedule_automatic_order(rs, customer, mandate.id, "TON-305", 2, start, "need").id
    now, stopped = start, False
    for move, hours in steps:
        if move == "tick":
            now += hours * H
            run_due(rs, now)
        elif move == "ack":
            notice_id = get_automatic_order(rs, customer, oid).notice_action_id
            if notice_id and get_action(rs, notice_id).status == "pending" and get_action(rs, notice_id).send_at <= now:
                acknowledge(rs, customer, notice_id, now, by="app")
        elif move == "cancel":
            try:
                cancel_automatic_order(rs, customer, oid, now)
                stopped = True
            except Conflict:
                assert get_automatic_order(rs, customer, oid).status == "executed"
        else:
            stopped = stopped or get_automatic_order(rs, customer, oid).status != "executed"
            record_consent(rs, customer, "automatic_execution", False, "test", now)
        order = get_automatic_order(rs, customer, oid)
        if order.status == "executed":
            assert not stopped
            notice = get_action(rs, order.notice_action_id or "")
            assert notice.delivered_at is not None and order.executed_at is not None
            assert order.executed_at >= notice.delivered_at + 24 * H  # notice period and cancel window passed
            assert order.executed_at >= order.notified_at  # type: ignore[operator]
        if stopped:
            assert order.status == "cancelled"
    placed = [o for o in rs.orders_of(customer, 100) if o["client_key"] == f"automatic:{oid}"]
    assert len(placed) == (1 if get_automatic_order(rs, customer, oid).status == "executed" else 0)


def test_a_full_contact_budget_defers_the_notice_and_the_order_waits(rs: SqlDecisionStore) -> None:
    customer = consenting_customer(rs, "u1", "app")
    for day in (3, 2):  # the default budget is 2 contacts a week: both used
        record_contact(rs, customer, "nudge", "app", T0 - day * 24 * H)
    mandate = create_mandate(rs, customer, TERMS, T0)
    oid = schedule_automatic_order(rs, customer, mandate.id, "TON-305", 2, T0, "need").id
    (step,) = run_due(rs, T0)
    free = T0 - 3 * 24 * H + 7 * 24 * H  # when the older contact leaves the 7-day window
    assert step.step == "notice_deferred" and step.detail["send_at"] >= free.isoformat()
    order = get_automatic_order(rs, customer, oid)
    assert order.execute_after is not None and order.execute_after >= free + 24 * H


def test_automatic_orders_are_fulfilled_through_the_declared_architecture(rs: SqlDecisionStore, tmp_path: Path) -> None:
    file = tmp_path / "firm.toml"
    file.write_text(
        '[producer]\nbrand = "House"\n[[catalogue]]\nsku = "TON-305"\nbrand = "House"\ncategory = "toner"\nprice = 41.5\n'
    )
    for routes, expected in (
        ({"category:toner": "connected_producer"}, "executed"),
        ({"category:toner": "matchmaker"}, "cancelled"),
    ):
        rs_routed = with_settings(rs, fulfilment_routes=routes, fulfilment_file=str(file))
        user = f"u-{expected}"
        customer = consenting_customer(rs_routed, user, "app")
        mandate = create_mandate(rs_routed, customer, TERMS, T0)
        oid = schedule_automatic_order(rs_routed, customer, mandate.id, "TON-305", 2, T0, "need").id
        run_due(rs_routed, T0)
        acknowledge(
            rs_routed, customer, get_automatic_order(rs_routed, customer, oid).notice_action_id or "", T0, by="app"
        )
        (step,) = run_due(rs_routed, T0 + 24 * H)
        assert step.step == expected
        if expected == "executed":
            assert step.detail["architecture"] == "connected_producer"
        else:  # no provider: never silently dropped, the customer reads why
            assert "no third-party providers are configured" in step.detail["reason"]
