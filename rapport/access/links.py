"""One-time links: a customer's sign-in link (15 minutes) and a staff member's set-password link.

The link carries a signed token naming a stored row; the row says whom it is for, until when, and whether it was
used. A link works once, before it expires, and only for the person it was made for.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, Literal

from itsdangerous import BadSignature, URLSafeSerializer

from rapport.access.ports import AccessStore
from rapport.errors import InvalidInput

Purpose = Literal["customer_sign_in", "set_password"]
SIGN_IN_TTL = timedelta(minutes=15)
SET_PASSWORD_TTL = timedelta(hours=72)
SECRET_NAME = "signing"


def signer(store: AccessStore, configured: str, salt: str) -> URLSafeSerializer:
    """A serializer keyed by the configured secret, or the one generated and kept in the store."""
    return URLSafeSerializer(configured or store.secret(SECRET_NAME), salt=salt)


def issue_token(
    store: AccessStore, secret: str, purpose: Purpose, now: datetime, ttl: timedelta, **subject: str
) -> tuple[str, datetime]:
    """A signed one-time token for ``subject`` (customer_id= or staff_id=) and when it expires."""
    token_id = secrets.token_urlsafe(16)
    expires = now + ttl
    store.insert_token({"id": token_id, "purpose": purpose, "created_at": now, "expires_at": expires, **subject})
    return signer(store, secret, purpose).dumps({"t": token_id, **{k[0]: v for k, v in subject.items()}}), expires


def redeem_token(store: AccessStore, secret: str, purpose: Purpose, token: str, now: datetime) -> dict[str, Any]:
    """The token's row, marked used; InvalidInput (and nothing changed) when forged, expired, used or foreign."""
    try:
        claims = signer(store, secret, purpose).loads(token)
    except BadSignature:
        raise InvalidInput(
            f"This {_words(purpose)} link is not valid (altered or from elsewhere); {_again(purpose)}."
        ) from None
    row = store.token(str(claims.get("t"))) if isinstance(claims, dict) else None
    if row is None or row["purpose"] != purpose or _subject(row) != _claimed(claims):
        raise InvalidInput(f"This {_words(purpose)} link is not valid; {_again(purpose)}.")
    if row["used_at"] is not None:
        raise InvalidInput(f"This {_words(purpose)} link was used already (links work once); {_again(purpose)}.")
    if now >= row["expires_at"]:
        raise InvalidInput(
            f"This {_words(purpose)} link expired at {row['expires_at']:%H:%M} UTC on {row['expires_at']:%Y-%m-%d}; "
            f"{_again(purpose)}."
        )
    if not store.use_token(row["id"], now):
        raise InvalidInput(f"This {_words(purpose)} link was used already (links work once); {_again(purpose)}.")
    return row


def _subject(row: dict[str, Any]) -> dict[str, str]:
    return {k[0]: row[k] for k in ("customer_id", "staff_id") if row.get(k)}


def _claimed(claims: dict[str, Any]) -> dict[str, str]:
    return {k: claims[k] for k in ("c", "s") if k in claims}


def _words(purpose: Purpose) -> str:
    return "sign-in" if purpose == "customer_sign_in" else "set-password"


def _again(purpose: Purpose) -> str:
    if purpose == "customer_sign_in":
        return "ask for a new sign-in link"
    return "ask an admin for a new link (`rapport staff reset EMAIL`)"
