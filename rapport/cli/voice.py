"""`rapport voice …`: score sentiment in a file, ingest voice items, fit topics, scan for emerging issues."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.table import Table

from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors, console, err_console, parse_moment, print_json, progress_callback
from rapport.customers.event_files import count_rows, file_format, read_events
from rapport.errors import InvalidInput

voice_app = typer.Typer(help="Voice of the customer: sentiment, topics, emerging issues.", no_args_is_help=True)
app.add_typer(voice_app, name="voice")
_BATCH = 1000


def read_table(path: Path) -> pd.DataFrame:
    fmt = file_format(path)
    if fmt == "csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if fmt == "jsonl":
        return pd.read_json(path, lines=True, dtype=False)
    return pd.read_parquet(path)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    fmt = file_format(path) if path.exists() else {".csv": "csv", ".parquet": "parquet"}.get(path.suffix, "jsonl")
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)


@voice_app.command("sentiment")
def sentiment_command(
    input: Path = typer.Option(..., "--input", help="CSV, JSONL or Parquet file"),
    text_column: str = typer.Option(..., "--text-column", help="The column holding the text"),
    output: Path = typer.Option(..., "--output", help="Where to write the rows with sentiment and label added"),
    aspects: bool = typer.Option(False, help="Also add negative_aspects (delivery, price, support)"),
) -> None:
    """Add `sentiment` (-1..1) and `label` (negative/neutral/positive) to every row of a file."""
    from rapport.voice.aspects import aspect_sentiments, negative_aspects
    from rapport.voice.sentiment import score_texts

    with cli_errors():
        frame = read_table(input)
        if text_column not in frame.columns:
            raise InvalidInput(
                f"{input.name} has no column {text_column!r}; its columns are {', '.join(frame.columns)}."
            )
        texts = frame[text_column].fillna("").astype(str).tolist()
        scores: list[tuple[float, str]] = []
        progress, advance = progress_callback(len(texts), "Scoring sentiment")
        with progress:
            for start in range(0, len(texts), _BATCH):
                scores += score_texts(texts[start : start + _BATCH])
                advance(len(texts[start : start + _BATCH]))
        frame["sentiment"] = [s for s, _ in scores]
        frame["label"] = [label for _, label in scores]
        if aspects:
            frame["negative_aspects"] = [",".join(negative_aspects(a)) for a in aspect_sentiments(texts)]
        write_table(frame, output)
    counts = frame["label"].value_counts().to_dict()
    err_console.print(f"{len(frame):,} rows scored → {output} ({', '.join(f'{k} {v:,}' for k, v in counts.items())})")


@voice_app.command("ingest")
def ingest_command(
    file: Path = typer.Argument(..., help="CSV or JSONL: source, external_id, time, text[, author, email, phone, …]"),
    at: str | None = typer.Option(None, help="Judge recency of issues as of this time (default: now)"),
    database: str | None = typer.Option(None, help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Store voice items (idempotent on source and external_id), linked to customers whose identifiers match."""
    from rapport.voice.items import VoiceReport
    from rapport.voice.service import record_voice_items

    with cli_errors():
        now = parse_moment(at) if at else datetime.now(UTC)
        store = open_store(database)
        total = VoiceReport()
        batch: list[object] = []
        progress, advance = progress_callback(count_rows(file), "Ingesting voice items")
        with progress:
            for row in read_events(file):
                batch.append(row)
                if len(batch) == _BATCH:
                    _add(total, record_voice_items(store, batch, now))
                    advance(len(batch))
                    batch = []
            _add(total, record_voice_items(store, batch, now))
            advance(len(batch))
    if as_json:
        print_json(total.as_dict())
        return
    for reason in total.rejected[:10]:
        err_console.print(f"[yellow]rejected[/] {reason}")
    console.print(
        f"{total.stored:,} stored, {total.duplicates:,} duplicates, {len(total.rejected):,} rejected; "
        f"{total.linked:,} linked to customers, {total.issue_needs:,} issue needs."
    )


