"""Needs in the product: the batch refresh, the one-customer refresh, the API and the CLI, on real stores."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.customers.ingestion import ingest
from rapport.customers.service import erase_customer, resolve_customer
from rapport.recognize.refresh import refresh_all_needs, refresh_customer_needs
from rapport.store.store import Store

NOW = datetime(2026, 6, 1, tzinfo=UTC)
_ids = itertools.count()


def track(user: str, event: str, at: datetime, **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "messageId": f"r-{next(_ids)}",
        "userId": user,
        "event": event,
        "timestamp": at.isoformat(),
        "properties": properties,
    }


def order(user: str, at: datetime, sku: str, category: str, quantity: int = 1) -> dict[str, Any]:
    product = {"sku": sku, "category": category, "price": 9.5, "quantity": quantity}
    return track(user, "Order Completed", at, order_id=f"o-{next(_ids)}", total=9.5 * quantity, products=[product])


def firm_history() -> list[dict[str, Any]]:
    """Pods every ~10 days for four people; one printer whose toner runs low; doses that stopped; a complaint."""
    events = []
    for person, start in (("ana", 80), ("ben", 83), ("cem", 85), ("dora", 79)):
        for k in range(7):
            at = NOW - timedelta(days=start - 10 * k - (k % 2))
            events.append(order(person, at, "POD-1", "coffee_pods"))
    for day in range(20):  # toner falls 3 points a day from 80%: empty around day 27
        level = 80 - 3 * day + (0.5 if day % 3 == 0 else -0.5)
        reading = {"device_id": "PR-9", "sku": "TON-1", "level_pct": level}
        events.append(track("ana", "Level Reported", NOW - timedelta(days=20 - day), **reading))
    for day in range(40):  # a daily tablet until 5 days ago
        events.append(track("ben", "Dose Taken", NOW - timedelta(days=45 - day, hours=day % 2), sku="MED-1"))
    complaint = {"ticket_id": "T-1", "topic": "late_delivery", "sku": "POD-1"}
    events.append(track("cem", "Complaint Filed", NOW - timedelta(days=2), **complaint))
    events.append(track("dora", "Complaint Filed", NOW - timedelta(days=9), ticket_id="T-2", topic="billing"))
    events.append(track("dora", "Ticket Resolved", NOW - timedelta(days=8), ticket_id="T-2", resolution="refunded"))
    return events


def send(store: Store, events: list[dict[str, Any]]) -> None:
    report = ingest(store, events, store.settings)
    assert not report.rejected, report.rejected


def customer(store: Store, user: str) -> str:
    return resolve_customer(store, user)


def needs_of(store: Store, user: str) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for need in store.read_needs(customer(store, user)):
        found.setdefault(need.kind, []).append(need)
    return found


def test_the_batch_recognises_each_kind_of_need_with_its_evidence(store: Store) -> None:
    send(store, firm_history())
    report = refresh_all_needs(store, NOW)
    assert report.customers == 4 and report.model_version.startswith("replenishment@")
    ana, ben, cem, dora = (needs_of(store, u) for u in ("ana", "ben", "cem", "dora"))
    toner = ana["depletion"][0]
    assert toner.item == "TON-1" and NOW < toner.due_at < NOW + timedelta(days=14)
    assert "falling" in toner.reason and toner.evidence["device_id"] == "PR-9"
    pods = ana["replenish"][0]
    assert pods.item == "POD-1" and pods.category == "coffee_pods" and "about every 10 days" in pods.reason
    assert NOW - timedelta(days=12) <= pods.due_at <= NOW - timedelta(days=8), "last bought 20 days ago: overdue"
    habit = ben["habit"][0]
    assert habit.item == "MED-1" and "usually every" in habit.reason and habit.confidence > 0.9
    issue = cem["issue"][0]
    assert issue.evidence["ticket_id"] == "T-1" and issue.confidence == 1.0
    assert "issue" not in dora, "a resolved complaint is no longer a need"
    assert report.by_kind == {"depletion": 1, "habit": 1, "issue": 1, "replenish": report.by_kind["replenish"]}


def test_a_new_order_moves_the_customers_need_at_once(store: Store) -> None:
    send(store, firm_history())
    refresh_all_needs(store, NOW)
    before = needs_of(store, "ana")["replenish"][0]
    send(store, [order("ana", NOW - timedelta(hours=1), "POD-1", "coffee_pods")])
    after = refresh_customer_needs(store, customer(store, "ana"), NOW)
    pods = next(n for n in after if n.kind == "replenish")
    assert before.due_at < NOW - timedelta(days=8), "overdue before the order"
    assert NOW + timedelta(days=7) <= pods.due_at <= NOW + timedelta(days=13), "about ten days after the new order"
    assert pods.evidence["purchases"] == 8
    assert [n.due_at for n in store.read_needs(customer(store, "ana"))] == [n.due_at for n in after], "stored"


def test_a_customer_with_no_model_yet_still_gets_device_and_issue_needs(store: Store) -> None:
    send(store, [e for e in firm_history() if e["event"] != "Order Completed"])
    found = refresh_customer_needs(store, customer(store, "ana"), NOW)
    assert [n.kind for n in found] == ["depletion"]


def test_needs_are_erased_with_the_person(store: Store) -> None:
    send(store, firm_history())
    refresh_all_needs(store, NOW)
    ana = customer(store, "ana")
    report = erase_customer(store, ana)
    assert report["removed"]["needs"] >= 2
    assert store.read_needs(ana) == []


def test_cli_recognize_prints_its_summary(store: Store) -> None:
    send(store, firm_history())
    result = CliRunner().invoke(
        app, ["recognize", "--database", store.settings.database_url, "--at", "2026-06-01", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["customers"] == 4 and summary["by_kind"]["depletion"] == 1
    bad = CliRunner().invoke(app, ["recognize", "--database", store.settings.database_url, "--at", "June"])
    assert bad.exit_code == 2 and "not an ISO 8601" in bad.output
