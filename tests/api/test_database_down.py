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


def test_connections_the_server_dropped_answer_503_then_the_pool_recovers(postgres_store: Store) -> None:
    """As during a restart: the server ends every session, the pool still holds them, the next calls fail on them."""
    from sqlalchemy import text

    from rapport.store.keys import create_key

    _, key = create_key(postgres_store.engine, ["write"], "restart-test")
    auth = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(postgres_store), raise_server_exceptions=False) as client:
        for i in range(3):  # warm the pool
            assert (
                client.post(
                    "/v1/track", json={"userId": "u", "event": "E", "messageId": f"w{i}"}, headers=auth
                ).status_code
                == 200
            )
        admin = create_engine(str(postgres_store.engine.url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        admin.dispose()
        answers = [
            client.post("/v1/track", json={"userId": "u", "event": "E", "messageId": f"a{i}"}, headers=auth)
            for i in range(12)
        ]
    statuses = [a.status_code for a in answers]
    assert 500 not in statuses, statuses
    assert all(a.headers["Retry-After"] for a in answers if a.status_code == 503)
    assert statuses[-1] == 200  # every dropped connection was replaced, none reused
