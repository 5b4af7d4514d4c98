"""Faults survived: the real Segment client sends events while the API (and, with the stream, the ingestion
worker, mid-batch) is SIGKILLed at random moments and restarted; PostgreSQL is restarted during ingestion; every
acknowledged event must be stored exactly once, a replay of all of them twice must store nothing twice, and
`rapport check` must find every invariant holding after each scenario.

    .venv/bin/python bench/faults.py --events 100000 --kills 20 --stores sqlite,postgresql --modes direct,stream

PostgreSQL runs on a dedicated cluster of the run's own (created on a free port, restarted, dropped), never the
shared server. Loopback only; bounded in time (--deadline seconds per scenario). JSON on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rig import RAPPORT, Acknowledgements, DedicatedPostgres, RapportProcess, SegmentSender, free_port
from sqlalchemy import create_engine, func, select

from rapport.config import Settings
from rapport.store.keys import create_key
from rapport.store.store import Store
from rapport.store.tables import events
from rapport.stream.jetstream import StreamSettings, connect, delete_stream, stream_state
from rapport.stream.worker import INGEST_CONSUMER


@dataclass
class Rig:
    """One scenario's store, API, worker and stream."""

    database: str
    key: str
    port: int
    api: RapportProcess
    worker: RapportProcess | None
    stream: StreamSettings | None

    def stop(self) -> None:
        self.api.stop()
        if self.worker is not None:
            self.worker.stop()
            asyncio.run(delete_stream(self.stream))  # type: ignore[arg-type]


def _rig(database: str, mode: str, args: argparse.Namespace) -> Rig:
    store = Store(Settings(database_url=database))  # migrates
    _, key = create_key(store.engine, ["write"], "faults")
    store.close()
    env = {**os.environ, "RAPPORT_DATABASE_URL": database}
    port = free_port()
    serve = ["serve", "--port", str(port)]
    stream = worker = None
    if mode == "stream":
        stream = StreamSettings(url=args.nats, name=f"RAPPORT_FAULTS_{uuid.uuid4().hex[:8].upper()}")
        serve += ["--stream", stream.url, "--stream-name", stream.name]
        worker_args = ["ingest-worker", "--stream", stream.url, "--stream-name", stream.name]
        worker = RapportProcess([*worker_args, "--batch", str(args.worker_batch), "--ack-wait", "5"], env, spares=1)
    api = RapportProcess(serve, env, port=port, spares=0 if args.cold else args.spares)
    api.start()
    if worker is not None:
        worker.start()
    return Rig(database, key, port, api, worker, stream)


def _stored(database: str, ids: list[str]) -> tuple[int, int, int]:
    """(distinct of ids stored, rows of ids stored, rows in the whole events table minus distinct message ids)."""
    engine = create_engine(database)
    wanted = set(ids)
    with engine.connect() as conn:
        found = Counter(m for (m,) in conn.execute(select(events.c.message_id)) if m in wanted)
        total = conn.execute(select(func.count(), func.count(events.c.message_id.distinct()))).one()
    engine.dispose()
    return len(found), sum(found.values()), int(total[0]) - int(total[1])


def _drained(rig: Rig, ids: list[str], until: float) -> tuple[int, int, int]:
    """Wait until every id is stored (the stream: and the consumer has nothing pending), or the deadline."""
    while True:
        stored = _stored(rig.database, ids)
        idle = True
        if rig.stream is not None:
            state = asyncio.run(stream_state(rig.stream, INGEST_CONSUMER))
            idle = state["pending"] == 0 and state["ack_pending"] == 0
        if (stored[0] >= len(set(ids)) and idle) or time.monotonic() > until:
            return stored
        time.sleep(0.5)


async def _holding_a_batch(stream: StreamSettings, until: float) -> bool:
    """Wait until the worker holds delivered, unacknowledged calls (it is mid-batch); False at the deadline."""
    client, js = await connect(stream)
    try:
        while time.monotonic() < until:
            if (await js.consumer_info(stream.name, INGEST_CONSUMER)).num_ack_pending:
                return True
            await asyncio.sleep(0.005)
        return False
    finally:
        await client.close()


