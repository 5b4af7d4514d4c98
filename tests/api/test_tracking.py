"""The Segment-compatible tracking API over HTTP: every call type, retries, partial batches, limits, keys."""

from __future__ import annotations

import gzip
import json

from rapport.store.keys import revoke_key
from tests.api.conftest import Api

CALLS = {
    "identify": {"userId": "u-1", "traits": {"email": "Ann@Example.com", "name": "Ann"}},
    "track": {"userId": "u-1", "event": "Order Completed", "properties": {"total": 42.5, "order_id": "o-1"}},
    "page": {"anonymousId": "a-1", "name": "Home", "properties": {"url": "https://shop.example/"}},
    "screen": {"userId": "u-1", "name": "Basket"},
    "alias": {"previousId": "a-1", "userId": "u-1"},
    "group": {"userId": "u-1", "groupId": "household-7", "traits": {"size": 3}},
}


def test_every_call_type_is_stored_and_stitched(api: Api) -> None:
    for n, (call, body) in enumerate(CALLS.items()):
        response = api.client.post(f"/v1/{call}", json={**body, "messageId": f"msg-{n}"}, auth=(api.write, ""))
        assert response.status_code == 200, response.text
        assert response.json()["stored"] == 1
    profile = api.client.get("/v1/customers/lookup", params={"email": "ann@example.com"}, auth=(api.read, "")).json()
    assert sorted(e["type"] for e in profile["events"]) == sorted(CALLS)
    assert {"kind": "anonymous_id", "value": "a-1"} in profile["identifiers"]  # joined by the alias
    assert profile["facts"]["orders"] == 1 and profile["facts"]["spend"] == 42.5
    by_id = api.client.get(f"/v1/customers/{profile['customer_id']}", auth=(api.read, "")).json()
    assert by_id["customer_id"] == profile["customer_id"]


def test_a_retried_event_is_stored_once(api: Api) -> None:
    body = {"userId": "u-2", "event": "Added", "messageId": "retry-me"}
    first = api.client.post("/v1/track", json=body, auth=(api.write, "")).json()
    second = api.client.post("/v1/track", json=body, auth=(api.write, "")).json()
    third = api.client.post("/v1/batch", json={"batch": [{**body, "type": "track"}]}, auth=(api.write, "")).json()
    assert (first["stored"], second["stored"], second["duplicate"], third["duplicates"]) == (1, 0, True, 1)
    assert api.store.counts()["events"] == 1


def test_a_batch_keeps_its_valid_events_and_reports_the_invalid(api: Api) -> None:
    batch = [
        {"type": "track", "userId": "u-3", "event": "Viewed", "messageId": "ok-1"},
        {"type": "track", "userId": "u-3", "messageId": "no-event-name"},
        {"type": "identify", "messageId": "no-id", "traits": {"email": "x@y.de"}},
        {"type": "identify", "userId": "u-3", "traits": {"email": "not-an-email"}, "messageId": "bad-mail"},
        {"type": "teleport", "userId": "u-3", "messageId": "bad-type"},
        {"type": "page", "userId": "u-3", "timestamp": "yesterday", "messageId": "bad-time"},
        {"type": "page", "userId": "u-3", "messageId": "ok-2"},
    ]
    response = api.client.post("/v1/batch", json={"batch": batch}, auth=(api.write, ""))
    assert response.status_code == 200
    result = response.json()
    assert result["stored"] == 2
    fields = {r["messageId"]: r["errors"][0]["field"] for r in result["rejected"]}
    assert fields == {
        "no-event-name": "event",
        "no-id": "userId",
        "bad-mail": "traits.email",
        "bad-type": "type",
        "bad-time": "timestamp",
    }
    assert [r["index"] for r in result["rejected"]] == [1, 2, 3, 4, 5]


