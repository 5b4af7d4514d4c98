"""The demo's Recognize step: every customer's needs as of the firm's last day, and one example of each kind."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rapport.cli.output import counted_progress
from rapport.recognize.refresh import refresh_all_needs
from rapport.store.store import Store

# The firm's consumables, and the need kinds the demo shows for them (a device reading, a cadence, a habit).
EXAMPLES = (("toner", "depletion"), ("coffee_pods", "replenish"), ("medication", "replenish"), (None, "habit"))


def recognize_demo_needs(store: Store, now: datetime, show_progress: bool) -> dict[str, Any]:
    """Refresh every customer's needs at ``now``; the summary and the most confident example of each kind."""
    if show_progress:
        with counted_progress("Recognising needs") as (advance, set_total):
            report = refresh_all_needs(store, now, progress=advance, on_customers=set_total)
    else:
        report = refresh_all_needs(store, now)
    examples = []
    for category, kind in EXAMPLES:
        need = store.most_confident_need(kind, category)
        if need is not None:
            data = need.to_dict()
            examples.append({k: data[k] for k in ("customer_id", "kind", "item", "category", "due_at", "confidence")})
            examples[-1]["reason"] = need.reason
    return {**report.as_dict(), "as_of": now.isoformat(), "examples": examples}
