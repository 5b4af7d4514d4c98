"""What the customer domain needs from storage. rapport.store implements it; the domain never imports SQL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from rapport.customers.events import Event
from rapport.customers.identifiers import Identifier


@dataclass(frozen=True, slots=True)
class IdentifierRecord:
    """Where an identifier stands: the profile it first named, and whether it is shared (stopped joining)."""

    customer_id: str
    shared: bool


@dataclass
class MergeRecord:
    """A merge of one profile into another, with its evidence; ``status`` is applied, refused or undone."""

    survivor_id: str
    merged_id: str
    status: str
    reason: str
    evidence: dict[str, Any]
    created_at: datetime
    id: int | None = None
    undone_at: datetime | None = None
    undo_reason: str | None = None


@dataclass
class StitchWrites:
    """Everything one ingestion batch writes, in one transaction."""

    new_customers: list[tuple[str, datetime]] = field(default_factory=list)
    new_identifiers: list[tuple[Identifier, str, datetime]] = field(default_factory=list)
    canonical_moves: list[tuple[str, str]] = field(default_factory=list)  # (old canonical, new canonical)
    merges: list[MergeRecord] = field(default_factory=list)
    sightings: set[tuple[Identifier, str]] = field(default_factory=set)
    events: list[tuple[Event, str, datetime]] = field(default_factory=list)  # (event, its record, received at)
    # identifiers that joined profiles because they were not shared: checked again, under lock, when written
    unshared: set[Identifier] = field(default_factory=set)


class CustomerReader(Protocol):
    """Reads of stored customers that the customer services need."""

    @property
    def settings(self) -> Any: ...

    def canonical_id(self, customer_id: str) -> str: ...

    def customer_by_identifier(self, identifier: Identifier) -> str: ...

    def members(self, canonical_id: str) -> list[str]: ...

    def identifier_rows(self, members: list[str]) -> list[dict[str, Any]]: ...

    def event_rows(self, members: list[str], limit: int | None = None) -> list[dict[str, Any]]: ...

    def profile_rows(self, canonical_id: str) -> tuple[list[str], list[dict[str, Any]], list[dict[str, Any]]]: ...

    def merge_records(self, members: list[str]) -> list[MergeRecord]: ...

    def erase(self, canonical_id: str) -> dict[str, Any]: ...


class IdentityTransaction(Protocol):
    """Reads and writes of identity resolution, inside one write-locked transaction."""

    def existing_message_ids(self, message_ids: list[str]) -> set[str]: ...

    def erased_hashes(self, hashes: list[str]) -> set[str]: ...

    def has_erasures(self) -> bool: ...

    def pepper(self) -> str: ...

    def lookup_identifiers(self, identifiers: Iterable[Identifier]) -> dict[Identifier, IdentifierRecord]: ...

    def canonical_of(self, customer_ids: Iterable[str]) -> dict[str, str]: ...

    def unique_identifiers(
        self, canonical_ids: Iterable[str], kinds: tuple[str, ...]
    ) -> dict[str, set[Identifier]]: ...

    def sightings(self, identifiers: Iterable[Identifier]) -> dict[Identifier, set[str]]: ...

    def write(self, writes: StitchWrites) -> int: ...

    def mark_shared(self, identifier: Identifier) -> None: ...

    def applied_merges_citing(self, identifier: Identifier) -> list[MergeRecord]: ...

    def undo_merge(self, merge_id: int, reason: str, at: datetime) -> MergeRecord: ...
