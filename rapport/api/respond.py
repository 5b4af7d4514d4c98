"""Respond routes: orders and one-click reorder, mandates, automatic orders, the audit log, pull-channel actions.

Writes a client may retry are idempotent: an order or a mandate with the same ``Idempotency-Key`` header (or
``client_key`` field) answers 200 with the first one; the same key with a different body is 409.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from rapport.access.permissions import Permission as P
from rapport.access.principals import Principal
from rapport.api.access import CustomerAccess, customer_scope, require
from rapport.api.decide import decision_store
from rapport.customers.service import resolve_customer
from rapport.errors import InvalidInput
from rapport.respond import automatic, mandates, orders, outbox, reorder
from rapport.respond.audit import read_audit
from rapport.store.decisions import SqlDecisionStore

router = APIRouter(prefix="/v1", tags=["respond"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The request cannot be used as given (the message says why)."},
    401: {"description": "No valid API key."},
    403: {"description": "The key lacks the scope."},
    404: {"description": "No such customer, order, mandate or action."},
    409: {"description": "The client key was used with another body, or the state forbids the step."},
    422: {"description": "The body does not match the schema."},
}
_KEY = Header(None, alias="Idempotency-Key", max_length=200, description="Makes a retry return the first result")


class LineBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(..., min_length=1, max_length=200)
    quantity: int = Field(..., ge=1, le=10_000)
    unit_price: float | None = Field(None, ge=0, allow_inf_nan=False)
    category: str | None = Field(None, min_length=1, max_length=200)
    name: str | None = Field(None, max_length=200)


class LocationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float = Field(..., ge=-90, le=90)
    lon: float = Field(..., ge=-180, le=180)


class OrderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(..., min_length=1, max_length=320, description="A customer id or any identifier")
    lines: list[LineBody] = Field(..., min_length=1, max_length=100)
    currency: str = Field("EUR", pattern="^[A-Z]{3}$")
    address_ref: str | None = Field(None, max_length=200)
    payment_ref: str | None = Field(None, max_length=200)
    location: LocationBody | None = None
    client_key: str | None = Field(None, min_length=1, max_length=200)


class ReorderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str | None = Field(None, min_length=1, max_length=200)
    category: str | None = Field(None, min_length=1, max_length=200)
    quantity: int | None = Field(None, ge=1, le=10_000)
    client_key: str | None = Field(None, min_length=1, max_length=200)


class MandateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope_kind: Literal["item", "category"]
    scope: str = Field(..., min_length=1, max_length=200)
    per_order_cap: float = Field(..., gt=0, allow_inf_nan=False)
    monthly_cap: float = Field(..., gt=0, allow_inf_nan=False)
    currency: str = Field("EUR", pattern="^[A-Z]{3}$")
    notice_hours: float = Field(48, ge=0, le=mandates.MAX_HOURS)
    cancel_window_hours: float = Field(24, gt=0, le=mandates.MAX_HOURS)
    client_key: str | None = Field(None, min_length=1, max_length=200)


def _key(header: str | None, field: str | None) -> str | None:
    if header and field and header != field:
        raise InvalidInput(f"The Idempotency-Key header {header!r} and client_key {field!r} differ; send one.")
    return header or field


def _created(data: dict[str, Any], created: bool) -> JSONResponse:
    return JSONResponse({**data, "created": created}, status_code=201 if created else 200)


def _now() -> datetime:
    return datetime.now(UTC)


def _customer(request: Request, reference: str) -> tuple[SqlDecisionStore, str]:
    """The app's store and the profile id of the customer the path names (by id or any identifier)."""
    store = decision_store(request)
    return store, resolve_customer(store, reference)


# ----- orders ---------------------------------------------------------------------------------------------------
@router.post("/orders", responses=_ERRORS, status_code=201, summary="Place an order (idempotent on a client key)")
def place_order_route(
    body: OrderBody,
    request: Request,
    idempotency_key: str | None = _KEY,
    _k: Principal = Depends(require(P.ACT_FOR_CUSTOMER)),
) -> JSONResponse:
    store = decision_store(request)
    customer_id = resolve_customer(store, body.customer_id)
    lines = tuple(orders.OrderLine(**line.model_dump()) for line in body.lines)
    location = (body.location.lat, body.location.lon) if body.location else None
    order_request = orders.OrderRequest(
        customer_id, lines, body.currency, body.address_ref, body.payment_ref, location, source="api"
    )
    key = _key(idempotency_key, body.client_key)
    order = orders.place_order(store, order_request, _now(), key, after_ingest=request.app.state.after_ingest)
    return _created(order.to_dict(), order.created)


@router.get("/orders/{order_id}", responses=_ERRORS, summary="An order placed through Rapport")
def order_route(order_id: str, request: Request, _k: Principal = Depends(require(P.READ_CUSTOMER))) -> dict[str, Any]:
    return orders.get_order(decision_store(request), order_id).to_dict()


@router.get("/customers/{customer_id}/orders", responses=_ERRORS, summary="A customer's orders through Rapport")
def customer_orders_route(
    customer_id: str,
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    _k: CustomerAccess = Depends(customer_scope(P.READ_CUSTOMER)),
) -> dict[str, Any]:
    store, canonical = _customer(request, customer_id)
    return {"customer_id": canonical, "orders": [o.to_dict() for o in orders.orders_of(store, canonical, limit)]}


@router.get("/customers/{customer_id}/usual-order", responses=_ERRORS, summary="The usual order, remembered")
def usual_order_route(
    customer_id: str,
    request: Request,
    sku: str | None = Query(None, max_length=200),
    category: str | None = Query(None, max_length=200),
    _k: CustomerAccess = Depends(customer_scope(P.READ_CUSTOMER)),
) -> dict[str, Any]:
    store, canonical = _customer(request, customer_id)
    usual = reorder.usual_order(store, canonical, sku=sku, category=category)
    return {"customer_id": canonical, "usual_order": usual.to_dict() if usual else None}


