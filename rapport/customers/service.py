"""Customer services the API, the CLI and the demo share: look up, read, merge history, undo, erase."""

from __future__ import annotations

from typing import Any

from rapport.customers.identifiers import Identifier, parse_identifier
from rapport.customers.ports import CustomerReader
from rapport.customers.profile import Profile, build_profile
from rapport.errors import NotFound


def resolve_customer(store: CustomerReader, reference: str) -> str:
    """The profile id for a customer id (of any merged record) or any identifier ('email:…', a phone, …)."""
    try:
        return store.canonical_id(reference)
    except NotFound:
        pass
    for candidate in _candidates(store, reference):
        try:
            return store.customer_by_identifier(candidate)
        except NotFound:
            continue
    raise unknown_customer(store, reference)


def _candidates(store: CustomerReader, reference: str) -> list[Identifier]:
    identifier = parse_identifier(reference, store.settings.default_phone_region)
    candidates = [identifier]
    if identifier.kind == "user_id":  # a bare id may be a user id or an anonymous id
        candidates.append(Identifier("anonymous_id", identifier.value))
    return candidates


def unknown_customer(store: CustomerReader, reference: str) -> NotFound:
    """The error for a reference that names no customer (also what a customer session gets for another's id)."""
    tried = ", ".join(c.kind for c in _candidates(store, reference))
    return NotFound(f"No customer matches {reference!r} (tried customer id, {tried}).")


def get_profile(store: CustomerReader, reference: str) -> Profile:
    """The unified profile of the customer named by ``reference``."""
    return profile_of(store, resolve_customer(store, reference))


def profile_of(store: CustomerReader, customer_id: str) -> Profile:
    """The unified profile of the profile id ``customer_id`` (already resolved)."""
    records, identifier_rows, event_rows = store.profile_rows(customer_id)
    return build_profile(customer_id, records, identifier_rows, event_rows, store.settings.source_precedence)


def merge_history(store: CustomerReader, reference: str) -> list[dict[str, Any]]:
    """Every merge (applied, refused or undone) that touched this customer's records, with its evidence."""
    customer_id = resolve_customer(store, reference)
    return [
        {
            "id": m.id,
            "survivor_id": m.survivor_id,
            "merged_id": m.merged_id,
            "status": m.status,
            "reason": m.reason,
            "evidence": m.evidence,
            "created_at": m.created_at.isoformat(),
            "undone_at": m.undone_at.isoformat() if m.undone_at else None,
            "undo_reason": m.undo_reason,
        }
        for m in store.merge_records(store.members(customer_id))
    ]


def erase_customer(store: CustomerReader, reference: str) -> dict[str, Any]:
    """Remove a person's events, identifiers and traits everywhere; report what was removed."""
    return store.erase(resolve_customer(store, reference))
