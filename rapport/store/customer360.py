"""The customer 360 for staff: one person across every division and channel, in one read.

Search by any identifier (e-mail, phone, loyalty card, device, user id, customer id) or by name; the view holds the
profile, identifiers and merge history (undo with an audit entry), the linkage reviews waiting for this person, a
timeline across channels and divisions, needs with evidence, decisions with outcomes, orders, mandates, automatic
orders, consents, conversations (each linked to the staff inbox) and what the customer said (voice items with
sentiment and topic). Each part is read through the services and stores that own it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, true

from rapport.conversations.thread import thread_of
from rapport.customers.linkage.proposals import decide_review
from rapport.customers.names import key_range, query_words
from rapport.customers.profile import build_profile
from rapport.customers.service import get_profile, merge_history, resolve_customer
from rapport.decide.consent import consent_history, consents_in_force
from rapport.errors import InvalidInput, NotFound
from rapport.respond import audit
from rapport.store.conversations import SqlConversationStore
from rapport.store.decisions import SqlDecisionStore
from rapport.store.linkage import linkage_store
from rapport.store.store import Store
from rapport.store.tables import (
    customer_names,
    customers,
    decision_outcomes,
    events,
    identifiers,
    linkage_reviews,
    needs,
    voice_items,
)
from rapport.voice.service import customer_voice

# Which division of the firm a channel belongs to: the organisation chart the 360 view reads across.
DIVISIONS = {"web": "online", "app": "online", "store": "stores", "call_centre": "call centre",
             "partner": "partners", "device": "devices", "rapport": "Rapport"}  # fmt: skip
TIMELINE = 60
_NAME_LIKE = re.compile(r"[^\W\d_]+(?:[\s'\u2019-]+[^\W\d_]+)*")  # words of letters, e.g. "Anna-Lena O'Brien"
_SUMMARY_COLUMNS = ("customer_id", "message_id", "type", "name", "channel", "source", "timestamp", "traits", "context")
HURTING_DAYS = 7  # a negative item this recent (as rapport.voice raises issue needs) counts as hurting


def division_of(channel: str) -> str:
    return DIVISIONS.get(channel, channel)


def search_customers(store: Store, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Profiles matching ``query``: an id or identifier exactly, else identifiers containing it, else names."""
    text = query.strip()
    if not text:
        raise InvalidInput("Search for something: an e-mail, a phone, a loyalty card, a device id or a name.")
    try:
        found = [resolve_customer(store, text)]
    except (NotFound, InvalidInput):
        if _NAME_LIKE.fullmatch(text):  # letters only: a name first (indexed), an identifier containing it else
            found = _names_matching(store, text, limit) or _identifiers_containing(store, text, limit)
        else:
            found = _identifiers_containing(store, text, limit) or _names_matching(store, text, limit)
    return summaries(store, list(dict.fromkeys(found))[:limit])


def _identifiers_containing(store: Store, text: str, limit: int) -> list[str]:
    if len(text) < 4:
        return []
    query = (
        select(customers.c.canonical_id)
        .join(identifiers, identifiers.c.customer_id == customers.c.id)
        .where(func.lower(identifiers.c.value).contains(text.lower(), autoescape=True))
        .distinct()
        .limit(limit)
    )
    with store.engine.connect() as conn:
        return list(conn.scalars(query))


def _names_matching(store: Store, text: str, limit: int) -> list[str]:
    """Profiles with a name key starting with every word of ``text`` (case and accents aside): one indexed read."""
    words = query_words(text)
    if not words:
        return []
    matches = []
    for word in words:
        low, high = key_range(word)
        matches.append(and_(customer_names.c.name_key >= low,
                            customer_names.c.name_key < high if high is not None else true()))  # fmt: skip
    query = (
        select(customers.c.canonical_id)
        .select_from(customer_names)
        .join(customers, customers.c.id == customer_names.c.customer_id)
        .where(or_(*matches))
        .group_by(customers.c.canonical_id)
        .having(and_(*(func.max(case((match, 1), else_=0)) == 1 for match in matches)))
        .order_by(customers.c.canonical_id)
        .limit(limit)
    )
    with store.engine.connect() as conn:
        return list(conn.scalars(query))


