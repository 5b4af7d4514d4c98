"""`rapport link`: deduplicate or link people files without labels, or link the stored profiles (--store)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.table import Table

from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors, console, print_json, progress_callback
from rapport.config import load_settings
from rapport.customers.linkage.batch import STEPS, LinkageRun, link_people
from rapport.customers.linkage.evaluation import LinkageScores, score_linkage
from rapport.customers.linkage.files import read_labels, read_people_files
from rapport.customers.linkage.mapping import parse_columns
from rapport.customers.linkage.ports import LinkageEngine
from rapport.engines import linkage_engine, spark_master
from rapport.errors import InvalidInput


@app.command("link")
def link_command(
    inputs: list[Path] = typer.Option(None, "--input", help="A CSV of person records; repeat to link several files"),
    id_column: str = typer.Option("id", "--id-column", help="Column holding each record's id"),
    columns: list[str] = typer.Option(
        None, "--column", help="ROLE=COLUMN, repeatable: what a column holds (given_name=Vorname, birth_year=by)"
    ),
    output: Path | None = typer.Option(None, "--output", help="CSV to write: source, record_id, cluster_id, …"),
    labels: Path | None = typer.Option(None, "--labels", help="Known matches (pairs or an entity column): evaluate"),
    threshold: float | None = typer.Option(
        None,
        "--threshold",
        help="Match probability cut-off (default: chosen from the model's probabilities, without labels); with "
        "--store, the merge-without-asking threshold (default 0.99; 1 queues every proposal for review)",
    ),
    store: bool = typer.Option(False, "--store", help="Link the stored profiles: merge sure pairs, queue the rest"),
    review_threshold: float | None = typer.Option(None, "--review-threshold", help="--store: queue pairs above this"),
    retrain: bool = typer.Option(False, "--retrain", help="--store: train the model again on every profile"),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON"),
    database: str | None = typer.Option(None, "--database", help="--store: database URL"),
    engine: str | None = typer.Option(None, "--engine", help="Where Splink runs: duckdb (default) or spark"),
    spark_master: str | None = typer.Option(
        None, "--spark-master", help="--engine spark: the master (default $SPARK_MASTER or local[2]; spark://host:7077)"
    ),
) -> None:
    """Find the same person across records with no shared identifier (Fellegi-Sunter on Splink, trained by EM)."""
    with cli_errors(), _engine(engine, spark_master) as runner:
        mapping = parse_columns(columns or [])
        if store and mapping:
            raise InvalidInput("--column maps columns of --input files; --store links the stored profiles' traits.")
        if store:
            _link_store(database, threshold, review_threshold, retrain, as_json, runner)
            return
        if not inputs:
            raise InvalidInput("Give --input FILE (one to deduplicate, several to link), or --store.")
        if output is None:
            raise InvalidInput(
                "Give --output FILE for the clusters (source, record_id, cluster_id, match_probability)."
            )
        files = read_people_files([p.expanduser() for p in inputs], id_column)
        truth = read_labels(labels.expanduser(), files, id_column) if labels else None  # bad labels fail first
        progress, advance = progress_callback(STEPS, f"Linking {sum(len(f.frame) for f in files):,} records")
        with progress:
            run = link_people(files, id_column, threshold, advance, columns=mapping, engine=runner)
        run.clusters.to_csv(output, index=False)
        scores = score_linkage(run.assignment(), truth) if truth is not None else None
    summary = _summary(run, output, scores)
    if as_json:
        print_json(summary)
        return
    _print_run(run, output)
    if scores is not None:
        _print_scores(scores)


@contextmanager
def _engine(name: str | None, master: str | None) -> Iterator[LinkageEngine]:
    """The engine chosen by option or settings (rapport.toml, RAPPORT_LINKAGE_ENGINE), released afterwards."""
    settings = load_settings()
    chosen = linkage_engine(name or settings.linkage_engine, spark_master(master, settings.spark_master))
    try:
        yield chosen
    finally:
        chosen.close()


def _summary(run: LinkageRun, output: Path, scores: LinkageScores | None) -> dict[str, object]:
    clusters = run.clusters["cluster_id"].nunique()
    return {
        "records": run.records,
        "engine": run.engine,
        "clusters": clusters,
        "threshold": run.threshold,
        "default_threshold": run.chosen.threshold,
        "expected_precision": round(run.chosen.expected_precision, 4),
        "expected_recall": round(run.chosen.expected_recall, 4),
        "features": {s: {name: cr.column for name, cr in fs.items()} for s, fs in run.features.items()},
        "blocking_rules": [" + ".join(rule.keys) for rule in run.rules],
        "output": str(output),
        "seconds": run.seconds,
        "scores": scores.as_dict() if scores else None,
    }


def _print_run(run: LinkageRun, output: Path) -> None:
    first = next(iter(run.features.values()))
    console.print("compared: " + ", ".join(f"{name} ({cr.column}, by {cr.by})" for name, cr in first.items()))
    console.print("blocking: " + "; ".join(" + ".join(rule.keys) for rule in run.rules))
    how = "given" if run.threshold != run.chosen.threshold else "chosen without labels"
    console.print(
        f"threshold {run.threshold:.4f} ({how}; the model expects precision {run.chosen.expected_precision:.3f}, "
        f"recall {run.chosen.expected_recall:.3f} at {run.chosen.threshold:.4f})"
    )
    clusters = run.clusters["cluster_id"].nunique()
    console.print(f"{run.records:,} records → {clusters:,} clusters; wrote {output}")


def _print_scores(scores: LinkageScores) -> None:
    table = Table("measure", "value", title="Against the labels")
    for key, value in scores.as_dict().items():
        table.add_row(key.replace("_", " "), f"{value:.4f}" if isinstance(value, float) else f"{value:,}")
    console.print(table)


def _link_store(
    database: str | None,
    threshold: float | None,
    review: float | None,
    retrain: bool,
    as_json: bool,
    engine: LinkageEngine,
) -> None:
    from rapport.customers.linkage.proposals import STORE_STEPS, link_store
    from rapport.store.linkage import linkage_store

    store = linkage_store(open_store(database))
    progress, advance = progress_callback(STORE_STEPS, "Linking stored profiles")
    with progress:
        report = link_store(
            store, auto_threshold=threshold, review_threshold=review, retrain=retrain, progress=advance, engine=engine
        )
    if as_json:
        print_json(report.as_dict())
        return
    data = report.as_dict()
    console.print(
        f"linked {data['profiles_linked']:,} new or changed profile(s) against {data['profiles']:,}: "
        f"{data['merged']} merged (p ≥ {data['auto_threshold']:.3f}), {data['queued']} queued for review "
        f"(p ≥ {data['review_threshold']:.3f}), {data['skipped_rejected']} skipped as rejected"
    )
