"""The outbound state read brings what the contact-risk check asks the store for (its counts and the latest turns
of each category the needs name), the same as the store's own reads give them (rapport.store.decisions)."""

from __future__ import annotations

from datetime import timedelta

from rapport.decide.engine import decide
from rapport.decide.outcomes import record_outcome
from rapport.decide.situations import Situation
from rapport.repeat.preferences import LEARNING_WINDOW
from rapport.store.decisions import SqlDecisionStore
from tests.decide.conftest import NOW, customer, need, store_needs, toner_order
from tests.decide.test_engine import _grant

OUTCOMES = ("dismissed", "ignored", "accepted", "complained", "converted")


def _turns(store: SqlDecisionStore, cid: str, situation: Situation, n: int, start: int) -> None:
    for k in range(n):
        at = NOW + timedelta(hours=start + k)
        made = decide(store, cid, situation, at)
        record_outcome(store, made.id, OUTCOMES[(start + k) % len(OUTCOMES)], at + timedelta(minutes=5))


def test_the_outbound_state_holds_the_contact_risk_and_each_needs_latest_turns(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "turner", orders=[toner_order(2), toner_order(1)])
    other = customer(decisions, "peer", orders=[toner_order(1)])
    store_needs(
        decisions,
        cid,
        need(cid, category="toner", due_in_days=1),
        need(cid, item="PAPER-A4", category=None, due_in_days=2),
    )
    store_needs(decisions, other, need(other, category="toner"))
    _grant(decisions, cid, "contact:email")
    _turns(decisions, cid, Situation("need_due", category="toner"), LEARNING_WINDOW + 3, 0)  # more than a window
    _turns(decisions, cid, Situation("app_open", sku="PAPER-A4"), 3, 100)
    _turns(decisions, cid, Situation("app_open", category="garden"), 2, 200)  # no need names it: not read
    _turns(decisions, other, Situation("need_due", category="toner"), 4, 300)

    state = decisions.customer_state(cid, NOW + timedelta(days=1), outbound=True)
    assert state.risk == decisions.contact_risk(cid)
    assert state.risk.own[1] > 0 and state.risk.others[1] > 0, "refusals of their own and of others were counted"
    assert state.turns is not None and set(state.turns) == {"toner", "PAPER-A4"}
    for category in ("toner", "PAPER-A4"):
        assert state.turns[category] == decisions.category_turns(cid, category, LEARNING_WINDOW), category
    assert len(state.turns["toner"]) == LEARNING_WINDOW
    inbound = decisions.customer_state(cid, NOW, outbound=False)
    assert inbound.risk is None and inbound.turns is None, "an inbound decision sends no contact: not read"


def test_the_own_frequent_items_and_the_order_history_read_through_the_driver(decisions: SqlDecisionStore) -> None:
    paper = {"products": [{"sku": "PAPER-A4", "category": "paper", "quantity": 1, "price": 5.0}]}
    cid = customer(decisions, "frequent", orders=[toner_order(), paper, toner_order(2)])
    first = NOW - timedelta(days=60)  # the conftest's customers order every ten days from then
    rows = decisions.frequent_items(cid, None, 3)
    assert [(r["sku"], r["count"], r["last_at"]) for r in rows] == [
        ("TONER-BK-305", 2, first + timedelta(days=20)),
        ("PAPER-A4", 1, first + timedelta(days=10)),
    ]
    assert [r["sku"] for r in decisions.frequent_items(cid, "paper", 3)] == ["PAPER-A4"]
    history = decisions.order_history(cid, 2)
    assert [h["timestamp"] for h in history] == [first + timedelta(days=20), first + timedelta(days=10)]
    assert history[0]["properties"]["products"][0]["quantity"] == 2
