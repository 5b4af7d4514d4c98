"""The demo's connection architectures at work: one customer's orders through retailer, producer and matchmaker.

The demo firm is a connected retailer (its catalogue of many brands); for its house brand it acts as the producer;
printer repairs it routes to local third-party repairers as a matchmaker. Each order is placed through the same
``place_order`` the API uses, with a client key, so running the demo again places nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rapport.customers.identifiers import Identifier
from rapport.demo.firm import DemoFirm
from rapport.respond.fulfilment.network import CatalogueItem, FirmNetwork, Provider
from rapport.respond.fulfilment.routing import Fulfiller
from rapport.respond.orders import OrderLine, OrderRequest, OrderStore, place_order
from rapport.store.decisions import SqlDecisionStore
from rapport.store.store import Store

HOUSE_BRAND = "Lumeo"  # the demo firm acts as the producer of this (invented) brand

BERLIN_MITTE = (52.5200, 13.4050)
REPAIR_SKU = "SVC-PRINTER-REPAIR"
# Invented local repairers (no real business is implied): one cheap but fully booked, two that fit.
REPAIRERS = (
    Provider(
        "druckerdoktor",
        49.0,
        categories=("printer_repair",),
        location=(52.5310, 13.3847),
        radius_km=15,
        available=False,
    ),
    Provider("fixit-kreuzberg", 59.0, categories=("printer_repair",), location=(52.4986, 13.4030), radius_km=10),
    Provider("printrescue-spandau", 59.0, categories=("printer_repair",), location=(52.5360, 13.2000), radius_km=25),
    Provider("copyservice-potsdam", 45.0, categories=("printer_repair",), location=(52.3906, 13.0645), radius_km=8),
)


def demo_fulfilment(store: Store, firm: DemoFirm) -> dict[str, Any]:
    """The report's "fulfilment" section: the first demo customer with an account orders through each architecture."""
    user = next(e["userId"] for e in firm.events if e.get("event") == "Order Completed" and e.get("userId"))
    orders = SqlDecisionStore.over(store)
    customer_id = orders.customer_by_identifier(Identifier("user_id", user))
    items = [CatalogueItem(i.sku, i.brand, i.category, i.price) for i in firm.catalogue.items]
    return {"customer_id": customer_id, **showcase_fulfilment(orders, items, HOUSE_BRAND, customer_id, firm.end)}


def showcase_fulfilment(
    store: OrderStore, catalogue: Iterable[CatalogueItem], house_brand: str, customer_id: str, now: datetime
) -> dict[str, Any]:
    """Place one order through each of retailer, producer and matchmaker; report who served it and why."""
    items = tuple(catalogue)
    house = next(i for i in items if i.brand == house_brand and i.category == "toner")
    other = next(i for i in items if i.brand != house_brand and i.category == "toner")
    network = FirmNetwork(catalogue=items, producer_brand=house_brand, providers=REPAIRERS, source="demo")
    routes = {
        f"sku:{house.sku}": "connected_producer",
        "category:printer_repair": "matchmaker",
        "*": "connected_retailer",
    }
    fulfiller = Fulfiller(routes, network)
    asks = {
        "connected_retailer": OrderLine(other.sku, 1, other.price, other.category),
        "connected_producer": OrderLine(house.sku, 1, house.price, house.category),
        "matchmaker": OrderLine(REPAIR_SKU, 1, None, "printer_repair", "Printer repair visit"),
    }
    report: dict[str, Any] = {"routes": routes}
    for architecture, line in asks.items():
        request = OrderRequest(customer_id, (line,), "EUR", "demo-address", "demo-payment", BERLIN_MITTE)
        order = place_order(store, request, now, f"demo-showcase:{architecture}:{customer_id}", fulfiller=fulfiller)
        served = order.fulfilment[0]
        report[architecture] = {
            "order_id": order.id,
            "sku": line.sku,
            "status": order.status,
            "architecture": order.architecture,
            "served_by": [c["provider"] for c in served["chosen"]],
            "total": order.total,
            "why": served["reasons"],
        }
    return report