def summaries(store: Store, canonical_ids: list[str]) -> list[dict[str, Any]]:
    """One line per profile (name, e-mail, records, channels, orders, last seen), in order, read in two queries.

    The profiles are built as ``get_profile`` builds them, from their records' events (without their properties,
    which no line shows).
    """
    if not canonical_ids:
        return []
    wanted = select(customers.c.id, customers.c.canonical_id).where(customers.c.canonical_id.in_(canonical_ids))
    columns = [events.c[name] for name in _SUMMARY_COLUMNS]
    with store.engine.connect() as conn:
        owner: dict[str, str] = {row.id: row.canonical_id for row in conn.execute(wanted)}
        rows = conn.execute(select(*columns).where(events.c.customer_id.in_(list(owner)))
                            .order_by(events.c.timestamp, events.c.id)).all()  # fmt: skip
    records: dict[str, list[str]] = {cid: [] for cid in canonical_ids}
    for record, cid in owner.items():
        records[cid].append(record)
    by_profile: dict[str, list[dict[str, Any]]] = {cid: [] for cid in canonical_ids}
    for row in rows:
        by_profile[owner[row.customer_id]].append(dict(row._mapping))
    found = []
    for cid in canonical_ids:
        profile = build_profile(cid, records[cid], [], by_profile[cid], store.settings.source_precedence)
        found.append({"customer_id": cid, "name": display_name(profile.traits), "email": profile.traits.get("email"),
                      "records": len(profile.records), "channels": profile.facts.get("channels", []),
                      "orders": profile.facts.get("orders", 0), "last_seen": profile.facts.get("last_seen")})  # fmt: skip
    return found


def hurting_customers(store: Store, now: datetime, days: int = HURTING_DAYS, limit: int = 10) -> list[dict[str, Any]]:
    """Customers with a negative voice item in the last ``days`` or an open issue need, the newest signal first."""
    since = now - timedelta(days=days)
    said = (
        select(customers.c.canonical_id, voice_items.c.at, voice_items.c.source, voice_items.c.text)
        .join(customers, customers.c.id == voice_items.c.customer_id)
        .where(voice_items.c.label == "negative", voice_items.c.at >= since, voice_items.c.at <= now)
        .order_by(voice_items.c.at.desc(), voice_items.c.id)
    )
    issues = (
        select(customers.c.canonical_id, needs.c.due_at, needs.c.evidence)
        .join(customers, customers.c.id == needs.c.customer_id)
        .where(needs.c.kind == "issue")
    )
    found: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for cid, at, source, text in conn.execute(said):
            found.setdefault(cid, {"customer_id": cid, "at": at, "why": f"negative {source} item: {text[:140]}"})
        for cid, due, evidence in conn.execute(issues):
            expires = (evidence or {}).get("expires_at")
            if expires and datetime.fromisoformat(expires) < now:
                continue  # an issue past its time is no longer open
            if cid not in found or due > found[cid]["at"]:
                found[cid] = {"customer_id": cid, "at": due, "why": f"open issue: {(evidence or {}).get('reason', '')}"}
    newest = sorted(found.values(), key=lambda f: f["at"], reverse=True)[:limit]
    names = {line["customer_id"]: line["name"] for line in summaries(store, [f["customer_id"] for f in newest])}
    return [{**f, "name": names[f["customer_id"]]} for f in newest]


def display_name(traits: dict[str, Any]) -> str:
    name = " ".join(str(traits[k]) for k in ("first_name", "last_name") if traits.get(k))
    return name or str(traits.get("name") or traits.get("email") or "unnamed customer")


