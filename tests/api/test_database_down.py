"""A database that does not answer makes the API say 503 with Retry-After (retry later), never 500."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from rapport.api.app import create_app
from rapport.config import Settings
from rapport.store.store import Store


def test_a_database_that_is_down_answers_503_with_retry_after() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1: refused at once
    store = Store(Settings(database_url=url), engine=create_engine(url))
    with TestClient(create_app(store), raise_server_exceptions=False) as client:
        answer = client.post(
            "/v1/track", json={"userId": "u", "event": "Viewed"}, headers={"Authorization": "Bearer k"}
        )
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"
    assert answer.json()["error"] == "Unavailable" and "retry" in answer.json()["message"]