def _kill_worker_mid_batch(rig: Rig, until: float) -> bool:
    """SIGKILL the worker while it holds a batch, and restart it; False if it held none before ``until``."""
    assert rig.worker is not None and rig.stream is not None
    if not asyncio.run(_holding_a_batch(rig.stream, until)):
        return False
    rig.worker.restart_after_kill()
    return True


def _check(database: str) -> list[str]:
    """`rapport check --json` on the store: the names of broken invariants (empty when all hold)."""
    done = subprocess.run([RAPPORT, "check", "--json", "--database", database], capture_output=True, text=True)
    report = json.loads(done.stdout[done.stdout.index("{") :])
    broken = [i["name"] for i in report["invariants"] if not i["holds"]]
    if done.returncode != (1 if broken else 0):
        broken.append(f"exit code {done.returncode}")
    return broken


def _send_all(rig: Rig, ids: list[str], args: argparse.Namespace, record: Acknowledgements) -> list[SegmentSender]:
    senders = [SegmentSender(rig.key, rig.port, args.upload_size, record) for _ in range(args.clients)]
    for n, sender in enumerate(senders):
        sender.send(ids[n :: args.clients])
    return senders


def _flush(senders: list[SegmentSender], until: float) -> bool:
    """Wait for the clients' queues to empty (each flush in a thread, so the deadline holds), then stop them."""
    threads = [threading.Thread(target=s.flush, daemon=True) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, until - time.monotonic()))
    flushed = not any(t.is_alive() for t in threads)
    if flushed:
        for sender in senders:
            sender.close()  # the consumer threads stop
    return flushed


def _replay_twice(rig: Rig, ids: list[str], args: argparse.Namespace, until: float) -> dict[str, Any]:
    """All events sent again, twice, by fresh clients: nothing may be stored twice."""
    before = _stored(rig.database, ids)
    replayed = Acknowledgements()
    for _ in range(2):
        _flush(_send_all(rig, ids, args, replayed), until)
    after = _drained(rig, ids, min(until, time.monotonic() + 120))
    return {
        "replay_acknowledged": len(replayed.acked),
        "replay_doubled": after[1] - after[0],
        "replay_new": after[0] - before[0],  # events the first pass never got acknowledged, stored now
    }


