"""The matrix counts the store's own records, on SQLite and PostgreSQL: decisions by experience and by the
architecture their item is routed to, outcomes, needs met on time, orders and revenue, and segments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rapport.decide.decision import Decision, new_decision_id
from rapport.decide.outcomes import record_outcome
from rapport.decide.situations import Situation
from rapport.recognize.need import Need
from rapport.respond.fulfilment.network import CatalogueItem, FirmNetwork
from rapport.respond.fulfilment.routing import Fulfiller
from rapport.respond.orders import OrderLine, OrderRequest, place_order
from rapport.store.decisions import SqlDecisionStore
from rapport.store.store import Store
from rapport.store.strategy import SqlStrategySource
from rapport.strategy.loading import parse_strategy
from rapport.strategy.matrix import compute_matrix, customers_in_cell
from tests.decide.conftest import customer

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ROUTES = {"sku:HOUSE-1": "connected_producer", "*": "connected_retailer"}
STRATEGY = """
segments:
  toner_buyers: {rules: [{fact: categories, contains: toner}]}
  rest: {rules: []}
offerings:
  toner: {categories: [toner]}
cells:
  - {offering: toner, segment: toner_buyers, experiences: [coach_behavior], architecture: connected_retailer}
rivals:
  Rival: {cells: [{experience: automatic_execution, architecture: matchmaker}]}
"""


def _decision(cid: str, experience: str | None, sku: str, at: datetime, due: datetime, status: str = "act") -> Decision:
    need = Need(cid, sku, "toner", "replenish", due, 0.8, {"reason": "runs out"})
    return Decision(new_decision_id(), cid, Situation("app_open"), status, experience,  # type: ignore[arg-type]
                    {"type": "nudge"} if experience else None, ["test"], {}, need, at)  # fmt: skip


def test_the_matrix_counts_what_the_store_holds(store: Store) -> None:
    log = SqlDecisionStore(store.settings, engine=store.engine)
    anna = customer(log, "anna", orders=[{"products": [{"sku": "T-1", "category": "toner", "price": 20.0}]}])
    ben = customer(log, "ben", orders=[{"products": [{"sku": "P-1", "category": "pods", "price": 5.0}]}])
    cara = customer(log, "cara")
    start = NOW - timedelta(days=5)
    made = [
        _decision(anna, "coach_behavior", "T-1", start, due=start + timedelta(days=2)),
        _decision(anna, "coach_behavior", "T-1", start + timedelta(hours=3), due=start + timedelta(hours=4)),
        _decision(ben, "coach_behavior", "T-1", start + timedelta(hours=1), due=start + timedelta(days=3)),
        _decision(cara, "curated_offering", "HOUSE-1", start + timedelta(hours=2), due=start + timedelta(days=3)),
        _decision(ben, None, "T-1", start + timedelta(hours=5), due=start, status="nothing_now"),
        _decision(ben, "coach_behavior", "T-1", NOW - timedelta(days=30), due=NOW),  # before the period
    ]
    for decision in made:
        log.save_decision(decision)
    record_outcome(log, made[0].id, "accepted", NOW, start + timedelta(days=1))  # before its due date: on time
    record_outcome(log, made[1].id, "accepted", NOW, start + timedelta(days=1))  # after its due date: late
    record_outcome(log, made[2].id, "complained", NOW, start + timedelta(days=1))
    own = (CatalogueItem("HOUSE-1", "House", "toner", 10.0), CatalogueItem("T-2", "Other", "toner", 15.5))
    fulfiller = Fulfiller(ROUTES, FirmNetwork(catalogue=own, producer_brand="House"))
    house = OrderRequest(cara, (OrderLine("HOUSE-1", 2, 10.0, "toner"),), source="reorder")
    place_order(log, house, start + timedelta(hours=4), "k-house", fulfiller=fulfiller)  # after the curated offer
    plain = OrderRequest(anna, (OrderLine("T-2", 1, 15.5, "toner"),), source="api")
    place_order(log, plain, start + timedelta(days=20), "k-plain", fulfiller=fulfiller)  # no decision before: asked

    strategy = parse_strategy(STRATEGY).strategy
    source = SqlStrategySource(store.engine)
    found = compute_matrix(source, strategy, fulfiller.architecture_for, NOW, since=start - timedelta(days=1))
    coach = found.cell("coach_behavior", "connected_retailer").to_dict()
    assert coach["decisions"] == 3 and coach["acted"] == 3 and coach["customers"] == 2
    assert coach["accepted"] == 2 and coach["acceptance_rate"] == round(2 / 3, 4)
    assert coach["needs_with_due_date"] == 3 and coach["needs_met_on_time"] == 1
    assert coach["complaints"] == 1 and coach["state"] == "held" and coach["named"]
    curated = found.cell("curated_offering", "connected_producer").to_dict()
    assert curated["decisions"] == 1 and curated["orders"] == 1 and curated["revenue"] == 20.0
    assert not curated["named"] and curated["state"] == "held"
    asked = found.cell("respond_to_desire", "connected_retailer").to_dict()
    assert asked["orders"] == 1 and asked["revenue"] == 15.5 and asked["decisions"] == 0
    assert found.cell("automatic_execution", "matchmaker").state == "threat"
    assert found.cell("respond_to_desire", "peer_to_peer").state == "opening"
    assert len(found.cells) == 20
    drill = customers_in_cell(found, "coach_behavior", "connected_retailer")
    assert {row["customer_id"]: row["decisions"] for row in drill} == {anna: 2, ben: 1}
    # a segment keeps only its customers: ben never bought toner (cara did, through the order)
    toner_only = compute_matrix(source, strategy, fulfiller.architecture_for, NOW, start - timedelta(days=1),
                                segment="toner_buyers")  # fmt: skip
    assert toner_only.cell("coach_behavior", "connected_retailer").decisions == 2
    assert toner_only.cell("coach_behavior", "connected_retailer").customers == {anna}
    assert toner_only.cell("curated_offering", "connected_producer").decisions == 1
    rest = compute_matrix(source, strategy, fulfiller.architecture_for, NOW, start - timedelta(days=1), segment="rest")
    assert rest.cell("coach_behavior", "connected_retailer").customers == {ben}
    # the period: until excludes what came later
    early = compute_matrix(source, strategy, fulfiller.architecture_for, NOW, None, start)
    assert early.cell("coach_behavior", "connected_retailer").decisions == 1
    assert early.cell("respond_to_desire", "connected_retailer").orders == 0
