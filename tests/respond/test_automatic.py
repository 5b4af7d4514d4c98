"""Mandates and automatic orders: scope, caps (per order and per month, pending included), cancel, revoke."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.customers.identifiers import Identifier
from rapport.errors import Conflict, InvalidInput, NotFound
from rapport.respond.audit import read_audit
from rapport.respond.automatic import (
    CapExceeded,
    cancel_automatic_order,
    pending_order,
    schedule_automatic_order,
)
from rapport.respond.mandates import MandateTerms, create_mandate, list_mandates, mandate_for, revoke_mandate
from rapport.store.decisions import SqlDecisionStore
from tests.respond.conftest import T0, consenting_customer, customer_with_history

TONER = MandateTerms(
    "category", "toner", per_order_cap=100.0, monthly_cap=150.0, notice_hours=24, cancel_window_hours=12
)


def test_a_mandate_is_created_once_per_client_key_and_covers_its_scope(rs: SqlDecisionStore) -> None:
    customer = consenting_customer(rs)
    mandate = create_mandate(rs, customer, TONER, T0, client_key="m-1")
    assert create_mandate(rs, customer, TONER, T0, client_key="m-1").id == mandate.id
    with pytest.raises(Conflict, match="other terms"):
        create_mandate(rs, customer, MandateTerms("category", "toner", 100.0, 999.0), T0, client_key="m-1")
    item = create_mandate(rs, customer, MandateTerms("item", "TON-PRO", 80.0, 80.0), T0)
    assert mandate.lead_days == pytest.approx(1.5)
    assert mandate_for(rs, customer, "TON-305", "toner", T0).id == mandate.id  # type: ignore[union-attr]
    assert mandate_for(rs, customer, "TON-PRO", "toner", T0).id == item.id  # type: ignore[union-attr]
    assert mandate_for(rs, customer, "PODS-12", "coffee", T0) is None
    assert mandate_for(rs, customer, "TON-305", "toner", T0 - timedelta(seconds=1)) is None  # not before it existed
    assert {m.id for m in list_mandates(rs, customer)} == {mandate.id, item.id}


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        (dict(per_order_cap=0.0), "per_order_cap 0.0 must be a positive amount"),
        (dict(per_order_cap=200.0), "exceeds the monthly cap"),
        (dict(currency="eur"), "ISO 4217"),
        (dict(cancel_window_hours=0), "cancel window of more than 0 hours"),
        (dict(notice_hours=-1), "notice_hours -1 must be between 0"),
    ],
)
def test_bad_terms_are_refused_with_the_offending_value(terms: dict[str, object], message: str) -> None:
    base = dict(scope_kind="category", scope="toner", per_order_cap=100.0, monthly_cap=150.0)
    with pytest.raises(InvalidInput, match=message):
        MandateTerms(**{**base, **terms})  # type: ignore[arg-type]


def test_caps_hold_per_order_and_per_month_counting_pending_orders(rs: SqlDecisionStore) -> None:
    customer = consenting_customer(rs)
    terms = MandateTerms("category", "toner", per_order_cap=100.0, monthly_cap=140.0)
    mandate = create_mandate(rs, customer, terms, T0)
    with pytest.raises(CapExceeded, match=r"per-order cap of 100\.00"):
        schedule_automatic_order(rs, customer, mandate.id, "TON-305", 3, T0, "need")  # 3 x 41.50 = 124.50
    first = schedule_automatic_order(rs, customer, mandate.id, "TON-305", 2, T0, "need")  # 83.00
    assert (first.status, first.amount, first.cap_month) == ("scheduled", 83.0, "2026-03")
    again = schedule_automatic_order(rs, customer, mandate.id, "TON-305", 2, T0, "need again")
    assert again.id == first.id  # one pending order per mandate and item
    with pytest.raises(CapExceeded, match=r"would come to 142\.00 EUR, above its monthly cap of 140\.00"):
        schedule_automatic_order(rs, customer, mandate.id, "TON-PRO", 1, T0, "need")  # 83 pending + 59
    next_month = T0 + timedelta(days=31)
    assert schedule_automatic_order(rs, customer, mandate.id, "TON-PRO", 1, next_month, "need").cap_month == "2026-04"
    cancel_automatic_order(rs, customer, first.id, T0)  # a cancelled order no longer counts
    assert schedule_automatic_order(rs, customer, mandate.id, "TON-PRO", 1, T0, "need").amount == 59.0


def test_no_automatic_order_outside_the_mandate_or_without_consent(rs: SqlDecisionStore) -> None:
    other = customer_with_history(rs, "u2")
    theirs = create_mandate(rs, other, TONER, T0)
    with pytest.raises(Conflict, match="has not consented to automatic_execution"):
        schedule_automatic_order(rs, other, theirs.id, "TON-305", 1, T0, "need")
    customer = consenting_customer(rs)
    mandate = create_mandate(rs, customer, TONER, T0)
    with pytest.raises(InvalidInput, match="covers category 'toner', not PODS-12"):
        schedule_automatic_order(rs, customer, mandate.id, "PODS-12", 1, T0, "need")
    with pytest.raises(InvalidInput, match="No earlier priced order of GHOST"):
        schedule_automatic_order(rs, customer, mandate.id, "GHOST", 1, T0, "need")
    revoke_mandate(rs, customer, mandate.id, T0)
    with pytest.raises(Conflict, match="is revoked"):
        schedule_automatic_order(rs, customer, mandate.id, "TON-305", 1, T0, "need")


def test_cancel_and_revoke_stop_pending_orders_and_every_step_is_audited(rs: SqlDecisionStore) -> None:
    customer = consenting_customer(rs)
    mandate = create_mandate(rs, customer, TONER, T0)
    order = schedule_automatic_order(rs, customer, mandate.id, "TON-305", 2, T0, "need")
    cancelled = cancel_automatic_order(rs, customer, order.id, T0 + timedelta(hours=1))
    assert cancelled.status == "cancelled" and cancelled.cancel_reason == "cancelled by the customer"
    assert (
        cancel_automatic_order(rs, customer, order.id, T0 + timedelta(hours=2)).cancelled_at == cancelled.cancelled_at
    )
    second = schedule_automatic_order(rs, customer, mandate.id, "TON-305", 2, T0 + timedelta(hours=3), "need")
    revoke_mandate(rs, customer, mandate.id, T0 + timedelta(hours=4))
    assert pending_order(rs, customer, mandate.id, "TON-305") is None
    steps = [(e.subject_id, e.action) for e in read_audit(rs, customer)]
    assert steps == [
        (mandate.id, "mandate_created"),
        (order.id, "scheduled"),
        (order.id, "cancelled"),
        (second.id, "scheduled"),
        (mandate.id, "mandate_revoked"),
        (second.id, "cancelled"),
    ]


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(asks=st.lists(st.tuples(st.sampled_from(["TON-305", "TON-PRO"]), st.integers(1, 4), st.booleans()), max_size=6))
def test_whatever_is_asked_no_cap_is_ever_exceeded_and_nothing_within_them_is_refused(
    rs: SqlDecisionStore, asks: list[tuple[str, int, bool]]
) -> None:
    customer = _customer(rs)
    mandate = create_mandate(rs, customer, TONER, T0)  # a fresh mandate per example: its own month
    price = {"TON-305": 41.5, "TON-PRO": 59.0}
    for sku, quantity, cancel in asks:
        before = rs.month_total(mandate.id, "2026-03")
        amount = round(price[sku] * quantity, 2)
        try:
            order = schedule_automatic_order(rs, customer, mandate.id, sku, quantity, T0, "need")
        except CapExceeded:
            assert amount > TONER.per_order_cap or before + amount > TONER.monthly_cap
            continue
        if cancel:
            cancel_automatic_order(rs, customer, order.id, T0)
        assert rs.month_total(mandate.id, "2026-03") <= TONER.monthly_cap
    for row in rs.automatic_orders_of(customer, mandate_id=mandate.id):
        assert row["amount"] <= TONER.per_order_cap


def _customer(rs: SqlDecisionStore) -> str:
    try:
        return rs.customer_by_identifier(Identifier("user_id", "u1"))
    except NotFound:
        return consenting_customer(rs)
