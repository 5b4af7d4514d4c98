"""The Alembic migrations build exactly the schema that rapport.store.tables declares, on both stores."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, insert, select, text

from rapport.config import Settings
from rapport.store.customer360 import search_customers
from rapport.store.engine import MIGRATIONS
from rapport.store.store import Store
from rapport.store.tables import customer_names, customers, events, metadata
from tests.conftest import POSTGRES_URL


def test_migrations_match_the_declared_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), metadata)
    assert drift == [], f"tables.py and the migrations disagree: {drift}"


def test_migrations_form_one_line() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1, f"more than one head: {script.get_heads()}"
    revisions = [r.revision for r in script.walk_revisions()]
    assert revisions == sorted(revisions, reverse=True), "revisions are numbered in the order they apply"


@pytest.fixture(params=["sqlite", "postgresql"])
def bare_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a new, empty database (not migrated), on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    name = f"rapport_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}")
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _upgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def test_0012_backfills_the_name_keys_of_a_store_made_before_it(bare_engine: Engine) -> None:
    """A store at 0011 with named customers: after 0012 a search by name finds them, merged profiles once."""
    _upgrade(bare_engine, "0011")
    at = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    with bare_engine.begin() as conn:
        conn.execute(insert(customers), [
            {"id": "c-anna", "created_at": at, "merged_into": None, "canonical_id": "c-anna"},
            {"id": "c-till", "created_at": at, "merged_into": "c-anna", "canonical_id": "c-anna"},
            {"id": "c-carl", "created_at": at, "merged_into": None, "canonical_id": "c-carl"},
        ])  # fmt: skip
        base = {"channel": "web", "source": "cli", "timestamp": at, "received_at": at, "anonymous_id": None,
                "user_id": None, "properties": None, "name": None}  # fmt: skip
        conn.execute(insert(events), [
            {**base, "message_id": "e1", "customer_id": "c-anna", "type": "identify",
             "traits": {"first_name": "Anna", "last_name": "Bergström"}, "context": {"channel": "web"}},
            {**base, "message_id": "e2", "customer_id": "c-till", "type": "identify",
             "traits": {"first_name": "Annie"}, "context": None},
            {**base, "message_id": "e3", "customer_id": "c-carl", "type": "track", "name": "Viewed",
             "traits": None, "context": {"traits": {"name": "Carl Berg"}}},
            {**base, "message_id": "e4", "customer_id": "c-carl", "type": "track", "name": "Viewed",
             "traits": None, "context": {"channel": "app"}},
        ])  # fmt: skip
    _upgrade(bare_engine, "head")
    with bare_engine.connect() as conn:
        keys = {tuple(row) for row in conn.execute(select(customer_names.c.customer_id, customer_names.c.name_key))}
    assert keys == {("c-anna", "anna"), ("c-anna", "bergstrom"), ("c-till", "annie"), ("c-carl", "carl"),
                    ("c-carl", "berg")}  # fmt: skip
    store = Store(Settings(database_url=bare_engine.url.render_as_string(hide_password=False)))
    try:
        assert [f["customer_id"] for f in search_customers(store, "annie")] == ["c-anna"]
        assert {f["customer_id"] for f in search_customers(store, "berg")} == {"c-anna", "c-carl"}
        assert [f["customer_id"] for f in search_customers(store, "anna bergström")] == ["c-anna"]
    finally:
        store.close()
