"""`rapport strategy check` on the demo firm: its own strategy holds; a deliberately broken copy has each mistake
found, with its line; `rapport strategy matrix` prints all 20 cells."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rapport.cli import output
from rapport.cli.main import app
from rapport.demo.strategy import demo_setup
from rapport.respond.fulfilment.network import Peer
from rapport.respond.fulfilment.routing import Fulfiller
from rapport.store.store import Store
from rapport.store.strategy import SqlStrategySource
from rapport.strategy.model import ARCHITECTURES, EXPERIENCES
from rapport.strategy.service import StrategySetup, check
from tests.dashboard.conftest import DEMO_STRATEGY

BROKEN = {
    # an unknown category (a typo): not in the catalogue, the routes or any provider
    "    categories: [medication, vitamins, pill_dispenser]": "    categories: [medication, vitamins, pill_dispensr]",
    # automatic execution of coffee: no customer has a coffee mandate
    "    experiences: [respond_to_desire, curated_offering, coach_behavior]\n    architecture: connected_retailer":
        "    experiences: [respond_to_desire, automatic_execution]\n    architecture: connected_retailer",
    # printers through a crowd: nobody contributes printers, and Rapport routes them to the retailer
    "  - offering: printers\n    segment: everyone_else\n    experiences: [respond_to_desire, curated_offering]\n"
    "    architecture: connected_retailer":
        "  - offering: printers\n    segment: everyone_else\n    experiences: [respond_to_desire, curated_offering]\n"
        "    architecture: crowd_organizer",
    # the repair cell left out: Rapport serves respond_to_desire through the matchmaker all the same
    "  - offering: printer_repair\n    segment: printer_owners\n    experiences: [respond_to_desire]\n"
    "    architecture: matchmaker\n": "",
}  # fmt: skip


def _check(store: Store, file: Path | str) -> list[Any]:
    setup = demo_setup()
    return check(StrategySetup(str(file), setup.fulfiller, setup.default_control_levels),
                 SqlStrategySource(store.engine), datetime.now(UTC))  # fmt: skip


def test_the_demo_strategy_holds_on_the_demo_store(demo: tuple[Store, dict[str, Any]]) -> None:
    store, report = demo
    assert report["strategy"]["decisions"] > 0
    assert [f for f in _check(store, DEMO_STRATEGY) if f.level == "error"] == []


def test_a_broken_copy_of_the_demo_strategy_has_each_mistake_found(
    demo: tuple[Store, dict[str, Any]], tmp_path: Path
) -> None:
    store, _ = demo
    text = DEMO_STRATEGY.read_text()
    for old, new in BROKEN.items():
        assert old in text
        text = text.replace(old, new)
    broken = tmp_path / "strategy.yaml"
    broken.write_text(text)
    findings = _check(store, broken)
    lines = text.splitlines()

    def at(finding: Any) -> str:
        return lines[finding.line - 1].strip()

    errors = [f for f in findings if f.level == "error"]
    typo = next(f for f in errors if "pill_dispensr" in f.message)
    assert typo.suggestion == "did you mean 'pill_dispenser'?" and "pill_dispensr" in at(typo)
    mandate = next(f for f in errors if "no mandate flow" in f.message)
    assert "'coffee'" in mandate.message and at(mandate) == "experiences: [respond_to_desire, automatic_execution]"
    nobody = next(f for f in errors if "has no crowd" in f.message)
    assert "'printers'" in nobody.message and at(nobody) == "architecture: crowd_organizer"
    routed = next(f for f in errors if "routes category:printer to connected_retailer" in f.message)
    assert routed.line == nobody.line
    unnamed = [f for f in findings if f.level == "warning" and "respond_to_desire through matchmaker" in f.message]
    assert unnamed and unnamed[0].file == str(broken)
    assert len(errors) == 4, errors


def test_the_cli_prints_all_20_cells_and_fails_on_a_broken_strategy(
    demo: tuple[Store, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = demo
    # The CLI's console is built once, at import, with the width of that moment's terminal: a wide one for the table.
    monkeypatch.setattr(output.console, "width", 200)
    url = store.settings.database_url
    runner = CliRunner()
    shown = runner.invoke(app, ["strategy", "matrix", "--demo", "--database", url, "--json"])
    assert shown.exit_code == 0, shown.output
    cells = json.loads(shown.output)["cells"]
    assert {(c["experience"], c["architecture"]) for c in cells} == {(e, a) for e in EXPERIENCES for a in ARCHITECTURES}
    table = runner.invoke(app, ["strategy", "matrix", "--demo", "--database", url])
    assert table.exit_code == 0 and table.output.count("opening") + table.output.count("held") >= 10
    assert all(e.replace("_", " ") in table.output for e in EXPERIENCES)
    ok = runner.invoke(app, ["strategy", "check", "--demo", "--database", url])
    assert ok.exit_code == 0, ok.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(DEMO_STRATEGY.read_text().replace("segment: coffee_drinkers", "segment: cofee_drinkers"))
    failed = runner.invoke(app, ["strategy", "check", "--demo", "--file", str(broken), "--database", url, "--json"])
    assert failed.exit_code == 1
    [finding] = json.loads(failed.output)["findings"]
    assert finding["suggestion"] == "did you mean 'coffee_drinkers'?"
    by_segment = runner.invoke(app, ["strategy", "matrix", "--demo", "--segment", "printer_ownrs", "--database", url])
    assert by_segment.exit_code == 2 and "printer_owners" in by_segment.output


def test_peer_to_peer_is_checked_against_the_peers_in_the_fulfilment_file(
    demo: tuple[Store, dict[str, Any]], tmp_path: Path
) -> None:
    store, _ = demo
    claimed = tmp_path / "strategy.yaml"
    cell = "  - offering: printer_repair\n    segment: printer_owners\n    experiences: [respond_to_desire]\n"
    claimed.write_text(DEMO_STRATEGY.read_text().replace(cell + "    architecture: matchmaker", cell + "    architecture: peer_to_peer"))  # fmt: skip
    setup = demo_setup()

    def errors(peers: tuple[Peer, ...]) -> list[str]:
        network = replace(setup.fulfiller.network, peers=peers)
        fulfiller = Fulfiller({**setup.fulfiller.routes, "category:printer_repair": "peer_to_peer"}, network)
        found = check(StrategySetup(str(claimed), fulfiller, setup.default_control_levels),
                      SqlStrategySource(store.engine), datetime.now(UTC))  # fmt: skip
        return [f.message for f in found if f.level == "error" and "peer_to_peer" in f.message]

    assert any("the peer-to-peer network is empty" in m for m in errors(()))
    assert any("the peer-to-peer network is empty" in m for m in errors((Peer("c-1", categories=("coffee_pods",)),)))
    assert errors((Peer("c-2", categories=("printer_repair",)),)) == []
