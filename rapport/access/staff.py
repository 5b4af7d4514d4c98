"""Staff accounts: created by an admin with a one-time set-password link, signed in with e-mail and password.

Repeated failed sign-ins lock the account for a while (the answer says until when); an unknown e-mail and a wrong
password get the same answer and cost the same time.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from rapport.access.links import SET_PASSWORD_TTL, issue_token, redeem_token
from rapport.access.passwords import hash_password, verify_password
from rapport.access.ports import AccessStore
from rapport.access.principals import STAFF_ROLES, StaffMember
from rapport.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthorized

MAX_FAILED_SIGN_INS = 5
LOCK_OUT = timedelta(minutes=15)


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    local, _, domain = cleaned.partition("@")
    if not local or "." not in domain or len(cleaned) > 320 or any(c.isspace() for c in cleaned):
        raise InvalidInput(f"{email!r} is not an e-mail address; give one like name@firm.example.")
    return cleaned


def create_staff(store: AccessStore, secret: str, email: str, role: str, now: datetime) -> tuple[StaffMember, str]:
    """A new staff account without a password, and the token of its one-time set-password link."""
    if role not in STAFF_ROLES:
        raise InvalidInput(f"Unknown role {role!r}; choose from {', '.join(STAFF_ROLES)}.")
    address = normalise_email(email)
    staff_id = f"stf_{secrets.token_hex(8)}"
    row = {"id": staff_id, "email": address, "role": role, "created_at": now, "failed_sign_ins": 0}
    if not store.insert_staff(row):
        raise Conflict(f"A staff account for {address} exists already; `rapport staff reset {address}` sends a link.")
    return StaffMember(staff_id, address, role), set_password_token(store, secret, staff_id, now)  # type: ignore[arg-type]


def set_password_token(store: AccessStore, secret: str, staff_id: str, now: datetime) -> str:
    token, _expires = issue_token(store, secret, "set_password", now, SET_PASSWORD_TTL, staff_id=staff_id)
    return token


def reset_link_token(store: AccessStore, secret: str, email: str, now: datetime) -> str:
    """A new set-password token for an existing account (a forgotten password, a new colleague)."""
    row = store.staff_by_email(normalise_email(email))
    if row is None:
        raise NotFound(f"No staff account for {email!r}; create one with `rapport staff create EMAIL --role ROLE`.")
    return set_password_token(store, secret, row["id"], now)


def set_password(store: AccessStore, secret: str, token: str, password: str, now: datetime) -> StaffMember:
    """Set the password through a one-time link; the password is checked before the link is spent."""
    password_hash = hash_password(password)
    row = redeem_token(store, secret, "set_password", token, now)
    staff = store.staff_by_id(row["staff_id"])
    if staff is None:
        raise NotFound("The account of this link no longer exists; ask an admin.")
    store.update_staff(
        staff["id"],
        {"password_hash": password_hash, "password_set_at": now, "failed_sign_ins": 0, "locked_until": None},
    )
    return StaffMember(staff["id"], staff["email"], staff["role"])


def sign_in_staff(store: AccessStore, email: str, password: str, now: datetime) -> StaffMember:
    """The staff member with this e-mail and password; Unauthorized, or TooManyRequests while locked out."""
    try:
        address = normalise_email(email)
    except InvalidInput:
        address = ""
    row = store.staff_by_email(address) if address else None
    if row is not None and row["locked_until"] is not None and now < row["locked_until"]:
        wait = int((row["locked_until"] - now).total_seconds()) + 1
        raise TooManyRequests(
            f"Too many failed sign-ins for this account: it is locked until {row['locked_until']:%H:%M:%S} UTC. "
            "Try again then, or ask an admin for a set-password link.",
            wait,
        )
    if not verify_password(row["password_hash"] if row else None, password) or row is None:
        if row is not None:
            failures = row["failed_sign_ins"] + 1
            locked = now + LOCK_OUT if failures >= MAX_FAILED_SIGN_INS else None
            store.update_staff(
                row["id"], {"failed_sign_ins": 0 if locked else failures, "locked_until": locked or row["locked_until"]}
            )
        raise Unauthorized("The e-mail address or the password is wrong; check both and try again.")
    if row["failed_sign_ins"] or row["locked_until"]:
        store.update_staff(row["id"], {"failed_sign_ins": 0, "locked_until": None})
    return StaffMember(row["id"], row["email"], row["role"])
