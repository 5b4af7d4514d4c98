"""Contact risk: what the firm learns from everyone's refusals and each customer's own decides whether a contact
nobody confirmed is sent (rapport.repeat.contact_risk), through the real decision path and store."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from rapport.decide import control
from rapport.decide.decision import Decision
from rapport.decide.engine import decide
from rapport.decide.outcomes import record_outcome
from rapport.decide.situations import Situation
from rapport.repeat import contact_risk
from rapport.repeat.contact_risk import FIRM_PRIOR, MAX_UNCONFIRMED_RISK, ContactRisk, observation
from rapport.respond import automatic, reorder
from rapport.store.decisions import SqlDecisionStore
from rapport.store.tables import consents, mandates
from tests.decide.conftest import NOW, customer, need, store_needs, toner_order
from tests.decide.test_engine import _grant, _mandate

NEED_DUE, APP_OPEN = Situation("need_due"), Situation("app_open")
WITHHELD = "no contact on a level nobody confirmed"


def _reachable(
    store: SqlDecisionStore, name: str, *categories: str, due_in_days: float = 1.0, days_ago: float = 60.0
) -> str:
    """A customer with a toner history (three orders ten days apart from ``days_ago``), a need in each category and
    an e-mail contact consent; firm default."""
    orders = [toner_order(2), toner_order(2), toner_order(1)]
    cid = customer(store, name, orders=orders, at=NOW - timedelta(days=days_ago))
    store_needs(store, cid, *(need(cid, item=f"{c}:usual", category=c, due_in_days=due_in_days) for c in categories))
    _grant(store, cid, "contact:email")
    return cid


def _reminded(store: SqlDecisionStore, cid: str, category: str, at: object = NOW) -> Decision:
    made = decide(store, cid, Situation("need_due", category=category), at)  # type: ignore[arg-type]
    return made


def _population(store: SqlDecisionStore, outcome: str, n: int) -> None:
    """``n`` other customers, who chose reminders, each get one and answer it with ``outcome``."""
    for k in range(n):
        cid = _reachable(store, f"peer-{outcome}-{k}", "toner")
        control.set_control_level(store, cid, "toner", "remind_me", NOW - timedelta(days=1))
        made = _reminded(store, cid, "toner")
        assert made.experience == "coach_behavior" and made.status != "nothing_now", made.reasons
        record_outcome(store, made.id, outcome, NOW + timedelta(minutes=5))


def test_shrinkage_population_first_then_the_customers_own_evidence() -> None:
    nobody = ContactRisk()
    assert nobody.rate == FIRM_PRIOR[0] / sum(FIRM_PRIOR) and not nobody.withholds_unconfirmed
    complaining = ContactRisk(others=(30.0, 100.0))
    assert complaining.rate == complaining.population_rate > MAX_UNCONFIRMED_RISK, "a newcomer gets the population's"
    assert complaining.withholds_unconfirmed
    shrugging_off = ContactRisk(own=(0.0, 10.0), others=(30.0, 100.0))
    assert not shrugging_off.withholds_unconfirmed, "ten refusals of their own without a complaint outweigh it"
    twice = ContactRisk(own=(2.0, 2.0), others=(1.0, 100.0))
    assert twice.withholds_unconfirmed, "two complaints in two refusals, in a population that rarely complains"
    assert [observation(o) for o in ("complained", "dismissed", "cancelled", "ignored", "accepted")] == [
        1.0,
        0.0,
        0.0,
        None,
        None,
    ]


def test_a_customer_who_complains_twice_gets_no_unconfirmed_reminder_next_month(decisions: SqlDecisionStore) -> None:
    _population(decisions, "dismissed", 24)  # people here turn reminders down without complaining
    cid = _reachable(decisions, "touchy", "toner", "paper", "ink")
    assert not decisions.contact_risk(cid).withholds_unconfirmed, "at first: reminded like everyone"
    for n, category in enumerate(("toner", "paper")):
        made = _reminded(decisions, cid, category, NOW + timedelta(hours=n))
        assert made.experience == "coach_behavior" and made.status != "nothing_now", made.reasons
        record_outcome(decisions, made.id, "complained", NOW + timedelta(hours=n, minutes=5))
        risk = decisions.contact_risk(cid)
        assert risk.withholds_unconfirmed == (n == 1), f"after {n + 1} complaints: {risk}"
    month = NOW + timedelta(days=30)
    store_needs(decisions, cid, need(cid, item="ink:usual", category="ink", due_in_days=31))
    later = _reminded(decisions, cid, "ink", month)
    assert later.status == "nothing_now" and WITHHELD in later.reasons[-1], later.reasons
    assert control.control_level(decisions, cid, "ink") == ("remind_me", "firm_default"), "no level is written"
    visit = decide(decisions, cid, Situation("app_open", category="ink"), month)
    assert visit.experience == "coach_behavior" and visit.status == "act", "still shown in their own session"


def test_a_newcomer_in_a_population_that_complains_starts_without_unconfirmed_reminders(
    decisions: SqlDecisionStore,
) -> None:
    fresh = _reachable(decisions, "before", "toner")
    assert _reminded(decisions, fresh, "toner").status != "nothing_now", "nothing learned yet: the firm's default"
    _population(decisions, "complained", 6)
    newcomer = _reachable(decisions, "newcomer", "toner", days_ago=25.0)  # their orders come: nothing to try
    risk = decisions.contact_risk(newcomer)
    assert risk.own == (0.0, 0.0) and risk.rate == risk.population_rate > MAX_UNCONFIRMED_RISK
    made = _reminded(decisions, newcomer, "toner")
    assert made.status == "nothing_now" and WITHHELD in made.reasons[-1], made.reasons
    chose = _reachable(decisions, "chose-reminders", "toner")
    control.set_control_level(decisions, chose, "toner", "remind_me", NOW)
    asked_for = _reminded(decisions, chose, "toner")
    assert asked_for.status != "nothing_now", "an explicit choice of reminders is never second-guessed"


def test_the_customers_own_evidence_overrides_the_population(decisions: SqlDecisionStore) -> None:
    keen = _reachable(decisions, "keen", "toner")
    first = _reminded(decisions, keen, "toner")
    record_outcome(decisions, first.id, "accepted", NOW + timedelta(minutes=5))  # they acted on a reminder
    _population(decisions, "complained", 6)
    assert decisions.contact_risk(keen).withholds_unconfirmed, "the population's rate is high"
    store_needs(decisions, keen, need(keen, item="toner:usual", category="toner", due_in_days=8))
    again = _reminded(decisions, keen, "toner", NOW + timedelta(days=7))
    assert again.experience == "coach_behavior" and again.status != "nothing_now", again.reasons

    tolerant = _reachable(decisions, "tolerant", "toner", "paper")
    for _ in range(12):  # turned down twelve contacts, never complained: their own rate is low
        decisions.add_contact_refusal(tolerant, 0.0, NOW)
    assert not decisions.contact_risk(tolerant).withholds_unconfirmed
    assert _reminded(decisions, tolerant, "paper").status != "nothing_now"


def test_a_customer_at_risk_is_stepped_back_from_automation_after_one_cancel(decisions: SqlDecisionStore) -> None:
    _population(decisions, "complained", 6)
    cid = _reachable(decisions, "auto", "toner")
    store_needs(decisions, cid, need(cid))
    control.set_control_level(decisions, cid, "toner", "do_it_for_me", NOW - timedelta(days=1))
    _grant(decisions, cid, "automatic_execution")
    _mandate(decisions, cid)
    with decisions.engine.connect() as conn:
        before = (
            conn.execute(select(func.count()).select_from(mandates)).scalar(),
            conn.execute(select(func.count()).select_from(consents)).scalar(),
        )
    made = decide(decisions, cid, NEED_DUE, NOW)
    assert made.experience == "automatic_execution" and made.action is not None, made.reasons
    automatic.cancel_automatic_order(decisions, cid, made.action["order_id"], NOW + timedelta(minutes=5))
    record_outcome(decisions, made.id, "cancelled", NOW + timedelta(minutes=5))
    assert control.control_level(decisions, cid, "toner") == ("remind_me", "learned"), "one cancel was enough"
    assert [p.kind for p in decisions.open_prompts(cid, "toner")] == ["confirm_switch_back"], "and they are asked"
    with decisions.engine.connect() as conn:
        after = (
            conn.execute(select(func.count()).select_from(mandates)).scalar(),
            conn.execute(select(func.count()).select_from(consents)).scalar(),
        )
    assert after == before, "learning created no mandate and no consent"


def test_a_withheld_reminder_is_tried_only_when_the_expected_order_has_not_come(decisions: SqlDecisionStore) -> None:
    _population(decisions, "complained", 6)  # here a wrong guess costs: unconfirmed reminders are withheld
    late = _reachable(decisions, "late", "toner")  # ordered every 10 days, the latest 40 days ago: overdue
    assert contact_risk.overdue(reorder.order_times(decisions, late, "toner"), NOW)
    on_time = _reachable(decisions, "on-time", "toner", days_ago=25.0)
    assert not contact_risk.overdue(reorder.order_times(decisions, on_time, "toner"), NOW), "latest 5 days ago"
    before = _counts(decisions)
    made = [_reminded(decisions, late, "toner", NOW + timedelta(minutes=n)) for n in range(30)]
    tried = [d for d in made if d.status != "nothing_now"]
    assert tried and len(tried) < len(made), "each eligible decision tries with probability TRY_PROBABILITY"
    assert all(d.action["exploration"]["propensity"] == contact_risk.TRY_PROBABILITY for d in tried)
    assert all(WITHHELD in d.reasons[-1] for d in made if d not in tried), "the others stay withheld"
    kept = [_reminded(decisions, on_time, "toner", NOW + timedelta(minutes=n)) for n in range(30)]
    assert all(d.status == "nothing_now" and WITHHELD in d.reasons[-1] for d in kept), "their orders come"
    record_outcome(decisions, tried[0].id, "accepted", NOW + timedelta(hours=1))  # the try helped: confirmed
    week = NOW + timedelta(days=7)
    store_needs(decisions, late, need(late, item="toner:usual", category="toner", due_in_days=8))
    again = _reminded(decisions, late, "toner", week)
    assert again.status != "nothing_now" and "exploration" not in (again.action or {}), again.reasons
    assert control.control_level(decisions, late, "toner") == ("remind_me", "firm_default"), "no level is written"
    assert _counts(decisions) == before, "trying a reminder writes no mandate and no consent"


def _counts(store: SqlDecisionStore) -> tuple[int, int]:
    with store.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(mandates)).scalar() or 0,
            conn.execute(select(func.count()).select_from(consents)).scalar() or 0,
        )
