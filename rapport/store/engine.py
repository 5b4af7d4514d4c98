"""Opening a store: the engine for a URL, SQLite pragmas, migrations, and write transactions.

SQLite (the embedded default) runs in WAL mode with ``secure_delete`` so that erased data leaves the file.
Writes that resolve identities take the store's write lock (``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped
advisory lock on PostgreSQL) so that two ingestion workers never stitch the same identifier twice. On PostgreSQL
ingestion batches share that lock among themselves (``ingest_transaction``) and exclude each other only where they
touch the same identifiers or profiles (rapport.store.identity); every other identity write still holds it alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError

from rapport.errors import ConcurrentWrite, InvalidInput

MIGRATIONS = Path(__file__).parent / "migrations"
IDLE_PING_SECONDS = 5.0  # a pooled PostgreSQL connection idle longer than this is pinged before use
_WRITE_LOCK_KEY = 0x5241_5050  # "RAPP": the advisory lock that serialises identity writes on PostgreSQL


def create_store_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://…``), migrated to the latest schema."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInput(
            f"{url!r} is not a database URL; use sqlite:///./rapport.db or postgresql+psycopg://…"
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
        _configure_sqlite(engine)
    elif parsed.get_backend_name() == "postgresql":
        engine = create_engine(url, pool_size=10, max_overflow=20)
        _ping_when_idle(engine)
    else:
        raise InvalidInput(f"Unsupported database {parsed.get_backend_name()!r}: Rapport runs on SQLite or PostgreSQL.")
    migrate(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA cache_size=-131072")  # 128 MiB: index inserts at random keys stay in memory
        cursor.execute("PRAGMA temp_store=MEMORY")
        # Checkpoint the WAL into the database every 64 MiB (16,384 pages of 4 KiB) instead of SQLite's 4 MiB: an
        # ingestion batch dirties a page of the events' (customer_id, timestamp) index for most of its rows (random
        # customers), and a page rewritten by several batches between checkpoints is copied back (and synced) once.
        # Erasure checkpoints and truncates the WAL itself (rapport.store.erasure), whatever this threshold.
        cursor.execute("PRAGMA wal_autocheckpoint=16384")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle for a while (a restarted server, a dropped link).

    A ping on every check-out (``pool_pre_ping``) is a round trip per request, a third of a decision's on
    PostgreSQL; a connection handed back a moment ago is as alive as it was. A dead one is replaced before use.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_from"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_from", 0.0) < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure: the pool opens a new connection instead
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _WRITE_LOCK_KEY + 1})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def reading(engine: Engine) -> Connection:
    """A connection for reads, outside any transaction on PostgreSQL (autocommit).

    Inside one, every read costs a second round trip for its ROLLBACK when the connection goes back to the pool,
    and that ROLLBACK also drops the statements psycopg prepared on the connection. SQLite reads are in-process
    and keep their deferred transaction.
    """
    conn = engine.connect()
    return conn.execution_options(isolation_level="AUTOCOMMIT") if engine.dialect.name == "postgresql" else conn


@contextmanager
def write_transaction(engine: Engine, *, lookups_by_index: bool = False) -> Iterator[Connection]:
    """A transaction holding the store's write lock until it commits or rolls back.

    ``lookups_by_index``: on PostgreSQL, the transaction's planner never picks a sequential scan. Ingestion looks
    up thousands of keys per batch while a bulk load grows the tables tenfold between two autovacuum analyses;
    with stale statistics the planner would scan whole tables instead of seeking the keys. Every look-up of
    ingestion has an index, so this is always the right plan, and it costs nothing (``ANALYZE`` during a load
    took a fifth of its time). It is set in the same round trip as the lock.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
            yield conn
    else:
        with engine.begin() as conn:
            if lookups_by_index:
                sql = "SELECT pg_advisory_xact_lock(:k), set_config('enable_seqscan', 'off', true)"
            else:
                sql = "SELECT pg_advisory_xact_lock(:k)"
            conn.execute(text(sql), {"k": _WRITE_LOCK_KEY})
            yield conn


@contextmanager
def ingest_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction for one ingestion batch: on SQLite the write lock, as ``write_transaction``; on PostgreSQL the
    write lock in *shared* mode, so batches run side by side while an undo, an erasure or a linkage run (which take
    it exclusively) waits for them and they for it. Batches order themselves by row locks and unique keys instead
    (see ``SqlIdentityTransaction``); a batch that lost a race fails with ``ConcurrentWrite`` and is run again.
    Look-ups never scan, as in ``write_transaction(lookups_by_index=True)``.
    """
    if engine.dialect.name == "sqlite":
        with write_transaction(engine) as conn:
            yield conn
        return
    try:
        with engine.begin() as conn:
            sql = "SELECT pg_advisory_xact_lock_shared(:k), set_config('enable_seqscan', 'off', true)"
            conn.execute(text(sql), {"k": _WRITE_LOCK_KEY})
            yield conn
    except Exception as exc:  # through SQLAlchemy (DBAPIError) or straight from the driver (COPY, bulk reads)
        state = getattr(exc.orig if isinstance(exc, DBAPIError) else exc, "sqlstate", None)
        if state in _LOST_RACE:
            raise ConcurrentWrite(f"another batch wrote the same identity first (SQLSTATE {state})") from exc
        raise


# unique_violation (an identifier or a messageId inserted by a batch that committed first), deadlock_detected
# (two batches locked the same profiles in opposite orders), serialization_failure
_LOST_RACE = {"23505", "40P01", "40001"}
