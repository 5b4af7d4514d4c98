"""The Segment / RudderStack HTTP tracking API: existing collectors send here unchanged."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from rapport.access.permissions import Permission
from rapport.access.principals import Principal
from rapport.api.access import require, source_of
from rapport.api.body import read_json
from rapport.customers.events import InvalidEvent
from rapport.customers.ingestion import IngestReport, ingest, validate
from rapport.errors import PayloadTooLarge
from rapport.store.rejections import record_rejections

router = APIRouter(prefix="/v1", tags=["tracking"])

_EVENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
    }
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The event breaks the tracking spec; `errors` names each field and the reason."},
    401: {"description": "No valid API key."},
    403: {"description": "The key lacks the write scope."},
    413: {"description": "The body is larger than the limit."},
    429: {"description": "Too many requests from this key: wait for the Retry-After seconds."},
}


def _channel(request: Request) -> str:
    return "stream" if getattr(request.app.state, "stream", None) is not None else "api"


async def _body(request: Request, key: Principal, limit: int) -> Any:
    """The request's JSON; a body that is not JSON or too large is a rejection too (recorded, then answered)."""
    try:
        return await read_json(request, limit)
    except (InvalidEvent, PayloadTooLarge) as exc:
        errors = (
            exc.errors if isinstance(exc, InvalidEvent) else [{"field": "(body)", "reason": "larger than the limit"}]
        )
        _rejected(request, key, [{"errors": errors}])
        raise


def _rejected(request: Request, key: Principal, rejected: list[dict[str, Any]]) -> None:
    """Count what was refused for the operations page (best effort: it never changes the answer)."""
    if rejected:
        record_rejections(request.app.state.store, rejected, _channel(request), source_of(key))


async def _stored(request: Request, key: Principal, messages: list[Any], event_type: str | None = None) -> IngestReport:
    """Store the calls (the embedded default, no stream) in a worker thread: a batch takes tens of milliseconds of
    database work, during which the event loop keeps answering every other request (decisions, reads, /health)."""

    def store_them() -> IngestReport:
        store = request.app.state.store
        report = ingest(store, messages, store.settings, default_type=event_type, source=source_of(key))
        _rejected(request, key, report.rejected)
        request.app.state.after_ingest(report)
        return report

    return await run_in_threadpool(store_them)


def _single(event_type: str) -> Any:
    async def endpoint(request: Request, key: Principal = Depends(require(Permission.INGEST))) -> JSONResponse:
        store = request.app.state.store
        body = await _body(request, key, store.settings.max_event_bytes)
        if getattr(request.app.state, "stream", None) is not None:
            report, queued = await _publish(request, [body], key, event_type)
            if report.rejected:
                _rejected(request, key, report.rejected)
                raise InvalidEvent(report.rejected[0]["errors"])
            return JSONResponse({"success": True, "queued": queued > 0, "duplicate": report.duplicates > 0})
        report = await _stored(request, key, [body], event_type)
        if report.rejected:
            raise InvalidEvent(report.rejected[0]["errors"])
        return JSONResponse(
            {"success": True, "stored": report.stored, "duplicate": report.duplicates > 0, "erased": report.erased > 0}
        )

    endpoint.__name__ = f"track_{event_type}"
    return endpoint


for _type in ("identify", "track", "page", "screen", "alias", "group"):
    router.add_api_route(
        f"/{_type}",
        _single(_type),
        methods=["POST"],
        summary=f"Record a {_type} call",
        openapi_extra=_EVENT_BODY,
        responses=_RESPONSES,
    )


@router.post("/batch", summary="Record a batch of calls", openapi_extra=_EVENT_BODY, responses=_RESPONSES)
async def batch(request: Request, key: Principal = Depends(require(Permission.INGEST))) -> JSONResponse:
    """Valid events are stored even when others in the batch are rejected; the rejected ones are listed."""
    store = request.app.state.store
    body = await _body(request, key, store.settings.max_batch_bytes)
    messages = body.get("batch") if isinstance(body, dict) else None
    if not isinstance(messages, list):
        errors = [{"field": "batch", "reason": "the body must be an object with a 'batch' array of events"}]
        _rejected(request, key, [{"errors": errors}])
        raise InvalidEvent(errors)
    context = body.get("context")
    if isinstance(context, dict):  # batch-level context applies to every event that has none (Segment's rule)
        messages = [{"context": context, **m} if isinstance(m, dict) and "context" not in m else m for m in messages]
    if getattr(request.app.state, "stream", None) is not None:
        report, queued = await _publish(request, messages, key)
        _rejected(request, key, report.rejected)
        status = 400 if report.rejected and queued == 0 and report.duplicates == 0 else 200
        return JSONResponse(
            {"success": status == 200, "queued": queued, "duplicates": report.duplicates, "rejected": report.rejected},
            status_code=status,
        )
    report = await _stored(request, key, messages)
    status = 400 if report.rejected and report.stored == 0 and report.duplicates == 0 else 200
    return JSONResponse(
        {
            "success": status == 200,
            "stored": report.stored,
            "duplicates": report.duplicates,
            "erased": report.erased,
            "rejected": report.rejected,
        },
        status_code=status,
    )


async def _publish(
    request: Request, messages: list[Any], key: Principal, default_type: str | None = None
) -> tuple[IngestReport, int]:
    """Stream mode (``rapport serve --stream``): validate, publish the valid calls, return after JetStream's ack.

    Each message goes out with its type and messageId made explicit, so the worker stores it under the id the
    collector was answered for (a message without one gets the same content hash here as there).
    """
    settings = request.app.state.store.settings
    report, kept = IngestReport(), []
    events = validate(messages, settings, report, default_type=default_type, source=source_of(key), kept=kept)
    calls = [{**raw, "type": e.type, "messageId": e.message_id} for raw, e in zip(kept, events, strict=True)]
    if calls:
        await request.app.state.stream.publish(source_of(key), calls)
    return report, len(calls)
