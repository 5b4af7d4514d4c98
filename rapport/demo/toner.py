"""The demo's toner auto-order, end to end: consent and mandate, a low reading, the decision, notice, execution.

A printer owner chooses "do it for me" for toner, consents to automatic execution and app notices, and signs a
mandate (category toner, caps, 24 h notice, 24 h cancel window). Their printer reports a low level; the reading
goes through ingestion and the event-driven trigger (needs refreshed, then the decision), which schedules an
automatic order; the scheduler sends the notice through the contact policy, the app shows it, and once the notice
period and the cancel window have passed the scheduler executes the order. Every step is in the audit log the
customer can read, which the report prints.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from rapport.customers.ingestion import ingest
from rapport.decide import consent, control
from rapport.decide.decision import Decision
from rapport.decide.triggers import DecisionTrigger
from rapport.recognize.need import Need
from rapport.recognize.refresh import refresh_customer_needs
from rapport.respond import audit, automatic, outbox, scheduler
from rapport.respond.mandates import MandateTerms, create_mandate
from rapport.respond.reorder import usual_order
from rapport.store.decisions import SqlDecisionStore
from rapport.store.needs import needs_due
from rapport.store.store import Store

SOURCE = "demo: preference centre"
ATTEMPTS = 3  # readings sent, a few days apart, until the need falls within the mandate's lead time


def toner_auto_order(store: Store, now: datetime) -> dict[str, Any]:
    """Run the toner story for the demo's best-suited printer owner at ``now``; the report's "toner" section."""
    decisions = SqlDecisionStore.over(store)
    found = _printer_owner(decisions, now)
    if found is None:
        return {"skipped": "no printer owner with a priced toner order and a toner depletion need"}
    need, price = found
    cid = need.customer_id
    mandate = _permissions(decisions, cid, now, price["currency"])
    earlier = [o for o in automatic.list_automatic_orders(decisions, cid) if o.mandate_id == mandate]
    if earlier:  # the demo ran on this store before: report the story as it stands
        order_id, steps = earlier[0].id, []
        decision = next(d for d in decisions.decisions_of(cid, 1000) if (d.action or {}).get("order_id") == order_id)
    else:
        decision, at = _low_reading(decisions, need, now)
        if decision.action is None or decision.action.get("type") != "automatic_order":
            return {"customer_id": cid, "decision": _decision(decision), "skipped": "no automatic order was scheduled"}
        order_id = str(decision.action["order_id"])
        steps = _schedule(decisions, cid, order_id, at)
    order = automatic.get_automatic_order(decisions, cid, order_id)
    subjects = {order_id, mandate, order.notice_action_id}
    trail = [e.to_dict() for e in audit.read_audit(decisions, cid) if e.subject_id in subjects]
    return {
        "customer_id": cid,
        "mandate_id": mandate,
        "decision": _decision(decision),
        "steps": steps,
        "order": {"id": order.id, "status": order.status, "sku": order.sku, "quantity": order.quantity,
                  "amount": order.amount, "executed_at": order.executed_at.isoformat() if order.executed_at else None},
        "audit": trail,
    }  # fmt: skip


def _printer_owner(store: SqlDecisionStore, now: datetime) -> tuple[Need, dict[str, Any]] | None:
    """The most confident toner depletion need whose owner has a priced earlier order of that toner."""
    candidates = [n for n in needs_due(store.engine, now + timedelta(days=60)) if n.kind == "depletion"]
    for need in sorted(candidates, key=lambda n: (-n.confidence, n.customer_id)):
        if need.category != "toner" or not need.item or not need.evidence.get("device_id"):
            continue
        usual = usual_order(store, need.customer_id, sku=need.item)
        if usual is not None and usual.unit_price is not None:
            return need, {"unit_price": usual.unit_price, "currency": usual.currency}
    return None


def _permissions(store: SqlDecisionStore, cid: str, now: datetime, currency: str) -> str:
    """Do it for me for toner, the consents it needs, and a toner mandate; returns the mandate id."""
    for purpose in ("automatic_execution", "contact:app", "contact:email"):
        consent.record_consent(store, cid, purpose, True, SOURCE, now)
    control.set_control_level(store, cid, "toner", "do_it_for_me", now)
    terms = MandateTerms("category", "toner", per_order_cap=150.0, monthly_cap=300.0, currency=currency,
                         notice_hours=24.0, cancel_window_hours=24.0)  # fmt: skip
    return create_mandate(store, cid, terms, now, client_key=f"demo-toner-{cid}").id


def _low_reading(store: SqlDecisionStore, need: Need, now: datetime) -> tuple[Decision, datetime]:
    """Send the printer's next readings (ingested, then decided on by the trigger) until one schedules an order."""
    device = str(need.evidence["device_id"])
    level = float(need.evidence.get("level", 20.0))
    rate = max(float(need.evidence.get("rate_per_day", 1.0)), 0.5)
    last = _reading_time(need, now)
    at, decision = now, None
    for attempt in range(ATTEMPTS):
        level = max(1.0, level - rate * (at - last).total_seconds() / 86_400)
        message = {
            "type": "track",
            "messageId": f"demo-toner-{need.customer_id}-{attempt}",
            "anonymousId": device,
            "event": "Level Reported",
            "properties": {"device_id": device, "sku": need.item, "level_pct": round(level)},
            "context": {"channel": "device", "device": {"id": device}},
            "timestamp": at.isoformat(),
        }
        report = ingest(store, [message], store.settings, source="demo-device-cloud")
        trigger = DecisionTrigger(store, refresh_customer_needs, clock=lambda at=at: at)  # type: ignore[misc]
        made = trigger.process(Counter(report.customer_ids))
        decision = made[-1] if made else decision
        if decision is not None and decision.action and decision.action.get("type") == "automatic_order":
            return decision, at
        last, at = at, at + timedelta(days=max(1.0, (level - 2 * rate) / rate / 2))
    assert decision is not None, "the trigger decides on every level reading"
    return decision, at


