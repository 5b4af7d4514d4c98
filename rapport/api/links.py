"""Access routes of the API: a customer's one-time sign-in link (sent through the outbox) and the access log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from rapport.access.customers import send_sign_in_link
from rapport.access.permissions import Permission
from rapport.api.access import CustomerAccess, access_of, customer_scope
from rapport.api.decide import decision_store
from rapport.errors import InvalidInput
from rapport.store.access import access_log

router = APIRouter(prefix="/v1/customers/{customer_id}", tags=["access"])


class SignInLinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field("email", min_length=1, max_length=32, description="The channel the firm sends it on")


@router.post(
    "/sign-in-links",
    status_code=201,
    summary="A one-time sign-in link for the customer, queued in the outbox",
    responses={200: {"description": "The same Idempotency-Key again: the first link's action."}},
)
def sign_in_link_route(
    request: Request,
    body: SignInLinkBody | None = None,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", min_length=1, max_length=200),
    access: CustomerAccess = Depends(customer_scope(Permission.ISSUE_SIGN_IN_LINK)),
) -> JSONResponse:
    """The link (signed, 15 minutes, single use, bound to this customer) goes out as an outbox action of kind
    ``sign_in_link`` like any other: delivered by the webhook or pulled by the channel. Rapport never mails it."""
    store = decision_store(request)
    channel = body.channel if body else SignInLinkBody.model_fields["channel"].default
    known = (*store.settings.preferred_channels, *store.settings.pull_channels)
    if channel not in known:
        raise InvalidInput(
            f"{channel!r} is not a channel Rapport knows; choose from {', '.join(dict.fromkeys(known))}."
        )
    app_access = access_of(request)
    action, created = send_sign_in_link(
        store,
        app_access.accounts,
        app_access.secret,
        access.customer_id,
        channel,
        store.settings.public_url,
        datetime.now(UTC),
        idempotency_key,
    )
    return JSONResponse({**action.to_dict(), "created": created}, status_code=201 if created else 200)


@router.get("/access-log", summary="Who read this customer's data, and when")
def access_log_route(
    request: Request,
    limit: int = Query(500, ge=1, le=5000),
    access: CustomerAccess = Depends(customer_scope(Permission.READ_CUSTOMER)),
) -> dict[str, Any]:
    """Every read of the customer's data by staff or a server key, newest first (what the customer sees)."""
    found = access_log(request.app.state.store.engine, access.customer_id, limit)
    return {"customer_id": access.customer_id, "access_log": [r.to_dict() for r in found]}
