"""`rapport customer`: show a unified profile by any identifier, its merges, undo a merge, erase a person."""

from __future__ import annotations

import typer
from rich.table import Table

from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors, console, print_json
from rapport.customers.service import erase_customer, get_profile, merge_history, resolve_customer

customer_app = typer.Typer(help="One view of each customer across channels.", no_args_is_help=True)
app.add_typer(customer_app, name="customer")

_DB = typer.Option(None, "--database", help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)")


@customer_app.command("show")
def show(
    identifier: str = typer.Argument(..., help="A customer id, e-mail, phone, user id, or kind:value"),
    events: int = typer.Option(20, help="How many of the latest events to list"),
    as_json: bool = typer.Option(False, "--json", help="Print the profile as JSON"),
    database: str | None = _DB,
) -> None:
    """Print the profile: identifiers, traits, facts and the latest events across channels."""
    with cli_errors():
        profile = get_profile(open_store(database), identifier)
    data = profile.to_dict(events_limit=events)
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]customer {profile.customer_id}[/] ({len(profile.records)} record(s) joined)")
    console.print("identifiers: " + ", ".join(f"{i['kind']}={i['value']}" for i in profile.identifiers))
    console.print("traits: " + ", ".join(f"{k}={v}" for k, v in profile.traits.items()))
    facts = profile.facts
    console.print(
        f"first seen {facts['first_seen']}, last seen {facts['last_seen']}, channels {', '.join(facts['channels'])}, "
        f"{facts['orders']} orders, spend {facts['spend']:.2f}"
    )
    table = Table("time", "channel", "type", "name")
    for event in data["events"]:
        table.add_row(event["timestamp"], event["channel"], event["type"], event["name"] or "")
    console.print(table)


@customer_app.command("merges")
def merges(
    identifier: str = typer.Argument(..., help="A customer id or any identifier"),
    as_json: bool = typer.Option(False, "--json"),
    database: str | None = _DB,
) -> None:
    """Every merge that touched the customer, with its evidence."""
    with cli_errors():
        history = merge_history(open_store(database), identifier)
    if as_json:
        print_json(history)
        return
    table = Table("id", "status", "reason", "survivor", "merged", "evidence")
    for m in history:
        evidence = ", ".join(
            f"{d['kind']}={d['value']}" for side in ("survivor", "merged") for d in m["evidence"].get(side, [])
        )
        table.add_row(str(m["id"]), m["status"], m["reason"], m["survivor_id"], m["merged_id"], evidence)
    console.print(table)


@customer_app.command("unmerge")
def unmerge(
    merge_id: int = typer.Argument(..., help="The merge's id (see `rapport customer merges`)"),
    database: str | None = _DB,
) -> None:
    """Undo a merge: both profiles come back with their own identifiers and events."""
    with cli_errors():
        record = open_store(database).undo_merge(merge_id, "undone from the CLI")
    console.print(f"merge {record.id}: {record.status}; {record.merged_id} is a profile of its own again")


@customer_app.command("erase")
def erase(
    identifier: str = typer.Argument(..., help="A customer id or any identifier"),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation"),
    as_json: bool = typer.Option(False, "--json"),
    database: str | None = _DB,
) -> None:
    """Erase a person everywhere; keep only one-way hashes so their late events are dropped."""
    with cli_errors():
        store = open_store(database)
        customer_id = resolve_customer(store, identifier)
        if not yes and not typer.confirm(f"Erase customer {customer_id} and all their data?"):
            raise typer.Exit(code=1)
        report = erase_customer(store, customer_id)
    if as_json:
        print_json(report)
        return
    removed = report["removed"]
    console.print(
        f"erased {customer_id}: {removed['events']} events, {removed['identifiers']} identifiers, "
        f"{removed['records']} record(s), {removed['merges']} merge(s)"
    )
    files = report["files"]
    if not files["complete"]:
        console.print(
            f"[yellow]the database files may still hold old row versions: sessions {files['blocking_sessions']} "
            f"kept a snapshot older than the erasure for {files['waited_seconds']} s; end them and run VACUUM FULL[/]"
        )
