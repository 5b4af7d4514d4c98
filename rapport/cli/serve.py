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

    with cli_errors():
        store = open_store(database)
    uvicorn.run(create_app(store), host=host, port=port, log_level="info")
