"""The HTTP API: one FastAPI app over one store. Errors are mapped to responses here, once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from rapport import __version__
from rapport.api import customers, decide, identity, needs, offers, preferences, respond, strategy, tracking, voice
from rapport.api.access import install_access, public
from rapport.api.conversations import router as conversations_router
from rapport.api.repeat import router as repeat_router
from rapport.api.transparency import router as transparency_router
from rapport.customers.events import InvalidEvent
from rapport.customers.ingestion import IngestReport
from rapport.errors import RapportError, Unauthorized, Unavailable
from rapport.store.store import Store
from rapport.web import dashboard


def create_app(store: Store | None = None, after_ingest: Callable[[IngestReport], Any] | None = None) -> FastAPI:
    """The API over ``store`` (default: the store the settings name)."""
    app = FastAPI(title="Rapport", version=__version__, description="Connected customer relationships.")
    app.state.store = store or Store()
    app.state.after_ingest = after_ingest or (lambda report: None)
    app.include_router(tracking.router)
    app.include_router(customers.router)
    app.include_router(decide.router)
    app.include_router(preferences.router)
    app.include_router(respond.router)
    app.include_router(needs.router)
    app.include_router(offers.router)
    app.include_router(identity.router)
    app.include_router(repeat_router)
    app.include_router(conversations_router)
    app.include_router(transparency_router)
    app.include_router(voice.router)
    app.include_router(strategy.router)
    app.include_router(dashboard.router)

    @app.get("/health", tags=["health"])
    @public
    def health() -> dict[str, str]:
        return {"status": "ok", "store": app.state.store.dialect}

    @app.exception_handler(RapportError)
    async def rapport_error(request: Request, exc: RapportError) -> JSONResponse:
        # "code" and "message" are the fields Segment's clients read from an error response.
        body: dict[str, Any] = {"success": False, "code": _code(exc), "error": type(exc).__name__, "message": str(exc)}
        if isinstance(exc, InvalidEvent):
            body["errors"] = exc.errors
        headers = {"WWW-Authenticate": 'Basic realm="rapport"'} if isinstance(exc, Unauthorized) else None
        if isinstance(exc, Unavailable):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
        return JSONResponse(body, status_code=exc.http_status, headers=headers)

    @app.exception_handler(DBAPIError)
    async def database_down(request: Request, exc: DBAPIError) -> JSONResponse:
        # The database is down or restarting (connection refused or lost, SQLite locked): nothing was written,
        # and the pool reconnects by itself, so the client should retry rather than give up on a 500.
        if not (exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)):
            raise exc
        down = Unavailable(f"The database is unavailable ({type(exc.orig).__name__}); retry after a few seconds.")
        return await rapport_error(request, down)

    install_access(app)  # staff and customer sign-in, sign-in links, the access log, pages, hardening (last)
    return app


def _code(exc: RapportError) -> str:
    name = type(exc).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
