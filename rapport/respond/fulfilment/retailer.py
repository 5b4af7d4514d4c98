"""Connected retailer: sells many brands from its catalogue; offers the asked item and its alternatives in the
category, and fulfils the asked item when it is in stock."""

from __future__ import annotations

from rapport.respond.fulfilment import FulfilmentRequest, FulfilmentResult, Offer, unfulfilled
from rapport.respond.fulfilment.network import CatalogueItem, FirmNetwork


class ConnectedRetailer:
    name = "connected_retailer"

    def __init__(self, network: FirmNetwork):
        self.catalogue = network.catalogue

    def quote(self, request: FulfilmentRequest) -> list[Offer]:
        if self.catalogue is None:
            return [_handed_over(request)] if request.unit_price is not None else []
        return catalogue_offers(self.catalogue, request)

    def fulfil(self, request: FulfilmentRequest) -> FulfilmentResult:
        if self.catalogue is None:
            offer = _handed_over(request)
            return FulfilmentResult(
                self.name, "fulfilled", ("no catalogue configured: handed to the firm's order system",), (offer,), 1
            )
        return fulfil_from_catalogue(self.name, self.catalogue, request)


def catalogue_offers(items: tuple[CatalogueItem, ...], request: FulfilmentRequest) -> list[Offer]:
    """The asked sku first, then the other items of its category (other brands), cheapest first."""
    category = request.category or next((i.category for i in items if i.sku == request.sku), None)
    found = [i for i in items if i.sku == request.sku or (category is not None and i.category == category)]
    found.sort(key=lambda i: (i.sku != request.sku, i.price, i.sku))
    return [
        Offer(
            f"{i.brand}",
            i.sku,
            i.price,
            i.currency,
            available=i.stock is None or i.stock >= request.quantity,
            quantity=i.stock,
            details={"brand": i.brand, "category": i.category},
        )
        for i in found
    ]


def fulfil_from_catalogue(name: str, items: tuple[CatalogueItem, ...], request: FulfilmentRequest) -> FulfilmentResult:
    offers = catalogue_offers(items, request)
    asked = next((o for o in offers if o.sku == request.sku), None)
    others = [o.sku for o in offers if o.sku != request.sku and o.available][:3]
    hint = f"; available in the category: {', '.join(others)}" if others else ""
    if asked is None:
        return unfulfilled(name, f"{request.sku} is not in the catalogue{hint}", len(offers))
    if not asked.available:
        return unfulfilled(
            name, f"{request.sku} is out of stock ({asked.quantity} left, {request.quantity} asked){hint}", len(offers)
        )
    chosen = Offer(
        asked.provider, asked.sku, asked.unit_price, asked.currency, True, request.quantity, None, asked.details
    )
    reason = f"{request.sku} ({asked.details['brand']}) from the catalogue at {asked.unit_price:.2f} {asked.currency}"
    return FulfilmentResult(name, "fulfilled", (reason,), (chosen,), len(offers))


def _handed_over(request: FulfilmentRequest) -> Offer:
    return Offer("firm", request.sku, request.unit_price or 0.0, request.currency, True, request.quantity)
