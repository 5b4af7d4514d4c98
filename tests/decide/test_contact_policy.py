"""The contact policy: one budget across every kind of message, rolling frequency caps, quiet hours in the
customer's time zone, preferred channels; dropped or deferred with a reason; mandatory notices only wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.decide import contact_policy as cp
from rapport.decide.contact_policy import Contact, FrequencyCap, earliest_slot
from rapport.errors import InvalidInput
from rapport.store.decisions import SqlDecisionStore
from tests.decide.conftest import NOW, customer

CHANNELS = ["push", "email"]


def _send(store: SqlDecisionStore, cid: str, kind: str, at: datetime, mandatory: bool = False) -> cp.ContactPlan:
    """Plan and count a contact as the outbox does (the enqueuer records it at its planned time)."""
    plan = cp.plan_contact(store, cid, kind, CHANNELS, at, mandatory=mandatory)
    if plan.status != "dropped":
        assert plan.channel is not None
        cp.record_contact(store, cid, kind, plan.channel, plan.send_at, mandatory)
    return plan


def test_weekly_cap_counts_every_kind_and_drops_then_reopens(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "capped")
    assert _send(decisions, cid, "nudge", NOW).status == "now"
    assert _send(decisions, cid, "offer", NOW + timedelta(hours=1)).status == "now"
    third = _send(decisions, cid, "service_notice", NOW + timedelta(hours=2))
    assert third.status == "dropped", "the default 2 a week is one budget for nudges, offers and notices"
    assert "2 per 7 days on all channels" in third.reason
    later = _send(decisions, cid, "nudge", NOW + timedelta(days=7, minutes=1))
    assert later.status == "now", "the rolling window has moved past the first contact"


def test_a_mandatory_notice_is_deferred_never_dropped(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "mandatory")
    _send(decisions, cid, "nudge", NOW)
    _send(decisions, cid, "offer", NOW + timedelta(hours=1))
    notice = _send(decisions, cid, "automatic_order_notice", NOW + timedelta(hours=2), mandatory=True)
    assert notice.status == "deferred"
    assert notice.send_at == NOW + timedelta(days=7), "it waits until the first contact leaves the window"
    assert "frequency cap" in notice.reason
    nudge = cp.plan_contact(decisions, cid, "nudge", CHANNELS, NOW + timedelta(days=7, minutes=30))
    assert nudge.status == "deferred", "the deferred notice already holds its slot in the budget"
    assert nudge.send_at == NOW + timedelta(days=7, hours=1), "until the offer leaves the window"


def test_monthly_cap_and_per_channel_caps(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "monthly")
    cp.set_contact_policy(decisions, cid, {"caps": [{"channel": "*", "days": 30, "max": 3}, "push:7:1"]}, NOW)
    first = _send(decisions, cid, "nudge", NOW)
    assert (first.status, first.channel) == ("now", "push")
    second = _send(decisions, cid, "nudge", NOW + timedelta(hours=1))
    assert (second.status, second.channel) == ("now", "email"), "push is full this week: the next channel goes now"
    assert _send(decisions, cid, "nudge", NOW + timedelta(days=8)).status == "now"
    assert _send(decisions, cid, "nudge", NOW + timedelta(days=9)).status == "dropped", "3 in 30 days"


def test_quiet_hours_in_the_customers_time_zone(decisions: SqlDecisionStore) -> None:
    quiet = SqlDecisionStore(decisions.settings.with_overrides(quiet_hours="21:00-08:00"), engine=decisions.engine)
    tokyo = customer(quiet, "tokyo", timezone="Asia/Tokyo")
    berlin = customer(quiet, "berlin", timezone="Europe/Berlin")
    at = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)  # 22:00 in Tokyo, 14:00 in Berlin
    plan = cp.plan_contact(quiet, tokyo, "nudge", CHANNELS, at)
    assert plan.status == "deferred"
    assert plan.send_at == datetime(2026, 3, 10, 23, 0, tzinfo=UTC), "08:00 the next morning in Tokyo"
    assert "quiet hours 21:00-08:00 (Asia/Tokyo)" in plan.reason
    assert cp.plan_contact(quiet, berlin, "nudge", CHANNELS, at).status == "now"
    cp.set_contact_policy(quiet, berlin, {"timezone": "America/New_York", "quiet_hours": "07:00-10:00"}, NOW)
    assert cp.policy_of(quiet, berlin).timezone == "America/New_York", "the customer's own setting beats traits"
    assert cp.plan_contact(quiet, berlin, "nudge", CHANNELS, at).send_at == datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


def test_too_long_a_deferral_drops_an_ordinary_contact_but_not_a_mandatory_one(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "paused")
    cp.set_contact_policy(decisions, cid, {"caps": ["*:7:0"]}, NOW)
    assert cp.plan_contact(decisions, cid, "nudge", CHANNELS, NOW).status == "dropped"
    with pytest.raises(InvalidInput, match="channel"):
        cp.plan_contact(decisions, cid, "nudge", [], NOW)


def test_preferred_channel_wins_ties(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "prefers")
    assert cp.plan_contact(decisions, cid, "nudge", ["push", "email"], NOW).channel == "push"
    cp.set_contact_policy(decisions, cid, {"preferred_channels": ["email", "push"]}, NOW)
    assert cp.plan_contact(decisions, cid, "nudge", ["push", "email"], NOW).channel == "email"
    with pytest.raises(InvalidInput, match="preferred_channels"):
        cp.set_contact_policy(decisions, cid, {"preferred_channels": ["pigeon"]}, NOW)
    with pytest.raises(InvalidInput, match="Time zone"):
        cp.set_contact_policy(decisions, cid, {"timezone": "Mars/Olympus"}, NOW)
    with pytest.raises(InvalidInput, match="Quiet hours"):
        cp.set_contact_policy(decisions, cid, {"quiet_hours": "late"}, NOW)
    cp.set_contact_policy(decisions, cid, {"preferred_channels": None}, NOW)
    assert cp.policy_of(decisions, cid).customised == ()


def test_fatigue_grows_with_the_budget_used_and_a_retry_counts_once(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "tired")
    assert cp.contact_cost(decisions, cid, NOW) == 0.0
    assert cp.record_contact(decisions, cid, "nudge", "push", NOW, key="k1") is True
    assert cp.record_contact(decisions, cid, "nudge", "push", NOW, key="k1") is False
    assert cp.contact_cost(decisions, cid, NOW) == 0.5
    cp.record_contact(decisions, cid, "offer", "email", NOW + timedelta(hours=1))
    assert cp.contact_cost(decisions, cid, NOW + timedelta(hours=2)) == 1.0
    assert decisions.forget_contacts(cid, ["k1"]) == 1
    assert cp.contact_cost(decisions, cid, NOW + timedelta(hours=2)) == 0.5


@given(
    gaps=st.lists(st.integers(min_value=0, max_value=72 * 60), min_size=1, max_size=25),
    limit=st.integers(min_value=1, max_value=3),
    days=st.integers(min_value=1, max_value=7),
    mandatory=st.lists(st.booleans(), min_size=25, max_size=25),
)
def test_no_rolling_window_ever_holds_more_than_the_cap(
    gaps: list[int], limit: int, days: int, mandatory: list[bool]
) -> None:
    """Whatever the request times, every contact placed (now or deferred) keeps every window within the cap."""
    policy = cp.ContactPolicy((FrequencyCap("*", days, limit),), None, "UTC", ("push",), timedelta(hours=72))
    from zoneinfo import ZoneInfo

    log: list[Contact] = []
    at = NOW
    for gap, must in zip(gaps, mandatory, strict=False):
        at += timedelta(minutes=gap)
        until = at + (cp.MANDATORY_HORIZON if must else policy.max_defer)
        slot, _ = earliest_slot(policy, log, "push", at, until, ZoneInfo("UTC"))
        if must:
            assert slot is not None, "a mandatory contact always finds a slot"
        if slot is not None:
            assert slot >= at
            log.append(Contact("x", "push", slot))
    times = sorted(c.at for c in log)
    window = timedelta(days=days)
    for start in times:
        assert sum(1 for t in times if start <= t < start + window) <= limit
