"""SQL for the Repeat step: the turns learning reads, the prompts it stores, the nudge bandit it updates.

``SqlRepeat`` is mixed into ``SqlDecisionStore``; every read is an indexed look-up by customer or decision.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Integer, String, bindparam, func, select, union
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from rapport.decide.situations import INBOUND_CHANNELS
from rapport.repeat import contact_risk
from rapport.repeat.bandit import REWARD, NudgeBandit
from rapport.repeat.contact_risk import ContactRisk
from rapport.repeat.flywheel import ContactRecord, DecisionRecord
from rapport.repeat.ope import LoggedNudge
from rapport.repeat.preferences import Prompt, Turn
from rapport.store.bandit import add_reward, load_bandit
from rapport.store.consents import row_to
from rapport.store.tables import bandit_counts, contact_log, decision_outcomes, decisions, needs, preference_prompts

# A profile's open prompts, oldest first: read with a decision's state (rapport.store.decisions) and on their own.
OPEN_PROMPTS = (
    select(preference_prompts)
    .where(preference_prompts.c.customer_id == bindparam("cid", type_=String()), preference_prompts.c.status == "open")
    .order_by(preference_prompts.c.created_at, preference_prompts.c.id)
)

_INSERT_PROMPT: dict[str, Any] = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}
_CID = bindparam("cid", type_=String())
# The customer's and the population's refusal counts (rapport.repeat.contact_risk): on their own and with a
# decision's state.
CONTACT_RISK_COUNTS = select(bandit_counts.c.customer_id, bandit_counts.c.successes, bandit_counts.c.failures).where(
    bandit_counts.c.bandit == contact_risk.NAME,
    bandit_counts.c.arm == contact_risk.EVENT,
    bandit_counts.c.customer_id.in_([contact_risk.POPULATION, _CID]),
)
_TURN_COLUMNS = (decisions.c.experience, decision_outcomes.c.outcome, decisions.c.need, decisions.c.created_at,
                 decisions.c.id, decisions.c.action, decisions.c.touchpoint)  # fmt: skip
_OUTCOMES_OF = decision_outcomes.join(decisions, decisions.c.id == decision_outcomes.c.decision_id)
# The latest ``limit`` turns of each category the customer's needs name (as category or item), newest first:
# what a decision whose need is one of them asks ``category_turns`` for, read with its state.
_NEED_CATEGORIES = union(
    select(needs.c.category).where(needs.c.customer_id == _CID),
    select(needs.c.item).where(needs.c.customer_id == _CID),
)
_RANKED_TURNS = (
    select(
        *_TURN_COLUMNS,
        decisions.c.category,
        decision_outcomes.c.id.label("outcome_id"),
        func.row_number().over(partition_by=decisions.c.category, order_by=decision_outcomes.c.id.desc()).label("rank"),
    )
    .select_from(_OUTCOMES_OF)
    .where(decision_outcomes.c.customer_id == _CID, decisions.c.category.in_(_NEED_CATEGORIES))
    .subquery()
)
NEED_TURNS = (
    select(*[c for c in _RANKED_TURNS.c if c.name not in ("rank", "outcome_id")])
    .where(_RANKED_TURNS.c.rank <= bindparam("limit", type_=Integer()))
    .order_by(_RANKED_TURNS.c.category, _RANKED_TURNS.c.outcome_id.desc())
)


def risk_from(customer_id: str, rows: Any) -> ContactRisk:
    """The customer's contact risk from ``CONTACT_RISK_COUNTS``' rows (customer id, successes, failures)."""
    found = {cid: (float(s), float(s + f)) for cid, s, f in rows}
    own = found.get(customer_id, (0.0, 0.0)) if customer_id != contact_risk.POPULATION else (0.0, 0.0)
    total = found.get(contact_risk.POPULATION, (0.0, 0.0))
    return ContactRisk(own, (max(0.0, total[0] - own[0]), max(0.0, total[1] - own[1])))


def turn_from(experience: Any, outcome: Any, need: Any, created: Any, decision_id: Any, action: Any,
              touchpoint: Any) -> Turn:  # fmt: skip
    """One row of the turns' columns (experience, outcome, need, created_at, id, action, touchpoint) as a Turn."""
    return Turn(str(experience), str(outcome), (need or {}).get("item"), created, decision_id, _arm_key(action),
                touchpoint in INBOUND_CHANNELS)  # fmt: skip


def need_turns(rows: list[dict[str, Any]]) -> dict[str, list[Turn]]:
    """``NEED_TURNS``' rows as ``category_turns`` would give them, by category."""
    found: dict[str, list[Turn]] = {}
    for row in rows:
        if row["experience"] is not None:
            turn = turn_from(*(row[c.name] for c in _TURN_COLUMNS))
            found.setdefault(row["category"], []).append(turn)
    return found


