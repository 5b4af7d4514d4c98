"""Operations for staff: decisions and outcomes over time, contact-budget pressure, automatic orders by status,
webhook delivery health and the dead letter (with retry), ingestion volume and rejections, model versions with
offline metrics.

Each figure is counted from the records that the engine keeps anyway; nothing here is stored twice.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, String, bindparam, func, select, update

from rapport.errors import Conflict, NotFound
from rapport.respond import audit
from rapport.store.decisions import SqlDecisionStore
from rapport.store.store import Store
from rapport.store.tables import (
    automatic_orders,
    decision_outcomes,
    decisions,
    events,
    ingestion_rejections,
    meta,
    outbox_actions,
)

DROPPED = "the contact policy dropped"  # how a decision's reasons say a contact was dropped (decide.experiences)
DEAD_LETTER = 50
REASONS = 20
AUTOMATIC_STATUSES = ("scheduled", "notified", "executing", "executed", "cancelled", "failed")


def _day(column: Any, dialect: str) -> Any:
    """The UTC day of a timestamp column, as the database computes it."""
    return func.to_char(column, "YYYY-MM-DD") if dialect == "postgresql" else func.date(column)


def _series(conn: Connection, column: Any, by: Any, since: datetime, *where: Any) -> dict[str, Counter[str]]:
    day = _day(column, conn.dialect.name)
    query = select(day, by, func.count()).where(column >= since, *where).group_by(day, by)
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for when, key, n in conn.execute(query):
        found[str(key)][str(when)[:10]] += int(n)
    return found


def operations(store: Store, now: datetime, days: int = 28) -> dict[str, Any]:
    """Every operations figure over the ``days`` before ``now``, by day where it is a series (counted in SQL)."""
    since = now - timedelta(days=days)
    axis = [(since + timedelta(days=i + 1)).strftime("%Y-%m-%d") for i in range(days)]
    dropped = func.cast(decisions.c.reasons, String).like(f"%{DROPPED}%")
    with store.engine.connect() as conn:
        made = _series(conn, decisions.c.created_at, decisions.c.status, since)
        outcomes = _series(conn, decision_outcomes.c.occurred_at, decision_outcomes.c.outcome, since)
        pressure = _series(conn, decisions.c.created_at, decisions.c.status, since,
                           (decisions.c.status == "deferred") | ((decisions.c.status == "nothing_now") & dropped))  # fmt: skip
        ingested, received = ingestion_counts(conn, since, axis)
        refused, reasons = rejections(conn, since)
        auto: dict[str, int] = dict(
            conn.execute(select(automatic_orders.c.status, func.count()).group_by(automatic_orders.c.status)).all()
        )
        outbox: dict[str, int] = dict(
            conn.execute(select(outbox_actions.c.status, func.count()).group_by(outbox_actions.c.status)).all()
        )
        retrying = conn.scalar(select(func.count()).where(outbox_actions.c.status == "pending",
                                                          outbox_actions.c.attempts > 0))  # fmt: skip
        dead = conn.execute(select(outbox_actions.c.id, outbox_actions.c.customer_id, outbox_actions.c.kind,
                                   outbox_actions.c.channel, outbox_actions.c.attempts, outbox_actions.c.last_error,
                                   outbox_actions.c.created_at)
                            .where(outbox_actions.c.status == "dead").order_by(outbox_actions.c.created_at.desc())
                            .limit(DEAD_LETTER)).all()  # fmt: skip
        versions = conn.execute(select(meta.c.key, meta.c.value).where(meta.c.key.like("model:%:version"))).all()
    volume: Counter[str] = Counter()
    for counts in ingested.values():
        volume.update(counts)
    return {
        "since": since.isoformat(),
        "until": now.isoformat(),
        "days": axis,
        "decisions": {status: [counts[d] for d in axis] for status, counts in sorted(made.items())},
        "outcomes": {outcome: [counts[d] for d in axis] for outcome, counts in sorted(outcomes.items())},
        "contact_pressure": {
            "deferred": [pressure["deferred"][d] for d in axis],
            "dropped": [pressure["nothing_now"][d] for d in axis],
        },
        "automatic_orders": {s: int(auto.get(s, 0)) for s in AUTOMATIC_STATUSES},
        "webhooks": {
            "by_status": {k: int(v) for k, v in sorted(outbox.items())},
            "retrying": int(retrying or 0),
            "dead_letter": [dict(row._mapping) for row in dead],
        },
        "ingestion": {
            "events": [volume[d] for d in axis],
            "by_channel": {k: n for k, n in sorted(received.items(), key=lambda kv: -kv[1]) if n},
            "total": sum(received.values()),
            "rejected": {channel: [counts[d] for d in axis] for channel, counts in sorted(refused.items())},
            "rejected_total": sum(sum(counts.values()) for counts in refused.values()),
            "reasons": reasons,
        },
        "models": model_versions(store, dict(versions)),
    }


_RANGE_COUNT = select(func.count()).where(
    events.c.channel == bindparam("channel"),
    events.c.received_at >= bindparam("low", type_=events.c.received_at.type),
    events.c.received_at < bindparam("high", type_=events.c.received_at.type),
)


def channels(conn: Connection) -> list[str]:
    """The channels events came through, by a loose index scan of (channel, received_at): one seek per channel."""
    found: list[str] = []
    current = conn.scalar(select(func.min(events.c.channel)))
    while current is not None:
        found.append(str(current))
        current = conn.scalar(select(func.min(events.c.channel)).where(events.c.channel > current))
    return found


def ingestion_counts(
    conn: Connection, since: datetime, axis: list[str]
) -> tuple[dict[str, Counter[str]], Counter[str]]:
    """Events received since ``since`` per channel and day of ``axis``, and per channel in all (the hours before the
    axis's first day and any after its last included).

    On SQLite each (channel, day) is a count over one range of the (channel, received_at) index: grouping 200,000
    events by day made it sort them all (0.5 s at load on the demo store), a range count only walks the index.
    PostgreSQL groups them in one hash aggregate, faster than 240 range counts (and than its plans for them when
    the table has not been vacuumed yet).
    """
    if conn.dialect.name == "postgresql":
        grouped = _series(conn, events.c.received_at, events.c.channel, since)
        wanted = set(axis)
        in_axis = {name: Counter({d: n for d, n in days.items() if d in wanted}) for name, days in grouped.items()}
        return in_axis, Counter({name: sum(days.values()) for name, days in grouped.items()})
    starts = [datetime.fromisoformat(day).replace(tzinfo=UTC) for day in axis]
    ranges = [(since, starts[0]), *((start, start + timedelta(days=1)) for start in starts)]
    ranges.append((ranges[-1][1], datetime.max.replace(tzinfo=UTC)))
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    per_channel: Counter[str] = Counter()
    for name in channels(conn):
        for i, (low, high) in enumerate(ranges):
            n = int(conn.scalar(_RANGE_COUNT, {"channel": name, "low": low, "high": high}) or 0)
            per_channel[name] += n
            if n and 0 < i <= len(axis):
                per_day[name][axis[i - 1]] += n
    return per_day, per_channel


def rejections(conn: Connection, since: datetime, top: int = REASONS) -> tuple[dict[str, Counter[str]], list[Any]]:
    """Rejected messages since ``since``: per channel and day, and the ``top`` reasons with their counts."""
    table = ingestion_rejections.c
    day = _day(table.at, conn.dialect.name)
    per_day = select(day, table.channel, func.sum(table.count)).where(table.at >= since).group_by(day, table.channel)
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for when, channel, n in conn.execute(per_day):
        found[str(channel)][str(when)[:10]] += int(n)
    total = func.sum(table.count).label("n")
    query = (select(table.channel, table.source, table.reason, total, func.max(table.at).label("last"))
             .where(table.at >= since).group_by(table.channel, table.source, table.reason)
             .order_by(total.desc(), table.reason).limit(top))  # fmt: skip
    reasons = [{"channel": r.channel, "source": r.source, "reason": r.reason, "count": int(r.n), "last": r.last}
               for r in conn.execute(query)]  # fmt: skip
    return found, reasons


def dead_letter_count(store: Store) -> int:
    """How many actions wait in the dead letter (one indexed count, for the staff home)."""
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).where(outbox_actions.c.status == "dead")) or 0)


def model_versions(store: Store, versions: dict[str, str]) -> list[dict[str, Any]]:
    """The offer models (newest first) with their validation metrics, and the versions of the other models."""
    found = []
    for row in store.offers.model_versions()[:10]:
        validation = (row["summary"] or {}).get("validation") or {}
        metrics = {name: round(v["ndcg"], 4) for name, v in validation.items()
                   if isinstance(v, dict) and isinstance(v.get("ndcg"), int | float)}  # fmt: skip
        found.append({"model": "offers", "version": row["version"], "trained_at": row["trained_at"].isoformat(),
                      "metrics": {f"ndcg ({name})": value for name, value in metrics.items()}})  # fmt: skip
    for key, version in sorted(versions.items()):
        found.append({"model": key.split(":")[1], "version": version, "trained_at": None, "metrics": {}})
    return found


def retry_dead_action(store: Store, action_id: str, now: datetime, actor: str) -> dict[str, Any]:
    """Put a dead-lettered action back in the queue (attempts from zero); retrying one already queued is a no-op."""
    with store.engine.begin() as conn:
        row = conn.execute(select(outbox_actions.c.status, outbox_actions.c.customer_id)
                           .where(outbox_actions.c.id == action_id)).first()  # fmt: skip
        if row is None:
            raise NotFound(f"No outbox action {action_id!r}; pick one from the dead letter.")
        if row.status == "pending":
            return {"id": action_id, "status": "pending", "requeued": False}
        if row.status != "dead":
            raise Conflict(f"Action {action_id} is {row.status}, not dead: only the dead letter can be retried.")
        conn.execute(update(outbox_actions).where(outbox_actions.c.id == action_id, outbox_actions.c.status == "dead")
                     .values(status="pending", attempts=0, next_attempt_at=now, last_error=None, lease_until=None,
                             leased_by=None))  # fmt: skip
    SqlDecisionStore.over(store).append_audit(
        audit.entry(row.customer_id, now, actor, ("action", action_id), "action_requeued")
    )
    return {"id": action_id, "status": "pending", "requeued": True}
