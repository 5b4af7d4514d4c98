"""Conversation routes: the firm forwards e-mails, call-centre notes and chat transcripts; staff read and reply.

``POST /v1/conversations`` adds to the customer's one thread (idempotent on ``external_id``); a reply goes out
through the outbox. Attachments are refused and a message past the size limit is refused whole (413).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from rapport.api.auth import require
from rapport.conversations import service, thread
from rapport.customers.service import resolve_customer
from rapport.store.conversations import SqlConversationStore
from rapport.store.keys import ApiKey

router = APIRouter(prefix="/v1", tags=["conversations"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The message cannot be used as given (empty, attachments, unknown channel)."},
    401: {"description": "No valid API key."},
    403: {"description": "The key lacks the scope."},
    404: {"description": "No such customer or conversation."},
    409: {"description": "The conversation is closed."},
    413: {"description": f"The message is longer than {thread.MAX_MESSAGE_CHARS} characters."},
    422: {"description": "The body does not match the schema."},
}
_BODY = Field(..., min_length=1, max_length=thread.MAX_MESSAGE_CHARS * 2, description="The text, plain")


class ForwardBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(..., min_length=1, max_length=320, description="A customer id or any identifier")
    channel: Literal["email", "call_centre", "chat", "app", "store", "sms", "social"]
    kind: Literal["note", "email", "chat_transcript", "message"] = "message"
    author: Literal["customer", "staff"] = "customer"
    author_ref: str | None = Field(None, max_length=320, description="Who wrote it (the agent of a call note)")
    body: str = _BODY
    occurred_at: AwareDatetime | None = None
    external_id: str | None = Field(None, min_length=1, max_length=200, description="Your id: a retry is one message")
    attachments: list[dict[str, Any]] = Field(default_factory=list, max_length=20, description="Refused when sent")


class ReplyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = _BODY
    staff_ref: str = Field("api", min_length=1, max_length=320, description="Who answers")
    client_key: str | None = Field(None, min_length=1, max_length=200)


def conversation_store(request: Request) -> SqlConversationStore:
    """The app's store seen through the inbox (made once per app)."""
    state = request.app.state
    found = getattr(state, "conversation_store", None)
    if found is None:
        found = state.conversation_store = SqlConversationStore.over(state.store)
    return found


def _posted(posted: thread.Posted) -> JSONResponse:
    body = {"conversation_id": posted.conversation_id, "opened": posted.opened, "created": posted.created}
    return JSONResponse({**body, "message": posted.message.to_dict()}, status_code=201 if posted.created else 200)


@router.post("/conversations", responses=_ERRORS, status_code=201, summary="Forward a message into a conversation")
def forward_route(body: ForwardBody, request: Request, key: ApiKey = Depends(require("write"))) -> JSONResponse:
    """An e-mail, call-centre note or chat transcript joins the customer's one thread; a retry answers 200."""
    store = conversation_store(request)
    customer_id = resolve_customer(store, body.customer_id)
    posted = service.forward(
        store,
        customer_id,
        body=body.body,
        channel=body.channel,
        kind=body.kind,
        author=body.author,
        now=datetime.now(UTC),
        occurred_at=body.occurred_at,
        author_ref=body.author_ref,
        external_id=body.external_id,
        source=f"key:{key.id}",
        attachments=body.attachments,
    )
    return _posted(posted)


@router.get("/conversations", responses=_ERRORS, summary="The inbox: conversations, awaiting a reply first")
def inbox_route(
    request: Request,
    status: Literal["open", "closed"] | None = Query("open"),
    limit: int = Query(200, ge=1, le=1000),
    _key: ApiKey = Depends(require("read")),
) -> dict[str, Any]:
    found = thread.inbox(conversation_store(request), status, limit)
    return {"conversations": [c.to_dict() for c in found]}


@router.get("/conversations/{conversation_id}", responses=_ERRORS, summary="One conversation with its messages")
def conversation_route(
    conversation_id: str, request: Request, _key: ApiKey = Depends(require("read"))
) -> dict[str, Any]:
    return thread.get_conversation(conversation_store(request), conversation_id).to_dict()


@router.post(
    "/conversations/{conversation_id}/replies", responses=_ERRORS, status_code=201, summary="Answer the customer"
)
def reply_route(
    conversation_id: str, body: ReplyBody, request: Request, _key: ApiKey = Depends(require("write"))
) -> JSONResponse:
    """The reply joins the thread and goes out through the outbox; the same client_key again answers 200."""
    store = conversation_store(request)
    posted = service.reply(store, conversation_id, body.staff_ref, body.body, datetime.now(UTC), body.client_key)
    return _posted(posted)


@router.post("/conversations/{conversation_id}/close", responses=_ERRORS, summary="Close a conversation")
def close_route(conversation_id: str, request: Request, _key: ApiKey = Depends(require("write"))) -> dict[str, Any]:
    """The issue it raised ends; closing again changes nothing."""
    store = conversation_store(request)
    closed = service.close(store, conversation_id, "api", datetime.now(UTC))
    return {**thread.get_conversation(store, conversation_id).to_dict(), "changed": closed}


@router.get("/customers/{customer_id}/conversations", responses=_ERRORS, summary="A customer's conversations")
def customer_conversations_route(
    customer_id: str, request: Request, _key: ApiKey = Depends(require("read"))
) -> dict[str, Any]:
    store = conversation_store(request)
    canonical = resolve_customer(store, customer_id)
    return {"customer_id": canonical, "conversations": [c.to_dict() for c in thread.thread_of(store, canonical)]}