@router.post("/customers/{customer_id}/reorder", responses=_ERRORS, status_code=201, summary="One-click reorder")
def reorder_route(
    customer_id: str,
    request: Request,
    body: ReorderBody | None = None,
    idempotency_key: str | None = _KEY,
    _k: CustomerAccess = Depends(customer_scope(P.ACT_FOR_CUSTOMER)),
) -> JSONResponse:
    store, canonical = _customer(request, customer_id)
    given = body or ReorderBody.model_validate({})
    key = _key(idempotency_key, given.client_key)
    hook = request.app.state.after_ingest
    order = reorder.reorder(store, canonical, _now(), key, given.sku, given.category, given.quantity, hook)
    return _created(order.to_dict(), order.created)


# ----- mandates and automatic orders ----------------------------------------------------------------------------
@router.post("/customers/{customer_id}/mandates", responses=_ERRORS, status_code=201, summary="Grant a mandate")
def create_mandate_route(
    customer_id: str,
    body: MandateBody,
    request: Request,
    idempotency_key: str | None = _KEY,
    _k: CustomerAccess = Depends(customer_scope(P.ACT_FOR_CUSTOMER)),
) -> JSONResponse:
    store, canonical = _customer(request, customer_id)
    terms = mandates.MandateTerms(**body.model_dump(exclude={"client_key"}))
    mandate = mandates.create_mandate(store, canonical, terms, _now(), _key(idempotency_key, body.client_key))
    return _created(mandate.to_dict(), mandate.created)


@router.get("/customers/{customer_id}/mandates", responses=_ERRORS, summary="The customer's mandates")
def mandates_route(
    customer_id: str, request: Request, _k: CustomerAccess = Depends(customer_scope(P.READ_CUSTOMER))
) -> dict[str, Any]:
    store, canonical = _customer(request, customer_id)
    return {"customer_id": canonical, "mandates": [m.to_dict() for m in mandates.list_mandates(store, canonical)]}


@router.delete("/customers/{customer_id}/mandates/{mandate_id}", responses=_ERRORS, summary="Revoke a mandate")
def revoke_mandate_route(
    customer_id: str,
    mandate_id: str,
    request: Request,
    _k: CustomerAccess = Depends(customer_scope(P.ACT_FOR_CUSTOMER)),
) -> dict[str, Any]:
    """Revoking cancels the mandate's pending automatic orders; revoking again answers with the revoked mandate."""
    store, canonical = _customer(request, customer_id)
    return mandates.revoke_mandate(store, canonical, mandate_id, _now()).to_dict()


@router.get("/customers/{customer_id}/automatic-orders", responses=_ERRORS, summary="The customer's automatic orders")
def automatic_orders_route(
    customer_id: str, request: Request, _k: CustomerAccess = Depends(customer_scope(P.READ_CUSTOMER))
) -> dict[str, Any]:
    store, canonical = _customer(request, customer_id)
    found = automatic.list_automatic_orders(store, canonical)
    return {"customer_id": canonical, "automatic_orders": [o.to_dict() for o in found]}


@router.post(
    "/customers/{customer_id}/automatic-orders/{order_id}/cancel",
    responses=_ERRORS,
    summary="Cancel an automatic order",
)
def cancel_automatic_route(
    customer_id: str, order_id: str, request: Request, _k: CustomerAccess = Depends(customer_scope(P.ACT_FOR_CUSTOMER))
) -> dict[str, Any]:
    """Cancel before it runs; cancelling again answers with the cancelled order; once executed, 409."""
    store, canonical = _customer(request, customer_id)
    return automatic.cancel_automatic_order(store, canonical, order_id, _now()).to_dict()


@router.get("/customers/{customer_id}/audit", responses=_ERRORS, summary="The customer's audit log")
def audit_route(
    customer_id: str,
    request: Request,
    limit: int = Query(500, ge=1, le=5000),
    _k: CustomerAccess = Depends(customer_scope(P.READ_CUSTOMER)),
) -> dict[str, Any]:
    store, canonical = _customer(request, customer_id)
    return {"customer_id": canonical, "audit": [e.to_dict() for e in read_audit(store, canonical, limit)]}


# ----- pull-channel actions -------------------------------------------------------------------------------------
@router.get("/customers/{customer_id}/actions", responses=_ERRORS, summary="Pending actions for pull channels")
def actions_route(
    customer_id: str,
    request: Request,
    channel: str | None = Query(None, max_length=32, description="One pull channel (default: all of them)"),
    _k: CustomerAccess = Depends(customer_scope(P.READ_CUSTOMER)),
) -> dict[str, Any]:
    store, canonical = _customer(request, customer_id)
    pull = tuple(store.settings.pull_channels)
    if channel is not None and channel not in pull:
        raise InvalidInput(f"{channel!r} is not a pull channel; the pull channels are {', '.join(pull)}.")
    found = outbox.pending_actions(store, canonical, [channel] if channel else pull, _now())
    return {"customer_id": canonical, "actions": [a.to_dict() for a in found]}


@router.post("/customers/{customer_id}/actions/{action_id}/ack", responses=_ERRORS, summary="Acknowledge an action")
def ack_route(
    customer_id: str, action_id: str, request: Request, _k: CustomerAccess = Depends(customer_scope(P.ACT_FOR_CUSTOMER))
) -> dict[str, Any]:
    """The pull channel showed the action; acknowledging again answers with the first acknowledgement."""
    store, canonical = _customer(request, customer_id)
    return outbox.acknowledge(store, canonical, action_id, _now(), by="api").to_dict()
