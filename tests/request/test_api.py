"""GET /v1/customers/{id}/offers over a real store: scopes, the body, and clear errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from rapport.api.app import create_app
from rapport.customers.identifiers import Identifier
from rapport.decide.consent import record_consent
from rapport.request.training import train_offer_model
from rapport.store.decisions import SqlDecisionStore
from rapport.store.keys import create_key
from rapport.store.store import Store
from tests.request.conftest import ANNA


@pytest.fixture
def client(shop: Store) -> Iterator[tuple[TestClient, dict[str, dict[str, str]], Store]]:
    keys = {
        scope: {"Authorization": f"Bearer {create_key(shop.engine, [scope], f't-{scope}')[1]}"}
        for scope in ("read", "decide", "write")
    }
    with TestClient(create_app(shop)) as test_client:
        yield test_client, keys, shop


def test_offers_with_reasons_for_read_and_decide_keys(client) -> None:
    http, keys, store = client
    model = train_offer_model(store.offers)
    anna = store.customer_by_identifier(Identifier("user_id", ANNA))
    unconsented = http.get(f"/v1/customers/{anna}/offers", params={"k": 3}, headers=keys["read"]).json()
    assert "personalisation consent" in unconsented["note"], "consent first"
    assert unconsented["offers"], "the options anyone would get"
    someone_else = http.get(f"/v1/customers/{_another(store, anna)}/offers", params={"k": 3}, headers=keys["read"])
    assert unconsented["offers"] == someone_else.json()["offers"], "not ranked on her history: anyone's options"
    assert not any("you buy" in o["reason"] for o in unconsented["offers"])
    record_consent(SqlDecisionStore.over(store), anna, "personalisation", True, "web", datetime.now(UTC))
    personal = http.get(f"/v1/customers/{anna}/offers", params={"k": 3}, headers=keys["read"]).json()
    assert personal["note"] is None and personal["offers"] != unconsented["offers"], "with consent: her own"
    for scope in ("read", "decide"):
        response = http.get(f"/v1/customers/{anna}/offers", params={"k": 3}, headers=keys[scope])
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["customer_id"] == anna and body["model_version"] == model.version
        assert 1 <= len(body["offers"]) <= 3
        for offer in body["offers"]:
            assert offer["reason"] and offer["sku"] not in {"POD-C", "TON-B", "POD-B"}
    toner = http.get(f"/v1/customers/{anna}/offers", params={"need": "toner", "max_price": 60}, headers=keys["read"])
    assert toner.status_code == 200
    assert [o["sku"] for o in toner.json()["offers"]] == ["TON-A"]  # TON-B: returned, and above 60
    record_consent(SqlDecisionStore.over(store), anna, "personalisation:toner", False, "app", datetime.now(UTC))
    withheld = http.get(f"/v1/customers/{anna}/offers", params={"k": 5}, headers=keys["read"]).json()["offers"]
    assert withheld and all(o["category"] != "toner" for o in withheld), "a withdrawn category never appears"


def _another(store: Store, anna: str) -> str:
    """A customer of the shop other than Anna, with orders of their own."""
    lines = store.offers.all_order_lines()
    return str(next(c for c in lines["customer"].unique() if c != anna))


def test_errors(client) -> None:
    http, keys, store = client
    anna = store.customer_by_identifier(Identifier("user_id", ANNA))
    assert http.get(f"/v1/customers/{anna}/offers", headers=keys["read"]).status_code == 409  # not trained yet
    train_offer_model(store.offers)
    assert http.get(f"/v1/customers/{anna}/offers").status_code == 401
    assert http.get(f"/v1/customers/{anna}/offers", headers=keys["write"]).status_code == 403
    missing = http.get("/v1/customers/nobody/offers", headers=keys["read"])
    assert missing.status_code == 404 and "nobody" in missing.json()["message"]
    for params, needle in (
        ({"k": 0}, "k=0"),
        ({"k": 51}, "k=51"),
        ({"need": "garden"}, "garden"),
        ({"min_price": 9, "max_price": 1}, "above max_price"),
        ({"min_price": -1}, "non-negative"),
    ):
        response = http.get(f"/v1/customers/{anna}/offers", params=params, headers=keys["read"])
        assert response.status_code == 400 and needle in response.json()["message"], response.text
