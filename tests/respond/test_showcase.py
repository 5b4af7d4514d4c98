"""The demo's orders through retailer, producer and matchmaker, on the demo firm's own catalogue."""

from __future__ import annotations

from rapport.demo.catalogue import build_catalogue
from rapport.demo.fulfilment import showcase_fulfilment
from rapport.respond.fulfilment.network import CatalogueItem
from rapport.store.decisions import SqlDecisionStore
from tests.respond.conftest import T0, customer_with_history


def test_the_demo_shows_retailer_producer_and_matchmaker_working_and_reruns_place_nothing_twice(
    rs: SqlDecisionStore,
) -> None:
    customer = customer_with_history(rs)
    items = [CatalogueItem(i.sku, i.brand, i.category, i.price) for i in build_catalogue().items]
    report = showcase_fulfilment(rs, items, "Lumeo", customer, T0)
    assert {report[a]["status"] for a in ("connected_retailer", "connected_producer", "matchmaker")} == {"fulfilled"}
    assert report["connected_producer"]["sku"].startswith("TON-LUM")
    assert not report["connected_retailer"]["sku"].startswith("TON-LUM")
    # the booked-up repairer is never chosen; the one in Potsdam is cheapest but Mitte is outside its 8 km;
    # Kreuzberg and Spandau cost the same and Kreuzberg is nearer
    assert report["matchmaker"]["served_by"] == ["fixit-kreuzberg"]
    assert report["matchmaker"]["total"] == 59.0
    assert "nearer" in report["matchmaker"]["why"][0]
    again = showcase_fulfilment(rs, items, "Lumeo", customer, T0)
    assert again["matchmaker"]["order_id"] == report["matchmaker"]["order_id"]
    assert len(rs.orders_of(customer, 10)) == 3


def test_the_demo_report_section_on_a_small_generated_firm(rs: SqlDecisionStore) -> None:
    from rapport.customers.ingestion import ingest
    from rapport.demo.firm import generate_firm
    from rapport.demo.fulfilment import demo_fulfilment

    firm = generate_firm(customers=60, seed=3)
    rs.settings = rs.settings.with_overrides(identifier_fields=dict(firm.identifier_fields))
    ingest(rs, firm.events, rs.settings, source="demo")
    section = demo_fulfilment(rs, firm)
    assert [section[a]["status"] for a in ("connected_retailer", "connected_producer", "matchmaker")] == [
        "fulfilled"
    ] * 3
    assert section["matchmaker"]["served_by"] == ["fixit-kreuzberg"]
