"""`GET /v1/metrics/flywheel`: fit, needs met on time and contacts per customer, per week or month."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime

from rapport.access.permissions import Permission
from rapport.api.access import require
from rapport.api.decide import decision_store
from rapport.repeat.flywheel import flywheel_metrics

router = APIRouter(prefix="/v1", tags=["repeat"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Bad input (the message says which value and what to send)"},
    401: {"description": "No valid API key"},
    403: {"description": "The key lacks the read scope"},
    422: {"description": "A query parameter is malformed (a time needs its zone)"},
}


@router.get("/metrics/flywheel", responses=_ERRORS, summary="Flywheel metrics over time")
def flywheel_route(
    request: Request,
    period: Literal["week", "month"] = Query("week"),
    since: AwareDatetime | None = Query(None, description="From (inclusive, ISO 8601 with zone)"),
    until: AwareDatetime | None = Query(None, description="To (exclusive, ISO 8601 with zone)"),
    _key: Any = Depends(require(Permission.READ_AGGREGATES)),
) -> dict[str, Any]:
    """Per period: decisions, fit, needs met on time, contacts per customer (preference accuracy needs the truth,
    which only the simulator knows: null here)."""
    metrics = flywheel_metrics(decision_store(request), period, since, until)
    return {"period": period, "periods": [m.to_dict() for m in metrics]}
