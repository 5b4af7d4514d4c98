"""`rapport demo`: build the demo firm, ingest it through the real ingestion path, report, serve the API."""

from __future__ import annotations

import typer
from rich.table import Table

from rapport.cli.context import open_store
from rapport.cli.demo_access import print_demo_access
from rapport.cli.demo_fulfilment import print_fulfilment
from rapport.cli.demo_me import print_customer_side
from rapport.cli.demo_strategy import print_strategy, serve_dashboard
from rapport.cli.demo_toner import print_toner_auto_order
from rapport.cli.main import app
from rapport.cli.output import cli_errors, console, print_json
from rapport.cli.recommend import print_demo_offers
from rapport.cli.voice import print_demo_voice


@app.command("demo")
def demo(
    customers: int = typer.Option(3000, help="People in the demo firm"),
    seed: int = typer.Option(7, help="Seed of the generator (same seed, same firm)"),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the API after the report"),
    host: str = typer.Option("127.0.0.1", help="Address to serve on"),
    port: int = typer.Option(8000, help="Port to serve on"),
    database: str | None = typer.Option(None, help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """A connected retailer of printers, toner, coffee pods and pharmacy refills, end to end."""
    from rapport.demo.run import run_demo

    with cli_errors():
        store = open_store(database)
        report = run_demo(store, customers=customers, seed=seed, console=None if as_json else console)
    if as_json:
        print_json(report)
    else:
        _print_report(report)
    if serve:
        import uvicorn

        from rapport.api.app import create_app
        from rapport.api.decide import install_decision_trigger

        console.print(f"\nServing the API on http://{host}:{port} (docs at /docs); Ctrl-C stops it.")
        served = create_app(store)
        install_decision_trigger(served)  # ingested readings, orders and complaints lead to decisions at once
        serve_dashboard(served, host, port)
        uvicorn.run(served, host=host, port=port, log_level="warning")


def _print_report(report: dict) -> None:
    ingest = report["ingestion"]
    console.print(
        f"\n[bold]Ingestion[/]: {ingest['events']} events in {ingest['seconds']:.1f} s "
        f"({ingest['events_per_s']:,} events/s): stored {ingest['stored']}, duplicates {ingest['duplicates']}, "
        f"rejected {ingest['rejected']}"
    )
    stitching = report["stitching"]
    table = Table("", "count", title="Customers before and after stitching")
    table.add_row("true people (generator)", str(stitching["people"]))
    table.add_row("customer records before stitching", str(stitching["records_before"]))
    table.add_row("profiles after stitching", str(stitching["profiles"]))
    table.add_row("profiles mixing two people", str(stitching["mixed_profiles"]))
    table.add_row("people split over profiles", str(stitching["split_people"]))
    table.add_row("merges applied / refused / undone", stitching["merges"])
    table.add_row("shared identifiers (stop joining)", ", ".join(stitching["shared_identifiers"]) or "none")
    console.print(table)
    sample = report["sample_profile"]
    console.print(f"\n[bold]Sample profile[/] {sample['customer_id']} ({len(sample['records'])} records joined)")
    console.print("  identifiers: " + _identifier_summary(sample["identifiers"]))
    console.print("  traits: " + ", ".join(f"{k}={v}" for k, v in sample["traits"].items()))
    facts = sample["facts"]
    console.print(
        f"  channels {', '.join(facts['channels'])}; {facts['events']} events, {facts['orders']} orders, "
        f"spend {facts['spend']:.2f} EUR; first seen {facts['first_seen'][:10]}, last seen {facts['last_seen'][:10]}"
    )
    _print_needs(report["needs"])
    print_demo_offers(report["offers"])
    print_toner_auto_order(report["toner_auto_order"])
    print_fulfilment(report["fulfilment"])
    print_customer_side(report["customer_side"])
    print_demo_voice(report["voice"])
    print_strategy(report["strategy"])
    console.print(f"\n[bold]Write key[/] (send events with it as the HTTP Basic user name):\n{report['write_key']}")
    console.print(f"[bold]Read key[/]: {report['read_key']}")
    print_demo_access(report["access"])


def _print_needs(needs: dict) -> None:
    kinds = ", ".join(f"{count:,} {kind}" for kind, count in needs["by_kind"].items())
    console.print(f"\n[bold]Needs[/] of {needs['customers']:,} customers as of {needs['as_of'][:10]}: {kinds}")
    for need in needs["examples"]:
        what = f"{need['kind']} of {need['item']}" + (f" ({need['category']})" if need["category"] else "")
        console.print(
            f"  [bold]{what}[/] for {need['customer_id']}, due {need['due_at'][:10]}, "
            f"confidence {need['confidence']:.2f}: {need['reason']}"
        )


def _identifier_summary(identifiers: list[dict[str, str]]) -> str:
    """One value per kind, and how many more of that kind the profile holds."""
    by_kind: dict[str, list[str]] = {}
    for identifier in identifiers:
        by_kind.setdefault(identifier["kind"], []).append(identifier["value"])
    return ", ".join(
        f"{kind}={values[0]}" + (f" (+{len(values) - 1} more)" if len(values) > 1 else "")
        for kind, values in by_kind.items()
    )
