"""Staff dashboard page times on the demo store: home, matrix, one cell, a customer 360, a search by e-mail, by full
name and by a first name alone, and operations, each answered in process (FastAPI's TestClient, an admin signed in)
after one warm-up request; the median of ``--requests`` against the 300 ms target. A search that finds one person
answers with the redirect to the 360 page: its time is the search's, the 360 is timed on its own. Progress goes to
stderr; the last stdout line is one JSON object {"pages": {page: ms}, "over": [...], "load": …, "store": …}.

    .venv/bin/python bench/dashboard.py --database sqlite:///demo.db [--build 3000] [--requests 5]

``--build N`` makes the demo firm of N people first when the store holds no events (as `rapport demo` does).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from rapport.access.staff import create_staff, set_password
from rapport.api.access import AppAccess
from rapport.api.app import create_app
from rapport.config import Settings
from rapport.demo.strategy import demo_setup
from rapport.store.store import Store
from rapport.store.tables import customers, decisions, events, identifiers

TARGET_MS = 300.0
PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def signed_in(app: Any, store: Store) -> TestClient:
    access = AppAccess.over(store)
    now = datetime.now(UTC)
    email = f"bench-{time.time_ns()}@dashboard.example"
    _member, token = create_staff(access.accounts, access.secret, email, "admin", now)
    set_password(access.accounts, access.secret, token, PASSWORD, now)
    client = TestClient(app)
    found = _TOKEN.search(client.get("/staff/sign-in").text)
    assert found, "the sign-in page has no CSRF field"
    form = {"email": email, "password": PASSWORD, "csrf_token": found.group(1), "next": "/"}
    answer = client.post("/staff/sign-in", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:500]
    return client


def subjects(store: Store) -> dict[str, str]:
    """A stitched customer with a name and an e-mail, and the busiest cell's path (the pages to time)."""
    with store.engine.connect() as conn:
        stitched = conn.execute(
            select(customers.c.canonical_id).where(customers.c.merged_into.isnot(None)).order_by(customers.c.id)
        ).first()
        cid = str(stitched[0]) if stitched else str(conn.scalar(select(customers.c.canonical_id).limit(1)))
        members = list(conn.scalars(select(customers.c.id).where(customers.c.canonical_id == cid)))
        email = conn.scalar(
            select(identifiers.c.value).where(identifiers.c.customer_id.in_(members), identifiers.c.kind == "email")
        )
        named = [t for t in conn.scalars(select(events.c.traits).where(events.c.customer_id.in_(members),
                                                                       events.c.traits.isnot(None))) if t]  # fmt: skip
        experience = conn.execute(
            select(decisions.c.experience, func.count()).group_by(decisions.c.experience).order_by(func.count().desc())
        ).first()
    full = next((t for t in named if t.get("first_name") and t.get("last_name")), {})
    return {
        "customer_id": cid,
        "email": str(email or cid),
        "name": f"{full.get('first_name', '')} {full.get('last_name', '')}".strip() or cid,
        "first_name": str(full.get("first_name") or cid),
        "experience": str(experience[0]) if experience else "coach_behavior",
    }


def busiest_cell(client: TestClient, experience: str) -> str:
    """A drill-down link of the matrix page in the experience with the most decisions."""
    links = re.findall(r'href="(/staff/matrix/[a-z_]+/[a-z_]+)', client.get("/staff/matrix").text)
    return next((link for link in links if link.split("/")[3] == experience), links[0])


def timed(client: TestClient, path: str, requests: int) -> tuple[float, int]:
    first = client.get(path, follow_redirects=False)  # warm-up: templates, caches, the planner
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(path, follow_redirects=False)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code in (200, 303), f"{path}: {answer.status_code} {answer.text[:300]}"
    return round(statistics.median(times), 1), first.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="store URL (sqlite:///… or postgresql+psycopg://…)")
    parser.add_argument("--build", type=int, default=0, help="make the demo firm of N people if the store is empty")
    parser.add_argument("--requests", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    store = Store(Settings(database_url=args.database))
    opened = round(time.perf_counter() - started, 2)  # includes migrating (e.g. 0012's backfill) on first open
    if args.build and not store.counts()["events"]:
        from rapport.demo.run import run_demo

        say(f"building the demo firm of {args.build:,} people …")
        run_demo(store, customers=args.build)
    app = create_app(store)
    app.state.strategy_setup = demo_setup()
    client = signed_in(app, store)
    who = subjects(store)
    pages = {
        "home": "/",
        "matrix": "/staff/matrix",
        "cell": busiest_cell(client, who["experience"]),
        "customer 360": f"/staff/customers/{who['customer_id']}",
        "search by e-mail": f"/staff/customers?q={who['email']}",
        "search by name": f"/staff/customers?q={who['name']}",
        "search by first name": f"/staff/customers?q={who['first_name']}",
        "operations": "/staff/operations",
    }
    found: dict[str, float] = {}
    for page, path in pages.items():
        found[page], _status = timed(client, path, args.requests)
        say(f"{page:<22} {found[page]:8.1f} ms  {path}")
    result = {
        "pages": found,
        "over": [page for page, ms in found.items() if ms > TARGET_MS],
        "target_ms": TARGET_MS,
        "requests": args.requests,
        "load": round(os.getloadavg()[0], 1),
        "store": {"dialect": store.dialect, **store.counts(), "open_seconds": opened},
    }
    client.close()
    store.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
