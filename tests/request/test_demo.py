"""The demo trains the offer model and serves offers with reasons to its customers."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from rapport.api.app import create_app
from rapport.config import Settings
from rapport.demo.run import run_demo
from rapport.store.store import Store


def test_the_demo_trains_and_offers(tmp_path: Path) -> None:
    store = Store(Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}"))
    report = run_demo(store, customers=300)
    offers = report["offers"]
    assert offers["model_version"] == store.offers.latest_model_version()
    assert offers["out_of_stock"] >= 1 and offers["deliverable_via_partner"] >= 1
    available = store.offers.available_skus()
    assert available is not None
    unavailable = set(store.offers.catalogue().index) - available
    assert offers["sample"]["offers"] and all(o["reason"] for o in offers["sample"]["offers"])
    with TestClient(create_app(store)) as client:
        headers = {"Authorization": f"Bearer {report['read_key']}"}
        customers = sorted(store.offers.all_order_lines()["customer"].unique())[:25]
        for customer in customers:
            response = client.get(f"/v1/customers/{customer}/offers", params={"k": 8}, headers=headers)
            assert response.status_code == 200, response.text
            found = response.json()["offers"]
            assert found and all(o["reason"] for o in found)
            assert not unavailable & {o["sku"] for o in found}  # out of stock and not deliverable: never offered
    store.close()
