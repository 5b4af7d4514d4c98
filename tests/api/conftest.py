"""An API client over a real store (SQLite and PostgreSQL), with keys of each scope."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi.testclient import TestClient

from rapport.api.app import create_app
from rapport.store.keys import create_key
from rapport.store.store import Store


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(store: Store) -> Iterator[str]:
    """A real uvicorn server over the store, on a free loopback port, in a thread."""
    port = _free_port()
    config = uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)
