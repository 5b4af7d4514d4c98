"""`rapport check`: the store's invariants hold after real stitching, undos and automatic orders, and a
deliberately broken store is caught, invariant by invariant, with exit code 1."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import text
from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.customers.ingestion import ingest
from rapport.customers.service import resolve_customer
from rapport.respond.automatic import schedule_automatic_order
from rapport.respond.mandates import MandateTerms, create_mandate
from rapport.respond.outbox import acknowledge, pending_actions
from rapport.respond.scheduler import run_due
from rapport.store.decisions import SqlDecisionStore
from rapport.store.invariants import check_store
from rapport.store.store import Store
from tests.respond.conftest import T0, consenting_customer

H = timedelta(hours=1)


def _lived_in(store: Store) -> str:
    """A store as use leaves it: merges by stitching and alias, one undone, an executed automatic order."""
    calls = [
        {"type": "track", "anonymousId": "a1", "event": "Viewed", "messageId": "e1"},
        {"type": "track", "userId": "u1", "event": "Viewed"},
        {"type": "track", "anonymousId": "a3", "event": "Viewed"},
        {"type": "track", "userId": "u3", "event": "Viewed"},
        {"type": "track", "userId": "old-9", "event": "Viewed"},
        {"type": "track", "userId": "u9", "event": "Viewed"},
    ]
    joins = [
        {"type": "identify", "anonymousId": "a1", "userId": "u1", "traits": {"email": "u1@example.org"}},
        {"type": "identify", "anonymousId": "a2", "traits": {"email": "u1@example.org"}},
        {"type": "identify", "anonymousId": "a3", "userId": "u3"},
        {"type": "alias", "previousId": "old-9", "userId": "u9"},
    ]
    for call in [*calls, *joins]:
        ingest(store, [call], store.settings)
    (merge,) = store.merge_records(store.members(resolve_customer(store, "u3")))
    store.undo_merge(merge.id, "test")
    rs = SqlDecisionStore.over(store)
    customer = consenting_customer(rs, "buyer", "app")
    terms = MandateTerms("category", "toner", 100.0, 200.0, notice_hours=1, cancel_window_hours=1)
    mandate = create_mandate(rs, customer, terms, T0 - H)
    order = schedule_automatic_order(rs, customer, mandate.id, "TON-305", 1, T0, "toner runs out")
    run_due(rs, T0)
    (notice,) = pending_actions(rs, customer, ["app"], T0)
    acknowledge(rs, customer, notice.id, T0, by="app")
    assert [s.step for s in run_due(rs, T0 + 3 * H)] == ["executed"]
    return order.id


def test_a_lived_in_store_keeps_every_invariant(store: Store) -> None:
    _lived_in(store)
    assert store.counts()["merges"] >= 2
    results = check_store(store.engine)
    assert [r.name for r in results if not r.holds] == [], [r.to_dict() for r in results]


def test_a_broken_store_is_caught_invariant_by_invariant(store: Store) -> None:
    automatic_id = _lived_in(store)
    with store.engine.begin() as conn:
        ids = list(conn.scalars(text("SELECT id FROM customers ORDER BY id LIMIT 2")))
        conn.execute(text("UPDATE events SET customer_id = 'gone' WHERE message_id = 'e1'"))
        conn.execute(text("UPDATE identifiers SET customer_id = 'vanished' WHERE value = 'a2'"))
        conn.execute(text("UPDATE customers SET merged_into = :b WHERE id = :a"), {"a": ids[0], "b": ids[1]})
        conn.execute(text("UPDATE customers SET merged_into = :a WHERE id = :b"), {"a": ids[0], "b": ids[1]})
        row = conn.execute(text("SELECT * FROM automatic_orders WHERE id = :i"), {"i": automatic_id}).mappings().one()
        copy = {**row, "id": "twice"}
        columns = ", ".join(copy)
        values = ", ".join(f":{c}" for c in copy)
        conn.execute(text(f"INSERT INTO automatic_orders ({columns}) VALUES ({values})"), copy)
    broken = {r.name: r for r in check_store(store.engine) if not r.holds}
    assert set(broken) == {
        "events_have_customers",
        "identifiers_point_to_live_records",
        "merges_form_a_forest",
        "automatic_orders_executed_once",
    }
    assert broken["events_have_customers"].examples == ["e1 gone"]
    assert any("cycle" in e for e in broken["merges_form_a_forest"].examples)

    result = CliRunner().invoke(app, ["check", "--json"], env={"RAPPORT_DATABASE_URL": store.settings.database_url})
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and sum(not i["holds"] for i in report["invariants"]) == 4


def test_check_exits_0_on_a_sound_store(store: Store) -> None:
    ingest(store, [{"type": "identify", "userId": "solo", "traits": {"email": "s@example.org"}}], store.settings)
    result = CliRunner().invoke(app, ["check"], env={"RAPPORT_DATABASE_URL": store.settings.database_url})
    assert result.exit_code == 0 and "All invariants hold" in result.stdout
