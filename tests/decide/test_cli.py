"""`rapport decide`: the same decision from the command line, logged with trigger "cli"."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.decide import control
from rapport.store.decisions import SqlDecisionStore
from tests.decide.conftest import NOW, customer, need, store_needs, toner_order


def test_rapport_decide_prints_and_logs_the_decision(decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "cli", orders=[toner_order(2)])
    store_needs(decisions, cid, need(cid))
    control.set_control_level(decisions, cid, "toner", "i_choose", NOW)
    url = decisions.settings.database_url
    args = ["decide", "cli@example.org", "--touchpoint", "store_visit", "--at", NOW.isoformat(), "--database", url]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    assert (made["experience"], made["action"]["type"], made["trigger"]) == (
        "respond_to_desire",
        "one_click_reorder",
        "cli",
    )
    assert [d.id for d in decisions.decisions_of(cid)] == [made["decision_id"]]
    bad = CliRunner().invoke(app, ["decide", "cli@example.org", "--touchpoint", "billboard", "--database", url])
    assert bad.exit_code == 2 and "billboard" in bad.output
