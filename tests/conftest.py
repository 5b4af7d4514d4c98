"""Fixtures: real stores on SQLite (a file per test) and PostgreSQL (a database per run, emptied per test).

Both are migrated once per run: a SQLite test gets a copy of a file migrated at the start (its own Store still runs
the migrations, which find the schema at head), and the PostgreSQL database is emptied between tests by truncating
only the tables that hold rows (a TRUNCATE of every table cost about a second per test on a loaded machine).
"""

from __future__ import annotations

import os
import shutil
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


# One round trip: the tables of the schema that hold at least one row.
_FILLED = " UNION ALL ".join(f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM {t.name})" for t in metadata.sorted_tables)
# Every sequence drawn from since it was last reset, back to its start (as TRUNCATE ... RESTART IDENTITY does).
_RESTART_SEQUENCES = (
    "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false) "
    "FROM pg_sequences WHERE last_value IS NOT NULL"
)


def _empty(store: Store) -> None:
    """Every table of the schema empty and every sequence at its start, as after TRUNCATE of them all."""
    with store.engine.begin() as conn:
        filled = [row[0] for row in conn.execute(text(_FILLED))]
        if filled:
            conn.execute(text(f"TRUNCATE {', '.join(filled)} RESTART IDENTITY CASCADE"))
        conn.execute(text(_RESTART_SEQUENCES))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the latest schema, checkpointed and closed: copied for every SQLite test."""
    path = tmp_path_factory.mktemp("template") / "rapport.db"
    store = Store(Settings(database_url=f"sqlite:///{path}"))
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


def make_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest, **overrides: object) -> Store:
    """A store of ``kind`` ('sqlite' or 'postgresql') with the given setting overrides, empty."""
    if kind == "sqlite":
        path = tmp_path / "rapport.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return Store(Settings(database_url=f"sqlite:///{path}", **overrides))  # type: ignore[arg-type]
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