def scenario_kills(kind: str, mode: str, args: argparse.Namespace, pg: DedicatedPostgres | None, tmp: Path) -> dict:
    """API SIGKILLed ``--kills`` times at random points of the sending (the stream: the worker too, mid-batch)."""
    database = pg.database() if pg else f"sqlite:///{tmp / f'faults-{uuid.uuid4().hex[:6]}.db'}"
    rig = _rig(database, mode, args)
    try:
        rng = random.Random(args.seed)
        ids = [f"fault-{uuid.uuid4().hex}" for _ in range(args.events)]
        started = time.monotonic()
        until = started + args.deadline
        record = Acknowledgements()
        worker_kills = owed = 0
        senders = [SegmentSender(rig.key, rig.port, args.upload_size, record) for _ in range(args.clients)]
        # The events go out in kills + 1 slices; kill i comes at a random point inside slice i (10-90% of it sent), a few
        # milliseconds into a request, once a warm spare is ready, so every kill lands while the client is sending.
        bounds = [round(i * args.events / (args.kills + 1)) for i in range(args.kills + 2)]
        api_kills = 0
        for i in range(args.kills + 1):
            if i < args.kills:
                rig.api.spare_ready(wait=300)
                if rig.worker is not None:
                    rig.worker.spare_ready(wait=300)
            chunk = ids[bounds[i] : bounds[i + 1]]
            for n, sender in enumerate(senders):
                sender.send(chunk[n :: args.clients])
            if owed and rig.worker is not None:  # a worker kill an earlier slice missed, while this one is stored
                rig.worker.spare_ready(wait=300)
                if _kill_worker_mid_batch(rig, min(until, time.monotonic() + 10)):
                    worker_kills, owed = worker_kills + 1, owed - 1
            if i == args.kills or time.monotonic() > until:
                break
            point = bounds[i] + round(len(chunk) * rng.uniform(0.1, 0.9))
            while len(record.acked) < point and time.monotonic() < until:
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.05))
            rig.api.restart_after_kill()
            api_kills += 1
            if rig.worker is not None:  # then the worker, while it stores what the client sent
                rig.worker.spare_ready(wait=300)
                # a worker that stored the slice's rest before it was caught holding a batch is killed during the
                # next slice instead (small runs, fast batches)
                if _kill_worker_mid_batch(rig, min(until, time.monotonic() + 10)):
                    worker_kills += 1
                else:
                    owed += 1
        flushed = _flush(senders, until)
        sent_seconds = time.monotonic() - started
        acked = list(record.acked)
        distinct, rows, table_doubled = _drained(rig, acked, until + 120)
        result: dict[str, Any] = {
            "scenario": "kills",
            "store": kind,
            "mode": mode,
            "events": args.events,
            "api_kills": api_kills,
            "worker_kills_mid_batch": worker_kills if rig.worker else None,
            "acknowledged": len(set(acked)),
            "given_up": len(set(record.given_up)),
            "lost": len(set(acked)) - distinct,
            "doubled": rows - distinct + table_doubled,
            "flushed": flushed,
            "send_seconds": round(sent_seconds, 1),
            "events_per_second": round(len(acked) / sent_seconds),
            "api_restart_seconds_p50": _p50(rig.api.restart_seconds),
            "worker_restart_seconds_p50": _p50(rig.worker.restart_seconds) if rig.worker else None,
            "statuses": dict(record.statuses),
        }
        result.update(_replay_twice(rig, ids, args, time.monotonic() + args.deadline))
    finally:
        rig.stop()
    result["check_broken"] = _check(database)
    result["seconds"] = round(time.monotonic() - started, 1)
    result["ok"] = (
        result["lost"] == 0
        and result["doubled"] == 0
        and result["replay_doubled"] == 0
        and not result["check_broken"]
        and api_kills == args.kills
        and (rig.worker is None or worker_kills == args.kills)
        and result["acknowledged"] + result["given_up"] >= args.events
    )
    return result


class Probe:
    """One tracking call every few milliseconds beside the client: what the API answers while PostgreSQL is down."""

    def __init__(self, port: int, key: str) -> None:
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"})
        self.answers: list[tuple[float, int, str | None]] = []  # (time, status, Retry-After)
        self.acked: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            message_id = f"probe-{uuid.uuid4().hex}"
            body = {"type": "track", "userId": "probe", "event": "Probed", "messageId": message_id}
            try:
                answer = self.client.post("/v1/track", json=body, timeout=10)
            except httpx.HTTPError:
                time.sleep(0.05)
                continue
            self.answers.append((time.monotonic(), answer.status_code, answer.headers.get("Retry-After")))
            if answer.is_success:
                self.acked.append(message_id)
            time.sleep(0.02)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(15)
        self.client.close()


