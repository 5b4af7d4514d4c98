"""The permission table: what each kind of principal may do.

Server keys keep the scopes they always had (``write``, ``read``, ``decide``, ``admin``; ``admin`` carries every
scope). Staff roles: ``agent`` sees and helps customers (no exports, no admin), ``analyst`` reads aggregates and
exports (no single-customer writes), ``admin`` may do everything. A customer session may do what a customer may,
on that customer's own data only.
"""

from __future__ import annotations

from enum import StrEnum

from rapport.access.principals import CustomerSession, Principal, ServerKey, StaffMember, StaffRole


class Permission(StrEnum):
    INGEST = "ingest"  # send events (the tracking API)
    READ_CUSTOMER = "read_customer"  # one customer's profile, needs, orders, consents, audit, actions
    ACT_FOR_CUSTOMER = "act_for_customer"  # orders, reorder, mandates, cancelling automatic orders, acks
    SET_PREFERENCES = "set_preferences"  # consents, control levels, contact policy
    READ_DECISIONS = "read_decisions"  # logged decisions and their reasons
    DECIDE = "decide"  # ask for a decision, record outcomes
    READ_OFFERS = "read_offers"  # the curated offering for a customer
    READ_REVIEWS = "read_reviews"  # identity merge reviews
    CONVERSE = "converse"  # write into a customer's conversation
    EXPORT = "export"  # export a customer's data
    REQUEST_ERASURE = "request_erasure"  # ask for one's own erasure
    READ_AGGREGATES = "read_aggregates"  # firm-wide figures and pages
    ISSUE_SIGN_IN_LINK = "issue_sign_in_link"  # a one-time sign-in link for a customer
    ADMIN = "admin"  # erasure, undoing merges, review decisions, keys, staff accounts, settings


P = Permission
# Which scopes grant each permission to a server key (admin grants everything).
KEY_SCOPES: dict[Permission, frozenset[str]] = {
    P.INGEST: frozenset({"write"}),
    P.READ_CUSTOMER: frozenset({"read"}),
    P.ACT_FOR_CUSTOMER: frozenset({"write"}),
    P.SET_PREFERENCES: frozenset({"decide"}),
    P.READ_DECISIONS: frozenset({"decide"}),
    P.DECIDE: frozenset({"decide"}),
    P.READ_OFFERS: frozenset({"read", "decide"}),
    P.READ_REVIEWS: frozenset({"read"}),
    P.CONVERSE: frozenset({"write"}),
    P.EXPORT: frozenset({"read"}),
    P.REQUEST_ERASURE: frozenset(),
    P.READ_AGGREGATES: frozenset({"read"}),
    P.ISSUE_SIGN_IN_LINK: frozenset({"decide"}),
    P.ADMIN: frozenset(),
}
_HELPING = {P.READ_CUSTOMER, P.ACT_FOR_CUSTOMER, P.SET_PREFERENCES, P.READ_DECISIONS, P.DECIDE, P.READ_OFFERS}
STAFF_PERMISSIONS: dict[StaffRole, frozenset[Permission]] = {
    "agent": frozenset(_HELPING | {P.CONVERSE, P.ISSUE_SIGN_IN_LINK}),
    "analyst": frozenset(
        {P.READ_CUSTOMER, P.READ_DECISIONS, P.READ_OFFERS, P.READ_REVIEWS, P.READ_AGGREGATES, P.EXPORT}
    ),
    "admin": frozenset(Permission),
}
CUSTOMER_PERMISSIONS: frozenset[Permission] = frozenset(
    {
        P.READ_CUSTOMER,
        P.ACT_FOR_CUSTOMER,
        P.SET_PREFERENCES,
        P.READ_DECISIONS,
        P.READ_OFFERS,
        P.CONVERSE,
        P.EXPORT,
        P.REQUEST_ERASURE,
    }
)


def allows(principal: Principal, permission: Permission, customer_id: str | None = None) -> bool:
    """Whether ``principal`` may do ``permission`` (on ``customer_id``'s data, when one customer is concerned).

    A customer session is allowed only on its own customer id (compare canonical ids: the caller resolves both).
    """
    if isinstance(principal, ServerKey):
        return "admin" in principal.scopes or bool(KEY_SCOPES[permission] & set(principal.scopes))
    if isinstance(principal, StaffMember):
        return permission in STAFF_PERMISSIONS[principal.role]
    if isinstance(principal, CustomerSession):
        return customer_id is not None and customer_id == principal.customer_id and permission in CUSTOMER_PERMISSIONS
    return False


def needed_by(permission: Permission) -> str:
    """In words, who may do ``permission`` (for a 403's message)."""
    scopes = sorted(KEY_SCOPES[permission] | {"admin"})
    roles = [role for role, allowed in STAFF_PERMISSIONS.items() if permission in allowed]
    return f"a key with scope {' or '.join(scopes)}, or staff with role {' or '.join(roles)}"
