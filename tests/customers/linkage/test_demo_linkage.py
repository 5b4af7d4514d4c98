"""The demo finds its linkage-only people: call-centre records joined to web accounts with no shared identifier."""

from __future__ import annotations

from pathlib import Path

from rapport.config import Settings
from rapport.demo.run import run_demo
from rapport.store.store import Store


def test_the_demo_reports_cross_division_merges_found_by_linkage(tmp_path: Path) -> None:
    store = Store(Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}"))
    report = run_demo(store, customers=300)
    linkage = report["linkage"]
    assert linkage["linkage_only_people"] >= 5
    assert linkage["linkage_only_joined"] == linkage["linkage_only_people"]
    assert linkage["wrong_merges"] == 0
    example = linkage["example"]
    assert example["call_centre_record"].startswith("crm-") and example["match_probability"] >= 0.99
    assert example["fields"]["birth_date"].startswith("Exact")
    assert report["stitching"]["mixed_profiles"] == 0
