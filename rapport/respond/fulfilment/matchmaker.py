"""Matchmaker: routes the request to the best of several third-party providers and records which and why.

A provider fits when it serves the item or its category, takes the quantity, charges no more than the most the
customer pays, and (when both locations are known) the customer is inside its service radius. Among those that
fit and are available now, the cheapest wins; equal prices go to the nearer one (an unknown distance counts as
farthest), then to the provider id, so the choice is deterministic. An unavailable provider is never chosen.
"""

from __future__ import annotations

import math

from rapport.respond.fulfilment import FulfilmentRequest, FulfilmentResult, Offer, unfulfilled
from rapport.respond.fulfilment.network import FirmNetwork, Provider, distance_km


class Matchmaker:
    name = "matchmaker"

    def __init__(self, network: FirmNetwork):
        self.providers = network.providers

    def quote(self, request: FulfilmentRequest) -> list[Offer]:
        """Every provider that fits, available or not, best first."""
        fitting = [offer for offer, misfit in self._assess(request) if misfit is None]
        return sorted(fitting, key=_rank)

    def fulfil(self, request: FulfilmentRequest) -> FulfilmentResult:
        assessed = self._assess(request)
        if not assessed:
            return unfulfilled(self.name, "no third-party providers are configured")
        reasons = [f"{offer.provider}: {misfit}" for offer, misfit in assessed if misfit is not None]
        fitting = [offer for offer, misfit in assessed if misfit is None]
        ready = sorted((o for o in fitting if o.available), key=_rank)
        reasons += [f"{o.provider}: fits but is not available now" for o in fitting if not o.available]
        if not ready:
            why = "none of them is available now" if fitting else "none of them fits"
            return FulfilmentResult(
                self.name, "unfulfilled", (f"no provider for {request.sku}: {why}", *reasons), (), len(assessed)
            )
        best = ready[0]
        chosen = Offer(
            best.provider, best.sku, best.unit_price, best.currency, True, request.quantity, best.distance_km
        )
        return FulfilmentResult(self.name, "fulfilled", (_why(best, ready), *reasons), (chosen,), len(assessed))

    def _assess(self, request: FulfilmentRequest) -> list[tuple[Offer, str | None]]:
        return [(self._offer(p, request), _misfit(p, request)) for p in self.providers]

    @staticmethod
    def _offer(provider: Provider, request: FulfilmentRequest) -> Offer:
        distance = distance_km(request.location, provider.location)
        return Offer(
            provider.id, request.sku, provider.price, provider.currency, provider.available, provider.capacity, distance
        )


def _misfit(provider: Provider, request: FulfilmentRequest) -> str | None:
    """Why the provider does not fit the request, or None when it does."""
    if not provider.serves(request.sku, request.category):
        return f"does not serve {request.sku} ({request.category or 'no category'})"
    if provider.currency != request.currency:
        return f"prices in {provider.currency}, the order is in {request.currency}"
    if provider.capacity is not None and provider.capacity < request.quantity:
        return f"takes at most {provider.capacity}, {request.quantity} asked"
    if request.max_unit_price is not None and provider.price > request.max_unit_price:
        return f"charges {provider.price:.2f}, above the most the customer pays ({request.max_unit_price:.2f})"
    distance = distance_km(request.location, provider.location)
    if provider.radius_km is not None and distance is not None and distance > provider.radius_km:
        return f"serves {provider.radius_km:g} km around it, the customer is {distance:.1f} km away"
    return None


def _rank(offer: Offer) -> tuple[float, float, str]:
    return (offer.unit_price, math.inf if offer.distance_km is None else offer.distance_km, offer.provider)


def _why(best: Offer, ready: list[Offer]) -> str:
    where = "" if best.distance_km is None else f", {best.distance_km:.1f} km away"
    head = f"chose {best.provider} at {best.unit_price:.2f} {best.currency}{where}"
    if len(ready) == 1:
        return f"{head}: the only provider that fits and is available"
    runner = ready[1]
    if runner.unit_price > best.unit_price:
        return f"{head}: cheapest of {len(ready)} that fit and are available (next: {runner.provider} at {runner.unit_price:.2f})"
    far = "unknown" if runner.distance_km is None else f"{runner.distance_km:.1f} km"
    return f"{head}: as cheap as {runner.provider} but nearer ({far} for {runner.provider})"
