"""`rapport forecast`: per-customer purchases after a calibration date from a firm's transaction file.

Writes expected transactions in the horizon (Rapport's forecaster, BG/NBD and Pareto/NBD), P(alive), the median
next purchase date of a still-active customer and, with amounts, the expected value; with --evaluate the file's
purchases inside the horizon are the actuals and the three models are scored side by side.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.table import Table

from rapport.cli.main import app
from rapport.cli.output import cli_errors, console, err_console, print_json, progress_callback
from rapport.errors import InvalidInput
from rapport.recognize.purchase_forecast import STEPS, check_period, forecast_purchases
from rapport.recognize.transactions import parse_dates, prepare_transactions

READERS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
LABELS = {"bgnbd": "BG/NBD", "paretonbd": "Pareto/NBD", "rapport": "Rapport"}


def read_transactions(path: Path) -> pd.DataFrame:
    """A transaction table from CSV, Parquet or JSONL (chosen by extension), every column read as text."""
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise InvalidInput(f"{path.name}: unknown file type {path.suffix!r}; use .csv, .parquet or .jsonl.")
    if not path.exists():
        raise InvalidInput(f"{path} does not exist.")
    try:
        if kind == "csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        elif kind == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_json(path, lines=True, dtype=False)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as exc:
        raise InvalidInput(f"{path.name} cannot be read as {kind}: {exc}") from None
    if frame.empty:
        raise InvalidInput(f"{path.name} has no rows; it needs one row per purchase (customer, date).")
    return frame


def parse_day(value: str, option: str, date_format: str | None) -> pd.Timestamp:
    """One date given on the command line: in --date-format if given, else (or failing that) ISO or YYYYMMDD."""
    for fmt in dict.fromkeys([date_format, None]):
        try:
            return parse_dates(pd.Series([value]), option, fmt).iloc[0]
        except InvalidInput:
            continue
    shown = f"{date_format} or YYYY-MM-DD" if date_format else "YYYY-MM-DD (or YYYYMMDD)"
    raise InvalidInput(f"{option} {value!r} is not a date; use {shown}.")


@app.command("forecast")
def forecast_command(
    transactions: Path = typer.Option(..., "--transactions", help="Purchases: .csv, .parquet or .jsonl"),
    customer_column: str = typer.Option(..., "--customer-column", help="Column naming the customer"),
    date_column: str = typer.Option(..., "--date-column", help="Column with the purchase date (ISO or YYYYMMDD)"),
    calibration_end: str = typer.Option(..., "--calibration-end", help="Last day the models learn from"),
    horizon_end: str = typer.Option(..., "--horizon-end", help="Last day of the period to forecast"),
    output: Path = typer.Option(..., "--output", help="CSV to write, one row per customer"),
    amount_column: str | None = typer.Option(None, "--amount-column", help="Purchase amount (enables value)"),
    quantity_column: str | None = typer.Option(
        None, "--quantity-column", help="Units bought; rows with 0 are skipped, negative ones rejected"
    ),
    date_format: str | None = typer.Option(None, "--date-format", help="strftime format, e.g. %d/%m/%Y"),
    evaluate: bool = typer.Option(False, "--evaluate", help="The file covers the horizon: score against it"),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON only"),
) -> None:
    """Forecast each customer's purchases between the calibration end and the horizon end (weeks as the unit).

    One row per customer seen by the calibration end; purchases on the same day count once.

    expected_transactions: Rapport's point forecast (balances absolute and squared error; may be 0 if none is likeliest).

    rapport_mean_transactions: its mean; bgnbd_ and paretonbd_expected_transactions: the two models' means.

    p_alive: BG/NBD's probability that the customer is still active at the calibration end.

    next_purchase_date: median date of the next purchase if still active (BG/NBD posterior; empty past 100 years).

    With amounts: expected_value_per_purchase (Gamma-Gamma) and expected_value; with --evaluate: actual_transactions.
    """
    with cli_errors():
        frame = read_transactions(transactions.expanduser())
        cal_end = parse_day(calibration_end, "--calibration-end", date_format)
        hor_end = parse_day(horizon_end, "--horizon-end", date_format)
        prepared = prepare_transactions(
            frame, customer_column, date_column, amount_column, quantity_column, date_format
        )
        check_period(prepared["date"], cal_end, hor_end, evaluate)
        progress, advance = progress_callback(STEPS, f"Forecasting {transactions.name}")
        with progress:
            result = forecast_purchases(prepared, cal_end, hor_end, evaluate, advance)
        for note in result.notes:
            err_console.print(f"[yellow]note:[/] {note}")
        table = result.predictions.rename_axis(customer_column).reset_index()
        table["next_purchase_date"] = table["next_purchase_date"].dt.strftime("%Y-%m-%d")
        try:
            table.to_csv(output.expanduser(), index=False, float_format="%.6g")
        except OSError as exc:
            raise InvalidInput(f"Cannot write {output}: {exc}") from None
    if as_json:
        print_json(result.evaluation if evaluate else _summary(result, output))
        return
    console.print(f"Wrote {len(table):,} customers to {output}.")
    if result.evaluation is not None:
        console.print(_table(result.evaluation, cal_end, hor_end))
        console.print(
            f"Rapport's rule, learned on {result.backtest['cut']} .. {result.backtest['end']}: {_rule(result)}"
        )


def _summary(result: Any, output: Path) -> dict[str, Any]:
    return {"customers": len(result.predictions), "output": str(output), "models": result.models}


def _rule(result: Any) -> str:
    params = result.models["rapport"]["params"]
    kappa = params["kappa"]
    point = "the blended mean" if kappa == "inf" else f"a balanced point (kappa {kappa}) summing to the mean total"
    return f"{params['bgnbd_weight']:.2f} BG/NBD + {1 - params['bgnbd_weight']:.2f} Pareto/NBD, {point}."


def _table(evaluation: dict[str, Any], cal_end: pd.Timestamp, hor_end: pd.Timestamp) -> Table:
    """MAE, RMSE and total of each model against the actual purchases in the horizon."""
    actual = evaluation["actual_total"]
    table = Table(title=f"Repeat purchases {cal_end.date()} .. {hor_end.date()}: forecast vs actual ({actual:,})")
    table.add_column("model")
    table.add_column("MAE", justify="right")
    table.add_column("RMSE", justify="right")
    table.add_column("total", justify="right")
    table.add_column("total vs actual", justify="right")
    table.add_column("log-likelihood", justify="right")
    for name, figures in evaluation["models"].items():
        loglik = figures.get("loglik")
        share = figures["total"] / actual - 1.0 if actual else math.nan
        table.add_row(
            LABELS[name],
            f"{figures['mae']:.4f}",
            f"{figures['rmse']:.4f}",
            f"{figures['total']:,.1f}",
            f"{share:+.1%}",
            "" if loglik is None else f"{loglik:,.1f}",
        )
    return table
