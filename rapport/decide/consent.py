"""Consent per purpose: timestamped, with its source, every change kept; withdrawing stops what depended on it.

Purposes: ``personalisation``, ``contact:<channel>`` (push, email, sms, app), ``automatic_execution`` and
``partner_sharing``. Without a record a purpose is not consented, unless the firm presumes it in
``Settings.presumed_consents`` (never automatic execution or partner sharing). Withdrawing automatic execution
cancels the customer's pending automatic orders at once; withdrawing a contact channel withdraws the messages
still queued on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from rapport.errors import InvalidInput

CONTACT_CHANNELS: tuple[str, ...] = ("push", "email", "sms", "app")
PURPOSES: tuple[str, ...] = (
    "personalisation",
    *(f"contact:{channel}" for channel in CONTACT_CHANNELS),
    "automatic_execution",
    "partner_sharing",
)
NEVER_PRESUMED = ("automatic_execution", "partner_sharing")


@dataclass(frozen=True)
class Consent:
    """One recorded consent decision: granted or withdrawn, when, and where it was given."""

    customer_id: str
    purpose: str
    granted: bool
    source: str
    recorded_at: datetime
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "granted": self.granted,
            "source": self.source,
            "recorded_at": self.recorded_at.isoformat(),
            "note": self.note,
        }


@dataclass
class ConsentChange:
    """What recording a consent did: the record in force, whether it changed anything, and what it stopped."""

    consent: Consent
    changed: bool
    cancelled_orders: list[str] = field(default_factory=list)
    withdrawn_actions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.consent.to_dict(),
            "changed": self.changed,
            "cancelled_orders": list(self.cancelled_orders),
            "withdrawn_actions": list(self.withdrawn_actions),
        }


class ConsentStore(Protocol):
    """Where consents are kept (rapport.store.consents)."""

    @property
    def settings(self) -> Any: ...

    def consent_rows(self, customer_id: str) -> list[Consent]: ...

    def profile_joined_at(self, customer_id: str) -> datetime | None: ...

    def insert_consent(self, consent: Consent) -> None: ...


def check_purpose(purpose: str) -> str:
    """``purpose`` if Rapport knows it: one of PURPOSES, or ``personalisation:<category>`` for one category."""
    if purpose in PURPOSES:
        return purpose
    category = purpose.split(":", 1)[1] if purpose.startswith("personalisation:") else None
    if purpose not in PURPOSES and not (category and len(category) <= 64 and category.strip() == category):
        raise InvalidInput(
            f"Consent purpose {purpose!r} is unknown; use one of {', '.join(PURPOSES)}, or "
            "personalisation:<category> for one category."
        )
    return purpose


def purpose_in_force(consents: dict[str, bool], purpose: str) -> bool:
    """Whether ``purpose`` is consented in ``consents`` (from :func:`in_force`); a category's personalisation
    follows the customer's general choice unless they chose for that category."""
    check_purpose(purpose)
    if purpose.startswith("personalisation:"):
        return consents.get(purpose, consents["personalisation"])
    return consents[purpose]


def withheld_categories(store: ConsentStore, customer_id: str, now: datetime) -> frozenset[str] | None:
    """The categories the customer withdrew from personalisation; None when personalisation is not consented."""
    return withheld_in(consents_in_force(store, customer_id, now))


def withheld_in(consents: dict[str, bool]) -> frozenset[str] | None:
    """:func:`withheld_categories` from consents already read (:func:`in_force`)."""
    if not consents["personalisation"]:
        return None
    return frozenset(p.split(":", 1)[1] for p, ok in consents.items() if p.startswith("personalisation:") and not ok)


def consents_in_force(store: ConsentStore, customer_id: str, now: datetime) -> dict[str, bool]:
    """Every purpose and whether it is consented at ``now`` (see :func:`in_force`)."""
    records = store.consent_rows(customer_id)
    joined_at = store.profile_joined_at(customer_id) if joined_records(records) else None
    return in_force(records, store.settings, now, joined_at)


