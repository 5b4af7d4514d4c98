"""`rapport strategy check` and `rapport strategy matrix`: the connected strategy against what Rapport really does."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.markup import escape
from rich.table import Table

from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors, console, parse_moment, print_json
from rapport.store.store import Store
from rapport.store.strategy import SqlStrategySource
from rapport.strategy.loading import StrategyInvalid
from rapport.strategy.matrix import Matrix
from rapport.strategy.model import ARCHITECTURES, EXPERIENCES
from rapport.strategy.service import StrategySetup, check, matrix

strategy_app = typer.Typer(help="The connected strategy: check it, and see the 4 x 5 matrix with live figures.",
                           no_args_is_help=True)  # fmt: skip
app.add_typer(strategy_app, name="strategy")

_FILE = typer.Option(None, "--file", help="The strategy file (default: the strategy_file setting, strategy.yaml)")
_DEMO = typer.Option(False, "--demo", help="The demo firm's strategy, routes and network")
_DATABASE = typer.Option(None, help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)")


def _setup(store: Store, file: str | None, demo: bool) -> StrategySetup:
    if demo:
        from rapport.demo.strategy import demo_setup

        setup = demo_setup()
        return setup if file is None else StrategySetup(file, setup.fulfiller, setup.default_control_levels)
    return StrategySetup.from_settings(store.settings, file)


@strategy_app.command("check")
def check_command(
    file: str | None = _FILE,
    demo: bool = _DEMO,
    database: str | None = _DATABASE,
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON"),
) -> None:
    """Validate the strategy against the routes, control levels, mandates, consents and catalogue; exit 1 on errors."""
    with cli_errors():
        store = open_store(database)
        setup = _setup(store, file, demo)
        try:
            findings = check(setup, SqlStrategySource(store.engine, store.settings.source_precedence),
                             datetime.now(UTC))  # fmt: skip
        except StrategyInvalid as exc:
            findings = exc.findings
    errors = sum(f.level == "error" for f in findings)
    if as_json:
        print_json({"file": setup.file, "errors": errors, "findings": [f.to_dict() for f in findings]})
    else:
        table = Table("where", "level", "finding", "suggestion", title=f"Strategy check of {setup.file}")
        for f in findings:
            style = "red" if f.level == "error" else "yellow"
            table.add_row(escape(f.where), f"[{style}]{f.level}[/]", escape(f.message), escape(f.suggestion))
        if findings:
            console.print(table)
        warnings = len(findings) - errors
        console.print(f"{errors} error(s), {warnings} warning(s)" if findings else "The strategy holds: no findings.")
    if errors:
        raise typer.Exit(code=1)


@strategy_app.command("matrix")
def matrix_command(
    since: str | None = typer.Option(None, help="From this date or time (ISO 8601, UTC if no zone)"),
    until: str | None = typer.Option(None, help="Until this date or time (exclusive)"),
    segment: str | None = typer.Option(None, help="Only the customers of this segment of the strategy"),
    file: str | None = _FILE,
    demo: bool = _DEMO,
    database: str | None = _DATABASE,
    as_json: bool = typer.Option(False, "--json", help="Print the 20 cells as JSON"),
) -> None:
    """The 4 x 5 matrix: for every experience and architecture, the live figures over the period."""
    with cli_errors():
        store = open_store(database)
        setup = _setup(store, file, demo)
        begin = parse_moment(since, "--since") if since else None
        end = parse_moment(until, "--until") if until else None
        source = SqlStrategySource(store.engine, store.settings.source_precedence)
        found, _ = matrix(setup, source, datetime.now(UTC), begin, end, segment)
    if as_json:
        print_json(found.to_dict())
        return
    console.print(matrix_table(found))


def matrix_table(found: Matrix) -> Table:
    """Experiences as rows, architectures as columns: every one of the 20 cells with its figures or its state."""
    period = f"{found.since:%Y-%m-%d} .. " if found.since else "all time .. "
    period += f"{found.until:%Y-%m-%d}" if found.until else "now"
    title = f"Connected strategy matrix ({period}" + (f", segment {found.segment})" if found.segment else ")")
    table = Table("experience", *(a.replace("_", " ") for a in ARCHITECTURES), title=title, show_lines=True)
    for experience in EXPERIENCES:
        row = [experience.replace("_", " ")]
        for architecture in ARCHITECTURES:
            row.append(_cell_text(found.cell(experience, architecture).to_dict()))
        table.add_row(*row)
    table.caption = "auto: automatic orders executed/cancelled; on time: needs met by their due date"
    return table


def _cell_text(cell: dict) -> str:
    state = {"held": "[green]held[/]", "contested": "[yellow]contested[/]", "threat": "[red]rival threat[/]",
             "opening": "[dim]opening[/]"}[cell["state"]]  # fmt: skip
    lines = [state + ("" if cell["named"] or cell["state"] in ("opening", "threat") else " [dim](unnamed)[/]")]
    if cell["rivals"]:
        lines.append("rivals: " + ", ".join(cell["rivals"]))
    if cell["decisions"] or cell["orders"] or cell["automatic_executed"] or cell["automatic_cancelled"]:
        rate = "-" if cell["acceptance_rate"] is None else f"{cell['acceptance_rate']:.0%}"
        lines += [
            f"{cell['customers']} cust, {cell['decisions']} dec",
            f"accepted {rate}",
            f"on time {cell['needs_met_on_time']}/{cell['needs_with_due_date']}",
            f"auto {cell['automatic_executed']}/{cell['automatic_cancelled']} x",
            f"complaints {cell['complaints']}",
            f"EUR {cell['revenue']:,.2f}",
        ]
    return "\n".join(lines)
