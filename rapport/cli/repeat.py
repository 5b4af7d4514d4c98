"""`rapport evaluate ope` (the off-policy estimators on the Open Bandit Dataset) and `rapport metrics flywheel`."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from rapport.cli.context import open_store
from rapport.cli.main import app, evaluate_app
from rapport.cli.output import cli_errors, console, parse_moment, print_json, progress_callback
from rapport.errors import InvalidInput

metrics_app = typer.Typer(help="The product's own metrics over time.", no_args_is_help=True)
app.add_typer(metrics_app, name="metrics")
LABELS = {"ips": "IPS", "snips": "self-normalised IPS", "dr": "doubly robust", "dm": "direct method (DR's model)"}


@evaluate_app.command("ope")
def evaluate_ope(
    random_log: Path | None = typer.Option(None, "--random", help="Random-policy log (default: ../shared/data)"),
    bts_log: Path | None = typer.Option(None, "--bts", help="Bernoulli-TS log (default: ../shared/data)"),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=50, help="Bootstrap resamples for the intervals"),
    rows: int | None = typer.Option(None, "--rows", min=100, help="Use only the first N rows of each log"),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON only"),
) -> None:
    """Estimate Bernoulli TS's click rate from the random policy's logs (IPS, SNIPS, DR) against the truth."""
    from rapport.datasets.open_bandit import open_bandit_path
    from rapport.repeat.validation import STEPS, validate_open_bandit

    with cli_errors():
        random_path = random_log or open_bandit_path("random")
        bts_path = bts_log or open_bandit_path("bts")
        progress, advance = progress_callback(STEPS, "Off-policy evaluation on the Open Bandit Dataset")
        with progress:
            result = validate_open_bandit(
                random_path, bts_path, rows=rows, n_boot=bootstrap, seed=seed, progress=advance
            )
    if as_json:
        print_json(result)
        return
    print_ope_table(result)


def print_ope_table(result: dict[str, Any]) -> None:
    truth = result["on_policy"]
    console.print(
        f"Bernoulli TS's click rate as logged: {truth['value']:.4f} (95% CI {truth['low']:.4f}-{truth['high']:.4f}); "
        f"random policy's: {result['random_click_rate']:.4f} (taking it as the estimate: relative error "
        f"{result['naive_relative_error']:.1%})"
    )
    for target, estimators in result["targets"].items():
        table = Table(title=f"BTS's click rate estimated from {result['rounds']['random']:,} random rounds ({target})")
        for column in ("estimator", "estimate", "95% CI", "relative error", "95% CI of the error"):
            table.add_column(column, justify="left" if column == "estimator" else "right")
        for name, row in estimators.items():
            table.add_row(
                LABELS[name],
                f"{row['value']:.4f}",
                f"{row['low']:.4f}-{row['high']:.4f}",
                f"{row['relative_error']:.1%}",
                f"{row['relative_error_low']:.1%}-{row['relative_error_high']:.1%}",
            )
        console.print(table)


@metrics_app.command("flywheel")
def metrics_flywheel(
    period: str = typer.Option("week", help="week or month"),
    since: str | None = typer.Option(None, help="From (ISO 8601; UTC if no zone)"),
    until: str | None = typer.Option(None, help="To, exclusive (ISO 8601; UTC if no zone)"),
    truth: Path | None = typer.Option(None, help="CSV customer_id,category,level: the known preferred levels"),
    plot: Path | None = typer.Option(None, help="Write the plot to this PNG"),
    database: str | None = typer.Option(None, help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)"),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON only"),
) -> None:
    """Fit, needs met on time, contacts per customer and (with --truth) preference accuracy, per period."""
    from rapport.repeat.flywheel import flywheel_metrics, plot_flywheel
    from rapport.store.decisions import SqlDecisionStore

    with cli_errors():
        store = SqlDecisionStore.over(open_store(database))
        metrics = flywheel_metrics(
            store,
            period,
            parse_moment(since, "--since") if since else None,
            parse_moment(until, "--until") if until else None,
            read_truth(truth) if truth else None,
        )
        if plot is not None:
            plot_flywheel(metrics, str(plot))
    if as_json:
        print_json({"period": period, "periods": [m.to_dict() for m in metrics], "plot": str(plot) if plot else None})
        return
    table = Table(title=f"Flywheel per {period}")
    columns = ["start", "decisions", "fit", "needs met on time", "contacts per customer", "preference accuracy"]
    for column in columns:
        table.add_column(column, justify="left" if column == "start" else "right")
    for m in metrics:
        table.add_row(
            m.start.isoformat(),
            str(m.decisions),
            *(_share(v) for v in (m.fit, m.needs_met_on_time)),
            "-" if m.contacts_per_customer is None else f"{m.contacts_per_customer:.2f}",
            _share(m.preference_accuracy),
        )
    console.print(table)
    if plot is not None:
        console.print(f"plot written to {plot}")


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def read_truth(path: Path) -> dict[tuple[str, str], str]:
    """customer_id,category,level rows (with that header) → {(customer_id, category): level}."""
    if not path.exists():
        raise InvalidInput(f"{path} does not exist; pass a CSV with columns customer_id,category,level.")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"customer_id", "category", "level"} <= set(reader.fieldnames):
            raise InvalidInput(f"{path} must have the columns customer_id,category,level (got {reader.fieldnames}).")
        return {(row["customer_id"], row["category"]): row["level"] for row in reader}


@evaluate_app.command("nudges")
def evaluate_nudges(
    database: str | None = typer.Option(None, help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)"),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=50),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON only"),
) -> None:
    """The stored nudge bandit's acceptance rate estimated from the logged nudges (IPS, SNIPS, DR)."""
    import numpy as np

    from rapport.repeat.ope import evaluate_nudge_policy
    from rapport.store.bandit import load_bandit
    from rapport.store.decisions import SqlDecisionStore

    with cli_errors():
        store = SqlDecisionStore.over(open_store(database))
        result = evaluate_nudge_policy(
            store.logged_nudges(), load_bandit(store.engine), np.random.default_rng(seed), bootstrap
        )
    if as_json:
        print_json(result)
        return
    console.print(f"{result['nudges']} logged nudges; their acceptance rate as logged: {result['logged_value']:.3f}")
    table = Table(title="The stored bandit's acceptance rate, estimated off-policy")
    for column in ("estimator", "estimate", "95% CI"):
        table.add_column(column, justify="left" if column == "estimator" else "right")
    for name, row in result["estimates"].items():
        table.add_row(LABELS[name], f"{row['value']:.3f}", f"{row['low']:.3f}-{row['high']:.3f}")
    console.print(table)


repeat_app = typer.Typer(help="The Repeat step: what Rapport learned.", no_args_is_help=True)
app.add_typer(repeat_app, name="repeat")


@repeat_app.command("refit-bandit")
def refit_bandit(
    database: str | None = typer.Option(None, help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)"),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON only"),
) -> None:
    """Rebuild the nudge bandit's counts from the decision log (each nudge's arm and first outcome)."""
    from datetime import UTC, datetime

    from rapport.repeat.bandit import NudgeBandit
    from rapport.store.bandit import save_bandit
    from rapport.store.decisions import SqlDecisionStore

    with cli_errors():
        store = SqlDecisionStore.over(open_store(database))
        logs = store.logged_nudges()
        bandit = NudgeBandit().fit(
            (row.customer_id, row.arm, row.reward) for row in logs if row.arm in NudgeBandit().index
        )
        rows = save_bandit(store.engine, bandit, datetime.now(UTC))
    summary = {"nudges": len(logs), "customers": len(bandit.customers), "rows": rows}
    if as_json:
        print_json(summary)
        return
    console.print(f"refitted the nudge bandit from {len(logs)} logged nudges of {len(bandit.customers)} customers")
