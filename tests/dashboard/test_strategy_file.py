"""Reading strategy.yaml: the demo's file is valid; every mistake is reported with its line and a suggestion."""

from __future__ import annotations

import pytest

from rapport.respond.fulfilment.routing import ARCHITECTURES as ROUTED
from rapport.strategy.loading import StrategyInvalid, parse_strategy
from rapport.strategy.model import ARCHITECTURES, Rule
from rapport.strategy.segments import CustomerFacts, segment_of
from tests.dashboard.conftest import DEMO_STRATEGY


def test_the_architectures_are_the_ones_rapport_routes_to() -> None:
    assert set(ARCHITECTURES) == set(ROUTED)


def test_the_demo_strategy_is_valid() -> None:
    loaded = parse_strategy(DEMO_STRATEGY.read_text(), "strategy.yaml")
    s = loaded.strategy
    assert list(s.segments) == ["printer_owners", "coffee_drinkers", "pharmacy_regulars", "everyone_else"]
    assert ("automatic_execution", "connected_retailer") in s.named_cells()
    assert s.rival_cells()[("automatic_execution", "connected_producer")] == ["InkFlow"]
    assert loaded.line("cells", 2, "architecture") == _line_of("architecture: matchmaker")


def _line_of(text: str, source: str | None = None) -> int:
    lines = (source or DEMO_STRATEGY.read_text()).splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def test_parse_mistakes_are_reported_each_with_line_and_suggestion() -> None:
    broken = (
        DEMO_STRATEGY.read_text()
        .replace("architecture: matchmaker", "architecture: matchmaking", 1)
        .replace("experiences: [respond_to_desire, coach_behavior]", "experiences: [respond_to_desire, coaching]")
        .replace("    description: repair visits", "    descripton: repair visits")
        .replace("      - fact: categories\n        contains: [coffee_pods", "      - fact: categores\n        contains: [coffee_pods")
    )  # fmt: skip
    with pytest.raises(StrategyInvalid) as caught:
        parse_strategy(broken, "broken.yaml")
    found = {f.message.split(" ")[0]: f for f in caught.value.findings}
    assert len(caught.value.findings) == 4, caught.value.findings
    by_line = {f.line: f for f in caught.value.findings}
    matchmaking = by_line[_line_of("architecture: matchmaking", broken)]
    assert "'matchmaking'" in matchmaking.message and matchmaking.suggestion == "did you mean 'matchmaker'?"
    coaching = by_line[_line_of("coaching]", broken)]
    assert coaching.suggestion == "did you mean 'coach_behavior'?"
    typo = by_line[_line_of("descripton:", broken)]
    assert "unknown field 'descripton'" in typo.message and typo.suggestion == "did you mean 'description'?"
    fact = by_line[_line_of("fact: categores", broken)]
    assert "unknown fact 'categores'" in fact.message and fact.suggestion == "did you mean 'categories'?"
    assert all(f.file == "broken.yaml" and f.level == "error" for f in found.values())
    assert str(matchmaking).startswith(f"broken.yaml:{matchmaking.line}: error:")


def test_cells_must_name_defined_offerings_and_segments() -> None:
    broken = DEMO_STRATEGY.read_text().replace("segment: coffee_drinkers", "segment: coffee_drinker")
    with pytest.raises(StrategyInvalid) as caught:
        parse_strategy(broken, "broken.yaml")
    [finding] = caught.value.findings
    assert finding.line == _line_of("segment: coffee_drinker", broken)
    assert finding.suggestion == "did you mean 'coffee_drinkers'?"


def test_yaml_syntax_errors_point_at_the_line() -> None:
    with pytest.raises(StrategyInvalid) as caught:
        parse_strategy("segments:\n  a: [1, 2\nofferings: {}\n", "bad.yaml")
    assert caught.value.findings[0].line == 3 and "not valid YAML" in caught.value.findings[0].message


def test_a_customer_falls_in_the_first_segment_whose_rules_all_hold() -> None:
    s = parse_strategy(DEMO_STRATEGY.read_text()).strategy
    printer = CustomerFacts("a", {}, {"categories": ["toner", "coffee_pods"], "orders": 3})
    coffee = CustomerFacts("b", {}, {"categories": ["coffee_pods"]})
    nobody = CustomerFacts("c", {}, {"categories": []})
    assert [segment_of(s, c) for c in (printer, coffee, nobody)] == [
        "printer_owners",
        "coffee_drinkers",
        "everyone_else",
    ]
    with pytest.raises(ValueError, match="exactly one operator"):
        Rule(trait="city", equals="Berlin", gte=3)