def customer_360(store: Store, reference: str, now: datetime) -> dict[str, Any]:
    """Everything staff may see of one customer, across divisions (newest first where it is a history)."""
    log = SqlDecisionStore.over(store)
    profile = get_profile(store, reference)
    cid = profile.customer_id
    decisions = log.decisions_of(cid, 50)
    outcomes = _outcomes(store, [d.id for d in decisions])
    timeline = [{**event, "division": division_of(event["channel"])} for event in reversed(profile.events[-TIMELINE:])]
    divisions: dict[str, int] = {}
    for channel, count in (profile.facts.get("events_per_channel") or {}).items():
        divisions[division_of(channel)] = divisions.get(division_of(channel), 0) + count
    return {
        "customer_id": cid,
        "name": display_name(profile.traits),
        "records": profile.records,
        "traits": profile.traits,
        "trait_sources": profile.trait_sources,
        "facts": profile.facts,
        "divisions": dict(sorted(divisions.items(), key=lambda kv: -kv[1])),
        "identifiers": profile.identifiers,
        "shared_identifiers": profile.shared_identifiers,
        "merges": list(reversed(merge_history(store, cid))),
        "reviews": pending_reviews(store, profile.records),
        "timeline": timeline,
        "needs": [n.to_dict() for n in store.read_needs(cid)],
        "decisions": [{**d.to_dict(), "outcomes": outcomes.get(d.id, [])} for d in decisions],
        "orders": log.orders_of(cid, 50),
        "mandates": log.mandates_of(cid),
        "automatic_orders": log.automatic_orders_of(cid),
        "consents": consents_in_force(log, cid, now),
        "consent_history": [c.to_dict() for c in reversed(consent_history(log, cid))],
        "audit": [e.to_dict() for e in reversed(audit.read_audit(log, cid))][:50],
        "conversations": conversations_of(store, cid),
        "voice": voice_of(store, cid),
    }


def conversations_of(store: Store, customer_id: str) -> list[dict[str, Any]]:
    """The customer's conversations, newest first: status, whether the firm owes a reply, the last message."""
    found = [c.to_dict() for c in thread_of(SqlConversationStore.over(store), customer_id)]
    return [{**c, "last": c["messages"][-1] if c["messages"] else None} for c in found]


def voice_of(store: Store, customer_id: str) -> list[dict[str, Any]]:
    """What the customer said (tickets, reviews, calls, posts), newest first, with sentiment and the topic's label."""
    labels = {t["id"]: t["label"] for t in store.voice.topics()}
    return [{**item, "topic": labels.get(item["topic_id"])} for item in customer_voice(store, customer_id)]


def _outcomes(store: Store, decision_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    if not decision_ids:
        return {}
    query = select(decision_outcomes).where(decision_outcomes.c.decision_id.in_(decision_ids))
    found: dict[str, list[dict[str, Any]]] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(query.order_by(decision_outcomes.c.id)):
            found.setdefault(row.decision_id, []).append({"outcome": row.outcome, "occurred_at": row.occurred_at})
    return found


def pending_reviews(store: Store, records: list[str]) -> list[dict[str, Any]]:
    """The linkage reviews waiting for a decision that involve any record of this person."""
    query = select(linkage_reviews.c.id).where(
        linkage_reviews.c.status == "pending",
        or_(linkage_reviews.c.customer_id.in_(records), linkage_reviews.c.other_id.in_(records)),
    )
    with store.engine.connect() as conn:
        ids = set(conn.scalars(query))
    if not ids:
        return []
    reviews = linkage_store(store).reviews("pending", 1000)
    return [r.as_dict() for r in reviews if r.id in ids]


def undo_merge_for(
    store: Store, customer_id: str, merge_id: int, reason: str, actor: str, now: datetime
) -> dict[str, Any]:
    """Undo one applied merge of this customer's records, and write who did it and why to their audit log."""
    if not reason.strip():
        raise InvalidInput("Say why the merge was wrong: the reason goes into the audit log.")
    cid = resolve_customer(store, customer_id)
    merge = next((m for m in merge_history(store, cid) if m["id"] == merge_id), None)
    if merge is None:
        raise NotFound(f"Merge {merge_id} did not join records of customer {cid}; pick one from their merge history.")
    if merge["status"] == "undone":
        return merge  # undone already: asking again changes nothing
    undone = store.undo_merge(merge_id, reason)
    log = SqlDecisionStore.over(store)
    log.append_audit(audit.entry(cid, now, actor, ("merge", str(merge_id)), "merge_undone", reason=reason,
                                 survivor_id=undone.survivor_id, merged_id=undone.merged_id))  # fmt: skip
    return {"id": merge_id, "status": undone.status, "survivor_id": undone.survivor_id, "merged_id": undone.merged_id}


def decide_review_for(store: Store, review_id: int, decision: str, note: str | None, actor: str) -> dict[str, Any]:
    """Confirm or reject a linkage review (rapport.customers.linkage.proposals), noting who decided."""
    noted = f"{note.strip()} ({actor})" if note and note.strip() else f"decided by {actor}"
    return decide_review(linkage_store(store), review_id, decision, noted).as_dict()
