"""The 4 x 5 matrix with live figures: for every (experience, architecture) cell over a period, what Rapport did and
what came of it, computed from the store's own records (decisions, outcomes, orders, automatic orders) each time.

A decision sits in the cell of its experience and of the architecture its item or category is routed to; an order
in the cell of the architecture it was fulfilled through and of the experience that led to it (an automatic order's
is automatic execution; otherwise the customer's latest decision on that category in the week before, else respond
to desire: they came and asked). A customer's segment comes from the strategy's rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from rapport.strategy.model import ARCHITECTURES, EXPERIENCES, Strategy
from rapport.strategy.segments import CustomerFacts, segment_of

ACCEPTED = ("accepted", "converted")
LEAD_WINDOW = timedelta(days=7)  # an order this soon after a decision on its category is credited to it

Cell = tuple[str, str]


class MatrixSource(Protocol):
    """The store's records the matrix reads (rapport.store.strategy implements it)."""

    def decision_rows(self, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]: ...

    def outcome_rows(self, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]: ...

    def order_rows(self, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]: ...

    def automatic_order_rows(self, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]: ...

    def sku_categories(self) -> dict[str, str]: ...

    def customer_facts(self, customer_ids: Iterable[str], now: datetime) -> dict[str, CustomerFacts]: ...


@dataclass
class CellFigures:
    """What happened in one cell over the period."""

    experience: str
    architecture: str
    customers: set[str] = field(default_factory=set)
    decisions: int = 0
    acted: int = 0  # decisions that showed or sent something (not "nothing now")
    accepted: int = 0
    with_need: int = 0  # acted decisions about a need with a due date
    met_on_time: int = 0
    automatic_executed: int = 0
    automatic_cancelled: int = 0
    complaints: int = 0
    orders: int = 0
    revenue: float = 0.0
    named: bool = False  # the strategy claims this cell
    rivals: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.decisions or self.orders or self.automatic_executed or self.automatic_cancelled)

    @property
    def occupied(self) -> bool:
        return self.named or self.active

    @property
    def acceptance_rate(self) -> float | None:
        return round(self.accepted / self.acted, 4) if self.acted else None

    @property
    def state(self) -> str:
        """held (the firm is here), contested (a rival too), threat (a rival only: it could disrupt from here),
        opening (nobody)."""
        if self.occupied:
            return "contested" if self.rivals else "held"
        return "threat" if self.rivals else "opening"

    def to_dict(self) -> dict[str, Any]:
        return {
            "experience": self.experience,
            "architecture": self.architecture,
            "state": self.state,
            "named": self.named,
            "rivals": list(self.rivals),
            "customers": len(self.customers),
            "decisions": self.decisions,
            "acted": self.acted,
            "accepted": self.accepted,
            "acceptance_rate": self.acceptance_rate,
            "needs_with_due_date": self.with_need,
            "needs_met_on_time": self.met_on_time,
            "automatic_executed": self.automatic_executed,
            "automatic_cancelled": self.automatic_cancelled,
            "complaints": self.complaints,
            "orders": self.orders,
            "revenue": round(self.revenue, 2),
        }


@dataclass
class Matrix:
    since: datetime | None
    until: datetime | None
    segment: str | None
    cells: dict[Cell, CellFigures]
    members: dict[Cell, list[dict[str, Any]]]  # the decisions and orders behind each cell (the drill-down)

    def cell(self, experience: str, architecture: str) -> CellFigures:
        return self.cells[(experience, architecture)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "segment": self.segment,
            "experiences": list(EXPERIENCES),
            "architectures": list(ARCHITECTURES),
            "cells": [figures.to_dict() for figures in self.cells.values()],
        }


def compute_matrix(
    source: MatrixSource,
    strategy: Strategy | None,
    architecture_for: Callable[[str, str | None], str],
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    segment: str | None = None,
) -> Matrix:
    """All 20 cells over [since, until), optionally for the customers of one segment."""
    categories = source.sku_categories()
    decisions = source.decision_rows(since, until)
    orders = source.order_rows(since, until)
    automatic = source.automatic_order_rows(since, until)
    keep = _segment_filter(source, strategy, segment, now, decisions, orders, automatic)
    cells: dict[Cell, CellFigures] = {(e, a): CellFigures(e, a) for e in EXPERIENCES for a in ARCHITECTURES}
    members: dict[Cell, list[dict[str, Any]]] = {key: [] for key in cells}
    if strategy is not None:
        for key in strategy.named_cells(segment):
            cells[key].named = True
        for key, rivals in strategy.rival_cells().items():
            cells[key].rivals = rivals
    outcomes = _outcomes_by_decision(source.outcome_rows(since, until))
    placed: dict[str, Cell] = {}
    for row in decisions:
        if row["experience"] is None or not keep(row["customer_id"]):
            continue
        key = (row["experience"], architecture_for(row["sku"] or "", row["category"] or categories.get(row["sku"])))
        placed[row["id"]] = key
        _count_decision(cells[key], row, outcomes.get(row["id"], {}))
        members[key].append({"kind": "decision", **row, "outcomes": sorted(outcomes.get(row["id"], {}))})
    _count_orders(cells, members, orders, decisions, placed, keep, categories)
    for row in automatic:
        if not keep(row["customer_id"]):
            continue
        key = ("automatic_execution", architecture_for(row["sku"], categories.get(row["sku"])))
        in_period = _within(since, until)
        cells[key].automatic_executed += row["status"] == "executed" and in_period(row["executed_at"])
        cells[key].automatic_cancelled += row["status"] == "cancelled" and in_period(row["cancelled_at"])
        cells[key].customers.add(row["customer_id"])
        members[key].append({"kind": "automatic_order", **row})
    return Matrix(since, until, segment, cells, members)


