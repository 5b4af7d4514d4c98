"""`rapport ingest-worker --stream nats://…`: store the stream's tracking calls (run as many as you like)."""

from __future__ import annotations

import asyncio
import logging
import signal

import typer

from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors, console, print_json
from rapport.stream.jetstream import DEFAULT_KEEP_HOURS, DEFAULT_MAX_LAG, DEFAULT_STREAM, StreamSettings

STREAM_HELP = "NATS URL of the JetStream server, e.g. nats://127.0.0.1:4222"


def stream_settings(
    url: str,
    name: str,
    replicas: int = 1,
    ack_wait: float = 30.0,
    max_lag: int = DEFAULT_MAX_LAG,
    keep_hours: float = DEFAULT_KEEP_HOURS,
) -> StreamSettings:
    """The stream the --stream, --stream-name, --stream-replicas, --stream-max-lag and --stream-keep-hours options
    name (checked)."""
    return StreamSettings(
        url=url, name=name, replicas=replicas, ack_wait_seconds=ack_wait, max_lag_calls=max_lag, keep_hours=keep_hours
    )


KEEP_HELP = "Hours JetStream keeps each call (when it creates the stream); longer than any worker outage"


@app.command("ingest-worker")
def ingest_worker(
    stream: str = typer.Option(..., "--stream", envvar="RAPPORT_STREAM", help=STREAM_HELP),
    stream_name: str = typer.Option(DEFAULT_STREAM, envvar="RAPPORT_STREAM_NAME", help="JetStream stream name"),
    replicas: int = typer.Option(1, "--stream-replicas", help="Copies JetStream keeps (when it creates the stream)"),
    keep_hours: float = typer.Option(DEFAULT_KEEP_HOURS, "--stream-keep-hours", help=KEEP_HELP),
    batch: int = typer.Option(500, help="Most tracking calls stored in one batch"),
    ack_wait: float = typer.Option(30.0, help="Seconds before calls a dead worker held are delivered again"),
    idle_exit: float | None = typer.Option(None, help="Stop after this many seconds without calls (default: never)"),
    database: str | None = typer.Option(None, help="Database URL (default: RAPPORT_DATABASE_URL or ./rapport.db)"),
    as_json: bool = typer.Option(False, "--json", help="Print the worker's tally as JSON when it stops"),
) -> None:
    """Consume the stream (a durable pull consumer shared by every worker), store in batches, ack after commit."""
    from rapport.stream.worker import IngestWorker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with cli_errors():
        settings = stream_settings(stream, stream_name, replicas, ack_wait, keep_hours=keep_hours)
        worker = IngestWorker(open_store(database), settings, batch_calls=batch)

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):  # finish the batch in hand, then stop
                loop.add_signal_handler(sig, stop.set)
            await worker.run(stop, idle_seconds=idle_exit)

        asyncio.run(main())
    if as_json:
        print_json(worker.tally.summary())
    else:
        tally = worker.tally
        console.print(f"stored [bold green]{tally.stored}[/], duplicates {tally.duplicates}, batches {tally.batches}")
