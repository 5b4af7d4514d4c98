"""Refreshing needs: from what a customer did (orders, device readings, doses, complaints) to their current Needs.

Two ways in, one computation. The batch job (`rapport recognize`) fits the population's replenishment cadences on
every order, keeps that model in the store, and rewrites every customer's needs. The event-driven path
(`refresh_customer_needs`, called when an order, a reading or a complaint arrives) reads one customer's events and
judges their own intervals against the stored population model, so a new order moves their next need at once,
without refitting anyone else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any, Protocol

import pandas as pd

from rapport.errors import InvalidInput
from rapport.recognize.depletion import depletion_need
from rapport.recognize.habits import habit_need
from rapport.recognize.need import Need
from rapport.recognize.replenishment import ReplenishmentModel

ORDER_EVENT = "Order Completed"
LEVEL_EVENT = "Level Reported"
DOSE_EVENT = "Dose Taken"
COMPLAINT_EVENTS = ("Complaint Filed", "Ticket Opened")
RESOLVED_EVENT = "Ticket Resolved"
SOURCE_EVENTS = (ORDER_EVENT, LEVEL_EVENT, DOSE_EVENT, *COMPLAINT_EVENTS, RESOLVED_EVENT)
MODEL_NAME = "replenishment"


@dataclass(frozen=True)
class RecognizeRules:
    """How far ahead needs are looked for and how sure they must be to be kept."""

    lead_time_days: float = 14.0  # a need is kept when it falls due within this many days (or is overdue)
    min_confidence: float = 0.05
    habit_alpha: float = 0.01  # a gap this unlikely for the person raises a habit need
    min_readings: int = 3  # device readings needed before a depletion forecast
    # A habit lapsed longer than this past its normal gap has ended rather than slipped: no reminder for it.
    habit_max_lapse_days: float = 30.0


DEFAULT_RULES = RecognizeRules()


class NeedSource(Protocol):
    """What the refresh reads and writes (rapport.store.store.Store implements it)."""

    def canonical_id(self, customer_id: str) -> str: ...

    def need_events(self, names: tuple[str, ...], canonical_id: str | None = None) -> list[dict[str, Any]]: ...

    def replace_needs(self, customer_id: str, found: list[Need], computed_at: datetime, model_version: str) -> int: ...

    def prune_needs(self) -> int: ...

    def save_model(self, name: str, text: str) -> None: ...

    def load_model(self, name: str) -> str | None: ...


@dataclass
class RecognizeReport:
    """What a batch refresh did."""

    customers: int = 0
    needs: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    model_version: str = ""
    order_lines: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "needs": self.needs,
            "by_kind": dict(sorted(self.by_kind.items())),
            "model_version": self.model_version,
            "order_lines": self.order_lines,
        }


def refresh_all_needs(
    store: NeedSource,
    now: datetime,
    rules: RecognizeRules = DEFAULT_RULES,
    progress: Callable[[int], None] | None = None,
    on_customers: Callable[[int], None] | None = None,
) -> RecognizeReport:
    """Refit the population model on every order and rewrite every customer's needs as of ``now``."""
    _check_now(now)
    rows = store.need_events(SOURCE_EVENTS)
    lines = order_lines(rows)
    report = RecognizeReport(order_lines=len(lines))
    model, version = _fit_population(lines, now)
    if model is not None:
        store.save_model(MODEL_NAME, model.to_json(customers=False))
        store.save_model(f"{MODEL_NAME}:version", version)
    report.model_version = version
    replenish = _replenish_needs(model, now, rules)
    profiles = [(cid, list(group)) for cid, group in groupby(rows, key=lambda r: r["canonical_id"])]
    if on_customers:
        on_customers(len(profiles))
    for customer_id, events in profiles:
        found = replenish.get(customer_id, []) + event_needs(customer_id, events, now, model, rules)
        written = store.replace_needs(customer_id, found, now, version)
        report.customers += 1
        report.needs += written
        for need in found:
            report.by_kind[need.kind] = report.by_kind.get(need.kind, 0) + 1
        if progress:
            progress(1)
    store.prune_needs()
    return report


def refresh_customer_needs(
    store: NeedSource, customer_id: str, now: datetime, rules: RecognizeRules = DEFAULT_RULES
) -> list[Need]:
    """Recompute one customer's needs from their events against the stored population model; returns them."""
    _check_now(now)
    canonical = store.canonical_id(customer_id)
    rows = store.need_events(SOURCE_EVENTS, canonical)
    saved = store.load_model(MODEL_NAME)
    version = store.load_model(f"{MODEL_NAME}:version") or "replenishment:none"
    population = ReplenishmentModel.from_json(saved, "the stored replenishment model") if saved else None
    lines = order_lines(rows)
    model = None
    if population is not None and len(lines):
        model = population.with_history(lines, "customer", "item", "at", "category")
    found = _replenish_needs(model, now, rules).get(canonical, []) + event_needs(canonical, rows, now, model, rules)
    store.replace_needs(canonical, found, now, version)
    return sorted(found, key=lambda n: n.due_at)


