"""The demo firm's voice: its complaints (tickets, calls) and public reviews as voice items, topics, the alert
history of a weekly scan, and a customer who complained in the last week shown with their issue Need and the
decision that holds back selling to them."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from rapport.decide.engine import decide
from rapport.decide.situations import Situation
from rapport.demo.firm import DemoFirm
from rapport.store.decisions import SqlDecisionStore
from rapport.store.store import Store
from rapport.voice.service import record_voice_items, refit_topics, scan_alerts

COMPLAINT_EVENTS = ("Complaint Filed", "Ticket Opened")
_REVIEWS = (
    ("Fast delivery and the {name} works perfectly. Will buy again!", 5),
    ("Great value for money, the {name} is exactly as described.", 5),
    ("Decent {name}, nothing special, arrived on time.", 3),
    ("The {name} stopped working after a week. Poor quality, very disappointed.", 1),
    ("Overpriced for what it is. The {name} is no better than the cheap ones.", 2),
    ("Support never answered my question about the {name}. Terrible service.", 1),
)


def demo_voice(store: Store, firm: DemoFirm, reviews: int = 150) -> dict[str, Any]:
    """Record the firm's complaints (linked through their ids) and public reviews (unlinked handles) at the firm's
    end; fit topics, scan weekly for emerging issues; the summary the demo prints."""
    items = complaint_items(firm) + review_items(firm, reviews)
    report = record_voice_items(store, items, now=firm.end)
    model = refit_topics(store, n_topics=8, now=firm.end)
    scan_day = firm.start + timedelta(days=35)
    while scan_day <= firm.end:
        scan_alerts(store, scan_day)
        scan_day += timedelta(days=7)
    return {
        **report.as_dict(),
        "rejected": len(report.rejected),
        "topics": [t.label for t in model.topics],
        "alerts": [
            {
                "topic": a["examples"]["topic"],
                "signal": a["signal"],
                "since": a["period_start"].date().isoformat(),
                "observed": a["observed"],
                "baseline": a["baseline"],
            }
            for a in reversed(store.voice.alerts())
        ],
        "incident": {
            "sku": firm.incident.sku,
            "topic": firm.incident.topic,
            "from": (firm.start + timedelta(days=firm.incident.start)).date().isoformat(),
        },
        "hurting_customer": _hurting_customer(store, firm.end),
    }


def complaint_items(firm: DemoFirm) -> list[dict[str, Any]]:
    """Every complaint event as a voice item; its user and anonymous ids are what may link it to a customer."""
    found = []
    for event in firm.events:
        if event.get("event") not in COMPLAINT_EVENTS or not (event.get("properties") or {}).get("text"):
            continue
        ids = {k: event[f] for k, f in (("user_id", "userId"), ("anonymous_id", "anonymousId")) if event.get(f)}
        found.append(
            {
                "source": str((event.get("context") or {}).get("channel") or "call_centre"),
                "external_id": event["properties"]["ticket_id"],
                "time": event["timestamp"],
                "text": event["properties"]["text"],
                "identifiers": ids,
            }
        )
    return found


def review_items(firm: DemoFirm, count: int) -> list[dict[str, Any]]:
    """Public reviews of the firm's items by handles that name no customer (so they stay unlinked)."""
    rng = random.Random(firm.seed)
    items = list(firm.catalogue.items)
    days = (firm.end - firm.start).days
    found = []
    for n in range(count):
        template, stars = rng.choice(_REVIEWS)
        name = rng.choice(items).name
        at: datetime = firm.start + timedelta(days=rng.uniform(0, days))
        found.append(
            {"source": "reviews", "external_id": f"R-{n}", "time": at.isoformat(), "author": f"@reviewer{rng.randrange(10**6)}",
             "text": template.format(name=name) + f" ({stars}/5)"}
        )  # fmt: skip
    return found


def _hurting_customer(store: Store, now: datetime) -> dict[str, Any] | None:
    """The customer with the most negative recent voice item: their issue need and a need-due decision."""
    issues = store.voice.issue_needs()
    if not issues:
        return None
    need = min(issues, key=lambda n: n.evidence.get("sentiment", 0.0))
    decision = decide(SqlDecisionStore.over(store), need.customer_id, Situation("need_due"), now)
    return {
        "customer_id": need.customer_id,
        "need": {"kind": need.kind, "reason": need.reason, "confidence": need.confidence},
        "decision": {"status": decision.status, "reasons": decision.reasons},
        "customers_with_voice_issues": len({n.customer_id for n in issues}),
    }
