"""The audit log the customer can read: every step of their mandates, automatic orders and Rapport's orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class AuditStore(Protocol):
    def append_audit(self, row: dict[str, Any]) -> None: ...

    def audit_of(self, customer_id: str, limit: int) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class AuditEntry:
    """One step: who did what to which mandate, automatic order, order or action, when, and the details."""

    customer_id: str
    at: datetime
    actor: str
    subject_kind: str
    subject_id: str
    action: str
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "subject_kind": self.subject_kind,
            "subject_id": self.subject_id,
            "action": self.action,
            "details": self.details,
        }


def record(
    store: AuditStore,
    customer_id: str,
    at: datetime,
    actor: str,
    subject: tuple[str, str],
    action: str,
    **details: Any,
) -> AuditEntry:
    """Append a step to the customer's audit log; ``subject`` is (kind, id), e.g. ("automatic_order", "ao_…")."""
    row = entry(customer_id, at, actor, subject, action, **details)
    store.append_audit(row)
    return AuditEntry(**row)


def entry(
    customer_id: str, at: datetime, actor: str, subject: tuple[str, str], action: str, **details: Any
) -> dict[str, Any]:
    """The audit row of a step, for a store that writes it with the step itself (``claim_…(…, audit=row)``)."""
    return {
        "customer_id": customer_id,
        "at": at,
        "actor": actor[:64],
        "subject_kind": subject[0],
        "subject_id": subject[1],
        "action": action,
        "details": plain(details),
    }


def read_audit(store: AuditStore, customer_id: str, limit: int = 500) -> list[AuditEntry]:
    """The customer's audit log, oldest step first."""
    return [
        AuditEntry(
            row["customer_id"],
            row["at"],
            row["actor"],
            row["subject_kind"],
            row["subject_id"],
            row["action"],
            row["details"],
        )
        for row in store.audit_of(customer_id, limit)
    ]


def plain(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in details.items() if v is not None}
