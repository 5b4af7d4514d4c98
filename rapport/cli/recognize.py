"""`rapport recognize`: refresh every customer's needs from the store (the batch half of Recognize)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors, console, print_json, progress_callback
from rapport.errors import InvalidInput
from rapport.recognize.refresh import RecognizeReport, refresh_all_needs
from rapport.store.store import Store


@app.command("recognize")
def recognize_command(
    at: str | None = typer.Option(None, help="Recognise as of this time (ISO 8601, UTC if no zone); default: now"),
    database: str | None = typer.Option(None, help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)"),
    as_json: bool = typer.Option(False, "--json", help='Print {"customers", "needs", "by_kind", "model_version"}'),
) -> None:
    """Refit the population's replenishment cadences and rewrite every customer's needs, with their evidence."""
    with cli_errors():
        now = parse_moment(at) if at else datetime.now(UTC)
        report = run_recognize(open_store(database), now, show_progress=not as_json)
    if as_json:
        print_json(report.as_dict())
        return
    table = Table("kind", "needs", title=f"Needs of {report.customers:,} customers as of {now:%Y-%m-%d %H:%M} UTC")
    for kind, count in sorted(report.by_kind.items()):
        table.add_row(kind, f"{count:,}")
    console.print(table)
    console.print(f"Model {report.model_version}, fitted on {report.order_lines:,} order lines.")


def run_recognize(store: Store, now: datetime, show_progress: bool = True) -> RecognizeReport:
    """The batch refresh with a progress bar over customers (the demo calls this too)."""
    if not show_progress:
        return refresh_all_needs(store, now)
    progress, advance = progress_callback(0, "Recognising needs")
    with progress:
        task = progress.task_ids[0]
        return refresh_all_needs(store, now, progress=advance, on_customers=lambda n: progress.update(task, total=n))


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date or time; without a zone it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"--at {text!r} is not an ISO 8601 date or time; use e.g. 2026-12-01 or 2026-12-01T08:00Z."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
