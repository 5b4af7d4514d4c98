"""`POST /v1/decide`, `POST /v1/outcomes` (idempotent) and the decision log over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from rapport.api.app import create_app
from rapport.decide import control
from rapport.store.decisions import SqlDecisionStore
from rapport.store.keys import create_key
from rapport.store.store import Store
from tests.decide.conftest import NOW, customer, need, store_needs, toner_order


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    _, key = create_key(store.engine, ["decide"], "till")
    with TestClient(create_app(store), headers={"Authorization": f"Bearer {key}"}) as made:
        yield made


def test_decide_by_email_then_record_outcomes(client: TestClient, decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "till", orders=[toner_order(3)])
    store_needs(decisions, cid, need(cid))
    control.set_control_level(decisions, cid, "toner", "i_choose", NOW)
    body = {"customer_id": "till@example.org", "situation": {"touchpoint": "store_visit"}, "at": NOW.isoformat()}
    made = client.post("/v1/decide", json=body)
    assert made.status_code == 200, made.text
    decision = made.json()
    assert decision["customer_id"] == cid and decision["experience"] == "respond_to_desire"
    assert decision["action"]["type"] == "one_click_reorder" and decision["action"]["quantity"] == 3
    assert decision["model_versions"]["decide"].startswith("decide-rules")
    outcome = {"decision_id": decision["decision_id"], "outcome": "accepted"}
    first = client.post("/v1/outcomes", json=outcome)
    assert first.status_code == 201 and first.json()["created"] is True
    retry = client.post("/v1/outcomes", json=outcome)
    assert retry.status_code == 200 and retry.json()["created"] is False
    assert retry.json()["recorded_at"] == first.json()["recorded_at"]
    client.post("/v1/outcomes", json={**outcome, "outcome": "converted"})
    logged = client.get(f"/v1/decisions/{decision['decision_id']}").json()
    assert [o["outcome"] for o in logged["outcomes"]] == ["accepted", "converted"]
    listed = client.get(f"/v1/customers/{cid}/decisions").json()["decisions"]
    assert [d["decision_id"] for d in listed] == [decision["decision_id"]]


def test_nothing_now_is_an_answer_with_its_reason(client: TestClient, decisions: SqlDecisionStore) -> None:
    customer(decisions, "idle")
    body = {"customer_id": "idle@example.org", "situation": {"touchpoint": "app_open"}}
    answer = client.post("/v1/decide", json=body).json()
    assert answer["status"] == "nothing_now" and answer["action"] is None
    assert "no need is recognised" in answer["reasons"][-1]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/decide", {"customer_id": "nobody@example.org", "situation": {"touchpoint": "app_open"}}, 404),
        ("/v1/decide", {"customer_id": "x", "situation": {"touchpoint": "billboard"}}, 422),
        ("/v1/decide", {"customer_id": "x", "situation": {"touchpoint": "app_open"}, "extra": 1}, 422),
        ("/v1/decide", {"customer_id": "x", "situation": {"touchpoint": "app_open"}, "at": "2026-01-01T00:00"}, 422),
        ("/v1/outcomes", {"decision_id": "nope", "outcome": "accepted"}, 404),
        ("/v1/outcomes", {"decision_id": "nope", "outcome": "loved"}, 422),
    ],
)
def test_bad_requests(client: TestClient, path: str, body: dict, status: int) -> None:
    response = client.post(path, json=body)
    assert response.status_code == status, response.text


def test_the_decide_scope_is_required(store: Store) -> None:
    _, reader = create_key(store.engine, ["read"], "reader")
    with TestClient(create_app(store), headers={"Authorization": f"Bearer {reader}"}) as client:
        body = {"customer_id": "x", "situation": {"touchpoint": "app_open"}}
        assert client.post("/v1/decide", json=body).status_code == 403
