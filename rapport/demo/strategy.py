"""The demo firm's connected strategy at work: its strategy.yaml, its routes and network, and four weeks of decisions
with their outcomes (and the orders they led to), so the 4 x 5 matrix and the dashboard have live figures.

Every decision is made by the real decision engine and every outcome recorded by the real outcome service; the
accepted one-click reorders are placed through ``place_order`` with a client key. A marker in the store keeps a
second run from deciding again.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from importlib.resources import files
from typing import Any

from rapport.config import Settings
from rapport.decide import consent, control
from rapport.decide.engine import decide
from rapport.decide.outcomes import record_outcome
from rapport.decide.situations import Situation
from rapport.demo.catalogue import build_catalogue
from rapport.demo.fulfilment import HOUSE_BRAND, REPAIRERS
from rapport.recognize.need import Need
from rapport.respond.fulfilment.network import CatalogueItem, FirmNetwork
from rapport.respond.fulfilment.routing import Fulfiller
from rapport.respond.orders import OrderLine, OrderRequest, place_order
from rapport.respond.reorder import usual_order
from rapport.store.decisions import SqlDecisionStore
from rapport.store.needs import needs_due
from rapport.store.store import Store
from rapport.strategy.service import StrategySetup

MARKER = "demo-strategy"
DAYS = 28
DECISIONS = 600
# outcome -> share among decisions that showed or sent something (the rest get none yet)
OUTCOME_SHARES = (("accepted", 0.34), ("dismissed", 0.22), ("ignored", 0.30), ("complained", 0.03))
TOUCHPOINTS = ("app_open", "need_due", "store_visit", "call_centre")
# the control levels the demo's customers chose in the preference centre (the rest keep the firm's default)
CHOSEN_LEVELS = (("show_me_options", 0.35), ("i_choose", 0.2))
CONTACT_CONSENTS = (("contact:app", 0.6), ("contact:email", 0.3))
SOURCE = "demo: preference centre"


def demo_routes() -> dict[str, str]:
    """The demo firm's fulfilment routes: its house-brand toner as the producer, repairs by matchmaking."""
    house = next(i for i in build_catalogue().items if i.brand == HOUSE_BRAND and i.category == "toner")
    return {f"sku:{house.sku}": "connected_producer", "category:printer_repair": "matchmaker",
            "*": "connected_retailer"}  # fmt: skip


def demo_setup() -> StrategySetup:
    """The demo's strategy file, routes and network (the repairers the matchmaker draws on)."""
    items = tuple(CatalogueItem(i.sku, i.brand, i.category, i.price) for i in build_catalogue().items)
    network = FirmNetwork(catalogue=items, producer_brand=HOUSE_BRAND, providers=REPAIRERS, source="demo")
    path = str(files("rapport.demo").joinpath("strategy.yaml"))
    return StrategySetup(path, Fulfiller(demo_routes(), network), dict(Settings().default_control_levels))


def demo_strategy(store: Store, end: datetime, seed: int = 7, decisions: int = DECISIONS) -> dict[str, Any]:
    """Decide for customers with needs over the ``DAYS`` before ``end``; record outcomes; place accepted reorders."""
    if store.load_model(MARKER) is not None:
        return {"decisions": 0, "skipped": "the demo's decisions were made on this store before"}
    log = SqlDecisionStore.over(store)
    rng = random.Random(seed * 7717 + 3)
    due = sorted(needs_due(store.engine, end + timedelta(days=30)), key=lambda n: (n.customer_id, n.due_at))
    if not due:
        return {"decisions": 0, "skipped": "no needs to decide on"}
    fulfiller = demo_setup().fulfiller
    _choose_levels(log, rng, due, end - timedelta(days=DAYS + 1))
    made = outcomes = placed = 0
    moments = sorted(end - timedelta(days=rng.uniform(0, DAYS)) for _ in range(decisions))
    for at in moments:
        need = rng.choice(due)
        touchpoint = rng.choice(TOUCHPOINTS)
        situation = Situation(touchpoint, category=need.category if touchpoint != "need_due" else None)  # type: ignore[arg-type]
        decision = decide(log, need.customer_id, situation, at, trigger="cli")
        made += 1
        if decision.nothing_now or decision.experience is None:
            continue
        outcome = _draw(rng)
        if outcome is None:
            continue
        occurred = at + timedelta(hours=rng.uniform(0.2, 72))
        record_outcome(log, decision.id, outcome, occurred, occurred)
        outcomes += 1
        if outcome == "accepted" and decision.experience != "automatic_execution":
            placed += _order(log, fulfiller, decision.customer_id, need.item, need.category, occurred, decision.id)
    store.save_model(MARKER, end.isoformat())
    return {"decisions": made, "outcomes": outcomes, "orders": placed, "days": DAYS}


def _choose_levels(store: SqlDecisionStore, rng: random.Random, due: list[Need], at: datetime) -> None:
    """The preference centre: some customers choose control levels, and most let the firm reach them in the app."""
    for customer_id, category in sorted({(n.customer_id, n.category) for n in due if n.category}):
        level = _draw(rng, CHOSEN_LEVELS)
        if level is not None:
            control.set_control_level(store, customer_id, category, level, at)
    for customer_id in sorted({n.customer_id for n in due}):
        for purpose, share in CONTACT_CONSENTS:
            if rng.random() < share:
                consent.record_consent(store, customer_id, purpose, True, SOURCE, at)


def _draw(rng: random.Random, shares: tuple[tuple[str, float], ...] = OUTCOME_SHARES) -> str | None:
    roll = rng.random()
    for outcome, share in shares:
        if roll < share:
            return outcome
        roll -= share
    return None


def _order(
    store: SqlDecisionStore, fulfiller: Fulfiller, cid: str, sku: str | None, category: str | None, at: datetime,
    decision_id: str,
) -> int:  # fmt: skip
    usual = usual_order(store, cid, sku=sku, category=category)
    if usual is None or usual.unit_price is None:
        return 0
    line = OrderLine(usual.sku, usual.quantity, usual.unit_price, usual.category, usual.name)
    request = OrderRequest(cid, (line,), usual.currency, usual.address_ref, usual.payment_ref, source="reorder")
    place_order(store, request, at, f"demo-strategy:{decision_id}", fulfiller=fulfiller)
    return 1
