"""Flywheel metrics per week: fit, needs met on time, contacts per customer, preference accuracy when the truth is
known; the same figures over HTTP (read scope) and from the CLI, with a PNG plot."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rapport.api.app import create_app
from rapport.cli.main import app
from rapport.decide.control import set_control_level
from rapport.decide.engine import decide
from rapport.decide.outcomes import record_outcome
from rapport.decide.situations import Situation
from rapport.errors import InvalidInput
from rapport.repeat.flywheel import ContactRecord, DecisionRecord, flywheel, flywheel_metrics, plot_flywheel
from rapport.store.decisions import SqlDecisionStore
from rapport.store.keys import create_key
from tests.decide.conftest import NOW, customer, need, store_needs, toner_order
from tests.decide.test_engine import _grant

MONDAY = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def _record(cid: str, day: int, outcome: str | None, *, due_in: float = 1.0, status: str = "act") -> DecisionRecord:
    at = MONDAY + timedelta(days=day)
    outcomes = ((outcome, at + timedelta(hours=2)),) if outcome else ()
    return DecisionRecord(cid, at, status, "coach_behavior", "toner", "TONER", at + timedelta(days=due_in), outcomes)


def test_the_flywheel_per_week_from_records() -> None:
    records = [
        _record("a", 0, "accepted"),
        _record("b", 1, "dismissed"),
        _record("c", 2, None, status="nothing_now"),
        _record("a", 7, "converted"),
        _record("b", 8, "accepted", due_in=-3.0),  # accepted, but days after the need fell due
    ]
    contacts = [ContactRecord("a", MONDAY), ContactRecord("b", MONDAY + timedelta(days=1))]
    truth = {("a", "toner"): "remind_me", ("b", "toner"): "i_choose"}
    first, second = flywheel(records, contacts, "week", truth)
    assert (first.start.isoformat(), first.decisions, first.acted, first.customers) == ("2026-03-09", 3, 2, 3)
    assert first.fit == pytest.approx(1 / 2)
    assert first.needs == 3 and first.needs_met_on_time == pytest.approx(1 / 3)
    assert first.contacts_per_customer == pytest.approx(2 / 3)
    assert first.preference_accuracy == pytest.approx(1 / 2), "a wants reminders (right), b wants to choose (wrong)"
    assert (second.fit, second.needs_met_on_time, second.contacts_per_customer) == (1.0, 0.5, 0.0)
    [month] = flywheel(records, contacts, "month")
    assert month.decisions == 5 and month.preference_accuracy is None
    with pytest.raises(InvalidInput, match="fortnight"):
        flywheel(records, contacts, "fortnight")


def _two_weeks_of_nudges(store: SqlDecisionStore) -> str:
    cid = customer(store, "wheel", orders=[toner_order(), toner_order()])
    _grant(store, cid, "contact:email")
    set_control_level(store, cid, "toner", "remind_me", NOW - timedelta(days=1))  # one dismissal keeps a choice
    for week, outcome in enumerate(["dismissed", "accepted"]):
        at = NOW + timedelta(days=7 * week)
        store_needs(store, cid, need(cid, now=at))
        made = decide(store, cid, Situation("need_due"), at)
        assert made.status in ("act", "deferred"), made.reasons
        record_outcome(store, made.id, outcome, at + timedelta(hours=1))
    return cid


def test_flywheel_from_the_store_over_http_and_from_the_cli(decisions: SqlDecisionStore, tmp_path: Path) -> None:
    cid = _two_weeks_of_nudges(decisions)
    weeks = flywheel_metrics(decisions, "week", truth={(cid, "toner"): "remind_me"})
    assert [(w.decisions, w.fit, w.contacts, w.preference_accuracy) for w in weeks] == [
        (1, 0.0, 1, 1.0),
        (1, 1.0, 1, 1.0),
    ]
    assert weeks[1].needs_met_on_time == 1.0 and weeks[0].needs_met_on_time == 0.0
    later = flywheel_metrics(decisions, "week", since=NOW + timedelta(days=3), truth={(cid, "toner"): "remind_me"})
    assert later == weeks[1:]

    _, read_key = create_key(decisions.engine, ["read"], "analyst")
    _, other_key = create_key(decisions.engine, ["write"], "tracker")
    with TestClient(create_app(decisions)) as client:
        answer = client.get("/v1/metrics/flywheel", headers={"Authorization": f"Bearer {read_key}"})
        assert answer.status_code == 200, answer.text
        assert [p["fit"] for p in answer.json()["periods"]] == [0.0, 1.0]
        assert answer.json()["periods"][0]["preference_accuracy"] is None
        monthly = client.get(
            "/v1/metrics/flywheel", params={"period": "month"}, headers={"Authorization": f"Bearer {read_key}"}
        )
        assert [p["decisions"] for p in monthly.json()["periods"]] == [2]
        assert client.get("/v1/metrics/flywheel").status_code == 401
        wrong = client.get("/v1/metrics/flywheel", headers={"Authorization": f"Bearer {other_key}"})
        assert wrong.status_code == 403
        naive = client.get(
            "/v1/metrics/flywheel",
            params={"since": "2026-03-01T00:00:00"},
            headers={"Authorization": f"Bearer {read_key}"},
        )
        assert naive.status_code in (400, 422), "a time without its zone is refused"

    truth = tmp_path / "truth.csv"
    truth.write_text(f"customer_id,category,level\n{cid},toner,i_choose\n")
    plot = tmp_path / "flywheel.png"
    url = decisions.settings.database_url
    args = ["metrics", "flywheel", "--database", url, "--truth", str(truth), "--plot", str(plot)]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert [p["preference_accuracy"] for p in printed["periods"]] == [0.0, 0.0], "the truth says i_choose"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000
    table = CliRunner().invoke(app, ["metrics", "flywheel", "--database", url, "--period", "month"])
    assert table.exit_code == 0 and "Flywheel per month" in table.stdout and "2.00" in table.stdout
    bad = CliRunner().invoke(app, ["metrics", "flywheel", "--database", url, "--period", "fortnight"])
    assert bad.exit_code == 2 and "fortnight" in bad.output


def test_an_empty_flywheel_cannot_be_plotted(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="nothing to plot"):
        plot_flywheel([], str(tmp_path / "empty.png"))
