"""Faults survived: the real Segment client sends events while the API (and, with the stream, the ingestion
worker) is SIGKILLed at random moments and restarted; every acknowledged event must be stored exactly once, a
replay of all of them must store nothing twice, and `rapport check` must find every invariant holding.

    .venv/bin/python bench/faults.py --events 2000 --kills 3 --stores sqlite,postgresql --modes direct,stream

Loopback only; bounded in time (--deadline seconds per scenario). JSON on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import segment.analytics as analytics
from sqlalchemy import create_engine, select, text

from rapport.config import Settings
from rapport.store.invariants import check_store
from rapport.store.keys import create_key
from rapport.store.store import Store
from rapport.store.tables import events
from rapport.stream.jetstream import StreamSettings, delete_stream

RAPPORT = [str(Path(sys.executable).parent / "rapport")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database(kind: str, workdir: Path, postgres: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'faults-{uuid.uuid4().hex[:6]}.db'}"
    name = f"rapport_faults_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return postgres.rsplit("/", 1)[0] + f"/{name}"


class Process:
    """A `rapport …` subprocess that can be SIGKILLed and started again."""

    def __init__(self, args: list[str], env: dict[str, str], ready_port: int | None = None) -> None:
        self.args, self.env, self.ready_port, self.proc = args, env, ready_port, None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*RAPPORT, *self.args], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while self.ready_port and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.ready_port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()


def _send(client: analytics.Client, ids: list[str], acked: list[str], deadline: float) -> None:
    """Send each event until the API acknowledges it (sync mode raises on failure: we retry, as collectors do)."""
    for i, message_id in enumerate(ids):
        while time.monotonic() < deadline:
            try:
                client.track(user_id=f"user-{i % 97}", event="Viewed", properties={"n": i}, message_id=message_id)
                acked.append(message_id)
                break
            except Exception:
                time.sleep(0.2)


def _stored(database: str, ids: list[str]) -> tuple[int, int]:
    """(distinct stored of ids, rows stored of ids)."""
    engine = create_engine(database)
    wanted = set(ids)
    with engine.connect() as conn:
        rows = [m for (m,) in conn.execute(select(events.c.message_id)) if m in wanted]
    engine.dispose()
    return len(set(rows)), len(rows)


def scenario(kind: str, mode: str, args: argparse.Namespace, workdir: Path) -> dict:
    database = _database(kind, workdir, args.postgres)
    store = Store(Settings(database_url=database))
    _, key = create_key(store.engine, ["write"], "faults")
    env = {**os.environ, "RAPPORT_DATABASE_URL": database}
    port = _free_port()
    stream = StreamSettings(url=args.nats, name=f"RAPPORT_FAULTS_{uuid.uuid4().hex[:8].upper()}", ack_wait_seconds=3)
    serve = ["serve", "--port", str(port)]
    worker_args = ["ingest-worker", "--stream", stream.url, "--stream-name", stream.name, "--ack-wait", "3"]
    if mode == "stream":
        serve += ["--stream", stream.url, "--stream-name", stream.name]
    api = Process(serve, env, ready_port=port)
    worker = Process(worker_args, env) if mode == "stream" else None
    client = analytics.Client(key, host=f"http://127.0.0.1:{port}", sync_mode=True, timeout=5)
    ids = [f"fault-{uuid.uuid4().hex}" for _ in range(args.events)]
    acked: list[str] = []
    deadline = time.monotonic() + args.deadline
    started = time.monotonic()
    sender = threading.Thread(target=_send, args=(client, ids, acked, deadline))
    sender.start()
    rng = random.Random(args.seed)
    api_kills = worker_kills = 0
    while sender.is_alive() and (api_kills < args.kills or (worker and worker_kills < args.kills)):
        time.sleep(rng.uniform(0.2, 1.5))
        if api_kills < args.kills:
            api.kill()
            api_kills += 1
            api.start()
        if worker is not None and worker_kills < args.kills:  # mid-batch: the worker is busy while events flow
            worker.kill()
            worker_kills += 1
            worker.start()
    sender.join()
    result: dict = {"store": kind, "mode": mode, "events": args.events, "api_kills": api_kills}
    if worker is not None:
        result["worker_kills"] = worker_kills
    distinct, rows = _wait_stored(database, acked, deadline + 60)
    result.update(acknowledged=len(acked), lost=len(acked) - distinct, doubled=rows - distinct)
    # The same events replayed twice: every one of them a duplicate.
    before = _stored(database, ids)
    for _ in range(2):
        replayed: list[str] = []
        _send(client, acked, replayed, time.monotonic() + args.deadline)
    after = _wait_stored(database, acked, time.monotonic() + 10, settle=3.0 if worker else 0.0)
    result["replay_doubled"] = after[1] - before[1]
    result["seconds"] = round(time.monotonic() - started, 1)
    results = check_store(store.engine)
    result["check_broken"] = [r.name for r in results if not r.holds]
    api.stop()
    if worker is not None:
        worker.stop()
        asyncio.run(delete_stream(stream))
    store.close()
    if kind == "postgresql":
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()
    return result


def _wait_stored(database: str, ids: list[str], until: float, settle: float = 0.0) -> tuple[int, int]:
    time.sleep(settle)
    while True:
        distinct, rows = _stored(database, ids)
        if distinct >= len(set(ids)) or time.monotonic() > until:
            return distinct, rows
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--modes", default="direct,stream")
    parser.add_argument("--deadline", type=float, default=1800, help="seconds a scenario may send for")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--nats", default=os.environ.get("RAPPORT_TEST_NATS_URL", "nats://127.0.0.1:4222"))
    parser.add_argument(
        "--postgres",
        default=os.environ.get("RAPPORT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.stores.split(","):
            for mode in args.modes.split(","):
                rows.append(scenario(kind, mode, args, Path(tmp)))
                print(json.dumps(rows[-1]), file=sys.stderr)
    load = Path("/proc/loadavg").read_text().split()[:3]
    ok = all(r["lost"] == 0 and r["doubled"] == 0 and r["replay_doubled"] == 0 and not r["check_broken"] for r in rows)
    print(json.dumps({"ok": ok, "scenarios": rows, "loadavg": load}))


if __name__ == "__main__":
    main()
