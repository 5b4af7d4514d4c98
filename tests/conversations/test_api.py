"""The conversation routes over HTTP, with the existing key auth."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from rapport.api.app import create_app
from rapport.conversations.thread import MAX_MESSAGE_CHARS
from rapport.store.conversations import SqlConversationStore
from rapport.store.keys import create_key
from rapport.store.store import Store
from tests.decide.conftest import customer


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    _, key = create_key(store.engine, ["write", "read"], "call centre")
    with TestClient(create_app(store), headers={"Authorization": f"Bearer {key}"}) as made:
        yield made


def test_forward_reply_and_read_back(client: TestClient, inbox: SqlConversationStore) -> None:
    cid = customer(inbox, "api-conv")
    body = {
        "customer_id": "api-conv@example.org",
        "channel": "call_centre",
        "kind": "note",
        "author": "staff",
        "author_ref": "agent-3",
        "body": "Customer called about a late delivery.",
        "external_id": "call-77",
    }
    first = client.post("/v1/conversations", json=body)
    assert first.status_code == 201, first.text
    assert first.json()["opened"] is True
    retry = client.post("/v1/conversations", json=body)
    assert retry.status_code == 200 and retry.json()["message"]["id"] == first.json()["message"]["id"]
    conversation_id = first.json()["conversation_id"]
    reply = client.post(
        f"/v1/conversations/{conversation_id}/replies", json={"body": "It ships today.", "staff_ref": "ana"}
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["message"]["outbox_action_id"].startswith("act_")
    got = client.get(f"/v1/customers/{cid}/conversations").json()
    [conversation] = got["conversations"]
    assert [m["author"] for m in conversation["messages"]] == ["staff", "staff"]
    assert client.get("/v1/conversations").json()["conversations"][0]["id"] == conversation_id
    closed = client.post(f"/v1/conversations/{conversation_id}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and closed.json()["changed"] is True
    late = client.post(f"/v1/conversations/{conversation_id}/replies", json={"body": "P.S."})
    assert late.status_code == 409


def test_bad_input_gets_a_clear_answer_and_stores_nothing(client: TestClient, inbox: SqlConversationStore) -> None:
    cid = customer(inbox, "api-bad")
    base = {"customer_id": cid, "channel": "email", "kind": "email"}
    too_long = client.post("/v1/conversations", json={**base, "body": "x" * (MAX_MESSAGE_CHARS + 1)})
    assert too_long.status_code == 413 and "limit is 8,000" in too_long.json()["message"]
    attached = client.post("/v1/conversations", json={**base, "body": "see attached", "attachments": [{"name": "a"}]})
    assert attached.status_code == 400 and "Attachments are not accepted" in attached.json()["message"]
    unknown = client.post("/v1/conversations", json={**base, "customer_id": "nobody@example.org", "body": "hi"})
    assert unknown.status_code == 404
    assert client.get(f"/v1/customers/{cid}/conversations").json()["conversations"] == []
    assert client.get("/v1/conversations/conv_missing").status_code == 404
