"""Ingestion rejections on SQLite and PostgreSQL: what the tracking API and `rapport ingest FILE` refuse is counted by
channel, source and reason (no payload kept; retries are no rejections), the operations figures count them, bad input
keeps its clear error, and a rejection that cannot be recorded never fails a good event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from rapport.api.app import create_app
from rapport.cli.main import app as cli
from rapport.store.keys import create_key
from rapport.store.operations import operations
from rapport.store.store import Store
from rapport.store.tables import ingestion_rejections

SECRET = "quentin.private@example.org"


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    _, key = create_key(store.engine, ["write"], "web-collector")
    with TestClient(create_app(store), headers={"Authorization": f"Bearer {key}"}) as made:
        yield made


def _rows(store: Store) -> list[dict]:
    query = select(ingestion_rejections).order_by(ingestion_rejections.c.id)
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def _good(message_id: str) -> dict:
    return {"type": "identify", "messageId": message_id, "userId": f"u-{message_id}", "traits": {"first_name": "Q"}}


def test_the_api_records_rejections_not_retries(store: Store, client: TestClient) -> None:
    bad_email = {"type": "identify", "messageId": "b1", "userId": "u-b1", "traits": {"email": SECRET.replace("@", "")}}
    answer = client.post("/v1/identify", json=bad_email)
    assert answer.status_code == 400 and "traits.email" in answer.text  # the clear error, as before
    assert SECRET.replace("@", "") in answer.text  # the caller sees their own value; the store keeps none

    batch = {"batch": [_good("g1"), _good("g2"), {"type": "track", "messageId": "b2", "userId": "u-x"},
                       {"type": "nonsense", "messageId": "b3", "userId": "u-y"}]}  # fmt: skip
    answer = client.post("/v1/batch", json=batch)
    assert answer.status_code == 200 and answer.json()["stored"] == 2 and len(answer.json()["rejected"]) == 2
    again = client.post("/v1/batch", json=batch)  # the collector retries: good events are duplicates, not rejected
    assert again.json()["duplicates"] == 2 and len(again.json()["rejected"]) == 2
    assert (
        client.post("/v1/track", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    )
    assert client.post("/v1/batch", json={"events": []}).status_code == 400

    rows = _rows(store)
    assert {r["channel"] for r in rows} == {"api"} and {r["source"] for r in rows} == {"web-collector"}
    assert sum(r["count"] for r in rows) == 1 + 2 + 2 + 1 + 1
    reasons = {r["reason"] for r in rows}
    assert "traits.email: … is not an e-mail address (expected name@domain.tld)." in reasons
    assert "event: track needs a non-empty event name" in reasons
    assert any(r.startswith("(body): not valid JSON") for r in reasons)
    assert not any("quentin" in r or "u-x" in r for r in reasons)  # no payload beyond the field and the reason

    ops = operations(store, datetime.now(UTC))["ingestion"]
    assert ops["rejected_total"] == 7 and sum(ops["rejected"]["api"]) == 7
    top = ops["reasons"][0]
    assert (top["count"], top["reason"], top["source"]) == (
        2,
        "event: track needs a non-empty event name",
        "web-collector",
    )


def test_a_file_ingest_records_its_rejected_rows(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [json.dumps(_good("f1")), json.dumps({"type": "track", "messageId": "f2", "userId": "u"}), "not json"]
    path.write_text("\n".join(lines) + "\n")
    env = {"RAPPORT_DATABASE_URL": store.settings.database_url}
    done = CliRunner().invoke(cli, ["ingest", str(path), "--source", "crm-export", "--json"], env=env)
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"stored": 1, "duplicates": 0, "rejected": 2}
    rows = _rows(store)
    assert {(r["channel"], r["source"]) for r in rows} == {("file", "crm-export")}
    assert sorted(r["reason"] for r in rows) == ["(row): line #: not JSON (Expecting value)",
                                                 "event: track needs a non-empty event name"]  # fmt: skip
    assert operations(store, datetime.now(UTC))["ingestion"]["rejected"] == {"file": [0] * 27 + [2]}


def test_a_rejection_that_cannot_be_recorded_fails_no_good_event(store: Store, client: TestClient) -> None:
    ingestion_rejections.drop(store.engine)  # the store cannot take a rejection now
    try:
        batch = {"batch": [_good("ok1"), {"type": "track", "messageId": "bad1", "userId": "u"}]}
        answer = client.post("/v1/batch", json=batch)
        assert answer.status_code == 200 and answer.json()["stored"] == 1
        single = client.post("/v1/track", json={"type": "track", "messageId": "bad2", "userId": "u"})
        assert single.status_code == 400 and "non-empty event name" in single.text
        assert client.post("/v1/identify", json=_good("ok2")).status_code == 200
    finally:
        ingestion_rejections.create(store.engine)
    assert store.counts()["events"] == 2
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ingestion_rejections)) == 0
