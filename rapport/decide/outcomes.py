"""Outcomes: what happened after a decision (accepted, dismissed, ignored, cancelled, complained, converted).

They feed the Repeat step. Recording is idempotent per decision and outcome, so a client may retry freely; a
decision can collect several outcomes over time (accepted, then converted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, get_args

from rapport.errors import InvalidInput, NotFound
from rapport.repeat.turns import RepeatStore, learn_from_turn

OutcomeKind = Literal["accepted", "dismissed", "ignored", "cancelled", "complained", "converted"]
OUTCOMES: tuple[str, ...] = get_args(OutcomeKind)


@dataclass(frozen=True)
class Outcome:
    """One recorded outcome of one decision."""

    decision_id: str
    customer_id: str
    outcome: OutcomeKind
    occurred_at: datetime
    recorded_at: datetime
    details: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "customer_id": self.customer_id,
            "outcome": self.outcome,
            "occurred_at": self.occurred_at.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "details": self.details,
        }


class OutcomeLog(RepeatStore, Protocol):
    """Where outcomes are kept (rapport.store.decisions implements it)."""

    def decision_subject(self, decision_id: str) -> tuple[str, str | None] | None: ...

    def insert_outcome(self, outcome: Outcome) -> tuple[Outcome, bool]: ...

    def outcomes_of(self, decision_id: str) -> list[Outcome]: ...


def record_outcome(
    log: OutcomeLog,
    decision_id: str,
    outcome: str,
    now: datetime,
    occurred_at: datetime | None = None,
    details: dict[str, Any] | None = None,
) -> tuple[Outcome, bool]:
    """Record ``outcome`` for a logged decision; returns the stored outcome and whether this call created it.

    Recording the same outcome for the same decision again returns the first record unchanged. A new outcome
    feeds the Repeat step (rapport.repeat): the level learned for the decision's category (never towards
    automation) and, for a nudge that logged a bandit arm, the bandit's counts.
    """
    if outcome not in OUTCOMES:
        raise InvalidInput(f"Outcome {outcome!r} is unknown; use one of {', '.join(OUTCOMES)}.")
    if occurred_at is not None and occurred_at.tzinfo is None:
        raise InvalidInput(f"occurred_at {occurred_at.isoformat()} has no time zone; send it in UTC ('…Z').")
    if details is not None and not isinstance(details, dict):
        raise InvalidInput(f"Outcome details {details!r} must be an object.")
    subject = log.decision_subject(decision_id)
    if subject is None:
        raise NotFound(f"No decision {decision_id!r}; use the decision_id that POST /v1/decide returned.")
    customer_id, category = subject
    record = Outcome(decision_id, customer_id, outcome, occurred_at or now, now, details)  # type: ignore[arg-type]
    stored, created = log.insert_outcome(record)
    if created:
        learn_from_turn(log, stored, category, now)
    return stored, created


DECISION_REASON = re.compile(r"^decision ([0-9a-f]{32}):")


def record_cancellation(log: OutcomeLog, reason: str, order_id: str, now: datetime) -> Outcome | None:
    """The customer cancelled an automatic order a decision scheduled: that decision's outcome is "cancelled".

    ``reason`` is the order's reason ("decision <id>: …", as Decide writes it); orders not scheduled by a decision
    record nothing. Cancelling again records nothing new.
    """
    found = DECISION_REASON.match(reason or "")
    if found is None or log.decision_subject(found.group(1)) is None:
        return None
    outcome, _created = record_outcome(log, found.group(1), "cancelled", now, details={"automatic_order_id": order_id})
    return outcome
