"""Orders through Rapport: idempotent on a client key, written as events, remembered as the usual order."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from rapport.customers.ingestion import ingest
from rapport.customers.service import get_profile
from rapport.errors import Conflict, NotFound
from rapport.respond.orders import OrderLine, OrderRequest, orders_of, place_order
from rapport.respond.outbox import pending_actions
from rapport.respond.reorder import reorder, usual_order
from rapport.store.decisions import SqlDecisionStore
from tests.respond.conftest import T0, customer_with_history, order_event, with_settings


def _request(customer_id: str, quantity: int = 1) -> OrderRequest:
    return OrderRequest(customer_id, (OrderLine("PODS-12", quantity, 5.0, "coffee"),), "EUR", "addr-home", "pay-1")


def test_usual_order_is_the_most_frequent_item_its_usual_quantity_latest_price_and_references(
    rs: SqlDecisionStore,
) -> None:
    customer = customer_with_history(rs)
    usual = usual_order(rs, customer, category="toner")
    assert usual is not None
    assert (usual.sku, usual.quantity, usual.unit_price, usual.times_ordered) == ("TON-305", 2, 41.5, 3)
    assert (usual.address_ref, usual.payment_ref) == ("addr-home", "pay-visa-4242")
    assert usual_order(rs, customer, sku="TON-PRO").quantity == 1  # type: ignore[union-attr]
    assert usual_order(rs, customer, category="garden") is None


def test_same_client_key_returns_the_first_order_and_a_different_body_conflicts(rs: SqlDecisionStore) -> None:
    customer = customer_with_history(rs)
    first = place_order(rs, _request(customer), T0, client_key="k-1")
    again = place_order(rs, _request(customer), T0 + timedelta(minutes=1), client_key="k-1")
    assert first.created and not again.created and again.id == first.id
    with pytest.raises(Conflict, match="k-1"):
        place_order(rs, _request(customer, quantity=3), T0, client_key="k-1")
    assert [o.id for o in orders_of(rs, customer)] == [first.id]
    assert place_order(rs, _request(customer), T0).id != first.id  # no key: a new order each time


def test_an_order_is_an_order_completed_event_and_a_fulfilment_action(rs: SqlDecisionStore) -> None:
    customer = customer_with_history(rs)
    before = get_profile(rs, customer).facts["orders"]
    order = place_order(rs, _request(customer, quantity=4), T0, client_key="k-ev")
    place_order(rs, _request(customer, quantity=4), T0, client_key="k-ev")  # a retry writes no second event
    assert get_profile(rs, customer).facts["orders"] == before + 1
    usual = usual_order(rs, customer, sku="PODS-12")
    assert usual is not None and usual.quantity in (1, 4) and usual.last_ordered_at == T0
    assert (order.status, order.architecture, order.total) == ("fulfilled", "connected_retailer", 20.0)
    queued = rs.actions_of(customer, ["pending"], ["fulfilment"])
    assert [a["idempotency_key"] for a in queued] == [f"order:{order.id}"]
    assert pending_actions(rs, customer, ["app"], T0) == []  # an order is for the firm's systems, not a pull channel


def test_one_click_reorder_places_the_usual_order(rs: SqlDecisionStore) -> None:
    customer = customer_with_history(rs)
    order = reorder(rs, customer, T0, client_key="click-1", category="toner")
    assert order.source == "reorder"
    assert order.lines == [
        {"sku": "TON-305", "quantity": 2, "unit_price": 41.5, "category": "toner", "name": "Ton-305"}
    ]
    assert (order.address_ref, order.payment_ref, order.total) == ("addr-home", "pay-visa-4242", 83.0)
    assert reorder(rs, customer, T0, client_key="click-1", category="toner").id == order.id
    later = order_event("u1", T0 + timedelta(minutes=1), [("TON-305", "toner", 1, 44.0)], address_ref="addr-new")
    ingest(
        rs, [later, {**later, "messageId": "again", "timestamp": (T0 + timedelta(minutes=2)).isoformat()}], rs.settings
    )
    retried = reorder(rs, customer, T0 + timedelta(minutes=3), client_key="click-1", category="toner")
    assert retried.id == order.id and not retried.created  # the usual order moved on; the retried click did not
    with pytest.raises(Conflict, match="click-1"):
        reorder(rs, customer, T0, client_key="click-1", sku="PODS-12")
    with pytest.raises(NotFound, match="no earlier order of garden"):
        reorder(rs, customer, T0, category="garden")


def test_two_clients_racing_with_one_key_get_one_order(rs: SqlDecisionStore) -> None:
    customer = customer_with_history(rs)
    results: list[str] = []
    barrier = threading.Barrier(2)

    def place() -> None:
        barrier.wait()
        results.append(place_order(rs, _request(customer), T0, client_key="race").id)

    threads = [threading.Thread(target=place) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and len(set(results)) == 1
    assert len(orders_of(rs, customer)) == 1


def test_an_unfulfilled_order_is_kept_with_its_reason_but_written_nowhere_else(rs: SqlDecisionStore) -> None:
    rs = with_settings(rs, fulfilment_routes={"*": "matchmaker"})
    customer = customer_with_history(rs)
    order = place_order(rs, _request(customer), T0)
    assert order.status == "unfulfilled" and order.architecture == "matchmaker"
    assert order.fulfilment[0]["reasons"] == ["no third-party providers are configured"]
    assert rs.actions_of(customer, ["pending"]) == []
    assert get_profile(rs, customer).facts["orders"] == 4
