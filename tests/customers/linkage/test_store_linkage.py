"""`rapport link --store` and the review queue on real stores (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from rapport.api.app import create_app
from rapport.cli.main import app
from rapport.customers.identifiers import Identifier
from rapport.customers.ingestion import ingest
from rapport.customers.linkage.proposals import decide_review, link_store
from rapport.customers.merge_listeners import add_merge_listener, remove_merge_listener
from rapport.customers.service import erase_customer, get_profile, merge_history
from rapport.errors import NotFound
from rapport.store.keys import create_key
from rapport.store.linkage import linkage_store
from rapport.store.store import Store
from rapport.store.tables import linkage_review_values, linkage_reviews, linkage_state
from tests.customers.linkage.people_events import account, call_centre, firm_messages


@pytest.fixture
def firm(store: Store) -> Iterator[Store]:
    messages, people = firm_messages(people=200, duplicates=6)
    messages.append(account(people[10], 10, user_id="u-second-account"))  # a second account: two user ids
    assert not ingest(store, messages, store.settings, source="test").rejected
    yield store


def _profile_of(store: Store, kind: str, value: str) -> str:
    return store.customer_by_identifier(Identifier(kind, value))


def test_linkage_merges_call_centre_records_into_accounts_and_keeps_everything(firm: Store) -> None:
    seen: list[tuple[str, str]] = []
    listener = add_merge_listener(lambda survivor, merged: seen.append((survivor, merged)))
    try:
        report = link_store(linkage_store(firm))
    finally:
        remove_merge_listener(listener)
    assert report.trained and report.merged == 6
    assert sorted(seen) == sorted((m["survivor_id"], m["merged_id"]) for m in report.merges)
    for n in range(6):
        account_id, crm_id = _profile_of(firm, "user_id", f"u{n}"), _profile_of(firm, "anonymous_id", f"crm-{n}")
        assert account_id == crm_id  # one profile now
        profile = get_profile(firm, f"crm-{n}")
        kinds = {i["kind"] for i in profile.identifiers}
        assert {"user_id", "email", "anonymous_id", "phone"} <= kinds  # every identifier kept
        assert len(profile.events) == 2  # both histories
        merge = next(m for m in merge_history(firm, account_id) if m["reason"] == "linkage")
        assert merge["status"] == "applied" and merge["evidence"]["match_probability"] >= 0.99
        assert merge["evidence"]["fields"]["birth_date"]["level"].startswith("Exact")
        assert merge["survivor_id"] == account_id  # the older record survives; the other redirects
    # Nobody else was merged: 200 people + 1 second account remain (the two accounts wait for review).
    assert firm.counts()["customers"] == 201
    assert report.queued == 1


def test_a_second_run_is_idempotent_and_new_profiles_link_incrementally(firm: Store) -> None:
    linkage = linkage_store(firm)
    first = link_store(linkage)
    again = link_store(linkage)
    assert again.merged == 0 and again.queued == 0 and not again.trained
    assert again.profiles_linked <= first.merged  # only the merged survivors changed
    assert link_store(linkage).profiles_linked == 0  # and then nothing at all
    rng = random.Random(5)
    _, people = firm_messages(people=200, duplicates=6)
    late = call_centre(rng, people[50], 50)
    assert ingest(firm, [late], firm.settings, source="test").stored == 1
    report = link_store(linkage)
    assert report.profiles_linked == 1 and report.merged == 1 and not report.trained
    assert _profile_of(firm, "anonymous_id", "crm-50") == _profile_of(firm, "user_id", "u50")


def test_undo_restores_both_and_the_pair_is_not_merged_again(firm: Store) -> None:
    linkage = linkage_store(firm)
    report = link_store(linkage)
    merge = report.merges[0]
    firm.undo_merge(merge["merge_id"], "not the same person")
    assert firm.canonical_id(merge["merged_id"]) == merge["merged_id"]
    assert firm.canonical_id(merge["survivor_id"]) == merge["survivor_id"]
    assert link_store(linkage).merged == 0
    # The split record changes (a new phone), so it is linked again: the undone pair is skipped, not re-merged.
    crm = next(i["value"] for i in get_profile(firm, merge["merged_id"]).identifiers if i["kind"] == "anonymous_id")
    update = {"type": "identify", "messageId": "crm-update", "anonymousId": crm, "traits": {"phone": "030 1000000"}}
    assert ingest(firm, [update], firm.settings, source="test").stored == 1
    again = link_store(linkage)
    assert again.profiles_linked == 1 and again.merged == 0 and again.skipped_rejected == 1
    assert firm.canonical_id(merge["merged_id"]) == merge["merged_id"]


def _client(store: Store) -> tuple[TestClient, dict[str, str], dict[str, str]]:
    read = {"Authorization": f"Bearer {create_key(store.engine, ['read'], 'reviewer')[1]}"}
    admin = {"Authorization": f"Bearer {create_key(store.engine, ['admin'], 'lead')[1]}"}
    return TestClient(create_app(store)), read, admin


def test_reviews_through_the_api_confirm_merges_and_reject_is_remembered(firm: Store) -> None:
    report = link_store(linkage_store(firm), auto_threshold=1.0)  # 1: queue everything for a person
    assert report.merged == 0 and report.queued == 7
    client, read, admin = _client(firm)
    listed = client.get("/v1/identity/reviews", headers=read)
    assert listed.status_code == 200
    reviews = listed.json()["reviews"]
    assert len(reviews) == 7 and all(r["status"] == "pending" for r in reviews)
    sample = reviews[0]
    assert set(sample["attributes"]) == {sample["customer_id"], sample["other_id"]}
    assert sample["fields"]["surname"] and sample["match_probability"] >= report.review_threshold
    confirm, reject = reviews[0]["id"], reviews[1]["id"]
    done = client.post(f"/v1/identity/reviews/{confirm}", json={"decision": "confirm"}, headers=admin)
    assert done.status_code == 200 and done.json()["status"] == "confirmed" and done.json()["merge_id"]
    assert firm.canonical_id(reviews[0]["customer_id"]) == firm.canonical_id(reviews[0]["other_id"])
    repeat = client.post(f"/v1/identity/reviews/{confirm}", json={"decision": "confirm"}, headers=admin)
    assert repeat.json()["merge_id"] == done.json()["merge_id"]  # idempotent: no second merge
    no = client.post(f"/v1/identity/reviews/{reject}", json={"decision": "reject", "note": "twins"}, headers=admin)
    assert no.status_code == 200 and no.json()["status"] == "rejected"
    assert client.post(f"/v1/identity/reviews/{reject}", json={"decision": "confirm"}, headers=admin).status_code == 409
    assert client.post(f"/v1/identity/reviews/{confirm}", json={"decision": "confirm"}, headers=read).status_code == 403
    assert client.post("/v1/identity/reviews/99999", json={"decision": "reject"}, headers=admin).status_code == 404
    assert client.post(f"/v1/identity/reviews/{reject}", json={"decision": "maybe"}, headers=admin).status_code == 422
    pending = client.get("/v1/identity/reviews", headers=read).json()["reviews"]
    assert {r["id"] for r in pending} == {r["id"] for r in reviews[2:]}
    # Relinking everything (a retrained model) proposes neither the rejected nor the queued pairs again.
    again = link_store(linkage_store(firm), auto_threshold=1.0, retrain=True)
    assert again.queued == 0 and again.merged == 0
    rejected = client.get("/v1/identity/reviews?status=rejected", headers=read).json()["reviews"]
    assert [r["id"] for r in rejected] == [reject] and rejected[0]["note"] == "twins"


def test_the_cli_links_the_store_and_erasure_removes_linkage_rows(firm: Store) -> None:
    env = {"RAPPORT_DATABASE_URL": firm.settings.database_url}
    result = CliRunner().invoke(app, ["link", "--store", "--threshold", "1", "--json"], env=env)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["queued"] == 7
    review = linkage_store(firm).reviews("pending", 1)[0]
    erase_customer(firm, review.other_id)
    with firm.engine.connect() as conn:
        for table in (linkage_reviews, linkage_review_values, linkage_state):
            assert not conn.execute(select(table).where(table.c.customer_id == review.other_id)).first()
    assert review.id not in {r.id for r in linkage_store(firm).reviews("pending", 100)}
    with pytest.raises(NotFound, match="no longer exists"):
        decide_review(linkage_store(firm), review.id, "confirm")


def test_too_few_profiles_say_what_to_do(store: Store) -> None:
    messages, _ = firm_messages(people=10, duplicates=2)
    ingest(store, messages, store.settings, source="test")
    result = CliRunner().invoke(app, ["link", "--store"], env={"RAPPORT_DATABASE_URL": store.settings.database_url})
    assert result.exit_code == 2 and "at least 50" in result.stderr
