"""Decision routes: `POST /v1/decide`, `POST /v1/outcomes`, and reading logged decisions back.

``create_app`` includes the routes; ``install_decision_trigger(app)`` (``rapport serve`` calls it) hooks the
event-driven trigger into the app's ``after_ingest`` so that ingested level readings, orders and complaints lead to
decisions within a second.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from rapport.access.permissions import Permission as P
from rapport.access.principals import Principal
from rapport.api.access import CustomerAccess, customer_scope, require
from rapport.customers.service import resolve_customer
from rapport.decide.engine import decide
from rapport.decide.outcomes import record_outcome
from rapport.decide.situations import Situation
from rapport.decide.triggers import DecisionTrigger, NeedsRefresh
from rapport.store.decisions import SqlDecisionStore

if TYPE_CHECKING:
    from rapport.stream.jetstream import StreamSettings

router = APIRouter(prefix="/v1", tags=["decide"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The request names an unknown touchpoint, outcome or field."},
    401: {"description": "No valid API key."},
    403: {"description": "The key lacks the decide scope."},
    404: {"description": "No such customer or decision."},
    422: {"description": "The body does not match the schema."},
}


class SituationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    touchpoint: Literal["app_open", "store_visit", "call_centre", "need_due", "device_report"]
    sku: str | None = Field(None, min_length=1, max_length=200)
    category: str | None = Field(None, min_length=1, max_length=200)
    details: dict[str, Any] = Field(default_factory=dict)


class DecideBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(..., min_length=1, max_length=320, description="A customer id or any identifier")
    situation: SituationBody
    at: AwareDatetime | None = Field(None, description="Decide as of this time (replays, tests); default: now")


class OutcomeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision_id: str = Field(..., min_length=1, max_length=64)
    outcome: Literal["accepted", "dismissed", "ignored", "cancelled", "complained", "converted"]
    occurred_at: AwareDatetime | None = None
    details: dict[str, Any] | None = None


def decision_store(request: Request) -> SqlDecisionStore:
    """The app's store seen through the decision engine (made once per app)."""
    state = request.app.state
    found = getattr(state, "decision_store", None)
    if found is None:
        found = state.decision_store = SqlDecisionStore.over(state.store)
    return found


@router.post(
    "/decide",
    responses={**_ERRORS, 200: {"description": "The decision: status, experience, action, reasons, model versions."}},
    summary="Decide what to do for a customer in a situation",
)
async def decide_route(body: DecideBody, request: Request, _key: Principal = Depends(require(P.DECIDE))) -> Response:
    """The experience and action (or "nothing now"), with reasons and model versions; the decision is logged.

    It runs on the event loop, as ingestion does: a decision is about a millisecond of indexed reads and one
    insert, cheaper than the hand-off to a worker thread it would otherwise take.
    """
    store = decision_store(request)
    situation = Situation(
        body.situation.touchpoint,
        sku=body.situation.sku,
        category=body.situation.category,
        details=body.situation.details,
    )
    decision = decide(store, body.customer_id, situation, body.at or datetime.now(UTC))
    return Response(orjson.dumps(decision.to_dict()), media_type="application/json")


@router.post(
    "/outcomes",
    responses={**_ERRORS, 200: {"description": "A retry: the outcome recorded first, unchanged."}},
    status_code=201,
    summary="Record what happened after a decision",
)
def outcome_route(body: OutcomeBody, request: Request, _key: Principal = Depends(require(P.DECIDE))) -> JSONResponse:
    """Idempotent per decision and outcome: a retry answers 200 with the first record; an unknown decision, 404."""
    store = decision_store(request)
    outcome, created = record_outcome(
        store, body.decision_id, body.outcome, datetime.now(UTC), body.occurred_at, body.details
    )
    return JSONResponse({**outcome.to_dict(), "created": created}, status_code=201 if created else 200)


@router.get("/decisions/{decision_id}", responses=_ERRORS, summary="A logged decision and its outcomes")
def decision_route(
    decision_id: str, request: Request, _key: Principal = Depends(require(P.READ_DECISIONS))
) -> dict[str, Any]:
    store = decision_store(request)
    decision = store.get_decision(decision_id)
    return {**decision.to_dict(), "outcomes": [o.to_dict() for o in store.outcomes_of(decision_id)]}


@router.get("/customers/{customer_id}/decisions", responses=_ERRORS, summary="A customer's latest decisions")
def customer_decisions_route(
    customer_id: str,
    request: Request,
    limit: int = Query(50, ge=1, le=1000),
    _key: CustomerAccess = Depends(customer_scope(P.READ_DECISIONS)),
) -> dict[str, Any]:
    store = decision_store(request)
    canonical = resolve_customer(store, customer_id)
    return {"customer_id": canonical, "decisions": [d.to_dict() for d in store.decisions_of(canonical, limit)]}


def install_decision_trigger(
    app: FastAPI, refresh_needs: NeedsRefresh | None = None, stream: StreamSettings | None = None
) -> DecisionTrigger:
    """Decide on ingested need-changing events (level readings, orders, complaints) within a second.

    The trigger chains after any ``after_ingest`` hook the app already has; needs are refreshed with
    ``refresh_needs`` (default: Recognize's ``refresh_customer_needs``). With ``stream`` (``rapport serve
    --stream``) the workers store the events, so the trigger consumes their "stored" notices from the stream
    instead (rapport.stream.trigger; the feed is ``app.state.stored_feed``). Returns it (to wait on or stop).
    """
    store = SqlDecisionStore.over(app.state.store)
    app.state.decision_store = store
    if refresh_needs is None:
        from rapport.recognize.refresh import refresh_customer_needs as refresh_needs
    decision_trigger = DecisionTrigger(store, refresh_needs)
    before = app.state.after_ingest

    def after_ingest(report: Any) -> None:
        before(report)
        decision_trigger(report)

    app.state.after_ingest = after_ingest
    app.state.decision_trigger = decision_trigger
    if stream is not None:
        from rapport.stream.trigger import StoredFeed

        app.state.stored_feed = StoredFeed(stream, decision_trigger).start()
    return decision_trigger
