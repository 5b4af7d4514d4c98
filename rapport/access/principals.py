"""The kinds of principal that may act in Rapport: a firm's server key, a staff member, a signed-in customer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

StaffRole = Literal["agent", "analyst", "admin"]
STAFF_ROLES: tuple[StaffRole, ...] = ("agent", "analyst", "admin")


@dataclass(frozen=True)
class ServerKey:
    """A firm's server calling with an API key; ``name`` labels it (the source of what it ingests)."""

    key_id: str
    scopes: tuple[str, ...]
    name: str = ""


@dataclass(frozen=True)
class StaffMember:
    """A signed-in member of the firm's staff."""

    staff_id: str
    email: str
    role: StaffRole


@dataclass(frozen=True)
class CustomerSession:
    """A customer signed in with a one-time link: reaches that customer's own data only."""

    customer_id: str
    session_id: str


Principal = ServerKey | StaffMember | CustomerSession


def describe(principal: Principal) -> tuple[str, str, str]:
    """(kind, id, label) of a principal, as the access log keeps it."""
    if isinstance(principal, ServerKey):
        return "server_key", principal.key_id, f"server key {principal.key_id} ({principal.name or 'unnamed'})"
    if isinstance(principal, StaffMember):
        return "staff", principal.staff_id, f"staff {principal.email} ({principal.role})"
    return "customer", principal.customer_id, "you"