def scenario_pg_restart(mode: str, args: argparse.Namespace, pg: DedicatedPostgres) -> dict:
    """PostgreSQL restarted ``--pg-restarts`` times while the client sends: 503 with Retry-After, never 500."""
    database = pg.database()
    rig = _rig(database, mode, args)
    try:
        ids = [f"pgdown-{uuid.uuid4().hex}" for _ in range(args.pg_events)]
        started = time.monotonic()
        until = started + args.deadline
        record = Acknowledgements()
        recovered: list[float] = []
        with Probe(rig.port, rig.key) as probe:
            senders = _send_all(rig, ids, args, record)
            for n in range(args.pg_restarts):
                while len(record.acked) < (n + 1) * args.pg_events // (args.pg_restarts + 1):
                    if time.monotonic() > until:
                        break
                    time.sleep(0.01)
                restarted = time.monotonic()
                pg.restart()
                while time.monotonic() < until and not any(
                    t > restarted and s < 300 for t, s, _ in probe.answers[-50:]
                ):
                    time.sleep(0.05)
                recovered.append(time.monotonic() - restarted)
            flushed = _flush(senders, until)
            time.sleep(0.5)
        acked = list(record.acked) + probe.acked
        distinct, rows, table_doubled = _drained(rig, acked, until + 120)
    finally:
        rig.stop()
    answers = Counter(str(s) for _, s, _ in probe.answers)
    unavailable = [r for _, s, r in probe.answers if s == 503]
    result: dict[str, Any] = {
        "scenario": "postgresql-restart",
        "store": "postgresql",
        "mode": mode,
        "events": args.pg_events,
        "restarts": args.pg_restarts,
        "acknowledged": len(set(acked)),
        "lost": len(set(acked)) - distinct,
        "doubled": rows - distinct + table_doubled,
        "probe_answers": dict(answers),
        "answered_503": len(unavailable),
        "503_without_retry_after": sum(1 for r in unavailable if not r) + record.unavailable_without_retry_after,
        "answered_500": sum(v for k, v in {**answers, **record.statuses}.items() if k.startswith("5") and k != "503"),
        "recovered_seconds_max": round(max(recovered), 2) if recovered else None,
        "client_statuses": dict(record.statuses),
        "flushed": flushed,
    }
    result["check_broken"] = _check(database)
    result["seconds"] = round(time.monotonic() - started, 1)
    result["ok"] = (
        result["lost"] == 0
        and result["doubled"] == 0
        and result["answered_500"] == 0
        and result["503_without_retry_after"] == 0
        and result["answered_503"] > 0
        and flushed
        and not result["check_broken"]
    )
    return result


def _p50(values: list[float]) -> float | None:
    return round(sorted(values)[len(values) // 2], 2) if values else None


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (processes, streams, the cluster) when stopped
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--modes", default="direct,stream")
    parser.add_argument("--scenarios", default="kills,postgresql-restart")
    parser.add_argument("--pg-events", type=int, default=20_000, help="events sent across the PostgreSQL restarts")
    parser.add_argument("--pg-restarts", type=int, default=3)
    parser.add_argument("--clients", type=int, default=2, help="Segment clients sending at once")
    parser.add_argument("--upload-size", type=int, default=500, help="the clients' batch size")
    parser.add_argument("--worker-batch", type=int, default=4, help="calls per worker batch")
    parser.add_argument("--cold", action="store_true", help="restart the API with a cold `rapport serve`")
    parser.add_argument("--spares", type=int, default=2, help="warm API processes loading ahead of a kill")
    parser.add_argument("--deadline", type=float, default=900, help="seconds a scenario may send for")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--nats", default=os.environ.get("RAPPORT_TEST_NATS_URL", "nats://127.0.0.1:4222"))
    args = parser.parse_args()
    rows: list[dict] = []
    scenarios = args.scenarios.split(",")
    stores = args.stores.split(",")
    needs_pg = "postgresql" in stores
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, DedicatedPostgres() if needs_pg else nullcontext() as pg:
        for kind in stores:
            for mode in args.modes.split(","):
                if "kills" in scenarios:
                    rows.append(scenario_kills(kind, mode, args, pg if kind == "postgresql" else None, Path(tmp)))
                    print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
                if kind == "postgresql" and "postgresql-restart" in scenarios:
                    rows.append(scenario_pg_restart(mode, args, pg))
                    print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    load = Path("/proc/loadavg").read_text().split()[:3]
    ok = bool(rows) and all(r["ok"] for r in rows)
    print(json.dumps({"ok": ok, "seconds": round(time.monotonic() - began), "scenarios": rows, "loadavg": load}))


if __name__ == "__main__":
    main()
