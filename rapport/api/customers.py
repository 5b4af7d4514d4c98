"""Customer routes: the unified profile, merge history and undo, erasure."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from rapport.access.permissions import Permission as P
from rapport.access.principals import Principal
from rapport.api.access import CustomerAccess, customer_scope, require
from rapport.customers.identifiers import EMAIL, PHONE, USER_ID, Identifier, normalize
from rapport.customers.service import erase_customer, get_profile, merge_history, profile_of, resolve_customer
from rapport.errors import InvalidInput

router = APIRouter(prefix="/v1", tags=["customers"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API key."},
    403: {"description": "The key lacks the scope."},
    404: {"description": "No such customer."},
}


@router.get("/customers/lookup", responses={**_ERRORS, 400: {"description": "No identifier given."}})
def lookup(
    request: Request,
    email: str | None = None,
    phone: str | None = None,
    user_id: str | None = None,
    kind: str | None = None,
    value: str | None = None,
    events: int = Query(100, ge=0, le=10000, description="How many of the latest events to return"),
    _key: Principal = Depends(require(P.READ_CUSTOMER)),
) -> dict[str, Any]:
    """The profile of the customer holding an identifier: ?email=, ?phone=, ?user_id= or ?kind=&value=."""
    store = request.app.state.store
    given = [(EMAIL, email), (PHONE, phone), (USER_ID, user_id), (kind, value)]
    chosen = [(k, v) for k, v in given if k and v]
    if len(chosen) != 1:
        raise InvalidInput("Give exactly one identifier: ?email=, ?phone=, ?user_id= or ?kind=…&value=….")
    k, v = chosen[0]
    identifier = Identifier(k, normalize(k, v, store.settings.default_phone_region))
    return get_profile(store, f"{identifier.kind}:{identifier.value}").to_dict(events_limit=events)


@router.get("/customers/{customer_id}", responses=_ERRORS)
async def profile(
    request: Request,
    customer_id: str,
    events: int = Query(100, ge=0, le=10000, description="How many of the latest events to return"),
    _key: CustomerAccess = Depends(customer_scope(P.READ_CUSTOMER)),
) -> Response:
    """The unified profile; the id of a merged record answers with the surviving profile.

    On the event loop, as the decision is: a few indexed reads cost less than the hop to a worker thread.
    """
    found = profile_of(request.app.state.store, _key.customer_id).to_dict(events_limit=events)
    return Response(orjson.dumps(found), media_type="application/json")


@router.get("/customers/{customer_id}/merges", responses=_ERRORS)
def merges(
    request: Request, customer_id: str, _key: CustomerAccess = Depends(customer_scope(P.READ_CUSTOMER))
) -> dict[str, Any]:
    """Every merge that touched this customer, with its evidence (applied, refused or undone)."""
    store = request.app.state.store
    return {
        "customer_id": store.canonical_id(customer_id),
        "merges": merge_history(store, store.canonical_id(customer_id)),
    }


@router.post("/merges/{merge_id}/undo", responses={**_ERRORS, 404: {"description": "No such merge."}})
def undo(
    request: Request,
    merge_id: int = Path(ge=1, le=2**63 - 1, description="The merge's id (rapport customer merges)"),
    _key: Principal = Depends(require(P.ADMIN)),
) -> dict[str, Any]:
    """Split a merge: both profiles come back with their own identifiers and events."""
    record = request.app.state.store.undo_merge(merge_id, "undone through the API")
    return {"id": record.id, "status": record.status, "survivor_id": record.survivor_id, "merged_id": record.merged_id}


@router.delete("/customers/{customer_id}", responses=_ERRORS)
def erase(
    request: Request, customer_id: str, _key: CustomerAccess = Depends(customer_scope(P.ADMIN))
) -> dict[str, Any]:
    """Erase the person everywhere; later events carrying their identifiers are dropped."""
    store = request.app.state.store
    return erase_customer(store, resolve_customer(store, customer_id))
