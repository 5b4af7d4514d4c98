"""Connection architectures as fulfilment: how the firm responds to a request, one adapter each behind one interface.

``Fulfilment.quote(request) -> list[Offer]`` says who could serve a request and at what price;
``Fulfilment.fulfil(request) -> FulfilmentResult`` serves it (or says clearly why it cannot). The adapters are
registered by name (``ARCHITECTURES``); the firm declares per offering which one responds (rapport.respond.fulfilment
.routing). The adapters decide and record; handing the order to the firm's own systems is the outbox's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class FulfilmentRequest:
    """What one order line asks for, and what the adapters may weigh: where the customer is, the most they pay."""

    customer_id: str
    sku: str
    quantity: int
    category: str | None = None
    unit_price: float | None = None  # the price the customer was shown, if any
    currency: str = "EUR"
    location: tuple[float, float] | None = None  # (latitude, longitude)
    max_unit_price: float | None = None


@dataclass(frozen=True)
class Offer:
    """Who can serve the request, with what, at what price, how far away, and whether they can now."""

    provider: str
    sku: str
    unit_price: float
    currency: str
    available: bool = True
    quantity: int | None = None  # how many they can supply (None: as many as asked)
    distance_km: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "sku": self.sku,
            "unit_price": self.unit_price,
            "currency": self.currency,
            "available": self.available,
            "quantity": self.quantity,
            "distance_km": None if self.distance_km is None else round(self.distance_km, 3),
            **({"details": self.details} if self.details else {}),
        }


@dataclass(frozen=True)
class FulfilmentResult:
    """The outcome: which architecture served the request, through whom, at what price, and why."""

    architecture: str
    status: str  # fulfilled | unfulfilled
    reasons: tuple[str, ...]
    chosen: tuple[Offer, ...] = ()
    considered: int = 0

    @property
    def fulfilled(self) -> bool:
        return self.status == "fulfilled"

    @property
    def unit_price(self) -> float | None:
        """The average price per unit over the chosen offers (several for a crowd)."""
        units = sum(o.quantity or 0 for o in self.chosen)
        if not self.chosen:
            return None
        if units == 0:
            return self.chosen[0].unit_price
        return round(sum(o.unit_price * (o.quantity or 0) for o in self.chosen) / units, 4)

    def to_dict(self) -> dict[str, Any]:
        return {
            "architecture": self.architecture,
            "status": self.status,
            "chosen": [o.to_dict() for o in self.chosen],
            "considered": self.considered,
            "reasons": list(self.reasons),
        }


class Fulfilment(Protocol):
    """One connection architecture."""

    name: str

    def quote(self, request: FulfilmentRequest) -> list[Offer]: ...

    def fulfil(self, request: FulfilmentRequest) -> FulfilmentResult: ...


def unfulfilled(architecture: str, reason: str, considered: int = 0) -> FulfilmentResult:
    return FulfilmentResult(architecture, "unfulfilled", (reason,), (), considered)
