"""Sessions behind signed cookies: a staff member's or a customer's, stored so that signing out ends them."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Literal

from itsdangerous import BadSignature

from rapport.access.links import signer
from rapport.access.ports import AccessStore
from rapport.access.principals import CustomerSession, StaffMember
from rapport.errors import Unauthorized

SessionKind = Literal["staff", "customer"]
LIFETIME: dict[SessionKind, timedelta] = {"staff": timedelta(hours=12), "customer": timedelta(hours=24)}


def open_session(store: AccessStore, secret: str, kind: SessionKind, now: datetime, subject_id: str) -> tuple[str, str]:
    """A new session for a staff member or a customer; returns its id and the signed cookie value."""
    session_id = secrets.token_urlsafe(24)
    subject = {"staff_id": subject_id} if kind == "staff" else {"customer_id": subject_id}
    store.insert_session(
        {"id": session_id, "kind": kind, "created_at": now, "expires_at": now + LIFETIME[kind], **subject}
    )
    return session_id, signer(store, secret, f"session:{kind}").dumps(session_id)


def session_id_of(store: AccessStore, secret: str, kind: SessionKind, cookie: str) -> str:
    """The session id a cookie carries; Unauthorized when its signature does not hold (forged or altered)."""
    try:
        return str(signer(store, secret, f"session:{kind}").loads(cookie))
    except BadSignature:
        raise Unauthorized(
            f"The {kind} session cookie is not valid (altered, or signed by another server); sign in again."
        ) from None


def session_principal(
    store: AccessStore, secret: str, kind: SessionKind, cookie: str, now: datetime
) -> StaffMember | CustomerSession:
    """The principal a session cookie stands for; Unauthorized when forged, expired, signed out or erased."""
    session_id = session_id_of(store, secret, kind, cookie)
    row = store.session(session_id)
    if row is None or row["kind"] != kind or row["revoked_at"] is not None or now >= row["expires_at"]:
        raise Unauthorized(f"The {kind} session has ended (expired or signed out); sign in again.")
    if kind == "customer":
        return CustomerSession(row["customer_id"], session_id)
    staff = store.staff_by_id(row["staff_id"])
    if staff is None:
        raise Unauthorized("The staff account of this session no longer exists; ask an admin.")
    return StaffMember(staff["id"], staff["email"], staff["role"])


def close_session(store: AccessStore, secret: str, kind: SessionKind, cookie: str, now: datetime) -> None:
    """Sign out: the session stops working at once (a forged cookie changes nothing)."""
    try:
        store.revoke_session(session_id_of(store, secret, kind, cookie), now)
    except Unauthorized:
        return
