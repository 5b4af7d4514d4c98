"""Request benchmark: the side-by-side evaluation on MovieLens-100K and the Instacart sample, and the latency of
single offer requests on the demo store, served by uvicorn. Progress goes to stderr; the last stdout line is one JSON object:
{"movielens": …, "instacart": …, "latency": …, "goal": …}.

Each data set's section holds every method's metrics (recall, precision, NDCG, MAP, coverage at k), its fit time,
and each metric as a ratio to the best single baseline measured in the same run. The latency section times
`curated_offers`, `GET /v1/customers/{id}/offers` and the profile read `GET /v1/customers/{id}` for single
requests, interleaved with `GET /health` (the server's floor) as the baseline measured in the same run; targets: each
read at p99 <= 10 ms and <= 2x GET /health's p99.

    .venv/bin/python bench/request.py [--customers 3000] [--requests 500] [--sections movielens,instacart,latency]
        [--database postgresql+psycopg://postgres@127.0.0.1:5432/EMPTY_DB]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from rapport.config import Settings
from rapport.datasets.instacart import ITEM, ORDER, USER, load_instacart
from rapport.datasets.movielens import load_movielens_100k
from rapport.request.comparison import evaluate_recommenders
from rapport.store.store import Store

BASELINES = ("popularity", "als", "ease", "top_frequency")
K = 10
P99_TARGET_MS = 10.0  # each read route, at p99
HEALTH_RATIO_TARGET = 2.0  # each read route's p99 against GET /health's in the same run


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _evaluation(frame: Any, user: str, item: str, time_col: str) -> dict[str, Any]:
    started = time.perf_counter()
    result = evaluate_recommenders(frame, user, item, time_col, K)
    result["seconds"] = round(time.perf_counter() - started, 2)
    methods = result["methods"]
    metrics = [m for m in methods["rapport"] if m.endswith(f"@{K}") and not m.startswith("coverage")]
    best = {m: max(methods[b][m] for b in BASELINES) for m in metrics}
    result["rapport_vs_best_baseline"] = {m: methods["rapport"][m] / best[m] if best[m] else None for m in metrics}
    result["at_least_best"] = all(methods["rapport"][m] >= best[m] for m in (f"recall@{K}", f"ndcg@{K}"))
    result["better_than_all"] = all(methods["rapport"][m] > best[m] for m in (f"recall@{K}", f"ndcg@{K}"))
    return result


def movielens(_: argparse.Namespace) -> dict[str, Any]:
    """MovieLens-100K, every rating an implicit interaction, each user's latest 20% held out."""
    return _evaluation(load_movielens_100k(), "user_id", "item_id", "timestamp")


def instacart(_: argparse.Namespace) -> dict[str, Any]:
    """The Instacart sample, each user's last order held out (the order number is the time)."""
    return _evaluation(load_instacart(), USER, ITEM, ORDER)


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000.0
    return {"p50": round(float(np.percentile(ms, 50)), 2), "p99": round(float(np.percentile(ms, 99)), 2)}


def _timed(calls: list[Callable[[], Any]]) -> list[float]:
    spent = []
    for call in calls:
        started = time.perf_counter()
        call()
        spent.append(time.perf_counter() - started)
    return spent


@contextmanager
def _served(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free local port in a thread (a real server, one worker) for the block."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def latency(args: argparse.Namespace) -> dict[str, Any]:
    """The demo store (SQLite), trained by the demo itself; single requests for random customers."""
    import httpx

    from rapport.api.app import create_app
    from rapport.demo.run import run_demo
    from rapport.request import curated_offers
    from rapport.store.keys import create_key

    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp(prefix='rapport-bench-request-')) / 'demo.db'}"
    store = Store(Settings(database_url=url))
    _say(f"building the demo store ({args.customers} customers) in {store.engine.url.render_as_string()}")
    report = run_demo(store, customers=args.customers)
    offers_report = report["offers"]
    customers = sorted(store.offers.all_order_lines()["customer"].unique())
    rng = random.Random(11)
    chosen = [rng.choice(customers) for _ in range(args.requests)]
    curated_offers(store, chosen[0], 5)  # load the model once, as a running server has
    service = _timed([lambda c=c: curated_offers(store, c, 5) for c in chosen])
    headers = {"Authorization": f"Bearer {create_key(store.engine, ['read'], 'bench')[1]}"}
    with _served(create_app(store)) as base, httpx.Client(base_url=base, headers=headers) as client:
        client.get(f"/v1/customers/{chosen[0]}/offers")
        http, profile, health = [], [], []
        for c in chosen:  # interleaved, so that the load of the moment weighs on the three alike
            http += _timed([lambda c=c: client.get(f"/v1/customers/{c}/offers?k=5").raise_for_status()])
            profile += _timed([lambda c=c: client.get(f"/v1/customers/{c}?events=0").raise_for_status()])
            health += _timed([lambda: client.get("/health").raise_for_status()])
    result = {
        "store": store.dialect,
        "customers": args.customers,
        "requests": args.requests,
        "model_version": offers_report["model_version"],
        "train_seconds": offers_report["train_seconds"],
        "order_lines": offers_report["order_lines"],
        "curated_offers_ms": _percentiles(service),
        "http_offers_ms": _percentiles(http),
        "http_profile_ms": _percentiles(profile),
        "http_health_ms": _percentiles(health),
    }
    result["http_offers_vs_profile_p99"] = round(result["http_offers_ms"]["p99"] / result["http_profile_ms"]["p99"], 2)
    health_p99 = result["http_health_ms"]["p99"]
    for route in ("offers", "profile"):
        p99 = result[f"http_{route}_ms"]["p99"]
        result[f"http_{route}_vs_health_p99"] = round(p99 / health_p99, 2)
        result[f"{route}_targets_met"] = p99 <= P99_TARGET_MS and p99 <= HEALTH_RATIO_TARGET * health_p99
    result["p99_target_ms"] = P99_TARGET_MS
    result["health_ratio_target"] = HEALTH_RATIO_TARGET
    result["load_average"] = round(os.getloadavg()[0], 2)
    store.close()
    return result


SECTIONS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "movielens": movielens,
    "instacart": instacart,
    "latency": latency,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=3000, help="People in the demo firm for the latency run")
    parser.add_argument("--requests", type=int, default=500, help="Single offer requests to time")
    parser.add_argument("--database", help="An empty database for the latency run (default: a new SQLite file)")
    parser.add_argument("--sections", default=",".join(SECTIONS), help="Comma-separated: " + ", ".join(SECTIONS))
    args = parser.parse_args()
    out: dict[str, Any] = {}
    for name in [s.strip() for s in args.sections.split(",") if s.strip()]:
        if name not in SECTIONS:
            parser.error(f"unknown section {name!r}; choose from {', '.join(SECTIONS)}")
        _say(f"running {name}")
        out[name] = SECTIONS[name](args)
    sets = [out[s] for s in ("movielens", "instacart") if s in out]
    if sets:
        out["goal"] = {
            "at_least_best_baseline_on_every_set": all(s["at_least_best"] for s in sets),
            "better_than_every_baseline_on_one_set": any(s["better_than_all"] for s in sets),
        }
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
