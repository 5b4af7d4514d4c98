"""The firm's connections that the adapters draw on: its catalogue, its own products, third-party providers, the
crowd's contributors and the customers who can help each other. Declared in code or in a TOML file.

The file (``Settings.fulfilment_file``) holds any of::

    [producer]
    brand = "Tintenwerk"
    [[catalogue]]        # the retailer's catalogue (many brands); the producer sells the rows of its brand
    sku = "TON-HP-305"; brand = "HP"; category = "toner"; price = 39.9; stock = 12
    [[providers]]        # the matchmaker's third-party providers
    id = "fixit"; categories = ["printer_repair"]; price = 59.0; lat = 52.52; lon = 13.40; radius_km = 30
    [[contributors]]     # the crowd organizer's contributors
    id = "c1"; sku = "coffee-beans-local"; quantity = 2; price = 8.5
    [[peers]]            # the peer-to-peer network: customers who offer help
    customer_id = "c…"; categories = ["printer_setup"]; lat = 52.5; lon = 13.4
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapport.errors import InvalidInput


@dataclass(frozen=True)
class CatalogueItem:
    sku: str
    brand: str
    category: str
    price: float
    currency: str = "EUR"
    stock: int | None = None  # None: not tracked (always available)


@dataclass(frozen=True)
class Provider:
    """A third-party provider the matchmaker may route to."""

    id: str
    price: float
    skus: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    currency: str = "EUR"
    location: tuple[float, float] | None = None
    radius_km: float | None = None  # the area they serve around their location
    available: bool = True
    capacity: int | None = None  # the most units they take in one order

    def serves(self, sku: str, category: str | None) -> bool:
        return _offers(self.skus, self.categories, sku, category)


@dataclass(frozen=True)
class Contributor:
    """Someone in the crowd who can supply some units (or an answer) for an item or a category."""

    id: str
    quantity: int
    price: float
    sku: str | None = None
    category: str | None = None
    currency: str = "EUR"
    available: bool = True


@dataclass(frozen=True)
class Peer:
    """A customer who offers to help other customers with items or categories."""

    customer_id: str
    skus: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    location: tuple[float, float] | None = None
    price: float = 0.0
    available: bool = True

    def serves(self, sku: str, category: str | None) -> bool:
        return _offers(self.skus, self.categories, sku, category)


def _offers(skus: tuple[str, ...], categories: tuple[str, ...], sku: str, category: str | None) -> bool:
    return sku in skus or (category is not None and category in categories)


@dataclass(frozen=True)
class FirmNetwork:
    catalogue: tuple[CatalogueItem, ...] | None = None  # None: no catalogue to check against
    producer_brand: str | None = None
    providers: tuple[Provider, ...] = ()
    contributors: tuple[Contributor, ...] = ()
    peers: tuple[Peer, ...] = ()
    source: str = "code"
    extra: dict[str, Any] = field(default_factory=dict)


def distance_km(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float | None:
    """Great-circle distance (haversine) between two (latitude, longitude) points; None when either is unknown."""
    if a is None or b is None:
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def load_network(path: str | Path) -> FirmNetwork:
    """Read the firm's connections from a TOML file (see the module docstring)."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text())
    except FileNotFoundError as exc:
        raise InvalidInput(f"Fulfilment file {file} does not exist; fix RAPPORT_FULFILMENT_FILE.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"Fulfilment file {file} is not valid TOML ({exc}).") from exc
    try:
        return FirmNetwork(
            catalogue=tuple(CatalogueItem(**row) for row in data["catalogue"]) if "catalogue" in data else None,
            producer_brand=(data.get("producer") or {}).get("brand"),
            providers=tuple(
                Provider(**_placed(row, tuples=("skus", "categories"))) for row in data.get("providers", [])
            ),
            contributors=tuple(Contributor(**row) for row in data.get("contributors", [])),
            peers=tuple(Peer(**_placed(row, tuples=("skus", "categories"))) for row in data.get("peers", [])),
            source=str(file),
        )
    except TypeError as exc:
        raise InvalidInput(
            f"Fulfilment file {file}: {exc}; see rapport.respond.fulfilment.network for the fields."
        ) from exc


def _placed(row: dict[str, Any], tuples: tuple[str, ...]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in ("lat", "lon")}
    if "lat" in row and "lon" in row:
        out["location"] = (float(row["lat"]), float(row["lon"]))
    for name in tuples:
        if name in out:
            out[name] = tuple(out[name])
    return out
