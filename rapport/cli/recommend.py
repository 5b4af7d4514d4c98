"""`rapport train`, `rapport recommend` and `rapport evaluate recommend`: the curated offering from the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.table import Table

from rapport.cli.context import open_store
from rapport.cli.main import app, evaluate_app
from rapport.cli.next_basket import read_orders
from rapport.cli.output import cli_errors, console, print_json, progress_callback
from rapport.errors import InvalidInput
from rapport.recognize.next_basket import require_columns

WRITERS = (".csv", ".parquet", ".jsonl", ".ndjson")
LABELS = {
    "popularity": "popularity",
    "als": "ALS (implicit)",
    "ease": "EASE",
    "top_frequency": "customer's most frequent items",
    "rapport": "Rapport (blend)",
}


@app.command("train")
def train(
    database: str | None = typer.Option(None, help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)"),
    as_json: bool = typer.Option(False, "--json", help="Print the model summary as JSON"),
) -> None:
    """Refit the offer model from the store's orders and catalogue; saves it under a new version."""
    from rapport.request.training import train_offer_model

    with cli_errors():
        store = open_store(database)
        summary = train_offer_model(store.offers).summary
    if as_json:
        print_json(summary)
        return
    weights = ", ".join(f"{name} {w:.2f}" for name, w in summary["settings"]["weights"].items() if w > 0)
    console.print(
        f"Trained offer model [bold]{summary['version']}[/] on {summary['order_lines']:,} order lines of "
        f"{summary['customers']:,} customers and {summary['items']:,} items in {summary['fit_seconds']:.1f} s; "
        f"blend: {weights}"
    )


@app.command("catalogue")
def catalogue(
    items: Path = typer.Option(..., "--items", help="Items: .csv, .parquet or .jsonl with a sku column"),
    database: str | None = typer.Option(None, help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)"),
) -> None:
    """Replace the catalogue offers are chosen from: sku, name, category, price, on_hand, deliverable_via."""
    from rapport.store.offers import CATALOGUE_FIELDS

    with cli_errors():
        frame = read_orders(items.expanduser())
        require_columns(frame, ["sku"])
        frame = frame.reindex(columns=list(CATALOGUE_FIELDS)).astype(object)
        rows = frame.where(frame.notna(), None).to_dict("records")
        stored = open_store(database).offers.save_catalogue(rows)
    console.print(f"Loaded {stored:,} catalogue items; offers now come only from items on hand or deliverable.")


@app.command("recommend")
def recommend(
    interactions: Path = typer.Option(..., "--interactions", help="Interactions: .csv, .parquet or .jsonl"),
    user_column: str = typer.Option(..., "--user-column", help="Column naming the customer"),
    item_column: str = typer.Option(..., "--item-column", help="Column naming the item"),
    time_column: str | None = typer.Option(None, "--time-column", help="Time or order number (enables tuning)"),
    k: int = typer.Option(10, "--k", help="Options per customer"),
    output: Path = typer.Option(..., "--output", help="Where to write: .csv, .parquet or .jsonl"),
) -> None:
    """Fit Rapport's ranker on a file and write each customer's top k with reasons."""
    from rapport.request.batch import recommend_interactions

    with cli_errors():
        if output.suffix.lower() not in WRITERS:
            raise InvalidInput(f"{output.name}: unknown output type {output.suffix!r}; use .csv, .parquet or .jsonl.")
        frame = read_orders(interactions.expanduser())
        require_columns(frame, [user_column, item_column, *([time_column] if time_column else [])])
        progress, advance = progress_callback(int(frame[user_column].nunique()), f"Ranking {interactions.name}")
        with progress:
            ranked = recommend_interactions(frame, user_column, item_column, time_column, k, advance)
        _write(ranked, output.expanduser())
    console.print(f"Wrote {len(ranked):,} options for {ranked[user_column].nunique():,} customers to {output}")


@evaluate_app.command("recommend")
def evaluate_recommend(
    interactions: Path = typer.Option(..., "--interactions", help="Interactions: .csv, .parquet or .jsonl"),
    user_column: str = typer.Option(..., "--user-column", help="Column naming the customer"),
    item_column: str = typer.Option(..., "--item-column", help="Column naming the item"),
    time_column: str = typer.Option(..., "--time-column", help="Time, date or order number (e.g. order_number)"),
    k: int = typer.Option(10, "--k", min=1, help="List length"),
    split: str = typer.Option("auto", help="auto, last (each customer's last time), fraction or global"),
    fraction: float = typer.Option(0.2, help="Share held out by the fraction and global splits"),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON only"),
) -> None:
    """Time split: popularity, ALS, EASE, top-frequency and Rapport side by side (tuned on validation only)."""
    from rapport.request.comparison import EVALUATION_STEPS, evaluate_recommenders

    with cli_errors():
        frame = read_orders(interactions.expanduser())
        require_columns(frame, [user_column, item_column, time_column])
        progress, advance = progress_callback(EVALUATION_STEPS, f"Evaluating {interactions.name}")
        with progress:
            result = evaluate_recommenders(frame, user_column, item_column, time_column, k, split, fraction, advance)
    if as_json:
        print_json(result)
        return
    table = Table(title=f"Recommendations on {interactions.name}: {result['split']['kind']} time split, k={k}")
    names = ["recall", "precision", "ndcg", "map", "coverage"]
    table.add_column("method")
    for name in names:
        table.add_column(f"{name}@{k}", justify="right")
    for method, figures in result["methods"].items():
        table.add_row(LABELS[method], *(f"{figures[f'{name}@{k}']:.4f}" for name in names))
    console.print(table)
    weights = ", ".join(f"{n} {w:.3f}" for n, w in result["tuning"]["settings"]["weights"].items() if w > 0)
    console.print(f"Blend chosen on a validation split of the training data: {weights}")


def print_demo_offers(offers: dict[str, Any]) -> None:
    """The demo report's offering section: the trained model, the stock, a customer's options with reasons."""
    console.print(
        f"\n[bold]Curated offering[/]: model {offers['model_version']} trained on {offers['order_lines']:,} order "
        f"lines in {offers['train_seconds']:.1f} s; {offers['out_of_stock']} of {offers['items']} items out of "
        f"stock, {offers['deliverable_via_partner']} deliverable through the partner. "
        f"Options for {offers['sample']['customer_id']}:"
    )
    for offer in offers["sample"]["offers"]:
        console.print(f"  {offer['sku']}: {offer['reason']}")


def _write(frame: pd.DataFrame, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
