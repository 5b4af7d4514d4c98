"""`rapport evaluate next-basket`: hold out each user's last order and score Rapport against personal baselines."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from rapport.cli.main import evaluate_app
from rapport.cli.output import cli_errors, console, print_json, progress_callback
from rapport.errors import InvalidInput
from rapport.recognize.next_basket import require_columns
from rapport.recognize.next_basket_evaluation import evaluate_next_basket

READERS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def read_orders(path: Path) -> pd.DataFrame:
    """Order lines from a CSV, Parquet or JSONL file (chosen by extension)."""
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise InvalidInput(f"{path.name}: unknown file type {path.suffix!r}; use .csv, .parquet or .jsonl.")
    if not path.exists():
        raise InvalidInput(f"{path} does not exist.")
    if path.stat().st_size == 0:
        raise InvalidInput(f"{path.name} is empty; it needs one row per order line (user, order, item).")
    try:
        if kind == "csv":
            frame = pd.read_csv(path)
        elif kind == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_json(path, lines=True)
    except (ValueError, pd.errors.ParserError, OSError) as exc:
        raise InvalidInput(f"{path.name} cannot be read as {kind}: {exc}") from None
    if frame.empty:
        raise InvalidInput(f"{path.name} has no rows; it needs one row per order line (user, order, item).")
    return frame


@evaluate_app.command("next-basket")
def next_basket_command(
    orders: Path = typer.Option(..., "--orders", help="Order lines: .csv, .parquet or .jsonl, one row per item"),
    user_column: str = typer.Option(..., "--user-column", help="Column naming the customer"),
    order_column: str = typer.Option(..., "--order-column", help="Column ordering a user's orders (e.g. number)"),
    item_column: str = typer.Option(..., "--item-column", help="Column naming the item"),
    days_column: str | None = typer.Option(
        None, "--days-since-prior-column", help="Days since the user's prior order (enables days-to-next-order)"
    ),
    k: int = typer.Option(10, "--k", min=1, help="List length for recall@k and NDCG@k"),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON only"),
) -> None:
    """Hold out each user's last order: items (recall@k, NDCG@k) and days to it (MAE), Rapport vs baselines."""
    with cli_errors():
        frame = read_orders(orders.expanduser())
        require_columns(frame, [user_column, order_column, item_column, *([days_column] if days_column else [])])
        progress, advance = progress_callback(4, f"Evaluating {orders.name}")
        with progress:
            result = evaluate_next_basket(frame, user_column, order_column, item_column, days_column, k, advance)
    if as_json:
        print_json(result)
        return
    items = Table(title=f"Next order: which items (last order of each user held out, k={k})")
    items.add_column("method")
    items.add_column(f"recall@{k}", justify="right")
    items.add_column(f"NDCG@{k}", justify="right")
    for name, label in (("top_frequency", "user's most frequent items"), ("rapport", "Rapport")):
        figures = result["methods"][name]
        items.add_row(label, f"{figures[f'recall@{k}']:.4f}", f"{figures[f'ndcg@{k}']:.4f}")
    console.print(items)
    if days_column is None:
        console.print("Days to the next order: not evaluated (pass --days-since-prior-column).")
        return
    days = Table(title="Next order: when (days since the prior order)")
    days.add_column("method")
    days.add_column("MAE (days)", justify="right")
    days.add_row("user's median interval", f"{result['interval']['median_interval']['mae']:.3f}")
    days.add_row("Rapport", f"{result['interval']['rapport']['mae']:.3f}")
    console.print(days)
