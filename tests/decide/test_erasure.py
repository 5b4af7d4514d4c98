"""Erasure removes a person's decisions, outcomes, consents, control levels, contact policy and contact log."""

from __future__ import annotations

from sqlalchemy import func, select

from rapport.decide import consent, contact_policy, control
from rapport.decide.engine import decide
from rapport.decide.outcomes import record_outcome
from rapport.decide.situations import Situation
from rapport.store.decisions import SqlDecisionStore
from rapport.store.tables import consents, contact_log, contact_policies, control_levels, decision_outcomes, decisions
from tests.decide.conftest import NOW, customer, need, store_needs, toner_order

DECIDE_TABLES = (decisions, decision_outcomes, consents, control_levels, contact_policies, contact_log)


def _rows(store: SqlDecisionStore, customer_id: str) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            t.name: conn.scalar(select(func.count()).select_from(t).where(t.c.customer_id == customer_id)) or 0
            for t in DECIDE_TABLES
        }


def test_erasure_leaves_no_decide_rows(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "forget-me", orders=[toner_order()])
    keep = customer(decisions, "keep-me")
    for who in (cid, keep):
        store_needs(decisions, who, need(who))
        consent.record_consent(decisions, who, "contact:email", True, "web", NOW)
        control.set_control_level(decisions, who, "toner", "remind_me", NOW)
        contact_policy.set_contact_policy(decisions, who, {"quiet_hours": ""}, NOW)
        made = decide(decisions, who, Situation("need_due"), NOW)
        record_outcome(decisions, made.id, "accepted", NOW)
    assert all(_rows(decisions, cid).values()), "every table holds the person's rows before erasure"
    decisions.erase(cid)
    assert not any(_rows(decisions, cid).values())
    assert all(_rows(decisions, keep).values()), "nobody else's rows go"