def _count_decision(cell: CellFigures, row: dict[str, Any], outcomes: Mapping[str, datetime]) -> None:
    cell.decisions += 1
    if row["status"] == "nothing_now":
        return
    cell.acted += 1
    cell.customers.add(row["customer_id"])
    met = [at for name, at in outcomes.items() if name in ACCEPTED]
    cell.accepted += bool(met)
    cell.complaints += "complained" in outcomes
    if row["need_due_at"] is not None:
        cell.with_need += 1
        cell.met_on_time += any(at <= row["need_due_at"] for at in met)


def _count_orders(
    cells: dict[Cell, CellFigures],
    members: dict[Cell, list[dict[str, Any]]],
    orders: list[dict[str, Any]],
    decisions: list[dict[str, Any]],
    placed: dict[str, Cell],
    keep: Callable[[str], bool],
    categories: Mapping[str, str],
) -> None:
    latest: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in decisions:
        if row["id"] in placed:
            latest.setdefault((row["customer_id"], row["category"] or ""), []).append(row)
    for order in orders:
        if not keep(order["customer_id"]):
            continue
        experience = "automatic_execution" if order["source"] == "automatic" else "respond_to_desire"
        if order["source"] != "automatic":
            named = order.get("line_categories") or {}
            for category in {named.get(sku) or categories.get(sku) or sku for sku in order["skus"]}:
                before = [d for d in latest.get((order["customer_id"], category), [])
                          if order["placed_at"] - LEAD_WINDOW <= d["created_at"] <= order["placed_at"]]  # fmt: skip
                if before:
                    experience = placed[max(before, key=lambda d: d["created_at"])["id"]][0]
        key = (experience, order["architecture"])
        if key not in cells:
            continue
        cells[key].orders += 1
        cells[key].revenue += order["total"]
        cells[key].customers.add(order["customer_id"])
        members[key].append({"kind": "order", **order})


def _outcomes_by_decision(rows: list[dict[str, Any]]) -> dict[str, dict[str, datetime]]:
    found: dict[str, dict[str, datetime]] = {}
    for row in rows:
        found.setdefault(row["decision_id"], {})[row["outcome"]] = row["occurred_at"]
    return found


def _within(since: datetime | None, until: datetime | None) -> Callable[[datetime | None], bool]:
    def inside(at: datetime | None) -> bool:
        return at is not None and (since is None or at >= since) and (until is None or at < until)

    return inside


def _segment_filter(
    source: MatrixSource,
    strategy: Strategy | None,
    segment: str | None,
    now: datetime,
    *groups: list[dict[str, Any]],
) -> Callable[[str], bool]:
    if segment is None or strategy is None:
        return lambda customer_id: True
    ids = {row["customer_id"] for rows in groups for row in rows}
    facts = source.customer_facts(ids, now)
    inside = {cid for cid, customer in facts.items() if segment_of(strategy, customer) == segment}
    return inside.__contains__


def customers_in_cell(matrix: Matrix, experience: str, architecture: str) -> list[dict[str, Any]]:
    """The drill-down: each customer of the cell with their decisions, orders and revenue there."""
    by_customer: dict[str, dict[str, Any]] = {}
    for row in matrix.members[(experience, architecture)]:
        entry = by_customer.setdefault(row["customer_id"], {"customer_id": row["customer_id"], "decisions": 0,
                                                            "orders": 0, "automatic_orders": 0, "revenue": 0.0})  # fmt: skip
        if row["kind"] == "decision":
            entry["decisions"] += 1
        elif row["kind"] == "order":
            entry["orders"] += 1
            entry["revenue"] = round(entry["revenue"] + row["total"], 2)
        else:
            entry["automatic_orders"] += 1
    return sorted(by_customer.values(), key=lambda e: (-e["decisions"] - e["orders"], e["customer_id"]))
