"""`rapport decide`: the decision for one customer in a situation, from the command line (logged like any other)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors, console, parse_moment, print_json
from rapport.decide.engine import decide
from rapport.decide.situations import TOUCHPOINTS, Situation
from rapport.store.decisions import SqlDecisionStore


@app.command("decide")
def decide_command(
    customer: str = typer.Argument(..., help="A customer id or any identifier (e-mail, phone, user id)"),
    touchpoint: str = typer.Option("app_open", help=f"One of {', '.join(TOUCHPOINTS)}"),
    sku: str | None = typer.Option(None, help="The item the situation is about"),
    category: str | None = typer.Option(None, help="The category the situation is about"),
    at: str | None = typer.Option(None, help="Decide as of this time (ISO 8601, UTC if no zone); default: now"),
    database: str | None = typer.Option(None, help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)"),
    as_json: bool = typer.Option(False, "--json", help="Print the decision as JSON"),
) -> None:
    """Decide what to do for a customer now (or nothing, and why), under their control level, consent and policy."""
    with cli_errors():
        store = SqlDecisionStore.over(open_store(database))
        now = parse_moment(at) if at else datetime.now(UTC)
        situation = Situation(touchpoint, sku=sku, category=category)  # type: ignore[arg-type]
        decision = decide(store, customer, situation, now, trigger="cli")
    if as_json:
        print_json(decision.to_dict())
        return
    console.print(f"[bold]{decision.status}[/] {decision.experience or ''} (decision {decision.id})")
    if decision.action:
        console.print("  action: " + ", ".join(f"{k}={v}" for k, v in decision.action.items() if k != "options"))
    for reason in decision.reasons:
        console.print(f"  - {reason}")
