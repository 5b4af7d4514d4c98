"""Need routes: what Rapport recognises a customer is about to need, with the evidence for each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime

from rapport.access.permissions import Permission as P
from rapport.api.access import CustomerAccess, customer_scope
from rapport.customers.service import resolve_customer
from rapport.recognize.refresh import refresh_customer_needs

router = APIRouter(prefix="/v1", tags=["recognize"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API key."},
    403: {"description": "The key lacks the read scope."},
    404: {"description": "No such customer."},
    422: {"description": "A query parameter is malformed."},
}


@router.get("/customers/{customer_id}/needs", responses=_ERRORS, summary="A customer's recognised needs")
def needs_route(
    request: Request,
    customer_id: str,
    refresh: bool = Query(False, description="Recompute from the customer's events before answering"),
    at: AwareDatetime | None = Query(None, description="With refresh: recompute as of this time (default: now)"),
    _key: CustomerAccess = Depends(customer_scope(P.READ_CUSTOMER)),
) -> dict[str, Any]:
    """Needs soonest due first, each with kind, item or category, due time, confidence and evidence.

    Stored needs are those of the last refresh (`rapport recognize`, or the customer's latest need-changing event);
    ``refresh=true`` recomputes them now from the customer's events.
    """
    store = request.app.state.store
    canonical = resolve_customer(store, customer_id)
    found = (
        refresh_customer_needs(store, canonical, at or datetime.now(UTC)) if refresh else store.read_needs(canonical)
    )
    return {"customer_id": canonical, "needs": [need.to_dict() for need in found]}
