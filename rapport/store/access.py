"""Access storage: staff accounts, one-time tokens, sessions, the access log, generated secrets, key rotation."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, String, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from rapport.access.principals import Principal, ServerKey, describe
from rapport.errors import NotFound, Unauthorized
from rapport.store.bulk import db_timestamp, fetch_rows, placeholder, utc_time
from rapport.store.engine import reading
from rapport.store.keys import ApiKey, _hash, create_key, list_keys
from rapport.store.pipeline import Prepared, run_together
from rapport.store.tables import (
    access_log_entries,
    access_secrets,
    access_sessions,
    access_tokens,
    api_key_rotations,
    customers,
    staff_accounts,
)


@dataclass(frozen=True)
class AccessRecord:
    """One read of a customer's data: when, by whom, what."""

    at: datetime
    principal_kind: str
    principal_id: str
    principal_name: str
    what: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "principal_kind": self.principal_kind,
            "principal_id": self.principal_id,
            "principal_name": self.principal_name,
            "what": self.what,
        }


def record_access(engine: Engine, customer_id: str, principal: Principal, what: str, at: datetime) -> None:
    """Write one read of ``customer_id``'s data by ``principal`` to the access log."""
    kind, principal_id, name = describe(principal)
    with engine.begin() as conn:
        conn.execute(
            insert(access_log_entries).values(
                customer_id=customer_id,
                at=at,
                principal_kind=kind,
                principal_id=principal_id,
                principal_name=name[:400],
                what=what[:400],
            )
        )


_LOG_COLUMNS = ("at", "principal_kind", "principal_id", "principal_name", "what")
# The read of a record's profile and its access-log entry in one statement: the log names the profile id.
_LOG_READ_OF_RECORD = (
    insert(access_log_entries)
    .from_select(
        ["customer_id", *_LOG_COLUMNS],
        select(
            customers.c.canonical_id,
            *(bindparam(n, type_=access_log_entries.c[n].type) for n in _LOG_COLUMNS),
        ).where(customers.c.id == bindparam("ref", type_=String())),
    )
    .returning(access_log_entries.c.customer_id)
)
_SQLITE_LOG_READ_OF_RECORD = (
    f"INSERT INTO access_log_entries (customer_id, {', '.join(_LOG_COLUMNS)})"
    f" SELECT canonical_id, {', '.join('?' * len(_LOG_COLUMNS))} FROM customers WHERE id = ? RETURNING customer_id"
)
_PG_ASYNC_COMMIT = Prepared.of(text("SET LOCAL synchronous_commit TO OFF"))
_PG_LOG_READ_OF_RECORD = Prepared.of(_LOG_READ_OF_RECORD)


def record_read_of_record(engine: Engine, reference: str, principal: Principal, what: str, at: datetime) -> str | None:
    """The profile id of the customer record ``reference``, with this read of it written to the access log.

    One statement finds the profile and logs the read; on PostgreSQL it goes out in one round trip with its
    commit, which does not wait for the WAL flush (a crash may lose the last fraction of a second of entries, as
    it may of decisions without an outbox action). None, and nothing logged, when ``reference`` is no record id.
    """
    kind, principal_id, name = describe(principal)
    values = {"ref": reference, "at": at, "principal_kind": kind, "principal_id": principal_id,
              "principal_name": name[:400], "what": what[:400]}  # fmt: skip
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            found = run_together(conn, [(_PG_ASYNC_COMMIT, {}), (_PG_LOG_READ_OF_RECORD, values)], commit=True)[1]
        return str(found[0]["customer_id"]) if found else None
    values["at"] = db_timestamp(at)  # SQLite: one statement through the driver, which commits it on its own
    with engine.connect() as conn:
        logged = fetch_rows(conn, _SQLITE_LOG_READ_OF_RECORD, [values[n] for n in _LOG_COLUMNS] + [reference])
    return str(logged[0][0]) if logged else None


