"""The Alembic migrations build exactly the schema that rapport.store.tables declares, on both stores."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from rapport.store.engine import MIGRATIONS
from rapport.store.store import Store
from rapport.store.tables import metadata


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
