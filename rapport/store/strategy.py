"""SQL behind the connected strategy: the records the 4 x 5 matrix counts and what `rapport strategy check` compares
the strategy with (catalogue, active mandates, consents in use). Reads only; nothing here is stored twice."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, select, true

from rapport.customers.profile import ORDER_EVENTS, build_profile
from rapport.store.tables import (
    automatic_orders,
    catalogue_items,
    consents,
    customers,
    decision_outcomes,
    decisions,
    events,
    mandates,
    orders,
)
from rapport.strategy.segments import CustomerFacts, facts_of

_CHUNK = 500


def _period(column: Any, since: datetime | None, until: datetime | None) -> Any:
    conditions = [column >= since] if since else []
    if until:
        conditions.append(column < until)
    return and_(true(), *conditions)


class SqlStrategySource:
    """Implements rapport.strategy.matrix.MatrixSource and the check's reads over one engine."""

    def __init__(self, engine: Engine, source_precedence: tuple[str, ...] = ()) -> None:
        self.engine = engine
        self.source_precedence = source_precedence

    def _rows(self, query: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    # ----- the matrix --------------------------------------------------------------------------------------
    def decision_rows(self, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
        query = select(
            decisions.c.id, decisions.c.customer_id, decisions.c.status, decisions.c.experience,
            decisions.c.category, decisions.c.need, decisions.c.situation, decisions.c.created_at,
            decisions.c.touchpoint,
        ).where(_period(decisions.c.created_at, since, until))  # fmt: skip
        out = []
        for row in self._rows(query):
            need, situation = row.pop("need") or {}, row.pop("situation") or {}
            due = need.get("due_at")
            row["sku"] = need.get("item") or situation.get("sku")
            row["category"] = need.get("category") or situation.get("category")
            row["need_kind"] = need.get("kind")
            row["need_due_at"] = datetime.fromisoformat(due) if due else None
            out.append(row)
        return out

    def outcome_rows(self, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
        query = (
            select(decision_outcomes.c.decision_id, decision_outcomes.c.outcome, decision_outcomes.c.occurred_at)
            .join(decisions, decisions.c.id == decision_outcomes.c.decision_id)
            .where(_period(decisions.c.created_at, since, until))
        )
        return self._rows(query)

    def order_rows(self, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
        query = select(
            orders.c.id, orders.c.customer_id, orders.c.source, orders.c.status, orders.c.architecture,
            orders.c.total, orders.c.currency, orders.c.lines, orders.c.placed_at,
        ).where(_period(orders.c.placed_at, since, until), orders.c.status == "fulfilled")  # fmt: skip
        out = []
        for row in self._rows(query):
            lines = [line for line in row.pop("lines") or [] if line.get("sku")]
            row["skus"] = [line["sku"] for line in lines]
            row["line_categories"] = {line["sku"]: line["category"] for line in lines if line.get("category")}
            out.append(row)
        return out

    def automatic_order_rows(self, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
        touched = func.coalesce(automatic_orders.c.executed_at, automatic_orders.c.cancelled_at,
                                automatic_orders.c.created_at)  # fmt: skip
        query = select(
            automatic_orders.c.id, automatic_orders.c.customer_id, automatic_orders.c.sku, automatic_orders.c.status,
            automatic_orders.c.amount, automatic_orders.c.created_at, automatic_orders.c.executed_at,
            automatic_orders.c.cancelled_at, automatic_orders.c.cancel_reason,
        ).where(_period(touched, since, until))  # fmt: skip
        return self._rows(query)

    def sku_categories(self) -> dict[str, str]:
        query = select(catalogue_items.c.sku, catalogue_items.c.category).where(catalogue_items.c.category.isnot(None))
        with self.engine.connect() as conn:
            return {sku: category for sku, category in conn.execute(query)}

    def customer_facts(self, customer_ids: Iterable[str], now: datetime) -> dict[str, CustomerFacts]:
        """Traits and facts of each profile (by canonical id), from its records' events, in chunks."""
        wanted = sorted(set(customer_ids))
        found: dict[str, CustomerFacts] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            query = (
                select(customers.c.canonical_id.label("profile"), customers.c.id.label("record"), events)
                .join(customers, customers.c.id == events.c.customer_id)
                .where(customers.c.canonical_id.in_(chunk))
                .order_by(events.c.timestamp, events.c.id)
            )
            rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in self._rows(query):
                rows[row["profile"]].append(row)
            for cid in chunk:
                profile = build_profile(cid, [], [], rows.get(cid, []), self.source_precedence)
                found[cid] = CustomerFacts(
                    cid, profile.traits, facts_of(profile.facts, _bought(rows.get(cid, [])), now)
                )
        return found

    # ----- what the check compares with ------------------------------------------------------------------------
    def active_mandate_scopes(self) -> dict[tuple[str, str], int]:
        """(scope kind, scope) -> how many active mandates cover it."""
        query = (
            select(mandates.c.scope_kind, mandates.c.scope, func.count())
            .where(mandates.c.status == "active")
            .group_by(mandates.c.scope_kind, mandates.c.scope)
        )
        with self.engine.connect() as conn:
            return {(kind, scope): int(n) for kind, scope, n in conn.execute(query)}

    def consenting_customers(self, purpose: str) -> int:
        """Customers whose latest consent record for ``purpose`` grants it."""
        latest = (
            select(func.max(consents.c.id).label("id")).where(consents.c.purpose == purpose)
            .group_by(consents.c.customer_id).subquery()
        )  # fmt: skip
        query = select(func.count()).select_from(consents.join(latest, latest.c.id == consents.c.id))
        with self.engine.connect() as conn:
            return int(conn.scalar(query.where(consents.c.granted.is_(True))) or 0)


def _bought(rows: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for row in rows:
        if row["type"] == "track" and row["name"] in ORDER_EVENTS:
            for product in (row.get("properties") or {}).get("products") or []:
                if isinstance(product, dict) and isinstance(product.get("category"), str):
                    found.add(product["category"])
    return found
