"""`rapport serve`: the HTTP API over the store RAPPORT_DATABASE_URL names."""

from __future__ import annotations

import typer

from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    database: str | None = typer.Option(None, help="Database URL"),
) -> None:
    """Serve the HTTP API (docs at /docs)."""
    import uvicorn

    from rapport.api.app import create_app
    from rapport.api.decide import install_decision_trigger

    with cli_errors():
        store = open_store(database)
    app_ = create_app(store)
    install_decision_trigger(app_)  # ingested level readings, orders and complaints lead to decisions at once
    uvicorn.run(app_, host=host, port=port, log_level="info")
