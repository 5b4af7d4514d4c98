"""Preference routes: consents, control levels and the contact policy over HTTP, with strict bodies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from rapport.api.app import create_app
from rapport.store.decisions import SqlDecisionStore
from rapport.store.keys import create_key
from rapport.store.store import Store
from tests.decide.conftest import customer


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    _, key = create_key(store.engine, ["decide", "read"], "staff")
    with TestClient(create_app(store), headers={"Authorization": f"Bearer {key}"}) as made:
        yield made


def test_consents_round_trip_by_email(client: TestClient, decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "api-consent")
    body = {"consents": {"personalisation": True, "contact:sms": False}, "source": "preference_centre"}
    put = client.put("/v1/customers/api-consent@example.org/consents", json=body)
    assert put.status_code == 200, put.text
    assert put.json()["customer_id"] == cid
    assert [c["changed"] for c in put.json()["changes"]] == [True, True]
    again = client.put("/v1/customers/api-consent@example.org/consents", json=body)
    assert [c["changed"] for c in again.json()["changes"]] == [False, False], "a retry changes nothing"
    got = client.get(f"/v1/customers/{cid}/consents").json()
    assert got["consents"]["personalisation"] is True and got["consents"]["automatic_execution"] is False
    assert [h["purpose"] for h in got["history"]] == ["personalisation", "contact:sms"]
    assert got["history"][0]["source"] == "preference_centre"


def test_control_levels_round_trip(client: TestClient, decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "api-level")
    assert client.get(f"/v1/customers/{cid}/control-levels").json()["in_force"]["*"] == {
        "level": "remind_me",
        "source": "firm_default",
    }
    put = client.put(f"/v1/customers/{cid}/control-levels/toner", json={"level": "do_it_for_me"})
    assert put.status_code == 200 and put.json()["level"] == "do_it_for_me"
    got = client.get(f"/v1/customers/{cid}/control-levels").json()
    assert got["in_force"]["toner"] == {"level": "do_it_for_me", "source": "explicit"}
    removed = client.delete(f"/v1/customers/{cid}/control-levels/toner").json()
    assert removed["removed"] is True and removed["source"] == "firm_default"


def test_contact_policy_round_trip(client: TestClient, decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "api-policy", timezone="Europe/Paris")
    got = client.get(f"/v1/customers/{cid}/contact-policy").json()
    assert got["timezone"] == "Europe/Paris" and got["caps"][0] == {"channel": "*", "days": 7, "max": 2}
    put = client.put(
        f"/v1/customers/{cid}/contact-policy",
        json={"caps": [{"channel": "email", "days": 30, "max": 1}], "quiet_hours": "22:00-07:30"},
    )
    assert put.status_code == 200, put.text
    assert put.json()["caps"] == [{"channel": "email", "days": 30, "max": 1}]
    assert put.json()["quiet_hours"] == "22:00-07:30" and put.json()["timezone"] == "Europe/Paris"
    reset = client.put(f"/v1/customers/{cid}/contact-policy", json={"caps": None}).json()
    assert reset["caps"][0] == {"channel": "*", "days": 7, "max": 2} and reset["quiet_hours"] == "22:00-07:30"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("put", "consents", {"consents": {"marketing": True}, "source": "app"}, 422),
        ("put", "consents", {"consents": {"personalisation": True}}, 422),
        ("put", "consents", {"consents": {"personalisation": True}, "source": "app", "extra": 1}, 422),
        ("put", "control-levels/toner", {"level": "always"}, 422),
        ("put", "contact-policy", {"timezone": "Mars/Olympus"}, 400),
        ("put", "contact-policy", {"quiet_hours": "late"}, 400),
        ("put", "contact-policy", {"caps": [{"channel": "*", "days": 0, "max": 2}]}, 422),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    client: TestClient, decisions: SqlDecisionStore, method: str, path: str, body: dict, status: int
) -> None:
    cid = customer(decisions, "api-bad")
    before = client.get(f"/v1/customers/{cid}/contact-policy").json()
    response = getattr(client, method)(f"/v1/customers/{cid}/{path}", json=body)
    assert response.status_code == status, response.text
    assert client.get(f"/v1/customers/{cid}/contact-policy").json() == before
    assert client.get(f"/v1/customers/{cid}/consents").json()["history"] == []


def test_unknown_customer_is_404_and_keys_are_required(client: TestClient, store: Store) -> None:
    assert client.get("/v1/customers/nobody@example.org/consents").status_code == 404
    anonymous = TestClient(create_app(store))
    assert anonymous.get("/v1/customers/x/consents").status_code == 401
    _, write_only = create_key(store.engine, ["read"], "reader")
    reader = TestClient(create_app(store), headers={"Authorization": f"Bearer {write_only}"})
    assert reader.put("/v1/customers/x/control-levels/toner", json={"level": "remind_me"}).status_code == 403
