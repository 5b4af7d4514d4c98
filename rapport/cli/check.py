"""`rapport check`: verify the store's invariants (an operator's command; exit code 1 when one is broken)."""

from __future__ import annotations

import typer
from rich.table import Table

from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors, console, print_json
from rapport.store.invariants import check_store


@app.command("check")
def check(
    database: str | None = typer.Option(None, help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)"),
    as_json: bool = typer.Option(False, "--json", help='Print {"ok": bool, "invariants": [...]} as JSON'),
) -> None:
    """Check that every event's customer exists, identifiers point to live records, merges form a forest and no
    automatic order was executed twice. Exit code 0 when all hold, 1 when one is broken."""
    with cli_errors():
        store = open_store(database)
        results = check_store(store.engine)
    ok = all(r.holds for r in results)
    if as_json:
        print_json({"ok": ok, "invariants": [r.to_dict() for r in results]})
    else:
        table = Table("invariant", "holds", "broken", "first offending rows")
        for r in results:
            mark = "[green]yes[/]" if r.holds else "[bold red]no[/]"
            table.add_row(r.meaning, mark, str(r.broken), "\n".join(r.examples))
        console.print(table)
        console.print("[green]All invariants hold.[/]" if ok else "[bold red]Broken invariants: see above.[/]")
    if not ok:
        raise typer.Exit(code=1)
