"""What linkage needs from outside: storage (rapport.store.linkage implements it; the domain never imports SQL) and
the engine Splink runs on (rapport.engines implements DuckDB and Spark; the domain never imports either)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import pandas as pd

from rapport.customers.identifiers import Identifier
from rapport.customers.ports import MergeRecord


@dataclass
class Review:
    """A proposed merge waiting for (or given) a person's decision; ``attributes`` shows both sides' values."""

    id: int
    customer_id: str
    other_id: str
    match_probability: float
    fields: dict[str, Any]
    status: str  # pending | confirmed | rejected
    created_at: datetime
    decided_at: datetime | None = None
    merge_id: int | None = None
    note: str | None = None
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)  # customer id -> attribute values

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "other_id": self.other_id,
            "match_probability": round(self.match_probability, 6),
            "fields": self.fields,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "merge_id": self.merge_id,
            "note": self.note,
            "attributes": self.attributes,
        }


class LinkageTransaction(Protocol):
    """Reads and writes of one linkage run or review decision, under the store's write lock."""

    def canonical_of(self, customer_ids: Iterable[str]) -> dict[str, str]: ...

    def unique_identifiers(
        self, canonical_ids: Iterable[str], kinds: tuple[str, ...]
    ) -> dict[str, set[Identifier]]: ...

    def record_merge(self, merge: MergeRecord) -> int: ...

    def refused_pairs(self) -> list[tuple[str, str]]: ...

    def reviewed_pairs(self) -> list[tuple[str, str]]: ...

    def add_review(self, review: Review) -> int: ...

    def review(self, review_id: int) -> Review: ...

    def decide_review(
        self, review_id: int, status: str, at: datetime, merge_id: int | None, note: str | None
    ) -> None: ...

    def mark_linked(self, fingerprints: dict[str, str], at: datetime) -> None: ...


class LinkageStore(Protocol):
    """The stored profiles and linkage's own records."""

    @property
    def settings(self) -> Any: ...

    def profile_traits(self) -> Iterator[tuple[str, dict[str, Any]]]: ...

    def profile_identifiers(self) -> dict[str, list[tuple[str, str, bool]]]: ...

    def linked_fingerprints(self) -> dict[str, str]: ...

    def load_model(self) -> dict[str, Any] | None: ...

    def save_model(self, model: dict[str, Any]) -> None: ...

    def reviews(self, status: str | None, limit: int) -> list[Review]: ...

    def transaction(self) -> AbstractContextManager[LinkageTransaction]: ...


class LinkageEngine(Protocol):
    """Where Splink's SQL runs: one engine behind Splink's ``DatabaseAPI``, plus the few queries Rapport runs itself.

    Rapport's own SQL (pair counts for choosing blocking rules) is written in DuckDB's dialect; an engine that speaks
    another translates it. One engine may serve many models (a Spark session is costly to start)."""

    @property
    def name(self) -> str: ...

    @property
    def sql_dialect(self) -> str: ...  # Splink's name for the dialect: "duckdb", "spark"

    @property
    def u_sample_chunks(self) -> int: ...  # pieces Splink's u sampling runs in (each piece is one query a comparison)

    def database_api(self) -> Any: ...  # a fresh Splink DatabaseAPI, one per model

    def add_table(self, api: Any, frame: pd.DataFrame) -> str: ...  # the name to query ``frame`` by

    def fetch(self, api: Any, sql: str) -> list[tuple[Any, ...]]: ...  # ``sql`` in DuckDB's dialect

    def close(self) -> None: ...  # release what the engine holds (a Spark session); models made on it end too
