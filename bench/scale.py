"""Load held: sustained ingestion over HTTP from several client processes on loopback, for a fixed time, into the
API alone (no stream) and through the stream into 1 and 2 ingestion workers, all in one run.

    .venv/bin/python bench/scale.py --seconds 60 --clients 4 --stores sqlite,postgresql

Each client process runs the real Segment client (batches of --upload-size, its own retries) and keeps at most
--window events unacknowledged, so the clients send as fast as the API acknowledges. Reported per configuration:
events acknowledged and stored per second, p50/p99 acknowledgement latency (track() to the batch's 2xx, which
includes the client's own batching and queue) and request latency (a batch's POST to its 2xx), the
consumer's lag (calls in the stream not yet stored), the calls the API refused with 503 while the lag was over
--max-lag (the clients send them again), and the resident memory of the API and each worker, sampled over time
(with its growth over the first and the second half of the run). PostgreSQL is a dedicated cluster of the run's
own. Loopback only; JSON on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from nats.js.errors import NotFoundError
from rig import DedicatedPostgres, RapportProcess, SegmentSender, free_port
from sqlalchemy import create_engine, func, select

from rapport.config import Settings
from rapport.store.keys import create_key
from rapport.store.store import Store
from rapport.store.tables import events
from rapport.stream.jetstream import DEFAULT_MAX_LAG, StreamSettings, connect, delete_stream, stream_state
from rapport.stream.worker import INGEST_CONSUMER


def client_process(key: str, port: int, args: argparse.Namespace, number: int, go: Any, out: Any) -> None:
    """One collector: once ``go`` is set, send for ``--seconds`` with at most ``--window`` events unacknowledged,
    then flush; its tally goes to ``out``."""
    sender = SegmentSender(key, port, args.upload_size)
    record = sender.record
    out.put(("ready", number))
    go.wait()
    sent = 0
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        if sent - len(record.acked) - len(record.given_up) < args.window:
            ids = [f"scale-{number}-{uuid.uuid4().hex}" for _ in range(args.upload_size)]
            sender.send(ids, stamp=True, prefix=f"c{number}")
            sent += args.upload_size
        else:
            time.sleep(0.002)
    acked_in_time = len(record.acked)
    sender.flush()
    sender.close()
    out.put(
        (
            "done",
            {
                "sent": sent,
                "acked_in_time": acked_in_time,
                "acked": len(record.acked),
                "given_up": len(record.given_up),
                "latencies": record.latencies,
                "request_latencies": record.request_latencies,
                "statuses": dict(record.statuses),
            },
        )
    )


async def _workers_waiting(stream: StreamSettings, workers: int) -> bool:
    """Whether ``workers`` workers have subscribed and wait for calls (each holds a pull request open)."""
    client, js = await connect(stream)
    try:
        info = await js.consumer_info(stream.name, INGEST_CONSUMER)
        return (info.num_waiting or 0) >= workers
    except NotFoundError:
        return False
    finally:
        await client.close()


def _clients(key: str, port: int, args: argparse.Namespace) -> tuple[list[Any], Any, Any]:
    """Start the client processes and wait until each has loaded; (processes, go event, results queue)."""
    context = multiprocessing.get_context("spawn")
    go, out = context.Event(), context.Queue()
    procs = [context.Process(target=client_process, args=(key, port, args, n, go, out)) for n in range(args.clients)]
    for proc in procs:
        proc.start()
    for _ in procs:
        assert out.get(timeout=300)[0] == "ready"
    return procs, go, out


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _growth(samples: list[dict[str, Any]], rss: list[float]) -> list[float] | None:
    """Resident memory growth in MiB a minute over the first and over the second half of the run: memory that
    levels off grows in the first half (caches filling) and not in the second."""
    if len(rss) < 3:
        return None
    times, mid = [s["t"] for s in samples], len(rss) // 2
    return [
        round(60 * (rss[mid] - rss[0]) / (times[mid] - times[0]), 1),
        round(60 * (rss[-1] - rss[mid]) / (times[-1] - times[mid]), 1),
    ]


def _count(engine: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def run(database: str, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    """One configuration: the API (and ``workers`` ingestion workers under the stream) for ``--seconds``."""
    store = Store(Settings(database_url=database))
    _, key = create_key(store.engine, ["write"], "scale")
    store.close()
    env = {**os.environ, "RAPPORT_DATABASE_URL": database}
    port = free_port()
    serve = ["serve", "--port", str(port)]
    stream = None
    if workers:
        stream = StreamSettings(url=args.nats, name=f"RAPPORT_SCALE_{uuid.uuid4().hex[:8].upper()}")
        serve += ["--stream", stream.url, "--stream-name", stream.name, "--stream-max-lag", str(args.max_lag)]
    api = RapportProcess(serve, env, port=port, spares=0)
    work_args = ["ingest-worker", "--stream", args.nats, "--stream-name", stream.name if stream else ""]
    pool = [RapportProcess([*work_args, "--batch", str(args.worker_batch)], env, spares=0) for _ in range(workers)]
    engine = create_engine(database)
    samples: list[dict[str, Any]] = []
    try:
        api.start()
        for worker in pool:
            worker.start()
        while stream is not None and not asyncio.run(_workers_waiting(stream, workers)):
            time.sleep(0.5)  # the workers have loaded and subscribed before the clock starts
        procs, go, out = _clients(key, port, args)
        stored_before = _count(engine)
        go.set()
        began = time.monotonic()
        while time.monotonic() - began < args.seconds:
            time.sleep(args.sample)
            sample: dict[str, Any] = {
                "t": round(time.monotonic() - began, 1),
                "stored": _count(engine) - stored_before,
                "api_rss_mib": round(api.rss_mib(), 1),
                "worker_rss_mib": [round(w.rss_mib(), 1) for w in pool],
            }
            if stream is not None:
                state = asyncio.run(stream_state(stream, INGEST_CONSUMER))
                sample["lag_calls"] = state["pending"] + state["ack_pending"]
            samples.append(sample)
        stored_in_time = _count(engine) - stored_before
        results = [out.get(timeout=600)[1] for _ in procs]
        for proc in procs:
            proc.join(30)
    finally:
        api.stop()
        for worker in pool:
            worker.stop()
        if stream is not None:
            asyncio.run(delete_stream(stream))
        engine.dispose()
    latencies = [x for r in results for x in r["latencies"]]
    requests = [x for r in results for x in r["request_latencies"]]
    acked_in_time = sum(r["acked_in_time"] for r in results)
    rss = [s["api_rss_mib"] for s in samples]
    worker_rss = [max(s["worker_rss_mib"]) for s in samples if s["worker_rss_mib"]]
    lags = [s["lag_calls"] for s in samples if "lag_calls" in s]
    return {
        "mode": "stream" if workers else "direct",
        "workers": workers,
        "clients": args.clients,
        "seconds": args.seconds,
        "acked_per_second": round(acked_in_time / args.seconds),
        "stored_per_second": round(stored_in_time / args.seconds),
        "ack_p50_ms": round(1000 * (_percentile(latencies, 0.5) or 0), 1),
        "ack_p99_ms": round(1000 * (_percentile(latencies, 0.99) or 0), 1),
        "request_p50_ms": round(1000 * (_percentile(requests, 0.5) or 0), 1),
        "request_p99_ms": round(1000 * (_percentile(requests, 0.99) or 0), 1),
        "given_up": sum(r["given_up"] for r in results),
        "statuses": {k: sum(r["statuses"].get(k, 0) for r in results) for r in results for k in r["statuses"]},
        "lag_calls_first_last_max": [lags[0], lags[-1], max(lags)] if lags else None,
        "refused_503": sum(r["statuses"].get("503", 0) for r in results),
        "api_rss_mib_first_last_max": [rss[0], rss[-1], max(rss)] if rss else None,
        "worker_rss_mib_first_last_max": [worker_rss[0], worker_rss[-1], max(worker_rss)] if worker_rss else None,
        "api_rss_mib_per_minute_halves": _growth(samples, rss),
        "worker_rss_mib_per_minute_halves": _growth([s for s in samples if s["worker_rss_mib"]], worker_rss),
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=4, help="client processes sending at once")
    parser.add_argument("--window", type=int, default=200, help="events a client keeps unacknowledged at most")
    parser.add_argument("--upload-size", type=int, default=100, help="the Segment client's batch size")
    parser.add_argument("--worker-batch", type=int, default=20, help="calls per worker batch")
    parser.add_argument("--workers", default="0,1,2", help="configurations: 0 = no stream, N = N workers")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--sample", type=float, default=5, help="seconds between samples")
    parser.add_argument(
        "--max-lag", type=int, default=DEFAULT_MAX_LAG, help="the API's --stream-max-lag (calls; 0: no bound)"
    )
    parser.add_argument("--nats", default=os.environ.get("RAPPORT_TEST_NATS_URL", "nats://127.0.0.1:4222"))
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    stores = args.stores.split(",")
    with tempfile.TemporaryDirectory() as tmp, DedicatedPostgres() if "postgresql" in stores else nullcontext() as pg:
        for kind in stores:
            for workers in (int(w) for w in args.workers.split(",")):
                database = pg.database() if kind == "postgresql" else f"sqlite:///{Path(tmp) / uuid.uuid4().hex}.db"
                row = {"store": kind, **run(database, workers, args)}
                rows.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "samples"}), file=sys.stderr, flush=True)
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps({"ok": all(r["given_up"] == 0 for r in rows), "configurations": rows, "loadavg": load}))


if __name__ == "__main__":
    main()
