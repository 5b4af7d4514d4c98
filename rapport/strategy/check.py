"""`rapport strategy check`: does the strategy claim only what Rapport is really set up to do?

Compared with: the fulfilment routes and the network behind them (providers, contributors, peers, the producer's
brand), the firm's default control levels, the mandates and consents in use, and the catalogue. A claim Rapport
cannot honour is an error; a cell Rapport serves that the strategy does not name is a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rapport.respond.fulfilment.network import FirmNetwork
from rapport.respond.fulfilment.routing import Fulfiller
from rapport.strategy.loading import Finding, LoadedStrategy, suggest
from rapport.strategy.model import Cell, Offering

COACHING_LEVEL = "remind_me"  # the control level whose experience is coach behavior


@dataclass(frozen=True)
class Capabilities:
    """What Rapport is configured to do, gathered from the settings and the store."""

    fulfiller: Fulfiller
    default_control_levels: Mapping[str, str]
    sku_categories: Mapping[str, str]  # the catalogue
    mandate_scopes: Mapping[tuple[str, str], int]  # active mandates by (scope kind, scope)
    automatic_consents: int  # customers consenting to automatic execution
    served: frozenset[tuple[str, str]]  # (experience, architecture) cells with decisions or orders in the store

    @property
    def network(self) -> FirmNetwork:
        return self.fulfiller.network

    def known_categories(self) -> set[str]:
        routed = {o.partition(":")[2] for o in self.fulfiller.routes if o.startswith("category:")}
        provided = {c for p in self.network.providers for c in p.categories}
        return set(self.sku_categories.values()) | routed | provided

    def known_skus(self) -> set[str]:
        routed = {o.partition(":")[2] for o in self.fulfiller.routes if o.startswith("sku:")}
        return set(self.sku_categories) | routed | {s for p in self.network.providers for s in p.skus}


def check_strategy(loaded: LoadedStrategy, can: Capabilities) -> list[Finding]:
    """Every error and warning, in file order."""
    s = loaded.strategy
    found: list[Finding] = []
    for name, offering in s.offerings.items():
        found += _catalogue(loaded, name, offering, can)
    for i, cell in enumerate(s.cells):
        offering = s.offerings[cell.offering]
        found += _route(loaded, i, cell, offering, can)
        found += _architecture(loaded, i, cell, offering, can)
        found += _experiences(loaded, i, cell, offering, can)
    named = s.named_cells()
    for experience, architecture in sorted(can.served - named):
        found.append(Finding("warning", f"Rapport serves {experience} through {architecture} (decisions or orders "
                             "in the store) but the strategy names no such cell", loaded.file, loaded.line("cells"),
                             f"add a cell with experiences [{experience}] and architecture {architecture}"))  # fmt: skip
    return sorted(found, key=lambda f: (f.line or 0, f.level))


def _catalogue(loaded: LoadedStrategy, name: str, offering: Offering, can: Capabilities) -> list[Finding]:
    found = []
    known = can.known_categories()
    for i, category in enumerate(offering.categories):
        if category not in known:
            found.append(loaded.finding("error", f"offering {name!r}: category {category!r} is not in the catalogue, "
                                        "the fulfilment routes or any provider", ("offerings", name, "categories", i),
                                        suggest(category, known)))  # fmt: skip
    skus = can.known_skus()
    for i, sku in enumerate(offering.skus):
        if sku not in skus:
            found.append(loaded.finding("error", f"offering {name!r}: sku {sku!r} is not in the catalogue",
                                        ("offerings", name, "skus", i), suggest(sku, skus)))  # fmt: skip
    return found


def _targets(offering: Offering, can: Capabilities) -> list[tuple[str, str | None, str]]:
    """(sku, category, label) for each thing the offering names, as the router sees it."""
    return [("", c, f"category:{c}") for c in offering.categories] + [
        (sku, can.sku_categories.get(sku), f"sku:{sku}") for sku in offering.skus
    ]


def _route(loaded: LoadedStrategy, i: int, cell: Cell, offering: Offering, can: Capabilities) -> list[Finding]:
    found = []
    for sku, category, label in _targets(offering, can):
        routed = can.fulfiller.architecture_for(sku, category)
        if routed != cell.architecture:
            found.append(loaded.finding("error", f"offering {cell.offering!r} claims {cell.architecture} but "
                                        f"Rapport routes {label} to {routed} (fulfilment_routes)",
                                        ("cells", i, "architecture"),
                                        f"set fulfilment_routes {label} = {cell.architecture}, or claim {routed}"))  # fmt: skip
    return found


def _architecture(loaded: LoadedStrategy, i: int, cell: Cell, offering: Offering, can: Capabilities) -> list[Finding]:
    net, where = can.network, ("cells", i, "architecture")
    targets = _targets(offering, can)
    missing: str | None = None
    if cell.architecture == "matchmaker":
        if not any(p.serves(sku, cat) for p in net.providers for sku, cat, _ in targets):
            missing = "no provider in the fulfilment file serves it: the matchmaker has nobody to match"
    elif cell.architecture == "crowd_organizer":
        if not any(c.sku in offering.skus or c.category in offering.categories for c in net.contributors):
            missing = "no contributor in the fulfilment file supplies it: the crowd organizer has no crowd"
    elif cell.architecture == "peer_to_peer":
        if not any(p.serves(sku, cat) for p in net.peers for sku, cat, _ in targets):
            missing = "no peer in the fulfilment file offers it: the peer-to-peer network is empty"
    elif cell.architecture == "connected_producer" and not net.producer_brand:
        missing = "the fulfilment file names no producer brand"
    if missing is None:
        return []
    return [loaded.finding("error", f"offering {cell.offering!r} via {cell.architecture}: {missing}", where,
                           "add them to the fulfilment file (RAPPORT_FULFILMENT_FILE) or claim another architecture")]  # fmt: skip


def _experiences(loaded: LoadedStrategy, i: int, cell: Cell, offering: Offering, can: Capabilities) -> list[Finding]:
    found = []
    where = ("cells", i, "experiences")
    if "automatic_execution" in cell.experiences:
        scopes = {("category", c) for c in offering.categories} | {("item", s) for s in offering.skus}
        scopes |= {("item", sku) for sku, cat in can.sku_categories.items() if cat in offering.categories}
        if not any(can.mandate_scopes.get(scope) for scope in scopes):
            found.append(loaded.finding("error", f"offering {cell.offering!r} claims automatic_execution but no "
                                        "active mandate covers it: there is no mandate flow", where,
                                        "let customers sign mandates for it (POST /v1/customers/{id}/mandates) "
                                        "or drop automatic_execution"))  # fmt: skip
        elif can.automatic_consents == 0:
            found.append(loaded.finding("warning", f"offering {cell.offering!r}: no customer consents to "
                                        "automatic_execution, so no mandate can run", where))  # fmt: skip
    if "coach_behavior" in cell.experiences:
        levels = can.default_control_levels
        quiet = [c for c in offering.categories if levels.get(c, levels.get("*")) != COACHING_LEVEL]
        if quiet:
            found.append(loaded.finding("warning", f"offering {cell.offering!r} claims coach_behavior but the "
                                        f"default control level of {', '.join(quiet)} is not {COACHING_LEVEL}: only "
                                        "customers who choose it are coached", where))  # fmt: skip
    return found
