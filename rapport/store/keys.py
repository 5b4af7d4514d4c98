"""API keys: created once and shown once, stored as SHA-256 hashes, scoped, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update

from rapport.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from rapport.store.tables import api_keys

SCOPES = ("write", "read", "decide", "admin")


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret."""

    id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(engine: Engine, scopes: list[str], name: str = "") -> tuple[ApiKey, str]:
    """A new key with the given scopes; returns the stored record and the plaintext key (shown only now)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if not scopes or unknown:
        raise InvalidInput(f"Unknown or missing scope(s) {unknown or scopes}; choose from {', '.join(SCOPES)}.")
    key_id = secrets.token_hex(4)
    plaintext = f"rk_{key_id}_{secrets.token_urlsafe(24)}"
    record = ApiKey(key_id, name or "+".join(scopes), tuple(dict.fromkeys(scopes)), datetime.now(UTC), None)
    with engine.begin() as conn:
        conn.execute(
            insert(api_keys).values(
                id=record.id,
                name=record.name,
                key_hash=_hash(plaintext),
                scopes=",".join(record.scopes),
                created_at=record.created_at,
            )
        )
    return record, plaintext


def revoke_key(engine: Engine, key_or_id: str) -> ApiKey:
    """Revoke a key, named by its id (``rk_<id>_…`` prefix) or the whole key."""
    key_id = key_or_id.split("_")[1] if key_or_id.startswith("rk_") else key_or_id
    with engine.begin() as conn:
        done = conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        ).rowcount
    if not done:
        raise NotFound(f"No active key with id {key_id!r}; `rapport keys list` shows them.")
    return next(k for k in list_keys(engine) if k.id == key_id)


def list_keys(engine: Engine) -> list[ApiKey]:
    with engine.connect() as conn:
        rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).all()
    return [ApiKey(r.id, r.name, tuple(r.scopes.split(",")), r.created_at, r.revoked_at) for r in rows]


def authenticate(engine: Engine, plaintext: str | None, scope: str) -> ApiKey:
    """The key's record if it is valid, active and carries ``scope``; else Unauthorized or Forbidden."""
    if not plaintext:
        raise Unauthorized(
            "An API key is required: HTTP Basic with the key as user name, or 'Authorization: Bearer KEY'."
        )
    with engine.connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.key_hash == _hash(plaintext))).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("The API key is unknown or revoked; create one with `rapport keys create --scope …`.")
    key = ApiKey(row.id, row.name, tuple(row.scopes.split(",")), row.created_at, row.revoked_at)
    if not key.allows(scope):
        raise Forbidden(f"This route needs the {scope!r} scope; the key {key.id} has {', '.join(key.scopes)}.")
    return key
