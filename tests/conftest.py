"""Fixtures: real stores on SQLite (a file per test) and PostgreSQL (a database per run, emptied per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text

from rapport.config import Settings
from rapport.store.store import Store
from rapport.store.tables import metadata

# Tests check behaviour, not timing: on a loaded 2-core machine Hypothesis' speed checks would only add flakiness.
settings.register_profile("rapport", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("rapport")

POSTGRES_URL = os.environ.get("RAPPORT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    name = f"rapport_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_store(postgres_url: str) -> Iterator[Store]:
    store = Store(Settings(database_url=postgres_url))
    yield store
    store.close()


def _empty(store: Store) -> None:
    with store.engine.begin() as conn:
        names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))


def make_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest, **overrides: object) -> Store:
    """A store of ``kind`` ('sqlite' or 'postgresql') with the given setting overrides, empty."""
    if kind == "sqlite":
        return Store(Settings(database_url=f"sqlite:///{tmp_path / 'rapport.db'}", **overrides))  # type: ignore[arg-type]
    shared: Store = request.getfixturevalue("postgres_store")
    _empty(shared)
    return Store(shared.settings.with_overrides(**overrides), engine=shared.engine)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store, once on SQLite and once on PostgreSQL."""
    made = make_store(request.param, tmp_path, request)
    yield made
    if request.param == "sqlite":
        made.close()