def test_a_malformed_event_gets_400_naming_the_field(api: Api) -> None:
    response = api.client.post("/v1/track", json={"userId": "u-4", "event": "", "properties": []}, auth=(api.write, ""))
    assert response.status_code == 400
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["event", "properties"]
    not_json = api.client.post(
        "/v1/track", content=b"{oops", auth=(api.write, ""), headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400 and not_json.json()["errors"][0]["field"] == "(body)"
    all_bad = api.client.post("/v1/batch", json={"batch": [{"type": "track"}]}, auth=(api.write, ""))
    assert all_bad.status_code == 400
    assert api.store.counts()["events"] == 0


def test_oversize_payloads_get_413_and_store_nothing(api: Api) -> None:
    big = {"userId": "u-5", "event": "Big", "properties": {"blob": "x" * 40_000}}
    assert api.client.post("/v1/track", json=big, auth=(api.write, "")).status_code == 413
    batch = {"batch": [{"type": "track", "userId": "u-5", "event": "E", "properties": {"p": "y" * 30_000}}] * 20}
    assert api.client.post("/v1/batch", json=batch, auth=(api.write, "")).status_code == 413
    bomb = gzip.compress(json.dumps(batch).encode())  # small on the wire, too large once inflated
    response = api.client.post(
        "/v1/batch",
        content=bomb,
        auth=(api.write, ""),
        headers={"content-encoding": "gzip", "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert api.store.counts()["events"] == 0


def test_gzip_bodies_are_accepted(api: Api) -> None:
    body = gzip.compress(json.dumps({"batch": [{"type": "track", "userId": "u-6", "event": "Zipped"}]}).encode())
    response = api.client.post(
        "/v1/batch",
        content=body,
        auth=(api.write, ""),
        headers={"content-encoding": "gzip", "content-type": "application/json"},
    )
    assert response.status_code == 200 and response.json()["stored"] == 1


def test_every_route_but_health_needs_a_key_with_the_right_scope(api: Api) -> None:
    assert api.client.get("/health").status_code == 200
    event = {"userId": "u-7", "event": "E"}
    assert api.client.post("/v1/track", json=event).status_code == 401
    assert api.client.post("/v1/track", json=event, auth=("rk_nope_nope", "")).status_code == 401
    assert api.client.post("/v1/track", json=event, auth=(api.read, "")).status_code == 403
    assert api.client.post("/v1/track", json=event, headers={"Authorization": f"Bearer {api.write}"}).status_code == 200
    customer = api.client.get("/v1/customers/lookup", params={"user_id": "u-7"}, auth=(api.read, "")).json()
    assert api.client.get(f"/v1/customers/{customer['customer_id']}", auth=(api.write, "")).status_code == 403
    assert api.client.delete(f"/v1/customers/{customer['customer_id']}", auth=(api.read, "")).status_code == 403
    assert api.client.get(f"/v1/customers/{customer['customer_id']}", auth=(api.admin, "")).status_code == 200
    revoke_key(api.store.engine, api.write)
    assert api.client.post("/v1/track", json=event, auth=(api.write, "")).status_code == 401


def test_lookup_merges_undo_and_erase_over_http(api: Api) -> None:
    api.client.post(
        "/v1/batch",
        json={
            "batch": [
                {"type": "page", "anonymousId": "web-9", "name": "Home", "messageId": "p1"},
                {"type": "identify", "userId": "u-9", "traits": {"phone": "0151 2345678"}, "messageId": "i1"},
                {"type": "identify", "anonymousId": "web-9", "traits": {"phone": "+49 151 2345678"}, "messageId": "i2"},
            ]
        },
        auth=(api.write, ""),
    )
    profile = api.client.get("/v1/customers/lookup", params={"phone": "+491512345678"}, auth=(api.read, "")).json()
    merges = api.client.get(f"/v1/customers/{profile['customer_id']}/merges", auth=(api.read, "")).json()["merges"]
    assert [m["status"] for m in merges] == ["applied"]
    assert api.client.post(f"/v1/merges/{merges[0]['id']}/undo", auth=(api.read, "")).status_code == 403
    undone = api.client.post(f"/v1/merges/{merges[0]['id']}/undo", auth=(api.admin, "")).json()
    assert undone["status"] == "undone"
    erased = api.client.delete("/v1/customers/u-9", auth=(api.admin, "")).json()
    assert erased["removed"]["events"] >= 1
    assert api.client.get("/v1/customers/lookup", params={"user_id": "u-9"}, auth=(api.read, "")).status_code == 404
    assert api.client.get("/v1/customers/lookup", auth=(api.read, "")).status_code == 400
