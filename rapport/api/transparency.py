"""Transparency routes: "why did I get this?", "not like this", and the data export of one customer.

The customer's own pages (/me) call the same services; these routes serve the firm's apps and the customer's
session alike once the access layer scopes them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from rapport.access.permissions import Permission as P
from rapport.api.access import CustomerAccess, customer_scope
from rapport.api.decide import decision_store
from rapport.customers import export
from rapport.customers.service import erase_customer
from rapport.decide import explanations
from rapport.errors import InvalidInput
from rapport.store.export import SqlExportSource

router = APIRouter(prefix="/v1/customers/{customer_id}", tags=["transparency"])
ERASE_WORD = "ERASE"
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The feedback is unknown, or the erasure is not confirmed."},
    401: {"description": "No valid API key or session."},
    403: {"description": "The key, role or session may not do this."},
    404: {"description": "No such customer, or no such decision of this customer."},
    422: {"description": "The body does not match the schema."},
}


class ErasureBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirm: str = Field(..., max_length=20, description="ERASE, to confirm that everything is to be erased")


class NotLikeThisBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feedback: Literal["too_many", "wrong_channel", "too_much_automation", "not_relevant"]


@router.get(
    "/explanations", responses=_ERRORS, summary="Why did I get this? The latest decisions and contacts explained"
)
def explanations_route(
    customer_id: str,
    request: Request,
    limit: int = Query(20, ge=1, le=200),
    access: CustomerAccess = Depends(customer_scope(P.READ_DECISIONS)),
) -> dict[str, Any]:
    """Decisions (``explains: decision``) and contacts without a decision of their own (``explains: contact``:
    automatic-order notices, replies, sign-in links), newest first. A contact's ``not_like_this`` lists the
    matching settings only (``records_outcome`` is false): there is no decision outcome to record."""
    found = explanations.recent_explanations(decision_store(request), access.customer_id, limit)
    return {"customer_id": access.customer_id, "explanations": [e.to_dict() for e in found]}


@router.get("/explanations/{decision_id}", responses=_ERRORS, summary="Why did I get this? One decision explained")
def explanation_route(
    customer_id: str,
    decision_id: str,
    request: Request,
    access: CustomerAccess = Depends(customer_scope(P.READ_DECISIONS)),
) -> dict[str, Any]:
    return explanations.explanation_for(decision_store(request), access.customer_id, decision_id).to_dict()


@router.post(
    "/explanations/{decision_id}/not-like-this",
    responses=_ERRORS,
    summary="Not like this: record the outcome and get the matching setting",
)
def not_like_this_route(
    customer_id: str,
    decision_id: str,
    body: NotLikeThisBody,
    request: Request,
    access: CustomerAccess = Depends(customer_scope(P.SET_PREFERENCES)),
) -> dict[str, Any]:
    """Records a dismissed outcome (once per decision) and proposes a setting; the setting is changed only when
    the customer applies it (PUT contact-policy or control-levels)."""
    store, canonical = decision_store(request), access.customer_id
    proposal, recorded = explanations.not_like_this(store, canonical, decision_id, body.feedback, datetime.now(UTC))
    return {"customer_id": canonical, "decision_id": decision_id, "recorded": recorded, "proposal": proposal.to_dict()}


@router.get(
    "/export",
    responses={**_ERRORS, 200: {"content": {"application/json": {}, "application/zip": {}}}},
    summary="Everything kept about the customer, as JSON or a ZIP of CSV files (streamed)",
)
def export_route(
    customer_id: str,
    request: Request,
    format: Literal["json", "zip"] = Query("json"),
    access: CustomerAccess = Depends(customer_scope(P.EXPORT)),
) -> StreamingResponse:
    return export_response(SqlExportSource(request.app.state.store.engine), access.customer_id, format)


@router.post("/erasure", responses=_ERRORS, summary="Erase the customer, confirmed (their own request)")
def erasure_route(
    customer_id: str,
    body: ErasureBody,
    request: Request,
    access: CustomerAccess = Depends(customer_scope(P.REQUEST_ERASURE)),
) -> dict[str, Any]:
    """The customer's erasure request, carried out at once by the existing erasure once ``confirm`` is ERASE."""
    if body.confirm.strip().upper() != ERASE_WORD:
        raise InvalidInput(f"confirm is {body.confirm!r}; send {ERASE_WORD!r} to erase everything. Nothing was erased.")
    return erase_customer(request.app.state.store, access.customer_id)


def export_response(source: SqlExportSource, customer_id: str, format: str) -> StreamingResponse:
    """The streamed download, for the API and the /me page alike."""
    now = datetime.now(UTC)
    name = f"rapport-{customer_id}-{now:%Y%m%d}"
    if format == "zip":
        body, media, name = export.export_zip(source, customer_id, now), "application/zip", f"{name}.zip"
    else:
        body, media, name = export.export_json(source, customer_id, now), "application/json", f"{name}.json"
    return StreamingResponse(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