def access_log(engine: Engine, customer_id: str, limit: int = 500) -> list[AccessRecord]:
    """The latest reads of ``customer_id``'s data, newest first."""
    table = access_log_entries
    query = select(table).where(table.c.customer_id == customer_id).order_by(table.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [AccessRecord(r.at, r.principal_kind, r.principal_id, r.principal_name, r.what) for r in rows]


# ----- server keys ----------------------------------------------------------------------------------------------
def authenticate_key(engine: Engine, plaintext: str, now: datetime | None = None) -> ServerKey:
    """The server key behind ``plaintext``: refused when unknown, revoked, or rotated and past its grace.

    Every request with a key asks this, so it is read through the driver (no SQLAlchemy row or type processing).
    """
    with reading(engine) as conn:
        found = fetch_rows(conn, _KEY_SQL.format(mark=placeholder(conn)), [_hash(plaintext)])
    if not found or found[0][3] is not None:
        raise Unauthorized("The API key is unknown or revoked; create one with `rapport keys create --scope …`.")
    key_id, name, scopes, _revoked, expires, successor_id = found[0]
    expires_at = None if expires is None else utc_time(expires)
    if expires_at is not None and (now or datetime.now(UTC)) >= expires_at:
        raise Unauthorized(
            f"The API key {key_id} was rotated and its grace period ended at {expires_at:%Y-%m-%d %H:%M} UTC; "
            f"use its successor {successor_id}."
        )
    return ServerKey(key_id, tuple(scopes.split(",")), name)


_KEY_SQL = (
    "SELECT api_keys.id, api_keys.name, api_keys.scopes, api_keys.revoked_at, api_key_rotations.expires_at,"
    " api_key_rotations.successor_id FROM api_keys"
    " LEFT OUTER JOIN api_key_rotations ON api_key_rotations.key_id = api_keys.id WHERE api_keys.key_hash = {mark}"
)


def rotate_key(engine: Engine, key_id: str, grace: timedelta, now: datetime) -> tuple[ApiKey, str, datetime]:
    """A successor for key ``key_id`` (same scopes and name); the old key works until ``now + grace``.

    Returns the successor's record, its plaintext (shown once) and when the old key stops working.
    """
    old = next((k for k in list_keys(engine) if k.id == key_id and k.revoked_at is None), None)
    if old is None:
        raise NotFound(f"No active key with id {key_id!r}; `rapport keys list` shows them.")
    with engine.connect() as conn:
        if conn.execute(select(api_key_rotations).where(api_key_rotations.c.key_id == key_id)).first():
            raise NotFound(f"Key {key_id} was rotated already; rotate its successor instead (`rapport keys list`).")
    successor, plaintext = create_key(engine, list(old.scopes), old.name)
    ends = now + grace
    with engine.begin() as conn:
        conn.execute(
            insert(api_key_rotations).values(key_id=key_id, successor_id=successor.id, rotated_at=now, expires_at=ends)
        )
    return successor, plaintext, ends


# ----- secrets --------------------------------------------------------------------------------------------------
def stored_secret(engine: Engine, name: str) -> str:
    """The secret called ``name``, generated and kept on first use (the same on every process of one store)."""
    with engine.connect() as conn:
        found = conn.scalar(select(access_secrets.c.value).where(access_secrets.c.name == name))
    if found:
        return found
    try:
        with engine.begin() as conn:
            made = secrets.token_urlsafe(48)
            conn.execute(insert(access_secrets).values(name=name, value=made, created_at=datetime.now(UTC)))
            return made
    except IntegrityError:  # another process made it first
        return stored_secret(engine, name)


def session_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SqlAccessStore:
    """Accounts, tokens and sessions for rapport.access (the AccessStore protocol) over one engine."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # staff
    def insert_staff(self, row: dict[str, Any]) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(staff_accounts).values(**row))
        except IntegrityError:
            return False
        return True

    def staff_by_email(self, email: str) -> dict[str, Any] | None:
        return self._one(select(staff_accounts).where(staff_accounts.c.email == email))

    def staff_by_id(self, staff_id: str) -> dict[str, Any] | None:
        return self._one(select(staff_accounts).where(staff_accounts.c.id == staff_id))

    def update_staff(self, staff_id: str, values: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(staff_accounts).where(staff_accounts.c.id == staff_id).values(**values))

    def list_staff(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(staff_accounts).order_by(staff_accounts.c.email))]

    # one-time tokens
    def insert_token(self, row: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(access_tokens).values(**row))

    def token(self, token_id: str) -> dict[str, Any] | None:
        return self._one(select(access_tokens).where(access_tokens.c.id == token_id))

    def use_token(self, token_id: str, now: datetime) -> bool:
        """Mark the token used; False when it was used already (two clicks race: one wins)."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(access_tokens)
                .where(access_tokens.c.id == token_id, access_tokens.c.used_at.is_(None))
                .values(used_at=now)
            ).rowcount
        return done == 1

    # sessions
    def insert_session(self, row: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(access_sessions).values(**{**row, "id": session_key(row["id"])}))

    def session(self, session_id: str) -> dict[str, Any] | None:
        return self._one(select(access_sessions).where(access_sessions.c.id == session_key(session_id)))

    def revoke_session(self, session_id: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(access_sessions)
                .where(access_sessions.c.id == session_key(session_id), access_sessions.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )

    def secret(self, name: str) -> str:
        return stored_secret(self.engine, name)

    def _one(self, query: Any) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return dict(row._mapping) if row else None
