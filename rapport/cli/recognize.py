"""`rapport recognize`: refresh every customer's needs from the store (the batch half of Recognize)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors, console, counted_progress, parse_moment, print_json
from rapport.recognize.refresh import refresh_all_needs


@app.command("recognize")
def recognize_command(
    at: str | None = typer.Option(None, help="Recognise as of this time (ISO 8601, UTC if no zone); default: now"),
    database: str | None = typer.Option(None, help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)"),
    as_json: bool = typer.Option(False, "--json", help='Print {"customers", "needs", "by_kind", "model_version"}'),
) -> None:
    """Refit the population's replenishment cadences and rewrite every customer's needs, with their evidence."""
    with cli_errors():
        now = parse_moment(at) if at else datetime.now(UTC)
        store = open_store(database)
        if as_json:
            report = refresh_all_needs(store, now)
        else:
            with counted_progress("Recognising needs") as (advance, set_total):
                report = refresh_all_needs(store, now, progress=advance, on_customers=set_total)
    if as_json:
        print_json(report.as_dict())
        return
    table = Table("kind", "needs", title=f"Needs of {report.customers:,} customers as of {now:%Y-%m-%d %H:%M} UTC")
    for kind, count in sorted(report.by_kind.items()):
        table.add_row(kind, f"{count:,}")
    console.print(table)
    console.print(f"Model {report.model_version}, fitted on {report.order_lines:,} order lines.")