def joined_records(records: list[Consent]) -> bool:
    """Whether the consents come from more than one customer record (a merged profile): only then can they disagree."""
    return len({record.customer_id for record in records}) > 1


def in_force(
    records: list[Consent], settings: Any, now: datetime, joined_at: datetime | None = None
) -> dict[str, bool]:
    """Every purpose and whether ``records`` (oldest first) consent to it at ``now``, presumptions included.

    A profile's records may come from several customer records joined by merges (``joined_at``: the last one).
    Each record's latest choice stands for it; where two records disagree the stricter (the withdrawal) wins, until
    the customer chooses again after the merge: then that choice wins. A record that never chose does not disagree.
    """
    found = dict.fromkeys(PURPOSES, False)
    for purpose in settings.presumed_consents:
        if purpose in found and purpose not in NEVER_PRESUMED:
            found[purpose] = True
    latest: dict[str, dict[str, bool]] = {}  # purpose -> origin record -> its latest choice before the join
    after_join: dict[str, bool] = {}
    for record in records:
        if record.recorded_at > now:
            continue
        if joined_at is not None and record.recorded_at > joined_at:
            after_join[record.purpose] = record.granted
        else:
            latest.setdefault(record.purpose, {})[record.customer_id] = record.granted
    for purpose, choices in latest.items():
        found[purpose] = all(choices.values())
    found.update(after_join)
    return found


def has_consent(store: ConsentStore, customer_id: str, purpose: str, now: datetime) -> bool:
    """Whether ``customer_id`` consents to ``purpose`` at ``now``."""
    return purpose_in_force(consents_in_force(store, customer_id, now), purpose)


def consent_history(store: ConsentStore, customer_id: str) -> list[Consent]:
    """Every consent record of the customer, oldest first (what the preference centre shows)."""
    return store.consent_rows(customer_id)


def record_consent(
    store: ConsentStore,
    customer_id: str,
    purpose: str,
    granted: bool,
    source: str,
    now: datetime,
    note: str | None = None,
) -> ConsentChange:
    """Grant or withdraw ``purpose``; a repeat of the state already in force changes nothing (safe to retry).

    Withdrawing stops at once what depended on the consent: pending automatic orders for automatic execution,
    queued messages for a contact channel.
    """
    check_purpose(purpose)
    if now.tzinfo is None:
        raise InvalidInput(f"now={now.isoformat()} has no time zone; pass an aware UTC datetime.")
    if not source or len(source) > 64:
        raise InvalidInput(f"Consent source {source!r} must name where consent was given (1 to 64 characters).")
    rows = [r for r in store.consent_rows(customer_id) if r.purpose == purpose and r.recorded_at <= now]
    if (
        rows
        and purpose_in_force(consents_in_force(store, customer_id, now), purpose) == granted
        and rows[-1].granted == granted
    ):
        return ConsentChange(rows[-1], changed=False)
    record = Consent(customer_id, purpose, granted, source, now, note)
    store.insert_consent(record)
    change = ConsentChange(record, changed=True)
    if not granted:
        _stop_dependents(store, change, now)
    return change


def _stop_dependents(store: Any, change: ConsentChange, now: datetime) -> None:
    consent = change.consent
    reason = f"consent {consent.purpose} withdrawn ({consent.source}, {now.isoformat()})"
    if consent.purpose == "automatic_execution":
        from rapport.respond.automatic import cancel_pending_orders

        cancelled = cancel_pending_orders(store, consent.customer_id, now, reason)
        change.cancelled_orders = [order.id for order in cancelled]
    elif consent.purpose.startswith("contact:"):
        from rapport.decide.contact_policy import release_contacts
        from rapport.respond.outbox import withdraw_pending

        channel = consent.purpose.split(":", 1)[1]
        withdrawn = withdraw_pending(store, consent.customer_id, channel, now, reason)
        change.withdrawn_actions = [action.id for action in withdrawn]
        release_contacts(store, consent.customer_id, [action.idempotency_key for action in withdrawn])
