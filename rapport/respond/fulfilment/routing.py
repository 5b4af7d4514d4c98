"""Which architecture responds to which offering: the firm's routes ("sku:…", "category:…", "*"), by name.

The routes come from ``Settings.fulfilment_routes`` (e.g. ``{"category:printer_repair": "matchmaker",
"*": "connected_retailer"}``); a sku's route wins over its category's, which wins over the default ``*``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapport.errors import InvalidInput
from rapport.respond.fulfilment import Fulfilment, FulfilmentRequest, FulfilmentResult
from rapport.respond.fulfilment.crowd import CrowdOrganizer
from rapport.respond.fulfilment.matchmaker import Matchmaker
from rapport.respond.fulfilment.network import FirmNetwork, load_network
from rapport.respond.fulfilment.peer_to_peer import PeerNetwork
from rapport.respond.fulfilment.producer import ConnectedProducer
from rapport.respond.fulfilment.retailer import ConnectedRetailer

ARCHITECTURES: dict[str, Callable[[FirmNetwork], Fulfilment]] = {
    "connected_retailer": ConnectedRetailer,
    "connected_producer": ConnectedProducer,
    "matchmaker": Matchmaker,
    "crowd_organizer": CrowdOrganizer,
    "peer_to_peer": PeerNetwork,
}


def check_routes(routes: dict[str, str]) -> dict[str, str]:
    """The routes, or InvalidInput naming the first unknown architecture or malformed offering."""
    for offering, name in routes.items():
        if name not in ARCHITECTURES:
            raise InvalidInput(
                f"Fulfilment route {offering!r} names {name!r}; the architectures are {', '.join(ARCHITECTURES)}."
            )
        if offering != "*" and offering.partition(":")[0] not in ("sku", "category"):
            raise InvalidInput(f"Fulfilment route {offering!r} must be 'sku:<sku>', 'category:<category>' or '*'.")
    return routes


@dataclass(frozen=True)
class Fulfiller:
    """The firm's routes over its network: fulfils each request through the architecture declared for it."""

    routes: dict[str, str]
    network: FirmNetwork

    @classmethod
    def from_settings(cls, settings: Any) -> Fulfiller:
        path = settings.fulfilment_file
        network = _cached_network(str(Path(path).resolve()), Path(path).stat().st_mtime) if path else FirmNetwork()
        return cls(check_routes(dict(settings.fulfilment_routes)), network)

    def architecture_for(self, sku: str, category: str | None) -> str:
        for offering in (f"sku:{sku}", f"category:{category}" if category else None, "*"):
            if offering is not None and offering in self.routes:
                return self.routes[offering]
        return "connected_retailer"

    def adapter(self, name: str) -> Fulfilment:
        return ARCHITECTURES[name](self.network)

    def fulfil(self, request: FulfilmentRequest) -> FulfilmentResult:
        return self.adapter(self.architecture_for(request.sku, request.category)).fulfil(request)


@lru_cache(maxsize=8)
def _cached_network(path: str, mtime: float) -> FirmNetwork:
    return load_network(path)
