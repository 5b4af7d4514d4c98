"""The demo's main job end to end on a real store: `rapport demo --no-serve --json`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.config import Settings
from rapport.store.keys import authenticate
from rapport.store.store import Store


def test_the_demo_ingests_stitches_and_reports(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--json", "--customers", "300", "--database", url])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    ingestion, stitching = report["ingestion"], report["stitching"]
    assert ingestion["stored"] == ingestion["events"] > 10_000 and ingestion["rejected"] == 0
    assert stitching["people"] == 300
    assert stitching["mixed_profiles"] == 0  # no profile holds two people's identifiers
    assert stitching["records_before"] > stitching["profiles"]  # stitching joined records
    assert "phone=+498007272800" in stitching["shared_identifiers"]  # the switchboard stopped joining
    assert len(report["sample_profile"]["facts"]["channels"]) >= 4
    needs = report["needs"]
    assert {"depletion", "replenish"} <= set(needs["by_kind"]) and needs["customers"] > 200
    shown = {(n["category"], n["kind"]) for n in needs["examples"]}
    assert {("toner", "depletion"), ("coffee_pods", "replenish"), ("medication", "replenish")} <= shown
    assert all(n["reason"] for n in needs["examples"])
    store = Store(Settings(database_url=url))
    toner = next(n for n in needs["examples"] if n["category"] == "toner")
    assert any(n.kind == "depletion" and n.item == toner["item"] for n in store.read_needs(toner["customer_id"]))
    assert authenticate(store.engine, report["write_key"], "write").name == "demo-collector"
    side = report["customer_side"]  # the toner customer's own page has a reminder and a conversation
    assert side["customer_id"] == report["toner_auto_order"]["customer_id"] and side["awaiting_reply"]
    assert side["reminder"]["data_used"]["need"]["category"] == "vitamins" and side["messages"] == 3
    voice = report["voice"]  # a customer who complained in the last week shows an issue Need, and no selling
    assert voice["linked"] > 0 and voice["hurting_customer"]["decision"]["status"] == "nothing_now"
    hurting = store.read_needs(voice["hurting_customer"]["customer_id"])
    assert any(n.kind == "issue" and n.evidence.get("source") for n in hurting)
    # Running it again is idempotent: every event is a duplicate, nothing new is stored.
    again = json.loads(
        CliRunner().invoke(app, ["demo", "--no-serve", "--json", "--customers", "300", "--database", url]).stdout
    )
    assert again["ingestion"]["stored"] == 0 and again["ingestion"]["duplicates"] == ingestion["events"]
