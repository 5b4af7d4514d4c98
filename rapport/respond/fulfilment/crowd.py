"""Crowd organizer: gathers the supply a request needs from many contributors, cheapest first."""

from __future__ import annotations

from rapport.respond.fulfilment import FulfilmentRequest, FulfilmentResult, Offer, unfulfilled
from rapport.respond.fulfilment.network import Contributor, FirmNetwork


class CrowdOrganizer:
    name = "crowd_organizer"

    def __init__(self, network: FirmNetwork):
        self.contributors = network.contributors

    def quote(self, request: FulfilmentRequest) -> list[Offer]:
        found = [c for c in self.contributors if _contributes(c, request)]
        found.sort(key=lambda c: (c.price, -c.quantity, c.id))
        return [Offer(c.id, request.sku, c.price, c.currency, c.available, c.quantity) for c in found]

    def fulfil(self, request: FulfilmentRequest) -> FulfilmentResult:
        offers = [o for o in self.quote(request) if o.available]
        if not offers:
            return unfulfilled(self.name, f"no contributor offers {request.sku} now", len(self.contributors))
        gathered: list[Offer] = []
        missing = request.quantity
        for offer in offers:
            if missing <= 0:
                break
            take = min(missing, offer.quantity or missing)
            gathered.append(Offer(offer.provider, offer.sku, offer.unit_price, offer.currency, True, take))
            missing -= take
        if missing > 0:
            have = request.quantity - missing
            return unfulfilled(
                self.name, f"the crowd has {have} of the {request.quantity} {request.sku} asked", len(offers)
            )
        names = ", ".join(f"{o.provider} x{o.quantity}" for o in gathered)
        reason = (
            f"gathered {request.quantity} {request.sku} from {len(gathered)} contributor(s), cheapest first: {names}"
        )
        return FulfilmentResult(self.name, "fulfilled", (reason,), tuple(gathered), len(offers))


def _contributes(contributor: Contributor, request: FulfilmentRequest) -> bool:
    if contributor.currency != request.currency or contributor.quantity <= 0:
        return False
    return contributor.sku == request.sku or (contributor.sku is None and contributor.category == request.category)
