"""Linkage on DuckDB, in this process: each model gets its own in-memory database."""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd
from splink import DuckDBAPI

_names = itertools.count()


class DuckDBEngine:
    """Splink's DuckDB backend; Rapport's own queries run on the same connection."""

    name = "duckdb"
    sql_dialect = "duckdb"
    u_sample_chunks = 10  # Splink's default: bounded memory, and it stops early once every level is counted

    def database_api(self) -> DuckDBAPI:
        api = DuckDBAPI()
        api.duckdb_con.execute("SET enable_progress_bar = false")  # the CLI draws its own (Rich) progress bar
        return api

    def add_table(self, api: Any, frame: pd.DataFrame) -> str:
        name = f"_rapport_all_{next(_names)}"
        api.duckdb_con.register(name, frame)
        return name

    def fetch(self, api: Any, sql: str) -> list[tuple[Any, ...]]:
        return list(api.duckdb_con.execute(sql).fetchall())  # fetch to the end: Splink shares this connection

    def close(self) -> None:
        """Nothing to release: each model's database goes with it."""