def _reading_time(need: Need, now: datetime) -> datetime:
    """When the level in the need's evidence was read (the refresh keeps the empty date and rate, not the time)."""
    empty = need.evidence.get("empty_at")
    level, rate = need.evidence.get("level"), need.evidence.get("rate_per_day")
    if isinstance(empty, str) and isinstance(level, int | float) and isinstance(rate, int | float) and rate > 0:
        read = datetime.fromisoformat(empty).replace(tzinfo=now.tzinfo) - timedelta(days=level / rate)
        return min(read, now)
    return now


def _schedule(store: SqlDecisionStore, cid: str, order_id: str, at: datetime) -> list[dict[str, Any]]:
    """The scheduler's rounds: the notice (through the contact policy), the app showing it, then the execution."""
    steps = [s.to_dict() for s in scheduler.run_due(store, at, worker="demo") if s.order_id == order_id]
    order = automatic.get_automatic_order(store, cid, order_id)
    if order.notice_action_id is None or order.notified_at is None:
        return steps
    shown = max(order.notified_at, at)
    outbox.acknowledge(store, cid, order.notice_action_id, shown, by="app")
    steps.append({"order_id": order_id, "step": "notice_shown", "at": shown.isoformat(), "channel": "app"})
    order = automatic.get_automatic_order(store, cid, order_id)
    run_at = (order.execute_after or shown) + timedelta(minutes=1)
    steps += [s.to_dict() for s in scheduler.run_due(store, run_at, worker="demo") if s.order_id == order_id]
    return steps


def _decision(decision: Decision) -> dict[str, Any]:
    data = decision.to_dict()
    return {k: data[k] for k in ("decision_id", "status", "experience", "action", "reasons", "created_at", "trigger")}
