"""The five connection architectures behind one interface, and the firm's routes between them."""

from __future__ import annotations

from pathlib import Path

import pytest

from rapport.config import Settings
from rapport.errors import InvalidInput
from rapport.respond.fulfilment import FulfilmentRequest
from rapport.respond.fulfilment.matchmaker import Matchmaker
from rapport.respond.fulfilment.network import CatalogueItem, Contributor, FirmNetwork, Peer, Provider
from rapport.respond.fulfilment.routing import ARCHITECTURES, Fulfiller

BERLIN = (52.520, 13.405)
POTSDAM = (52.391, 13.065)  # about 27 km from Berlin
SPANDAU = (52.535, 13.200)  # about 14 km from Berlin


def _ask(sku: str = "REPAIR", category: str | None = "printer_repair", **kw: object) -> FulfilmentRequest:
    return FulfilmentRequest("c-me", sku, 1, category, location=BERLIN, **kw)  # type: ignore[arg-type]


def _pick(providers: list[Provider], request: FulfilmentRequest | None = None) -> tuple[str | None, tuple[str, ...]]:
    result = Matchmaker(FirmNetwork(providers=tuple(providers))).fulfil(request or _ask())
    return (result.chosen[0].provider if result.fulfilled else None), result.reasons


def _p(pid: str, price: float, at: tuple[float, float] | None = BERLIN, **kw: object) -> Provider:
    return Provider(pid, price, categories=("printer_repair",), location=at, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("providers", "chosen"),
    [
        ([_p("a", 70), _p("b", 55), _p("c", 60)], "b"),  # the cheapest of those that fit
        ([_p("far", 50, POTSDAM), _p("near", 50, SPANDAU)], "near"),  # equal price: the nearer
        ([_p("cheap", 30, available=False), _p("ok", 45)], "ok"),  # unavailable is never chosen, however cheap
        ([_p("small", 20, capacity=0), _p("big", 40)], "big"),  # cannot take the quantity: does not fit
        ([_p("out", 20, POTSDAM, radius_km=10), _p("in", 35, SPANDAU, radius_km=20)], "in"),  # outside its area
        ([Provider("wrong", 5, categories=("garden",)), _p("right", 80)], "right"),  # serves another category
        ([_p("unknown", 50, None), _p("known", 50, POTSDAM)], "known"),  # unknown distance counts as farthest
        ([_p("z", 50), _p("y", 50)], "y"),  # a complete tie: the provider id, so the choice is stable
    ],
)
def test_the_matchmaker_picks_the_provider_it_should(providers: list[Provider], chosen: str) -> None:
    picked, reasons = _pick(providers)
    assert picked == chosen
    assert reasons[0].startswith(f"chose {chosen} ")


def test_the_matchmaker_says_why_the_others_lost_and_when_none_fits() -> None:
    picked, reasons = _pick([_p("a", 70), _p("b", 55), Provider("g", 5, categories=("garden",))])
    assert picked == "b" and "cheapest of 2" in reasons[0] and "next: a at 70.00" in reasons[0]
    assert any(r.startswith("g: does not serve REPAIR") for r in reasons)
    picked, reasons = _pick([_p("busy", 40, available=False), Provider("g", 5, categories=("garden",))])
    assert picked is None and reasons[0] == "no provider for REPAIR: none of them is available now"
    picked, reasons = _pick([Provider("g", 5, categories=("garden",))])
    assert picked is None and reasons[0] == "no provider for REPAIR: none of them fits"
    picked, reasons = _pick([_p("dear", 90)], _ask(max_unit_price=60.0))
    assert picked is None and "above the most the customer pays" in reasons[1]


CATALOGUE = (
    CatalogueItem("TON-HP", "HP", "toner", 39.9, stock=5),
    CatalogueItem("TON-TW", "Tintenwerk", "toner", 24.9, stock=0),
    CatalogueItem("TON-TW2", "Tintenwerk", "toner", 29.9),
)


