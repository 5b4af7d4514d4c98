"""Explanations, "not like this" and the export over HTTP."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from rapport.api.app import create_app
from rapport.decide import consent, control
from rapport.decide.engine import decide
from rapport.decide.situations import Situation
from rapport.respond.automatic import schedule_automatic_order
from rapport.respond.mandates import create_mandate
from rapport.respond.scheduler import run_due
from rapport.store.decisions import SqlDecisionStore
from rapport.store.keys import create_key
from rapport.store.store import Store
from tests.decide.conftest import NOW, TONER_MANDATE, customer, need, store_needs, toner_order
from tests.respond.conftest import T0, consenting_customer


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    _, key = create_key(store.engine, ["decide", "read"], "app")
    with TestClient(create_app(store), headers={"Authorization": f"Bearer {key}"}) as made:
        yield made


def test_explain_and_not_like_this_over_http(client: TestClient, decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "http-why", orders=[toner_order(1)])
    store_needs(decisions, cid, need(cid))
    control.set_control_level(decisions, cid, "toner", "remind_me", NOW)
    consent.record_consent(decisions, cid, "contact:email", True, "test", NOW)
    decision = decide(decisions, cid, Situation("need_due"), NOW)
    listed = client.get(f"/v1/customers/{cid}/explanations").json()["explanations"]
    assert [e["decision_id"] for e in listed] == [decision.id]
    one = client.get(f"/v1/customers/{cid}/explanations/{decision.id}").json()
    assert one["headline"].startswith("We sent you a reminder")
    url = f"/v1/customers/{cid}/explanations/{decision.id}/not-like-this"
    first = client.post(url, json={"feedback": "not_relevant"})
    assert first.status_code == 200 and first.json()["recorded"] is True
    assert first.json()["proposal"]["change"] == {"category": "toner", "level": "show_me_options"}
    assert client.post(url, json={"feedback": "not_relevant"}).json()["recorded"] is False
    assert client.post(url, json={"feedback": "meh"}).status_code == 422
    other = customer(decisions, "http-other")
    assert client.get(f"/v1/customers/{other}/explanations/{decision.id}").status_code == 404


def test_export_downloads_as_json_and_zip(client: TestClient, decisions: SqlDecisionStore) -> None:
    cid = customer(decisions, "http-export", orders=[toner_order(1), toner_order(2)])
    as_json = client.get(f"/v1/customers/{cid}/export")
    assert as_json.status_code == 200 and "attachment" in as_json.headers["content-disposition"]
    assert len(as_json.json()["tables"]["events"]) == 3
    as_zip = client.get(f"/v1/customers/{cid}/export", params={"format": "zip"})
    assert as_zip.headers["content-type"] == "application/zip"
    assert "events.csv" in zipfile.ZipFile(io.BytesIO(as_zip.content)).namelist()


def test_a_contact_without_a_decision_is_explained_over_http(client: TestClient, decisions: SqlDecisionStore) -> None:
    cid = consenting_customer(decisions, "http-notice", "app")
    mandate = create_mandate(decisions, cid, TONER_MANDATE, T0 - timedelta(hours=1))
    order = schedule_automatic_order(decisions, cid, mandate.id, "TON-305", 2, T0, "toner runs out in 3 days")
    run_due(decisions, T0)
    [told] = client.get(f"/v1/customers/{cid}/explanations").json()["explanations"]
    assert (told["explains"], told["kind"], told["decision_id"], told["records_outcome"]) == (
        "contact", "notice", None, False)  # fmt: skip
    assert told["data_used"]["mandate"]["id"] == mandate.id and told["data_used"]["order"]["status"] == "notified"
    offered = {p["kind"]: p["change"] for p in told["not_like_this"]}
    assert offered["automatic_order"] == {"cancel": order.id} and offered["mandate"]["mandate_id"] == mandate.id
    url = f"/v1/customers/{cid}/explanations/{told['action_id']}/not-like-this"
    assert client.post(url, json={"feedback": "too_many"}).status_code == 404, "no decision: nothing recorded"
    other = customer(decisions, "http-notice-other")
    assert client.get(f"/v1/customers/{other}/explanations").json()["explanations"] == []
