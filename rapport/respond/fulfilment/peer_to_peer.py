"""Peer-to-peer network: connects the customer with another customer who can help, the nearest available first."""

from __future__ import annotations

import math

from rapport.respond.fulfilment import FulfilmentRequest, FulfilmentResult, Offer, unfulfilled
from rapport.respond.fulfilment.network import FirmNetwork, Peer, distance_km


class PeerNetwork:
    name = "peer_to_peer"

    def __init__(self, network: FirmNetwork):
        self.peers = network.peers

    def quote(self, request: FulfilmentRequest) -> list[Offer]:
        found = [p for p in self.peers if _helps(p, request)]
        offers = [
            Offer(
                p.customer_id,
                request.sku,
                p.price,
                request.currency,
                p.available,
                None,
                distance_km(request.location, p.location),
            )
            for p in found
        ]
        return sorted(
            offers, key=lambda o: (math.inf if o.distance_km is None else o.distance_km, o.unit_price, o.provider)
        )

    def fulfil(self, request: FulfilmentRequest) -> FulfilmentResult:
        offers = self.quote(request)
        ready = [o for o in offers if o.available]
        if not ready:
            why = "none of them is available now" if offers else "no other customer offers help with it"
            return unfulfilled(self.name, f"no peer for {request.sku}: {why}", len(offers))
        peer = ready[0]
        where = "" if peer.distance_km is None else f", {peer.distance_km:.1f} km away"
        reason = f"connected with customer {peer.provider}{where}: the nearest of {len(ready)} available peer(s)"
        chosen = Offer(
            peer.provider, peer.sku, peer.unit_price, peer.currency, True, request.quantity, peer.distance_km
        )
        return FulfilmentResult(self.name, "fulfilled", (reason,), (chosen,), len(offers))


def _helps(peer: Peer, request: FulfilmentRequest) -> bool:
    if peer.customer_id == request.customer_id:  # never connected with themselves
        return False
    return request.sku in peer.skus or (request.category is not None and request.category in peer.categories)
