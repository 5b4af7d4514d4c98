"""Voice fixtures: the API client and the decision store over the real test stores (SQLite and PostgreSQL)."""

from __future__ import annotations

from tests.api.conftest import Api, api
from tests.decide.conftest import decisions

__all__ = ["Api", "api", "decisions"]
