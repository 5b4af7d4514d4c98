"""The decision: each control level yields its experience, under consent, mandate and the contact policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rapport.decide import consent, control
from rapport.decide.engine import decide
from rapport.decide.situations import Situation
from rapport.request.training import train_offer_model
from rapport.respond import automatic
from rapport.respond.mandates import MandateTerms, create_mandate
from rapport.respond.outbox import get_action
from rapport.store.decisions import SqlDecisionStore
from tests.decide.conftest import NOW, customer, need, store_needs, toner_order

APP_OPEN = Situation("app_open")
NEED_DUE = Situation("need_due")


def _toner_customer(store: SqlDecisionStore, name: str, level: str | None = None, **kw: object) -> str:
    cid = customer(store, name, orders=[toner_order(2), toner_order(2), toner_order(1)], **kw)  # type: ignore[arg-type]
    store_needs(store, cid, need(cid))
    if level:
        control.set_control_level(store, cid, "toner", level, NOW)
    return cid


def _grant(store: SqlDecisionStore, cid: str, *purposes: str) -> None:
    for purpose in purposes:
        consent.record_consent(store, cid, purpose, True, "test", NOW - timedelta(days=1))


def _mandate(store: SqlDecisionStore, cid: str, **terms: object) -> str:
    made = create_mandate(
        store,
        cid,
        MandateTerms(
            "category",
            "toner",
            per_order_cap=200.0,
            monthly_cap=400.0,
            notice_hours=24,
            cancel_window_hours=24,
            **terms,
        ),  # type: ignore[arg-type]
        NOW - timedelta(days=2),
    )
    return made.id


def test_i_choose_shows_the_one_click_reorder_in_session_and_never_reaches_out(decisions: SqlDecisionStore) -> None:
    cid = _toner_customer(decisions, "chooser", "i_choose")
    inbound = decide(decisions, cid, APP_OPEN, NOW)
    assert (inbound.status, inbound.experience) == ("act", "respond_to_desire")
    assert inbound.action is not None
    assert inbound.action["type"] == "one_click_reorder"
    assert (inbound.action["sku"], inbound.action["quantity"], inbound.action["channel"]) == ("TONER-BK-305", 2, "app")
    outbound = decide(decisions, cid, NEED_DUE, NOW)
    assert outbound.status == "nothing_now" and outbound.experience == "respond_to_desire"
    assert any("i_choose" in reason for reason in outbound.reasons)
    assert [d.id for d in decisions.decisions_of(cid)] == [outbound.id, inbound.id] or {
        d.id for d in decisions.decisions_of(cid)
    } == {outbound.id, inbound.id}, "every decision is logged, nothing now included"


def test_show_me_options_curates_with_personalisation_consent_only(decisions: SqlDecisionStore) -> None:
    cid = _toner_customer(decisions, "browser", "show_me_options")
    without = decide(decisions, cid, APP_OPEN, NOW)
    assert without.experience == "respond_to_desire", "no personalisation consent: the plain reorder instead"
    assert any("personalisation" in reason for reason in without.reasons)
    _grant(decisions, cid, "personalisation")
    curated = decide(decisions, cid, APP_OPEN, NOW)
    assert (curated.status, curated.experience) == ("act", "curated_offering")
    assert curated.action is not None and curated.action["type"] == "curated_options"
    assert [o["sku"] for o in curated.action["options"]] == ["TONER-BK-305"]
    assert "ranker" in curated.model_versions and "decide" in curated.model_versions


def test_remind_me_sends_a_nudge_on_a_consented_channel(decisions: SqlDecisionStore) -> None:
    cid = _toner_customer(decisions, "reminded", "remind_me")
    silent = decide(decisions, cid, NEED_DUE, NOW)
    assert silent.status == "nothing_now" and "no contact consent on any channel" in silent.reasons[-1]
    _grant(decisions, cid, "contact:email")
    nudge = decide(decisions, cid, NEED_DUE, NOW)
    assert (nudge.status, nudge.experience) == ("act", "coach_behavior")
    assert nudge.action is not None and nudge.action["channel"] == "email"
    queued = get_action(decisions, nudge.action["outbox_action_id"])
    assert (queued.kind, queued.channel, queued.status) == ("nudge", "email", "pending")
    assert "run out" in nudge.action["message"]


def test_a_repeated_nudge_names_the_action_queued_first_and_counts_one_contact(decisions: SqlDecisionStore) -> None:
    """The decision, its outbox action and its contact are written together; the same need the same day queues once."""
    cid = _toner_customer(decisions, "twice", "remind_me")
    _grant(decisions, cid, "contact:email")
    first = decide(decisions, cid, NEED_DUE, NOW)
    again = decide(decisions, cid, NEED_DUE, NOW + timedelta(minutes=1))
    assert first.action is not None and again.action is not None
    assert again.action["outbox_action_id"] == first.action["outbox_action_id"]
    assert [a["id"] for a in decisions.actions_of(cid, ["pending"])] == [first.action["outbox_action_id"]]
    logged = {d.id: d for d in decisions.decisions_of(cid)}
    assert logged[again.id].action["outbox_action_id"] == first.action["outbox_action_id"]  # type: ignore[index]
    assert len(decisions.contacts_between(cid, NOW - timedelta(days=1), NOW + timedelta(days=1))) == 1


def test_remind_me_in_quiet_hours_is_deferred_and_says_so(decisions: SqlDecisionStore) -> None:
    quiet = SqlDecisionStore(decisions.settings.with_overrides(quiet_hours="21:00-08:00"), engine=decisions.engine)
    cid = _toner_customer(quiet, "night", "remind_me", timezone="Europe/Berlin")
    _grant(quiet, cid, "contact:push")
    late = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    store_needs(quiet, cid, need(cid, now=late))
    decision = decide(quiet, cid, NEED_DUE, late)
    assert decision.status == "deferred"
    assert decision.action is not None and decision.action["send_at"] == "2026-03-11T07:00:00+00:00"
    assert any("quiet hours" in reason for reason in decision.reasons)


def test_the_weekly_cap_stops_a_third_contact(decisions: SqlDecisionStore) -> None:
    cid = _toner_customer(decisions, "busy", "remind_me")
    _grant(decisions, cid, "contact:email")
    coffee = need(cid, item="COFFEE-1", category="coffee", kind="replenish", due_in_days=0)
    pods = need(cid, item="PODS-2", category="pods", kind="replenish", due_in_days=0)
    first = decide(decisions, cid, NEED_DUE, NOW)
    store_needs(decisions, cid, coffee)
    second = decide(decisions, cid, NEED_DUE, NOW + timedelta(hours=1))
    store_needs(decisions, cid, pods)
    third = decide(decisions, cid, NEED_DUE, NOW + timedelta(hours=2))
    assert [first.status, second.status] == ["act", "act"]
    assert third.status == "nothing_now"
    assert "fatigue" in third.reasons[-1] or "contact policy" in third.reasons[-1]


def test_do_it_for_me_schedules_an_automatic_order_only_with_mandate_and_consent(decisions: SqlDecisionStore) -> None:
    cid = _toner_customer(decisions, "delegator", "do_it_for_me")
    _grant(decisions, cid, "contact:email")
    no_consent_no_mandate = decide(decisions, cid, NEED_DUE, NOW)
    assert no_consent_no_mandate.experience == "coach_behavior"
    assert any("no automatic_execution consent" in r for r in no_consent_no_mandate.reasons)
    _grant(decisions, cid, "automatic_execution")
    no_mandate = decide(decisions, cid, NEED_DUE, NOW)
    assert no_mandate.experience == "coach_behavior" and any("no active mandate" in r for r in no_mandate.reasons)
    assert automatic.list_automatic_orders(decisions, cid) == []
    mandate_id = _mandate(decisions, cid)
    automated = decide(decisions, cid, NEED_DUE, NOW)
    assert (automated.status, automated.experience) == ("act", "automatic_execution")
    assert automated.action is not None
    assert (automated.action["type"], automated.action["mandate_id"], automated.action["quantity"]) == (
        "automatic_order",
        mandate_id,
        2,
    )
    orders = automatic.list_automatic_orders(decisions, cid)
    assert [(o.status, o.sku) for o in orders] == [("scheduled", "TONER-BK-305")]
    again = decide(decisions, cid, NEED_DUE, NOW + timedelta(minutes=5))
    assert again.status == "nothing_now" and "already scheduled" in again.reasons[-1]
    assert len(automatic.list_automatic_orders(decisions, cid)) == 1, "never a second order for the same need"


def test_mandate_without_consent_never_automates(decisions: SqlDecisionStore) -> None:
    cid = _toner_customer(decisions, "mandated", "do_it_for_me")
    _mandate(decisions, cid)
    decision = decide(decisions, cid, NEED_DUE, NOW)
    assert decision.experience != "automatic_execution"
    assert automatic.list_automatic_orders(decisions, cid) == []


def test_withdrawing_automatic_execution_cancels_the_pending_order(decisions: SqlDecisionStore) -> None:
    cid = _toner_customer(decisions, "withdrawer", "do_it_for_me")
    _grant(decisions, cid, "automatic_execution")
    _mandate(decisions, cid)
    scheduled = decide(decisions, cid, NEED_DUE, NOW)
    assert scheduled.experience == "automatic_execution"
    change = consent.record_consent(decisions, cid, "automatic_execution", False, "app", NOW + timedelta(hours=1))
    assert change.cancelled_orders == [scheduled.action["order_id"]]  # type: ignore[index]
    assert [o.status for o in automatic.list_automatic_orders(decisions, cid)] == ["cancelled"]
    after = decide(decisions, cid, NEED_DUE, NOW + timedelta(hours=2))
    assert after.experience != "automatic_execution"


def test_an_automatic_order_waits_until_the_lead_time(decisions: SqlDecisionStore) -> None:
    cid = _toner_customer(decisions, "early", "do_it_for_me")
    store_needs(decisions, cid, need(cid, due_in_days=20))
    _grant(decisions, cid, "automatic_execution")
    _mandate(decisions, cid)
    decision = decide(decisions, cid, NEED_DUE, NOW)
    assert decision.status == "nothing_now" and "due in 20.0 days" in decision.reasons[-1]
    assert automatic.list_automatic_orders(decisions, cid) == []


def test_an_open_complaint_comes_first(decisions: SqlDecisionStore) -> None:
    cid = _toner_customer(decisions, "unhappy", "remind_me")
    complaint = need(cid, item=None, category="service", kind="issue", due_in_days=0)
    store_needs(decisions, cid, need(cid), complaint)
    at_call_centre = decide(decisions, cid, Situation("call_centre"), NOW)
    assert at_call_centre.action is not None and at_call_centre.action["type"] == "service_follow_up"
    in_app = decide(decisions, cid, APP_OPEN, NOW)
    assert in_app.status == "nothing_now" and "complaint" in in_app.reasons[-1]


def test_no_need_and_low_confidence_say_nothing_now(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "unknown")
    assert "no need is recognised" in decide(decisions, cid, APP_OPEN, NOW).reasons[-1]
    store_needs(decisions, cid, need(cid, confidence=0.1))
    assert "below" in decide(decisions, cid, APP_OPEN, NOW).reasons[-1]


def test_withdrawing_consent_over_http_cancels_the_pending_order(decisions: SqlDecisionStore) -> None:
    from fastapi.testclient import TestClient

    from rapport.api.app import create_app
    from rapport.store.keys import create_key

    cid = _toner_customer(decisions, "http-withdrawer", "do_it_for_me")
    _grant(decisions, cid, "automatic_execution")
    _mandate(decisions, cid)
    scheduled = decide(decisions, cid, NEED_DUE, NOW)
    assert scheduled.action is not None and scheduled.action["type"] == "automatic_order"
    _, key = create_key(decisions.engine, ["decide"], "preference-centre")
    with TestClient(create_app(decisions), headers={"Authorization": f"Bearer {key}"}) as client:
        body = {"consents": {"automatic_execution": False}, "source": "preference_centre"}
        answer = client.put("/v1/customers/http-withdrawer@example.org/consents", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["changes"][0]["cancelled_orders"] == [scheduled.action["order_id"]]
    assert [o.status for o in automatic.list_automatic_orders(decisions, cid)] == ["cancelled"]


def test_show_me_options_takes_requests_ranker_within_stock(decisions: SqlDecisionStore) -> None:
    def line(sku: str, price: float) -> dict[str, object]:
        return {"products": [{"sku": sku, "category": "toner", "quantity": 1, "price": price}]}

    for n in range(6):  # people who buy the black toner also buy the colour set; one of them is out of stock
        customer(decisions, f"peer{n}", orders=[line("TONER-BK-305", 59.0), line("TONER-CL-305", 89.0),
                                                line("TONER-XL-305", 99.0), line("TONER-BK-305", 59.0)])  # fmt: skip
    cid = _toner_customer(decisions, "chooser2", "show_me_options")
    _grant(decisions, cid, "personalisation")
    stock = [
        {"sku": "TONER-BK-305", "category": "toner", "price": 59.0, "on_hand": 10},
        {"sku": "TONER-CL-305", "category": "toner", "price": 89.0, "on_hand": 3},
        {"sku": "TONER-XL-305", "category": "toner", "price": 99.0, "on_hand": 0},
    ]
    decisions.offers.save_catalogue(stock)
    model = train_offer_model(decisions.offers, now=NOW)
    curated = decide(decisions, cid, APP_OPEN, NOW)
    assert (curated.status, curated.experience) == ("act", "curated_offering")
    assert curated.action is not None
    offered = [o["sku"] for o in curated.action["options"]]
    assert "TONER-CL-305" in offered and "TONER-XL-305" not in offered, "the out-of-stock item never appears"
    assert all(o["reason"] for o in curated.action["options"])
    assert curated.model_versions["ranker"] == model.version
    consent.record_consent(decisions, cid, "personalisation:toner", False, "app", NOW)
    withheld = decide(decisions, cid, APP_OPEN, NOW + timedelta(minutes=1))
    assert withheld.experience == "respond_to_desire", "no personal options in a category the customer withdrew"
    assert any("no options to curate" in reason for reason in withheld.reasons)
