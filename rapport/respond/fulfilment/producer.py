"""Connected producer: sells only its own products (its brand's rows of the catalogue)."""

from __future__ import annotations

from rapport.respond.fulfilment import FulfilmentRequest, FulfilmentResult, Offer, unfulfilled
from rapport.respond.fulfilment.network import FirmNetwork
from rapport.respond.fulfilment.retailer import catalogue_offers, fulfil_from_catalogue


class ConnectedProducer:
    name = "connected_producer"

    def __init__(self, network: FirmNetwork):
        self.brand = network.producer_brand
        self.products = tuple(i for i in network.catalogue or () if i.brand == self.brand)

    def quote(self, request: FulfilmentRequest) -> list[Offer]:
        return catalogue_offers(self.products, request)

    def fulfil(self, request: FulfilmentRequest) -> FulfilmentResult:
        if self.brand is None:
            return unfulfilled(self.name, "no producer brand is configured ([producer] brand in the fulfilment file)")
        if all(p.sku != request.sku for p in self.products):
            own = ", ".join(p.sku for p in self.products[:3]) or "none listed"
            return unfulfilled(self.name, f"{request.sku} is not one of {self.brand}'s own products ({own})")
        return fulfil_from_catalogue(self.name, self.products, request)