def _add(total: object, part: object) -> None:
    for name in ("received", "stored", "duplicates", "linked", "issue_needs"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.rejected += part.rejected  # type: ignore[attr-defined]


@voice_app.command("topics")
def topics_command(
    refit: bool = typer.Option(False, help="Fit the topic model on the stored items first"),
    n_topics: int = typer.Option(12, "--topics", help="How many topics to fit"),
    database: str | None = typer.Option(None, help="Database URL"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The topics with their key phrases (fit them with --refit)."""
    from rapport.voice.service import refit_topics

    with cli_errors():
        store = open_store(database)
        if refit:
            refit_topics(store, n_topics)
        topics = store.voice.topics()
    if as_json:
        print_json(topics)
        return
    table = Table("id", "label", "items", title="Voice topics")
    for topic in topics:
        table.add_row(str(topic["id"]), topic["label"], f"{topic['size']:,}")
    console.print(table)


@voice_app.command("alerts")
def alerts_command(
    scan: bool = typer.Option(False, help="Scan every topic for a burst first"),
    at: str | None = typer.Option(None, help="Scan as of this time (default: now)"),
    database: str | None = typer.Option(None, help="Database URL"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Emerging-issue alerts, newest first (raise new ones with --scan)."""
    from rapport.voice.service import scan_alerts

    with cli_errors():
        store = open_store(database)
        if scan:
            scan_alerts(store, parse_moment(at) if at else None)
        alerts = store.voice.alerts()
    if as_json:
        print_json(alerts)
        return
    table = Table("raised", "topic", "signal", "since", "per day", "before", title="Voice alerts")
    for alert in alerts:
        table.add_row(f"{alert['raised_at']:%Y-%m-%d}", alert["examples"].get("topic", ""), alert["signal"],
                      f"{alert['period_start']:%Y-%m-%d}", f"{alert['observed']:.1f}", f"{alert['baseline']:.1f}")  # fmt: skip
    console.print(table)


@voice_app.command("train-sentiment")
def train_sentiment_command(
    output: Path = typer.Option(None, help="Where to write the model (default: the one Rapport ships)"),
) -> None:
    """Train the sentiment correction on both VADER gold sets (MIT) and write it as JSON."""
    import pandas as pd

    from rapport.datasets.vader_gold import load_vader_gold
    from rapport.voice.sentiment import SHIPPED_MODEL, SentimentModel

    with cli_errors():
        sets = pd.concat([load_vader_gold("tweets"), load_vader_gold("amazon")])
        model = SentimentModel().fit(sets["text"].tolist(), sets["rating"].to_numpy(), "vader-gold:tweets+amazon")
        model.save(output or SHIPPED_MODEL)
    err_console.print(f"Trained on {len(sets):,} rated texts → {output or SHIPPED_MODEL}")


def print_demo_voice(section: dict[str, Any]) -> None:
    """The demo report's voice section: items, topics, the alert history, a hurting customer."""
    console.print(
        f"\n[bold]Voice[/]: {section['stored']:,} items ({section['linked']:,} linked to customers), "
        f"{section['issue_needs']} issue needs from the last week; topics: {'; '.join(section['topics'][:8])}"
    )
    incident = section["incident"]
    console.print(f"  the demo's faulty batch: {incident['topic']} of {incident['sku']} from {incident['from']}")
    for alert in section["alerts"][:8]:
        console.print(
            f"  alert: {alert['topic']} ({alert['signal']}) since {alert['since']}: "
            f"{alert['observed']:.1f}/day against {alert['baseline']:.1f}"
        )
    hurting = section["hurting_customer"]
    if hurting:
        console.print(f"  hurting customer {hurting['customer_id']}: {hurting['need']['reason']}")
        console.print(
            f"    decision on a due need: {hurting['decision']['status']} — {hurting['decision']['reasons'][-1]}"
        )
