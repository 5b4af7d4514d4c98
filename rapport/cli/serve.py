"""`rapport serve`: the HTTP API over the store RAPPORT_DATABASE_URL names."""

from __future__ import annotations

import gc

import typer

from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors
from rapport.cli.stream import KEEP_HELP, stream_settings
from rapport.stream.jetstream import DEFAULT_KEEP_HOURS, DEFAULT_MAX_LAG


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    database: str | None = typer.Option(None, help="Database URL"),
    stream: str | None = typer.Option(
        None, "--stream", envvar="RAPPORT_STREAM", help="Publish tracking calls to this NATS JetStream (nats://…)"
    ),
    stream_name: str = typer.Option("RAPPORT_EVENTS", envvar="RAPPORT_STREAM_NAME", help="JetStream stream name"),
    replicas: int = typer.Option(1, "--stream-replicas", help="Copies JetStream keeps (when it creates the stream)"),
    max_lag: int = typer.Option(
        DEFAULT_MAX_LAG,
        "--stream-max-lag",
        help="Answer 503 + Retry-After while the workers are more than this many calls behind (0: no bound)",
    ),
    keep_hours: float = typer.Option(DEFAULT_KEEP_HOURS, "--stream-keep-hours", help=KEEP_HELP),
) -> None:
    """Serve the HTTP API (docs at /docs). With --stream, `rapport ingest-worker` processes store the events."""
    import uvicorn

    from rapport.api.app import create_app
    from rapport.api.decide import install_decision_trigger

    with cli_errors():
        store = open_store(database)
        settings = (
            stream_settings(stream, stream_name, replicas, max_lag=max_lag, keep_hours=keep_hours) if stream else None
        )
    app_ = create_app(store)
    if settings is not None:
        from rapport.stream.publisher import CallPublisher

        app_.state.stream = CallPublisher(settings)
    # ingested level readings, orders and complaints lead to decisions at once (from the stream's stored notices)
    with cli_errors():
        install_decision_trigger(app_, stream=settings)
    config = uvicorn.Config(app_, host=host, port=port, log_level="info")
    config.load()
    # Everything built at start-up (the app, its routes and schemas, the store's compiled statements: ~280,000
    # objects) lives as long as the process; frozen, the cyclic GC's full collections no longer walk it (one took
    # 0.1-0.4 s before, about nothing after).
    gc.collect()
    gc.freeze()
    uvicorn.Server(config).run()
