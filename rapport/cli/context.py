"""The store a CLI command works on: the one RAPPORT_DATABASE_URL (or rapport.toml) names, or --database."""

from __future__ import annotations

from rapport.config import load_settings
from rapport.store.store import Store


def open_store(database: str | None = None) -> Store:
    settings = load_settings()
    if database:
        settings = settings.with_overrides(database_url=database)
    return Store(settings)