def test_the_retailer_sells_many_brands_and_the_producer_only_its_own() -> None:
    network = FirmNetwork(catalogue=CATALOGUE, producer_brand="Tintenwerk")
    retailer, producer = ARCHITECTURES["connected_retailer"](network), ARCHITECTURES["connected_producer"](network)
    ask = FulfilmentRequest("c-me", "TON-HP", 2, "toner")
    assert {o.details["brand"] for o in retailer.quote(ask)} == {"HP", "Tintenwerk"}
    assert retailer.fulfil(ask).fulfilled and retailer.fulfil(ask).unit_price == 39.9
    assert {o.sku for o in producer.quote(ask)} == {"TON-TW", "TON-TW2"}
    refused = producer.fulfil(ask)
    assert not refused.fulfilled and "not one of Tintenwerk's own products" in refused.reasons[0]
    out = producer.fulfil(FulfilmentRequest("c-me", "TON-TW", 1, "toner"))
    assert not out.fulfilled and "out of stock" in out.reasons[0] and "TON-TW2" in out.reasons[0]
    assert producer.fulfil(FulfilmentRequest("c-me", "TON-TW2", 3, "toner")).fulfilled


def test_the_crowd_gathers_supply_from_many_cheapest_first() -> None:
    crowd = ARCHITECTURES["crowd_organizer"](
        FirmNetwork(
            contributors=(
                Contributor("x", 2, 9.0, "BEANS"),
                Contributor("y", 3, 8.0, "BEANS"),
                Contributor("z", 9, 7.0, "BEANS", available=False),
            )
        )
    )
    result = crowd.fulfil(FulfilmentRequest("c-me", "BEANS", 4))
    assert result.fulfilled and [(o.provider, o.quantity) for o in result.chosen] == [("y", 3), ("x", 1)]
    assert result.unit_price == pytest.approx((3 * 8 + 9) / 4)
    short = crowd.fulfil(FulfilmentRequest("c-me", "BEANS", 9))
    assert not short.fulfilled and "has 5 of the 9" in short.reasons[0]


def test_peer_to_peer_connects_with_the_nearest_other_customer_who_can_help() -> None:
    peers = (Peer("c-me", categories=("printer_setup",), location=BERLIN), Peer("c-far", categories=("printer_setup",), location=POTSDAM),
             Peer("c-near", categories=("printer_setup",), location=SPANDAU), Peer("c-away", categories=("printer_setup",), location=BERLIN, available=False))  # fmt: skip
    p2p = ARCHITECTURES["peer_to_peer"](FirmNetwork(peers=peers))
    result = p2p.fulfil(FulfilmentRequest("c-me", "SETUP", 1, "printer_setup", location=BERLIN))
    assert result.fulfilled and result.chosen[0].provider == "c-near"  # never themselves, never the unavailable
    assert not p2p.fulfil(FulfilmentRequest("c-me", "GARDEN", 1, "garden")).fulfilled


def test_routes_pick_the_declared_architecture_per_offering_and_load_the_network(tmp_path: Path) -> None:
    file = tmp_path / "firm.toml"
    file.write_text(
        '[producer]\nbrand = "Tintenwerk"\n'
        '[[catalogue]]\nsku = "TON-TW2"\nbrand = "Tintenwerk"\ncategory = "toner"\nprice = 29.9\n'
        '[[providers]]\nid = "fixit"\ncategories = ["printer_repair"]\nprice = 59.0\nlat = 52.52\nlon = 13.40\n'
    )
    routes = {"sku:TON-TW2": "connected_producer", "category:printer_repair": "matchmaker", "*": "connected_retailer"}
    fulfiller = Fulfiller.from_settings(Settings(fulfilment_routes=routes, fulfilment_file=str(file)))
    assert fulfiller.architecture_for("TON-TW2", "toner") == "connected_producer"
    assert fulfiller.architecture_for("TON-HP", "toner") == "connected_retailer"
    assert fulfiller.architecture_for("REPAIR", "printer_repair") == "matchmaker"
    assert fulfiller.fulfil(_ask()).chosen[0].provider == "fixit"
    with pytest.raises(InvalidInput, match="the architectures are"):
        Fulfiller.from_settings(Settings(fulfilment_routes={"*": "drone_swarm"}))
    with pytest.raises(InvalidInput, match="must be 'sku:<sku>'"):
        Fulfiller.from_settings(Settings(fulfilment_routes={"toner": "matchmaker"}))
    (tmp_path / "bad.toml").write_text("[[providers]]\nid = 'x'\n")
    with pytest.raises(InvalidInput, match=r"bad\.toml"):
        Fulfiller.from_settings(Settings(fulfilment_file=str(tmp_path / "bad.toml")))
