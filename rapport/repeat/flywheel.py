"""Flywheel metrics: does each turn make the next one fit better? Per week or month, from the decision log.

- ``fit``: the share of decisions that did something (act or deferred) whose first outcome was accepted or
  converted (decisions without any outcome yet count as not accepted);
- ``needs_met_on_time``: of the needs the period's decisions were about (one per customer, item or category and due
  day), the share whose decision was accepted or converted no later than ``GRACE`` after the need fell due;
- ``contacts_per_customer``: contacts counted against the contact budget (nudges, offers, notices) per customer
  who had a decision in the period;
- ``preference_accuracy``: where the truth is known (the simulator knows each customer's hidden preferred level),
  the share of decisions whose experience matched it; None otherwise.

Pure over records (``DecisionRecord``, ``ContactRecord``), so the simulator passes its in-memory logs and the store
passes its own (rapport.store.repeat.flywheel_records).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol

from rapport.errors import InvalidInput

Period = Literal["week", "month"]
PERIODS: tuple[str, ...] = ("week", "month")
POSITIVE = frozenset({"accepted", "converted"})
GRACE = timedelta(days=1)
LEVEL_OF_EXPERIENCE = {
    "respond_to_desire": "i_choose",
    "curated_offering": "show_me_options",
    "coach_behavior": "remind_me",
    "automatic_execution": "do_it_for_me",
}


@dataclass(frozen=True)
class DecisionRecord:
    """One logged decision and its outcomes (kind and when), as the flywheel reads it."""

    customer_id: str
    at: datetime
    status: str
    experience: str | None = None
    category: str | None = None
    need_key: str | None = None  # the need it was about (item or category), None for none
    need_due_at: datetime | None = None
    outcomes: tuple[tuple[str, datetime], ...] = ()

    @property
    def acted(self) -> bool:
        return self.status in ("act", "deferred")

    def accepted_by(self, deadline: datetime | None = None) -> bool:
        return any(kind in POSITIVE and (deadline is None or at <= deadline) for kind, at in self.outcomes)


@dataclass(frozen=True)
class ContactRecord:
    customer_id: str
    at: datetime


@dataclass(frozen=True)
class PeriodMetrics:
    start: date
    decisions: int
    acted: int
    customers: int
    fit: float | None
    needs: int
    needs_met_on_time: float | None
    contacts: int
    contacts_per_customer: float | None
    preference_accuracy: float | None

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "start": self.start.isoformat()}


class FlywheelStore(Protocol):
    """Where the records come from (rapport.store.repeat.SqlRepeat)."""

    def flywheel_records(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> tuple[list[DecisionRecord], list[ContactRecord]]: ...


def flywheel_metrics(
    store: FlywheelStore,
    period: str = "week",
    since: datetime | None = None,
    until: datetime | None = None,
    truth: Mapping[tuple[str, str], str] | None = None,
) -> list[PeriodMetrics]:
    """The store's flywheel from ``since`` to ``until`` (aware datetimes), per ``period``."""
    for name, bound in (("since", since), ("until", until)):
        if bound is not None and bound.tzinfo is None:
            raise InvalidInput(f"{name}={bound.isoformat()} has no time zone; send it in UTC ('…Z').")
    period_start(date.today(), period)
    decisions, contacts = store.flywheel_records(since, until)
    return flywheel(decisions, contacts, period, truth)


def period_start(at: datetime | date, period: str) -> date:
    day = at.date() if isinstance(at, datetime) else at
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise InvalidInput(f"Period {period!r} is unknown; use one of {', '.join(PERIODS)}.")


def flywheel(
    decisions: Iterable[DecisionRecord],
    contacts: Iterable[ContactRecord] = (),
    period: str = "week",
    truth: Mapping[tuple[str, str], str] | None = None,
) -> list[PeriodMetrics]:
    """The metrics per period, oldest first (periods without decisions are left out)."""
    period_start(date.today(), period)  # checks the period's name
    by_period: dict[date, list[DecisionRecord]] = defaultdict(list)
    for record in decisions:
        by_period[period_start(record.at, period)].append(record)
    contacts_in: dict[date, int] = defaultdict(int)
    for contact in contacts:
        contacts_in[period_start(contact.at, period)] += 1
    return [_metrics(start, by_period[start], contacts_in.get(start, 0), truth) for start in sorted(by_period)]


def _metrics(
    start: date, records: list[DecisionRecord], contacts: int, truth: Mapping[tuple[str, str], str] | None
) -> PeriodMetrics:
    acted = [r for r in records if r.acted]
    customers = len({r.customer_id for r in records})
    needs: dict[tuple[str, str, date], bool] = {}
    for r in records:
        if r.need_key is None or r.need_due_at is None:
            continue
        key = (r.customer_id, r.need_key, r.need_due_at.date())
        met = r.acted and r.accepted_by(r.need_due_at + GRACE)
        needs[key] = needs.get(key, False) or met
    judged = [
        LEVEL_OF_EXPERIENCE.get(r.experience or "") == truth[(r.customer_id, r.category)]
        for r in records
        if truth is not None and r.category is not None and (r.customer_id, r.category) in truth and r.experience
    ]
    return PeriodMetrics(
        start=start,
        decisions=len(records),
        acted=len(acted),
        customers=customers,
        fit=_share([r.accepted_by() for r in acted]),
        needs=len(needs),
        needs_met_on_time=_share(list(needs.values())),
        contacts=contacts,
        contacts_per_customer=contacts / customers if customers else None,
        preference_accuracy=_share(judged),
    )


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def plot_flywheel(metrics: list[PeriodMetrics], path: str, title: str = "Rapport flywheel") -> None:
    """A PNG with one panel per metric over the periods (matplotlib, Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not metrics:
        raise InvalidInput("No decisions in the period asked for: nothing to plot; widen --since/--until.")
    starts = [m.start for m in metrics]
    panels = [
        ("fit", "fit (share of decisions accepted)"),
        ("needs_met_on_time", "needs met on time"),
        ("contacts_per_customer", "contacts per customer"),
        ("preference_accuracy", "learned-preference accuracy"),
    ]
    figure, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    for axis, (name, label) in zip(axes.ravel(), panels, strict=True):
        values = [getattr(m, name) for m in metrics]
        shown = [(s, v) for s, v in zip(starts, values, strict=True) if v is not None]
        if shown:
            axis.plot([s for s, _ in shown], [v for _, v in shown], marker="o")
        else:
            axis.text(0.5, 0.5, "not known (no truth given)", ha="center", va="center", transform=axis.transAxes)
        axis.set_title(label)
        axis.grid(alpha=0.3)
        axis.set_ylim(0, None if name == "contacts_per_customer" else 1)
    figure.suptitle(title)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