class SqlRepeat:
    """The Repeat step's reads and writes."""

    engine: Engine

    def category_turns(self, customer_id: str, category: str, limit: int) -> list[Turn]:
        """The customer's latest outcomes of decisions about ``category``, newest first, with their decisions."""
        query = (
            select(*_TURN_COLUMNS)
            .select_from(_OUTCOMES_OF)
            .where(decision_outcomes.c.customer_id == customer_id, decisions.c.category == category)
            .order_by(decision_outcomes.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [turn_from(*row) for row in rows if row[0] is not None]

    def decision_arm(self, decision_id: str) -> tuple[str | None, int]:
        """The bandit arm a decision logged (None: it used none) and how many outcomes it has collected."""
        count = (
            select(func.count())
            .select_from(decision_outcomes)
            .where(decision_outcomes.c.decision_id == decision_id)
            .scalar_subquery()
        )
        with self.engine.connect() as conn:
            found = conn.execute(select(decisions.c.action, count).where(decisions.c.id == decision_id)).first()
        if found is None:
            return None, 0
        return _arm_key(found[0]), int(found[1])

    def logged_nudges(self) -> list[LoggedNudge]:
        """Every decision that logged a bandit arm and has an outcome: its arm, propensity and first reward."""
        first = (
            select(decision_outcomes.c.decision_id, func.min(decision_outcomes.c.id).label("first_id"))
            .group_by(decision_outcomes.c.decision_id)
            .subquery()
        )
        query = (
            select(decisions.c.customer_id, decisions.c.action, decision_outcomes.c.outcome)
            .join(first, first.c.decision_id == decisions.c.id)
            .join(decision_outcomes, decision_outcomes.c.id == first.c.first_id)
            .where(decisions.c.experience == "coach_behavior")
            .order_by(decisions.c.created_at, decisions.c.id)
        )
        found = []
        with self.engine.connect() as conn:
            for customer_id, action, outcome in conn.execute(query):
                arm = (action or {}).get("arm") or {}
                if isinstance(arm.get("key"), str) and outcome in REWARD:
                    found.append(LoggedNudge(customer_id, arm["key"], float(arm["propensity"]), REWARD[outcome]))
        return found

    def add_nudge_reward(self, customer_id: str, arm: str, reward: float, now: datetime) -> None:
        add_reward(self.engine, customer_id, arm, reward, now)

    def add_contact_refusal(self, customer_id: str, complained: float, now: datetime) -> None:
        """Count one refusal (a complaint or not) for the customer and the population, atomically."""
        add_reward(self.engine, customer_id, contact_risk.EVENT, complained, now, name=contact_risk.NAME)

    def contact_risk(self, customer_id: str) -> ContactRisk:
        """The customer's own refusal counts and everyone else's (rapport.repeat.contact_risk)."""
        with self.engine.connect() as conn:
            return risk_from(customer_id, conn.execute(CONTACT_RISK_COUNTS, {"cid": customer_id}))

    def nudge_bandit(self, customer_id: str) -> NudgeBandit:
        """The population's counts and this customer's, as one decision needs them."""
        return load_bandit(self.engine, customer_id)

    def put_prompt(self, prompt: Prompt) -> tuple[Prompt, bool]:
        """Store the prompt unless one with its key exists; returns the stored one and whether it is new."""
        row: dict[str, Any] = {
            "id": prompt.id,
            "prompt_key": prompt.prompt_key,
            "customer_id": prompt.customer_id,
            "category": prompt.category,
            "kind": prompt.kind,
            "message": prompt.message,
            "details": prompt.details,
            "status": prompt.status,
            "created_at": prompt.created_at,
        }
        with self.engine.begin() as conn:
            statement = _INSERT_PROMPT[conn.dialect.name](preference_prompts).on_conflict_do_nothing(
                index_elements=["prompt_key"]
            )
            created = conn.execute(statement.returning(preference_prompts.c.id), row).first() is not None
            stored = conn.execute(
                select(preference_prompts).where(preference_prompts.c.prompt_key == prompt.prompt_key)
            ).one()
        return row_to(Prompt, stored._mapping), created

    def open_prompts(self, customer_id: str, category: str | None = None) -> list[Prompt]:
        """The customer's open prompts (about ``category`` if given), oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(OPEN_PROMPTS, {"cid": customer_id}).all()
        return [p for p in (row_to(Prompt, row._mapping) for row in rows) if category is None or p.category == category]

    def flywheel_records(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> tuple[list[DecisionRecord], list[ContactRecord]]:
        """Every decision (with its outcomes) and every counted contact from ``since`` to ``until`` (both optional)."""
        query = select(
            decisions.c.id,
            decisions.c.customer_id,
            decisions.c.created_at,
            decisions.c.status,
            decisions.c.experience,
            decisions.c.category,
            decisions.c.need,
        )
        outcomes = select(
            decision_outcomes.c.decision_id, decision_outcomes.c.outcome, decision_outcomes.c.occurred_at
        ).join(decisions, decisions.c.id == decision_outcomes.c.decision_id)
        contacts = select(contact_log.c.customer_id, contact_log.c.at)
        if since is not None:
            query = query.where(decisions.c.created_at >= since)
            outcomes = outcomes.where(decisions.c.created_at >= since)
            contacts = contacts.where(contact_log.c.at >= since)
        if until is not None:
            query = query.where(decisions.c.created_at < until)
            outcomes = outcomes.where(decisions.c.created_at < until)
            contacts = contacts.where(contact_log.c.at < until)
        found: dict[str, list[tuple[str, datetime]]] = {}
        with self.engine.connect() as conn:
            for decision_id, outcome, at in conn.execute(outcomes):
                found.setdefault(decision_id, []).append((outcome, at))
            rows = conn.execute(query).all()
            counted = [ContactRecord(cid, at) for cid, at in conn.execute(contacts)]
        records = []
        for decision_id, customer_id, created_at, status, experience, category, need in rows:
            due = (need or {}).get("due_at")
            records.append(
                DecisionRecord(
                    customer_id=customer_id,
                    at=created_at,
                    status=status,
                    experience=experience,
                    category=category,
                    need_key=((need or {}).get("item") or (need or {}).get("category")) if need else None,
                    need_due_at=datetime.fromisoformat(due) if isinstance(due, str) else None,
                    outcomes=tuple(sorted(found.get(decision_id, []), key=lambda o: o[1])),
                )
            )
        return records, counted


def _arm_key(action: dict[str, Any] | None) -> str | None:
    """The bandit arm a decision's action logged (None: it used none)."""
    arm = ((action or {}).get("arm") or {}).get("key")
    return arm if isinstance(arm, str) else None
