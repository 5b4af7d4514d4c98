"""The demo's main job: generate the firm, ingest it like any collector would, and measure what stitching did."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rapport.customers.identifiers import Identifier
from rapport.customers.ingestion import ingest
from rapport.customers.service import get_profile, merge_history
from rapport.demo.access import demo_access
from rapport.demo.firm import DemoFirm, generate_firm
from rapport.demo.fulfilment import demo_fulfilment
from rapport.demo.linkage import linkage_report
from rapport.demo.me import customer_side
from rapport.demo.needs import recognize_demo_needs
from rapport.demo.report import stitching_quality
from rapport.demo.strategy import demo_strategy
from rapport.demo.toner import toner_auto_order
from rapport.demo.voice import demo_voice
from rapport.request.demo import demo_offers
from rapport.store.keys import create_key
from rapport.store.store import Store


def run_demo(store: Store, customers: int = 3000, seed: int = 7, console: Console | None = None) -> dict[str, Any]:
    """Build and ingest the demo firm into ``store``; return the report (also what `--json` prints)."""
    say = console.print if console else (lambda *_: None)
    started = time.perf_counter()
    firm = generate_firm(customers=customers, seed=seed)
    say(
        f"Generated the demo firm: {len(firm.events):,} events of {customers:,} people (seed {seed}) in {time.perf_counter() - started:.1f} s"
    )
    # The demo firm personalises from its customers' own purchases under legitimate interest (each customer can
    # withdraw it, in general or per category); every other purpose needs the customer's explicit consent.
    store.settings = store.settings.with_overrides(
        identifier_fields=dict(firm.identifier_fields), presumed_consents=("personalisation",)
    )
    ingestion = _ingest(store, firm, console)
    store.refresh_statistics()  # the reads below (profiles, training, offers) plan with the grown tables' sizes
    report: dict[str, Any] = {
        "ingestion": ingestion,
        "stitching": _stitching(store, firm),
        "linkage": linkage_report(store, firm, say),
        "sample_profile": _sample_profile(store, firm),
        "needs": recognize_demo_needs(store, firm.end, show_progress=console is not None),
        "offers": demo_offers(store, firm.catalogue, seed),
        "toner_auto_order": toner_auto_order(store, firm.end),
        "voice": demo_voice(store, firm),
        "fulfilment": demo_fulfilment(store, firm),
        "strategy": demo_strategy(store, firm.end, seed),
        "write_key": create_key(store.engine, ["write"], "demo-collector")[1],
        "read_key": create_key(store.engine, ["read"], "demo-dashboard")[1],
    }
    report["access"] = demo_access(store, report["toner_auto_order"].get("customer_id"))
    report["customer_side"] = customer_side(store, report["toner_auto_order"], firm.end)
    store.refresh_statistics()  # the store the demo then serves: decisions, orders and voice were added since
    return report


def _ingest(store: Store, firm: DemoFirm, console: Console | None) -> dict[str, Any]:
    started = time.perf_counter()
    if console:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("Ingesting", total=len(firm.events))
            result = ingest(
                store, firm.events, store.settings, source="demo", progress=lambda n: progress.advance(task, n)
            )
    else:
        result = ingest(store, firm.events, store.settings, source="demo")
    seconds = time.perf_counter() - started
    return {
        "events": len(firm.events),
        "stored": result.stored,
        "duplicates": result.duplicates,
        "rejected": len(result.rejected),
        "seconds": round(seconds, 2),
        "events_per_s": round(len(firm.events) / seconds),
    }


def _stitching(store: Store, firm: DemoFirm) -> dict[str, Any]:
    profiles = store.profile_identifiers()
    shared = sorted({f"{kind}={value}" for ids in profiles.values() for kind, value, is_shared in ids if is_shared})
    quality = stitching_quality(
        {pid: [Identifier(k, v) for k, v, is_shared in ids if not is_shared] for pid, ids in profiles.items()},
        firm.true_person_of,
    )
    counts = store.counts()
    statuses = store.merge_status_counts()
    return {
        **quality.as_dict(),
        "people": len(firm.people),
        "records_before": counts["customer_records"],
        "merges": f"{statuses.get('applied', 0)} / {statuses.get('refused', 0)} / {statuses.get('undone', 0)}",
        "shared_identifiers": shared,
    }


def _sample_profile(store: Store, firm: DemoFirm) -> dict[str, Any]:
    """The profile of the person who reached the firm through the most channels."""
    person = max(firm.people.values(), key=lambda p: (len(p.channels), p.person_id))
    profile = get_profile(store, f"{person.identifiers[0][0]}:{person.identifiers[0][1]}")
    data = profile.to_dict(events_limit=5)
    data["merges"] = len([m for m in merge_history(store, profile.customer_id) if m["status"] == "applied"])
    return data
