"""`rapport ingest FILE`: the same ingestion as the HTTP API, from JSONL, CSV or Parquet files."""

from __future__ import annotations

from pathlib import Path

import typer

from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors, console, err_console, print_json, progress_callback
from rapport.customers.event_files import count_rows, read_events
from rapport.customers.ingestion import ingest
from rapport.store.rejections import record_rejections


@app.command("ingest")
def ingest_command(
    file: Path = typer.Argument(..., help="Events: .jsonl (one a line), .csv or .parquet (one a row)"),
    source: str = typer.Option("cli", help="Source name recorded with each event (for trait precedence)"),
    database: str | None = typer.Option(None, help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)"),
    as_json: bool = typer.Option(False, "--json", help='Print {"stored": n, "duplicates": n, "rejected": n}'),
) -> None:
    """Ingest tracking-spec events; retries are stored once, bad rows are reported and nothing valid is lost."""
    with cli_errors():
        path = file.expanduser()
        total = count_rows(path)
        store = open_store(database)
        progress, advance = progress_callback(total, f"Ingesting {path.name}")
        with progress:
            report = ingest(store, read_events(path), store.settings, source=source, progress=advance)
        record_rejections(store, report.rejected, "file", source)
        if report.stored:
            store.refresh_statistics()  # a file load grows the store at once: reads after it plan with its size
    for rejected in report.rejected[:10]:
        reasons = "; ".join(f"{e['field']}: {e['reason']}" for e in rejected["errors"])
        err_console.print(f"[yellow]rejected[/] row {rejected['index'] + 1}: {reasons}")
    if len(report.rejected) > 10:
        err_console.print(f"[yellow]… and {len(report.rejected) - 10} more rejected rows[/]")
    if report.erased:
        err_console.print(f"{report.erased} event(s) of erased people were dropped.")
    if as_json:
        print_json(report.summary())
        return
    summary = report.summary()
    console.print(
        f"stored [bold green]{summary['stored']}[/], duplicates [bold]{summary['duplicates']}[/], "
        f"rejected [bold red]{summary['rejected']}[/]"
    )
