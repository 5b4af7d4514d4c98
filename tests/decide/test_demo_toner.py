"""The demo's toner auto-order end to end on a real store: consent + mandate + a low reading → decide →
scheduled → notified → executed, with the audit trail; running it again changes nothing."""

from __future__ import annotations

from rapport.customers.ingestion import ingest
from rapport.demo.firm import generate_firm
from rapport.demo.needs import recognize_demo_needs
from rapport.demo.toner import toner_auto_order
from rapport.respond import automatic
from rapport.store.decisions import SqlDecisionStore
from rapport.store.store import Store


def test_toner_auto_order_runs_end_to_end(store: Store) -> None:
    firm = generate_firm(customers=300, seed=7)
    store.settings = store.settings.with_overrides(identifier_fields=dict(firm.identifier_fields))
    ingest(store, firm.events, store.settings, source="demo")
    recognize_demo_needs(store, firm.end, show_progress=False)
    story = toner_auto_order(store, firm.end)
    assert "skipped" not in story, story
    decision, order = story["decision"], story["order"]
    assert (decision["trigger"], decision["experience"], decision["status"]) == ("event", "automatic_execution", "act")
    assert order["status"] == "executed" and order["executed_at"] is not None
    actions = [entry["action"] for entry in story["audit"]]
    assert actions[0] == "mandate_created" and actions[-1] == "executed"
    assert "scheduled" in actions and ({"notified", "notice_deferred"} & set(actions))
    assert "acknowledged" in actions, "the app showed the notice before the order ran"
    again = toner_auto_order(store, firm.end)
    assert again["order"]["id"] == order["id"] or again["customer_id"] != story["customer_id"]
    decisions = SqlDecisionStore.over(store)
    executed = [o for o in automatic.list_automatic_orders(decisions, story["customer_id"]) if o.status == "executed"]
    assert len(executed) == 1, "never a second order"
