"""Voice routes: record what customers said, read topics and emerging-issue alerts, and a customer's voice."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from rapport.access.permissions import Permission as P
from rapport.access.principals import Principal
from rapport.api.access import CustomerAccess, customer_scope, require
from rapport.voice.items import MAX_TEXT
from rapport.voice.service import customer_voice, record_voice_items

router = APIRouter(prefix="/v1", tags=["voice"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The input cannot be used."},
    401: {"description": "No valid API key or session."},
    403: {"description": "The key, role or session may not do this."},
    404: {"description": "No such customer."},
    422: {"description": "The body or a parameter is malformed."},
}


class VoiceItemBody(BaseModel):
    """One thing a customer said: where, when, what; identifiers link it to a customer when they match."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=64, examples=["reviews"])
    external_id: str = Field(min_length=1, max_length=200, description="The item's id in its source (idempotency)")
    time: AwareDatetime
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    author: str | None = Field(None, max_length=200, description="The author's handle in the source")
    identifiers: dict[str, str] = Field(default_factory=dict, examples=[{"email": "ada@example.com"}])


class VoiceBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[VoiceItemBody] = Field(min_length=1, max_length=1000)


@router.post("/voice", responses=_ERRORS, summary="Record voice items (idempotent on source and external_id)")
def post_voice(body: VoiceBatch, request: Request, _caller: Principal = Depends(require(P.INGEST))) -> dict[str, Any]:
    """Stores each new item with its sentiment, aspects and topic; a retried item counts as a duplicate."""
    items = [item.model_dump() for item in body.items]
    return record_voice_items(request.app.state.store, items).as_dict()


@router.get("/voice/topics", responses=_ERRORS, summary="Voice topics with their key phrases")
def get_topics(request: Request, _caller: Principal = Depends(require(P.READ_AGGREGATES))) -> dict[str, Any]:
    topics = request.app.state.store.voice.topics()
    return {"topics": [{**t, "fitted_at": t["fitted_at"].isoformat()} for t in topics]}


@router.get("/voice/alerts", responses=_ERRORS, summary="Emerging-issue alerts, newest first")
def get_alerts(
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    _caller: Principal = Depends(require(P.READ_AGGREGATES)),
) -> dict[str, Any]:
    alerts = request.app.state.store.voice.alerts(limit)
    return {
        "alerts": [
            {**a, "period_start": a["period_start"].isoformat(), "raised_at": a["raised_at"].isoformat()}
            for a in alerts
        ]
    }


@router.get("/customers/{customer_id}/voice", responses=_ERRORS, summary="What a customer said, newest first")
def get_customer_voice(
    request: Request, customer_id: str, access: CustomerAccess = Depends(customer_scope(P.READ_CUSTOMER))
) -> dict[str, Any]:
    return {"customer_id": access.customer_id, "items": customer_voice(request.app.state.store, access.customer_id)}
