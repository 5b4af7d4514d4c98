"""Strategy routes: the 4 x 5 matrix with live figures and the drill-down of one cell, as JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from rapport.access.permissions import Permission
from rapport.access.principals import Principal
from rapport.api.access import require
from rapport.store.strategy import SqlStrategySource
from rapport.strategy.matrix import Matrix, customers_in_cell
from rapport.strategy.model import Architecture, Experience
from rapport.strategy.service import StrategySetup, matrix

router = APIRouter(prefix="/v1/strategy", tags=["strategy"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid input (an unknown segment)."},
    401: {"description": "No valid API key or staff session."},
    403: {"description": "The key or the staff role may not read firm-wide figures."},
}


def strategy_setup(request: Request) -> StrategySetup:
    """The app's strategy setup (the demo sets its own), else the one the settings describe."""
    setup = getattr(request.app.state, "strategy_setup", None)
    return setup if setup is not None else StrategySetup.from_settings(request.app.state.store.settings)


def live_matrix(request: Request, since: datetime | None, until: datetime | None, segment: str | None) -> Matrix:
    store = request.app.state.store
    source = SqlStrategySource(store.engine, store.settings.source_precedence)
    found, _ = matrix(strategy_setup(request), source, datetime.now(UTC), _aware(since), _aware(until), segment)
    return found


def _aware(at: datetime | None) -> datetime | None:
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)


@router.get("/matrix", responses=_ERRORS)
def matrix_route(
    request: Request,
    since: datetime | None = Query(None, description="From (ISO 8601; UTC if no zone)"),
    until: datetime | None = Query(None, description="Until (exclusive)"),
    segment: str | None = Query(None, max_length=100, description="Only this segment's customers"),
    _who: Principal = Depends(require(Permission.READ_AGGREGATES)),
) -> dict[str, Any]:
    """All 20 cells (experience x architecture) with live figures over the period, their state and rivals."""
    return live_matrix(request, since, until, segment).to_dict()


@router.get("/matrix/cells/{experience}/{architecture}", responses=_ERRORS)
def cell_route(
    request: Request,
    experience: Experience,
    architecture: Architecture,
    since: datetime | None = Query(None),
    until: datetime | None = Query(None),
    segment: str | None = Query(None, max_length=100),
    _who: Principal = Depends(require(Permission.READ_AGGREGATES)),
) -> dict[str, Any]:
    """One cell's figures and its customers (the drill-down)."""
    found = live_matrix(request, since, until, segment)
    return {**found.cell(experience, architecture).to_dict(),
            "customer_list": customers_in_cell(found, experience, architecture)}  # fmt: skip
