"""An API client over a real store (SQLite and PostgreSQL), with keys of each scope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from rapport.api.app import create_app
from rapport.store.keys import create_key
from rapport.store.store import Store
from tests.live_server import serving


@dataclass
class Api:
    client: TestClient
    store: Store
    write: str
    read: str
    admin: str


@pytest.fixture
def api(store: Store) -> Iterator[Api]:
    keys = {scope: create_key(store.engine, [scope], f"test-{scope}")[1] for scope in ("write", "read", "admin")}
    with TestClient(create_app(store)) as client:
        yield Api(client, store, keys["write"], keys["read"], keys["admin"])


@pytest.fixture
def server(store: Store) -> Iterator[str]:
    """A real uvicorn server over the store, on a free loopback port, in a thread."""
    with serving(create_app(store)) as url:
        yield url