def order_lines(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per (customer, item, category, at) from "Order Completed" events (their ``products`` or ``sku``)."""
    found = []
    for row in rows:
        if row["name"] != ORDER_EVENT:
            continue
        props = row["properties"] or {}
        listed = props.get("products")
        products: list[Any] = listed if isinstance(listed, list) else [props]
        for product in products:
            sku = product.get("sku") or product.get("product_id") if isinstance(product, dict) else None
            if isinstance(sku, str) and sku:
                found.append((row["canonical_id"], sku, product.get("category"), row["timestamp"]))
    frame = pd.DataFrame(found, columns=["customer", "item", "category", "at"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame


def event_needs(
    customer_id: str,
    rows: list[dict[str, Any]],
    now: datetime,
    model: ReplenishmentModel | None,
    rules: RecognizeRules = DEFAULT_RULES,
) -> list[Need]:
    """Depletion, habit and issue needs of one customer from their device readings, doses and complaints."""
    category_of = _categories(rows)
    found: list[Need] = []
    found += _depletion_needs(customer_id, rows, now, rules, category_of)
    found += _habit_needs(customer_id, rows, now, rules, category_of)
    found += _issue_needs(customer_id, rows, now)
    return [n for n in found if n.kind == "issue" or n.confidence >= rules.min_confidence]


def _fit_population(lines: pd.DataFrame, now: datetime) -> tuple[ReplenishmentModel | None, str]:
    past = lines[lines["at"] <= pd.Timestamp(now)]
    if past.empty:
        return None, "replenishment:none"
    try:
        model = ReplenishmentModel().fit(past, "customer", "item", "at", "category")
    except InvalidInput:  # nobody has bought anything twice yet: no cadences to learn
        return None, "replenishment:none"
    return model, f"replenishment@{now:%Y%m%dT%H%M%S}-{len(past)}"


def _replenish_needs(model: ReplenishmentModel | None, now: datetime, rules: RecognizeRules) -> dict[str, list[Need]]:
    if model is None:
        return {}
    by_customer: dict[str, list[Need]] = {}
    for need in model.needs(now, lead_time_days=rules.lead_time_days, min_confidence=rules.min_confidence):
        by_customer.setdefault(need.customer_id, []).append(need)
    return by_customer


def _categories(rows: list[dict[str, Any]]) -> dict[str, str]:
    """sku → category, from the customer's own order lines and readings."""
    found: dict[str, str] = {}
    for row in rows:
        props = row["properties"] or {}
        for product in props.get("products") or [props]:
            if isinstance(product, dict) and isinstance(product.get("sku"), str) and product.get("category"):
                found[product["sku"]] = str(product["category"])
    return found


def _depletion_needs(
    customer_id: str, rows: list[dict[str, Any]], now: datetime, rules: RecognizeRules, category_of: dict[str, str]
) -> list[Need]:
    readings: dict[tuple[str, str, str], list[tuple[datetime, float]]] = {}
    for row in rows:
        props = row["properties"] or {}
        if row["name"] != LEVEL_EVENT or row["timestamp"] > now or not isinstance(props.get("sku"), str):
            continue
        unit, value = ("%", props.get("level_pct")) if "level_pct" in props else (" units", props.get("units_left"))
        if isinstance(value, int | float) and not isinstance(value, bool):
            key = (str(props.get("device_id") or props["sku"]), props["sku"], unit)
            readings.setdefault(key, []).append((row["timestamp"], float(value)))
    found = []
    for (device, sku, unit), series in readings.items():
        if len(series) < rules.min_readings:
            continue
        times, levels = zip(*series, strict=True)
        try:
            need = depletion_need(
                customer_id, sku, list(times), list(levels), now, rules.lead_time_days, category_of.get(sku), unit=unit
            )
        except InvalidInput:  # readings too few or too flat for a rate: no forecast yet
            continue
        if need is not None:
            found.append(_with_evidence(need, device_id=device, model="depletion@1"))
    return found


def _habit_needs(
    customer_id: str, rows: list[dict[str, Any]], now: datetime, rules: RecognizeRules, category_of: dict[str, str]
) -> list[Need]:
    doses: dict[str, list[datetime]] = {}
    for row in rows:
        sku = (row["properties"] or {}).get("sku")
        if row["name"] == DOSE_EVENT and isinstance(sku, str) and row["timestamp"] <= now:
            doses.setdefault(sku, []).append(row["timestamp"])
    found = []
    for sku, times in doses.items():
        need = habit_need(customer_id, sku, times, now, alpha=rules.habit_alpha, category=category_of.get(sku))
        if need is not None and (now - need.due_at).total_seconds() <= rules.habit_max_lapse_days * 86_400:
            found.append(_with_evidence(need, model="habits@1"))
    return found


def _issue_needs(customer_id: str, rows: list[dict[str, Any]], now: datetime) -> list[Need]:
    """Complaints not yet resolved: service comes before selling until they are."""
    opened: dict[str, dict[str, Any]] = {}
    for row in rows:
        props = row["properties"] or {}
        ticket = props.get("ticket_id")
        if row["timestamp"] > now or not isinstance(ticket, str):
            continue
        if row["name"] in COMPLAINT_EVENTS:
            opened[ticket] = {**props, "at": row["timestamp"], "channel_event": row["name"]}
        elif row["name"] == RESOLVED_EVENT:
            opened.pop(ticket, None)
    found = []
    for ticket, props in opened.items():
        topic = str(props.get("topic") or "a complaint")
        about = f" about {props['sku']}" if props.get("sku") else ""
        reason = f"Open complaint {ticket} ({topic.replace('_', ' ')}{about}) since {props['at']:%Y-%m-%d}."
        found.append(
            Need(
                customer_id=customer_id,
                item=props.get("sku") if isinstance(props.get("sku"), str) else None,
                category=None,
                kind="issue",
                due_at=props["at"],
                confidence=1.0,
                evidence={"reason": reason, "ticket_id": ticket, "topic": topic, "model": "complaints@1"},
            )
        )
    return found


def _with_evidence(need: Need, **extra: Any) -> Need:
    return Need(need.customer_id, need.item, need.category, need.kind, need.due_at, need.confidence,
                {**need.evidence, **extra})  # fmt: skip


def _check_now(now: datetime) -> None:
    if now.tzinfo is None:
        raise InvalidInput(f"now={now.isoformat()} has no time zone; pass an aware UTC datetime.")
