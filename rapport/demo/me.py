"""The demo's customer side: the toner customer (who has a mandate) also gets a recent reminder and a conversation.

So the sign-in link the demo prints opens a full page: control levels, consents, the mandate and its automatic
order, a reminder to ask "why did I get this?" about, and an open conversation the staff inbox shows beside the
customer's context, waiting for a reply. Running the demo again changes nothing (every step is idempotent).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rapport.conversations import service, thread
from rapport.customers.ingestion import ingest
from rapport.decide.engine import decide
from rapport.decide.explanations import explain
from rapport.decide.situations import Situation
from rapport.recognize.need import Need
from rapport.respond.orders import _identity as event_identity
from rapport.respond.reorder import usual_order
from rapport.store.conversations import SqlConversationStore
from rapport.store.store import Store

VITAMINS = ("B12-60", "Vitamin B12 500 \u00b5g, 60 tablets", "vitamins", 9.9)
REMINDED_CATEGORIES = ("coffee_pods", "vitamins", "medication")
MESSAGES = (
    ("customer", "me", "message", 10, "The last toner cartridge leaves grey streaks on every page. Could you send a "
     "replacement?"),
    ("staff", "call_centre", "note", 40, "Customer called about streaky prints. Asked them to run the cleaning cycle "
     "and reply if it persists."),
    ("customer", "email", "email", 90, "I ran the cleaning cycle twice; the streaks are still there."),
)  # fmt: skip


def customer_side(store: Store, toner: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The toner customer's reminder and conversation; the report's "customer_side" section."""
    if "customer_id" not in toner:
        return {"skipped": "no toner customer in this demo"}
    inbox = SqlConversationStore.over(store)
    cid = str(toner["customer_id"])
    reminder = _reminder(inbox, cid, now + timedelta(minutes=5))  # after the consents the toner story gave
    for n, (author, channel, kind, minutes, body) in enumerate(MESSAGES):
        at, key = now + timedelta(minutes=minutes), f"demo-{cid}-{n}"
        if channel == "me":
            service.write_from_me(inbox, cid, body, at, key)
            continue
        service.forward(
            inbox, cid, body=body, channel=channel, kind=kind, author=author, now=at,
            author_ref="demo call centre" if author == "staff" else None, external_id=key, source="demo",
        )  # fmt: skip
    conversation = next(c for c in thread.thread_of(inbox, cid) if c.status == "open")
    return {
        "customer_id": cid,
        "reminder": reminder,
        "conversation_id": conversation.id,
        "messages": len(conversation.messages),
        "awaiting_reply": conversation.awaiting_reply,
    }


def _shop_orders(store: SqlConversationStore, cid: str, at: datetime) -> None:
    """Two earlier in-store orders of a vitamin pack, through ingestion like any channel's orders."""
    sku, name, category, price = VITAMINS
    messages = [
        {
            "type": "track",
            "event": "Order Completed",
            "messageId": f"demo-me-{cid}-vitamins-{days}",
            "timestamp": (at - timedelta(days=days)).isoformat(),
            "properties": {
                "order_id": f"demo-shop-{cid}-{days}",
                "currency": "EUR",
                "total": price,
                "products": [{"sku": sku, "name": name, "category": category, "quantity": 1, "price": price}],
            },
            **event_identity(store, cid),
        }
        for days in (62, 31)
    ]
    for message in messages:
        message.setdefault("context", {})["channel"] = "store"
    ingest(store, messages, store.settings, source="demo-shop")


def _reminder(store: SqlConversationStore, cid: str, at: datetime) -> dict[str, Any] | None:
    """A reminder for the customer's usual item of another category (remind me, the firm's default level)."""
    earlier = next(
        (
            d
            for d in store.decisions_of(cid, 200)
            if (d.action or {}).get("type") == "nudge" and d.category in (*REMINDED_CATEGORIES, VITAMINS[2])
        ),
        None,
    )  # a toner nudge of the toner story (whether one came depends on the day the demo runs) is not this one
    if earlier is not None:
        return explain(earlier).to_dict()
    usual = next((u for c in REMINDED_CATEGORIES if (u := usual_order(store, cid, category=c)) is not None), None)
    if usual is None:  # the story: they also buy their vitamins from the firm's shop
        _shop_orders(store, cid, at)
        usual = usual_order(store, cid, category=VITAMINS[2])
    if usual is None:
        return None
    need = Need(
        customer_id=cid,
        item=usual.sku,
        category=usual.category,
        kind="replenish",
        due_at=at,
        confidence=0.8,
        evidence={"reason": f"You ordered {usual.name or usual.sku} {usual.times_ordered} times; it is about time "
                  "again.", "model": "demo"},
    )  # fmt: skip
    store.replace_needs(cid, [*store.read_needs(cid), need], at, "demo")
    decision = decide(store, cid, Situation("need_due", sku=usual.sku, category=usual.category), at, trigger="cli")
    return explain(decision).to_dict()
