"""Learning the level of control each customer wants: step back (and ask) after cancelled automatic orders, offer
(never grant) a mandate to a customer who always accepts the reminder, and never create a mandate or a consent."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from rapport.decide import control
from rapport.decide.engine import decide
from rapport.decide.outcomes import OUTCOMES, record_outcome
from rapport.decide.situations import Situation
from rapport.repeat.preferences import (
    AUTO_CANCELS,
    EXPLORE_AFTER_DAYS,
    EXPLORE_PROBABILITY,
    OFFER_AFTER,
    Turn,
    learn,
    may_explore_up,
    scores_of,
)
from rapport.respond import automatic
from rapport.store.decisions import SqlDecisionStore
from rapport.store.tables import consents, control_levels, mandates, outbox_actions, preference_prompts
from tests.decide.conftest import NOW, customer, need, store_needs, toner_order
from tests.decide.test_engine import _grant, _mandate

NEED_DUE, APP_OPEN = Situation("need_due"), Situation("app_open")


def _toner(store: SqlDecisionStore, name: str) -> str:
    cid = customer(store, name, orders=[toner_order(2), toner_order(2), toner_order(1)])
    store_needs(store, cid, need(cid))
    return cid


def _prompts(store: SqlDecisionStore, cid: str) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(preference_prompts).where(preference_prompts.c.customer_id == cid)).all()
    return [dict(row._mapping) for row in rows]


def test_three_cancelled_automatic_orders_move_the_customer_back_to_reminders_and_ask(
    decisions: SqlDecisionStore,
) -> None:
    cid = _toner(decisions, "canceller")
    control.set_control_level(decisions, cid, "toner", "do_it_for_me", NOW - timedelta(days=1))
    _grant(decisions, cid, "automatic_execution", "contact:email")
    _mandate(decisions, cid)
    for n in range(AUTO_CANCELS):
        at = NOW + timedelta(hours=n)
        assert control.control_level(decisions, cid, "toner") == ("do_it_for_me", "explicit"), f"after {n} cancels"
        made = decide(decisions, cid, NEED_DUE, at)
        assert made.experience == "automatic_execution" and made.action is not None, made.reasons
        automatic.cancel_automatic_order(decisions, cid, made.action["order_id"], at + timedelta(minutes=5))
        record_outcome(decisions, made.id, "cancelled", at + timedelta(minutes=5))
    assert control.control_level(decisions, cid, "toner") == ("remind_me", "learned"), "stepped back"
    [prompt] = _prompts(decisions, cid)
    assert prompt["kind"] == "confirm_switch_back" and "switched you back to reminders" in prompt["message"]
    questions = decisions.actions_of(cid, ["pending"], ["app"])
    assert [q["kind"] for q in questions] == ["question"], "the customer is asked, through the outbox"
    assert questions[0]["payload"]["prompt_id"] == prompt["id"]

    later = NOW + timedelta(hours=5)
    reminder = decide(decisions, cid, NEED_DUE, later)
    assert reminder.experience == "coach_behavior" and reminder.action is not None
    assert [p["kind"] for p in reminder.action["prompts"]] == ["confirm_switch_back"], "asked with the reminder"
    assert any("keep it?" in reason for reason in reminder.reasons)
    assert automatic.list_automatic_orders(decisions, cid)[-1].status == "cancelled", "no new automatic order"

    control.set_control_level(decisions, cid, "toner", "do_it_for_me", later + timedelta(hours=1))  # "no: automate"
    assert control.control_level(decisions, cid, "toner") == ("do_it_for_me", "explicit"), "their answer wins"
    answered = decide(decisions, cid, NEED_DUE, later + timedelta(hours=2))
    assert answered.experience == "automatic_execution"
    assert answered.action is not None and "prompts" not in answered.action, "an answered prompt is not asked again"

    for n in range(AUTO_CANCELS):  # they keep cancelling: stepped back again, and asked again
        at = later + timedelta(hours=2 + n)
        made = answered if n == 0 else decide(decisions, cid, NEED_DUE, at)
        assert made.action is not None and made.action["type"] == "automatic_order", made.reasons
        automatic.cancel_automatic_order(decisions, cid, made.action["order_id"], at + timedelta(minutes=5))
        record_outcome(decisions, made.id, "cancelled", at + timedelta(minutes=5))
    assert control.control_level(decisions, cid, "toner") == ("remind_me", "learned")
    assert [p["kind"] for p in _prompts(decisions, cid)] == ["confirm_switch_back"] * 2
    again = decide(decisions, cid, NEED_DUE, later + timedelta(hours=8))
    assert again.action is not None and len(again.action["prompts"]) == 1, "only the question not yet answered"


def test_a_customer_who_always_accepts_the_reminder_is_offered_a_mandate_never_given_one(
    decisions: SqlDecisionStore,
) -> None:
    cid = _toner(decisions, "accepter")
    _grant(decisions, cid, "contact:email")
    for n in range(OFFER_AFTER):
        at = NOW + timedelta(days=7 * n)  # one a week: within the weekly contact cap
        store_needs(decisions, cid, need(cid, now=at))
        made = decide(decisions, cid, NEED_DUE, at)
        assert made.experience == "coach_behavior" and made.status in ("act", "deferred"), made.reasons
        record_outcome(decisions, made.id, "accepted", at + timedelta(hours=1))
        record_outcome(decisions, made.id, "converted", at + timedelta(hours=2))
        offers = [p for p in _prompts(decisions, cid) if p["kind"] == "offer_mandate"]
        assert len(offers) == (1 if n == OFFER_AFTER - 1 else 0)
    kinds = sorted(p["kind"] for p in _prompts(decisions, cid))
    assert kinds == ["choose_level", "offer_mandate"], "asked how to help at the first outcome, then offered"
    [prompt] = [p for p in _prompts(decisions, cid) if p["kind"] == "offer_mandate"]
    assert prompt["details"]["sku"] == "TONER-BK-305"
    assert control.control_level(decisions, cid, "toner") == ("remind_me", "firm_default"), "the level stays"
    shown = decide(decisions, cid, APP_OPEN, NOW + timedelta(days=7 * OFFER_AFTER - 7, hours=3))
    assert shown.action is not None
    [offer] = [p for p in shown.action["prompts"] if p["kind"] == "offer_mandate"]
    assert "order it for you" in offer["message"]
    with decisions.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(mandates)) == 0, "offered, never granted"
    queued = [a["payload"].get("kind") for a in decisions.actions_of(cid, ["pending"], ["app"])]
    assert queued == ["choose_level"], "only the question is queued; an offer waits for the customer's visit"


def test_a_purchase_on_their_own_visit_speaks_for_deciding_alone_not_for_the_reminder() -> None:
    reminder = Turn("coach_behavior", "ignored", "SKU", decision_id="r1")
    bought = [Turn("coach_behavior", "accepted", "SKU", decision_id=f"v{n}", inbound=True) for n in range(3)]
    scores, counts = scores_of([*bought, reminder, reminder, reminder])
    assert counts == {"i_choose": 3, "remind_me": 3}, "the visits count for I choose, the reminders for remind me"
    assert scores["i_choose"] > 0.5 > scores["remind_me"]
    learned = learn([reminder, *bought, reminder, reminder], "remind_me", "learned")
    assert learned.level == "i_choose" and learned.prompt_kind == "choose_level", "stopped reminding, and asked"
    nudged = [Turn("coach_behavior", "accepted", "SKU", decision_id=f"n{n}") for n in range(3)]
    assert scores_of(nudged)[1] == {"remind_me": 3}, "a reminder they acted on still counts for reminders"


def test_a_refusal_moves_off_the_default_a_chosen_level_needs_more_and_is_asked_about_once() -> None:
    dismissed = Turn("coach_behavior", "dismissed", "SKU", NOW, "d1")
    moved = learn([dismissed], "remind_me", "firm_default")
    assert moved.level == "i_choose" and moved.prompt_kind == "choose_level", "nobody chose the default"
    accepted = Turn("coach_behavior", "accepted", "SKU", NOW - timedelta(days=7), "d0")
    kept = learn([dismissed, accepted], "remind_me", "firm_default")
    assert kept.level is None, "one refusal after an accepted reminder is not enough"
    on_learned = learn([dismissed, accepted], "remind_me", "learned", NOW - timedelta(days=8))
    assert on_learned.level is None and on_learned.prompt_kind == "choose_level", "but it is asked about"
    assert on_learned.evidence["refused"] == "dismissed"
    complaint = Turn("coach_behavior", "complained", "SKU", NOW, "d2")
    assert learn([complaint], "remind_me", "learned").level == "i_choose", "a complaint is evidence enough"
    chosen = NOW - timedelta(days=30)
    refusals = [Turn("coach_behavior", "dismissed", "SKU", NOW - timedelta(days=n), f"e{n}") for n in range(3)]
    asked = learn(refusals, "remind_me", "explicit", chosen)
    assert asked.prompt_kind == "choose_level" and asked.evidence["since"] == f"chosen:{chosen.isoformat()}"
    before = learn(refusals, "remind_me", "explicit", NOW - timedelta(days=1))
    assert before.prompt_kind is None, "refusals before the choice do not question it"


def test_reminders_for_different_items_offer_nothing() -> None:
    turns = [Turn("coach_behavior", "accepted", f"SKU-{n % 2}", decision_id=str(n)) for n in range(OFFER_AFTER)]
    assert learn(turns, "remind_me", "firm_default").prompt_kind == "choose_level", "asked how to help, no offer"
    assert learn(turns, "remind_me", "learned").prompt_kind is None
    same = [Turn("coach_behavior", "accepted", "SKU", decision_id=str(n)) for n in range(OFFER_AFTER)]
    assert learn(same, "remind_me", "firm_default").prompt_kind == "offer_mandate"
    mixed = [*same[:-1], Turn("coach_behavior", "dismissed", "SKU", decision_id="x")]
    assert learn(mixed, "remind_me", "learned").prompt_kind is None


TURNS = st.lists(
    st.tuples(
        st.sampled_from(["respond_to_desire", "curated_offering", "coach_behavior", "automatic_execution"]),
        st.sampled_from(OUTCOMES),
        st.sampled_from(["SKU-A", "SKU-B", None]),
    ),
    max_size=40,
)


@given(turns=TURNS, level=st.sampled_from(control.LEVELS))
def test_pure_learning_never_learns_automation(turns: list[tuple[str, str, str | None]], level: str) -> None:
    learned = learn([Turn(e, o, s, decision_id=str(n)) for n, (e, o, s) in enumerate(turns)], level, "explicit")
    assert learned.level in (None, *control.LEARNABLE)
    assert learned.prompt_kind in (None, "confirm_switch_back", "offer_mandate", "choose_level")


def _counts(store: SqlDecisionStore) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0) for t in (mandates, consents)}


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    stream=st.lists(
        st.tuples(st.sampled_from(["need_due", "app_open"]), st.lists(st.sampled_from(OUTCOMES), max_size=3)),
        min_size=1,
        max_size=12,
    ),
    automate=st.booleans(),
)
def test_nothing_learned_ever_creates_a_mandate_or_a_consent(
    decisions: SqlDecisionStore, stream: list[tuple[str, list[str]]], automate: bool
) -> None:
    cid = _toner(decisions, f"stream-{uuid.uuid4().hex[:12]}")
    _grant(decisions, cid, "contact:email", "contact:push")
    if automate:
        control.set_control_level(decisions, cid, "toner", "do_it_for_me", NOW - timedelta(days=1))
    before = _counts(decisions)
    for n, (touchpoint, outcomes) in enumerate(stream):
        made = decide(decisions, cid, Situation(touchpoint), NOW + timedelta(hours=n))  # type: ignore[arg-type]
        for m, outcome in enumerate(outcomes):
            record_outcome(decisions, made.id, outcome, NOW + timedelta(hours=n, minutes=m + 1))
    assert _counts(decisions) == before, "learning wrote no mandate and no consent"
    with decisions.engine.connect() as conn:
        learned = conn.execute(
            select(control_levels.c.level).where(control_levels.c.customer_id == cid, control_levels.c.source == "learned")
        ).scalars().all()  # fmt: skip
        kinds = set(conn.execute(select(outbox_actions.c.kind).where(outbox_actions.c.customer_id == cid)).scalars())
    assert "do_it_for_me" not in learned
    assert kinds <= {"nudge", "offer", "question"}


def test_cancelling_automatic_orders_over_http_teaches_the_step_back(decisions: SqlDecisionStore) -> None:
    from fastapi.testclient import TestClient

    from rapport.api.app import create_app
    from rapport.store.keys import create_key

    cid = _toner(decisions, "http-canceller")
    control.set_control_level(decisions, cid, "toner", "do_it_for_me", NOW - timedelta(days=1))
    _grant(decisions, cid, "automatic_execution", "contact:email")
    _mandate(decisions, cid)
    _, key = create_key(decisions.engine, ["write"], "app")
    with TestClient(create_app(decisions), headers={"Authorization": f"Bearer {key}"}) as client:
        for n in range(AUTO_CANCELS):
            made = decide(decisions, cid, NEED_DUE, NOW + timedelta(hours=n))
            assert made.action is not None and made.action["type"] == "automatic_order"
            path = f"/v1/customers/{cid}/automatic-orders/{made.action['order_id']}/cancel"
            assert client.post(path).status_code == 200
            assert client.post(path).status_code == 200, "cancelling twice is harmless"
            assert [o.outcome for o in decisions.outcomes_of(made.id)] == ["cancelled"]
    assert control.control_level(decisions, cid, "toner") == ("remind_me", "learned")
    assert [p["kind"] for p in _prompts(decisions, cid)] == ["confirm_switch_back"]


def test_erasure_removes_what_learning_kept_about_the_person(decisions: SqlDecisionStore) -> None:
    from rapport.store.tables import bandit_counts

    cid = _toner(decisions, "erase-learner")
    _grant(decisions, cid, "contact:email")
    for n in range(OFFER_AFTER):
        at = NOW + timedelta(days=7 * n)
        store_needs(decisions, cid, need(cid, now=at))
        made = decide(decisions, cid, NEED_DUE, at)
        record_outcome(decisions, made.id, "accepted", at + timedelta(hours=1))

    def held() -> dict[str, int]:
        with decisions.engine.connect() as conn:
            return {
                t.name: int(conn.scalar(select(func.count()).select_from(t).where(t.c.customer_id == cid)) or 0)
                for t in (preference_prompts, bandit_counts)
            }

    assert all(held().values()), "a prompt and the person's own bandit counts exist"
    decisions.erase(cid)
    assert not any(held().values())
    with decisions.engine.connect() as conn:
        population = conn.scalar(
            select(func.count()).select_from(bandit_counts).where(bandit_counts.c.customer_id == "*")
        )
    assert population, "the population's counts (no person's rows) stay"


def test_a_learned_i_choose_is_tried_back_up_only_when_its_purchases_do_not_come() -> None:
    learned_at = NOW - timedelta(days=EXPLORE_AFTER_DAYS + 12)
    rows = [control.ControlSetting("c", "toner", "i_choose", "learned", learned_at, {"was": "remind_me"})]
    assert may_explore_up(rows, "toner", [], NOW), "learned a while ago, nothing bought on their own since"
    bought = Turn("respond_to_desire", "accepted", "SKU", NOW - timedelta(days=3), "v", inbound=True)
    assert not may_explore_up(rows, "toner", [bought], NOW), "they buy by themselves: no reminder"
    assert may_explore_up(rows, "toner", [bought], NOW, overdue=lambda: True), (
        "but their latest order is overdue: tried"
    )
    tried = Turn("coach_behavior", "ignored", "SKU", NOW - timedelta(days=5), "t")
    assert not may_explore_up(rows, "toner", [tried], NOW), "one try per EXPLORE_AFTER_DAYS"
    fresh = [control.ControlSetting("c", "toner", "i_choose", "learned", NOW - timedelta(days=3))]
    assert not may_explore_up(fresh, "toner", [], NOW), "not right after learning it"
    chosen = [*rows, control.ControlSetting("c", "toner", "i_choose", "explicit", learned_at)]
    assert not may_explore_up(chosen, "toner", [], NOW), "a level the customer chose is never explored"
    taken = Turn("coach_behavior", "accepted", "SKU", NOW, "t2")
    back = learn([taken], "i_choose", "learned", learned_at)
    assert back.level == "remind_me" and back.evidence["explored"], "they acted on the tried reminder: back up"
    assert learn([tried], "i_choose", "learned", learned_at).level is None, "an ignored try teaches nothing new"


def test_exploring_up_logs_its_propensity_and_an_acted_on_try_restores_reminders(
    decisions: SqlDecisionStore,
) -> None:
    cid = _toner(decisions, "explore")
    _grant(decisions, cid, "contact:email")
    learned_at = NOW - timedelta(days=EXPLORE_AFTER_DAYS + 1)
    decisions.put_control_level(control.ControlSetting(cid, "toner", "i_choose", "learned", learned_at))
    before = _counts(decisions)
    made = [decide(decisions, cid, NEED_DUE, NOW + timedelta(minutes=n)) for n in range(30)]
    tried = [d for d in made if d.experience == "coach_behavior"]
    assert tried and len(tried) < len(made), "each eligible decision tries with probability EXPLORE_PROBABILITY"
    assert all(d.action["exploration"]["propensity"] == EXPLORE_PROBABILITY for d in tried)
    assert all(d.status == "nothing_now" for d in made if d not in tried), "the others leave them alone"
    record_outcome(decisions, tried[0].id, "accepted", NOW + timedelta(hours=1))
    assert control.control_level(decisions, cid, "toner") == ("remind_me", "learned")
    assert _counts(decisions) == before, "trying a reminder writes no mandate and no consent"
    again = decide(decisions, cid, NEED_DUE, NOW + timedelta(hours=2))
    assert "exploration" not in (again.action or {}), "back on reminders: nothing to explore"
