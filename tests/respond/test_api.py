"""The Respond routes over a real store: idempotent orders, one-click reorder, mandates, cancel, audit, actions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from rapport.api.app import create_app
from rapport.respond.automatic import schedule_automatic_order
from rapport.respond.outbox import enqueue_action
from rapport.store.decisions import SqlDecisionStore
from rapport.store.keys import create_key
from tests.respond.conftest import consenting_customer, customer_with_history


class Client:
    def __init__(self, client: TestClient, keys: dict[str, str]):
        self.client, self.keys = client, keys

    def call(self, method: str, url: str, scope: str = "write", **kw: object):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {self.keys[scope]}", **kw.pop("headers", {})}  # type: ignore[dict-item]
        return self.client.request(method, url, headers=headers, **kw)  # type: ignore[arg-type]


@pytest.fixture
def api(rs: SqlDecisionStore) -> Iterator[Client]:
    keys = {scope: create_key(rs.engine, [scope], f"t-{scope}")[1] for scope in ("write", "read")}
    with TestClient(create_app(rs)) as client:
        yield Client(client, keys)


BODY = {
    "customer_id": "user_id:u1",
    "lines": [{"sku": "PODS-12", "quantity": 3, "unit_price": 5.0}],
    "payment_ref": "p",
}


def test_post_orders_is_idempotent_on_the_header_or_the_field(api: Client, rs: SqlDecisionStore) -> None:
    customer = customer_with_history(rs)
    first = api.call("POST", "/v1/orders", json=BODY, headers={"Idempotency-Key": "abc"})
    assert first.status_code == 201 and first.json()["created"] is True
    assert first.json()["customer_id"] == customer and first.json()["total"] == 15.0
    again = api.call("POST", "/v1/orders", json={**BODY, "client_key": "abc"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"] and again.json()["created"] is False
    other = api.call(
        "POST",
        "/v1/orders",
        json={**BODY, "lines": [{"sku": "PODS-12", "quantity": 9}]},
        headers={"Idempotency-Key": "abc"},
    )
    assert other.status_code == 409 and "different body" in other.json()["message"]
    both = api.call("POST", "/v1/orders", json={**BODY, "client_key": "x"}, headers={"Idempotency-Key": "y"})
    assert both.status_code == 400
    assert api.call("POST", "/v1/orders", "read", json=BODY).status_code == 403
    assert api.call("POST", "/v1/orders", json={**BODY, "lines": []}).status_code == 422
    listed = api.call("GET", f"/v1/customers/{customer}/orders", "read").json()["orders"]
    assert [o["id"] for o in listed] == [first.json()["id"]]
    assert api.call("GET", f"/v1/orders/{first.json()['id']}", "read").json()["payment_ref"] == "p"
    assert api.call("GET", "/v1/orders/ord_nope", "read").status_code == 404


def test_reorder_in_one_click_and_the_usual_order(api: Client, rs: SqlDecisionStore) -> None:
    customer = customer_with_history(rs)
    usual = api.call("GET", f"/v1/customers/{customer}/usual-order?category=toner", "read").json()["usual_order"]
    assert (usual["sku"], usual["quantity"]) == ("TON-305", 2)
    clicked = api.call("POST", f"/v1/customers/{customer}/reorder", headers={"Idempotency-Key": "c1"})
    assert clicked.status_code == 201 and clicked.json()["lines"][0]["sku"] == "TON-305"
    assert api.call("POST", f"/v1/customers/{customer}/reorder", headers={"Idempotency-Key": "c1"}).status_code == 200
    pods = api.call("POST", f"/v1/customers/{customer}/reorder", json={"sku": "PODS-12", "quantity": 5})
    assert pods.json()["lines"][0]["quantity"] == 5
    assert api.call("POST", f"/v1/customers/{customer}/reorder", json={"sku": "NONE"}).status_code == 404


def test_mandates_automatic_orders_cancel_and_the_audit_the_customer_reads(api: Client, rs: SqlDecisionStore) -> None:
    customer = consenting_customer(rs)
    terms = {"scope_kind": "category", "scope": "toner", "per_order_cap": 100, "monthly_cap": 200}
    made = api.call("POST", f"/v1/customers/{customer}/mandates", json=terms, headers={"Idempotency-Key": "m"})
    assert made.status_code == 201 and made.json()["lead_days"] == 3.0
    mandate_id = made.json()["id"]
    assert (
        api.call("POST", f"/v1/customers/{customer}/mandates", json=terms, headers={"Idempotency-Key": "m"}).status_code
        == 200
    )
    bad = api.call("POST", f"/v1/customers/{customer}/mandates", json={**terms, "per_order_cap": 500})
    assert bad.status_code == 400 and "exceeds the monthly cap" in bad.json()["message"]
    now = datetime.now(UTC)
    order = schedule_automatic_order(rs, customer, mandate_id, "TON-305", 2, now - timedelta(minutes=1), "need")
    listed = api.call("GET", f"/v1/customers/{customer}/automatic-orders", "read").json()["automatic_orders"]
    assert [(o["id"], o["status"]) for o in listed] == [(order.id, "scheduled")]
    cancel = f"/v1/customers/{customer}/automatic-orders/{order.id}/cancel"
    assert api.call("POST", cancel).json()["status"] == "cancelled"
    assert api.call("POST", cancel).status_code == 200
    assert api.call("POST", f"/v1/customers/{customer}/automatic-orders/ao_x/cancel").status_code == 404
    revoked = api.call("DELETE", f"/v1/customers/{customer}/mandates/{mandate_id}")
    assert revoked.json()["status"] == "revoked"
    mandates = api.call("GET", f"/v1/customers/{customer}/mandates", "read").json()["mandates"]
    assert [m["status"] for m in mandates] == ["revoked"]
    audit = api.call("GET", f"/v1/customers/{customer}/audit", "read").json()["audit"]
    assert [e["action"] for e in audit] == ["mandate_created", "scheduled", "cancelled", "mandate_revoked"]


def test_pull_channels_list_and_acknowledge_their_actions(api: Client, rs: SqlDecisionStore) -> None:
    customer = customer_with_history(rs)
    now = datetime.now(UTC) - timedelta(seconds=1)
    shown = enqueue_action(rs, customer, "nudge", "app", {"message": "hi"}, now, "n-app")
    enqueue_action(rs, customer, "nudge", "email", {"message": "hi"}, now, "n-email")  # a webhook channel
    listed = api.call("GET", f"/v1/customers/{customer}/actions", "read").json()["actions"]
    assert [a["id"] for a in listed] == [shown.id]
    assert api.call("GET", f"/v1/customers/{customer}/actions?channel=email", "read").status_code == 400
    ack = api.call("POST", f"/v1/customers/{customer}/actions/{shown.id}/ack")
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    assert api.call("GET", f"/v1/customers/{customer}/actions?channel=app", "read").json()["actions"] == []


def test_an_order_through_the_api_reaches_the_apps_ingestion_hook(rs: SqlDecisionStore) -> None:
    customer = customer_with_history(rs)
    seen: list[list[str]] = []
    key = create_key(rs.engine, ["write"], "hook")[1]
    with TestClient(create_app(rs, after_ingest=lambda report: seen.append(report.customer_ids))) as client:
        response = client.post("/v1/orders", json=BODY, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201
    assert len(seen) == 1 and rs.canonical_id(seen[0][0]) == customer  # the decision trigger hears of the order
