"""Voice items: what a customer said somewhere (a ticket, a review, a post, a call note, a conversation message)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rapport.customers.identifiers import Identifier, normalize
from rapport.errors import InvalidInput

MAX_TEXT = 20_000
IDENTIFIER_KINDS = ("email", "phone", "user_id", "anonymous_id", "account_id", "handle")


@dataclass(frozen=True)
class VoiceItem:
    """One item as received. ``identifiers`` may link it to a customer; ``author`` is a handle, kept as given."""

    source: str
    external_id: str
    at: datetime
    text: str
    author: str | None = None
    identifiers: tuple[Identifier, ...] = ()


@dataclass(frozen=True)
class ScoredItem:
    """An item with what Voice read in it."""

    item: VoiceItem
    sentiment: float
    label: str
    aspects: dict[str, float]
    topic_id: int | None
    customer_id: str | None


@dataclass
class VoiceReport:
    """What recording a batch of items did."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    linked: int = 0
    issue_needs: int = 0
    rejected: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "linked": self.linked,
            "issue_needs": self.issue_needs,
            "rejected": self.rejected,
        }


def parse_item(data: Any, default_region: str = "DE") -> VoiceItem:
    """A VoiceItem from a dict (API body, file row); raises InvalidInput naming the field at fault."""
    if isinstance(data, VoiceItem):
        return data
    if not isinstance(data, dict):
        raise InvalidInput(f"A voice item must be an object with source, external_id, time and text; got {data!r}.")
    source = _text(data, "source", 64)
    external_id = _text(data, "external_id", 200)
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"Voice item {source}/{external_id}: 'text' must be non-empty text.")
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            f"Voice item {source}/{external_id}: text is {len(text)} characters; the limit is {MAX_TEXT}."
        )
    author = data.get("author")
    if author is not None and (not isinstance(author, str) or len(author) > 200):
        raise InvalidInput(f"Voice item {source}/{external_id}: 'author' must be a handle of at most 200 characters.")
    return VoiceItem(
        source=source,
        external_id=external_id,
        at=_time(data.get("time", data.get("at")), f"{source}/{external_id}"),
        text=text.strip(),
        author=author or None,
        identifiers=_identifiers(data, f"{source}/{external_id}", default_region),
    )


def _text(data: dict[str, Any], key: str, limit: int) -> str:
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidInput(f"A voice item needs '{key}' as text of 1 to {limit} characters; got {value!r}.")
    return value.strip()


def _time(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"Voice item {name}: time {value!r} is not ISO 8601 (2026-05-01T12:00:00Z).") from None
    else:
        raise InvalidInput(f"Voice item {name}: 'time' is required (ISO 8601 with a time zone).")
    if moment.tzinfo is None:
        raise InvalidInput(f"Voice item {name}: time {value!r} has no time zone; add Z or +00:00.")
    return moment.astimezone(UTC)


def _identifiers(data: dict[str, Any], name: str, default_region: str) -> tuple[Identifier, ...]:
    """Identifiers given as ``identifiers: {kind: value}`` or as top-level ``email`` / ``phone`` / ``user_id``."""
    given = data.get("identifiers") or {}
    if not isinstance(given, dict):
        raise InvalidInput(f'Voice item {name}: \'identifiers\' must be an object such as {{"email": "a@b.de"}}.')
    merged = {**{k: data[k] for k in ("email", "phone", "user_id") if data.get(k)}, **given}
    found = []
    for kind, raw in merged.items():
        if kind not in IDENTIFIER_KINDS:
            raise InvalidInput(
                f"Voice item {name}: identifier kind {kind!r} is unknown; use {', '.join(IDENTIFIER_KINDS)}."
            )
        found.append(Identifier(kind, normalize(kind, raw, default_region)))
    return tuple(found)
