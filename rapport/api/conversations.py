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

from rapport.access.permissions import Permission as P
from rapport.access.principals import CustomerSession, Principal
from rapport.api.access import CustomerAccess, customer_scope, require, source_of
from rapport.conversations import service, thread
from rapport.customers.service import resolve_customer
from rapport.store.access import record_access
from rapport.store.conversations import SqlConversationStore

router = APIRouter(prefix="/v1", tags=["conversations"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The message cannot be used as given (empty, attachments, unknown channel)."},
    401: {"description": "No valid API key or session."},
    403: {"description": "The key, role or session may not do this."},
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


class CustomerMessageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = _BODY
    client_key: str | None = Field(None, min_length=1, max_length=200, description="A retry is one message")


class ReplyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = _BODY
    staff_ref: str | None = Field(None, min_length=1, max_length=320, description="Who answers (default: the caller)")
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
def forward_route(
    body: ForwardBody, request: Request, caller: Principal = Depends(require(P.CONVERSE))
) -> JSONResponse:
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
        source=source_of(caller),
        attachments=body.attachments,
    )
    return _posted(posted)


@router.get("/conversations", responses=_ERRORS, summary="The inbox: conversations, awaiting a reply first")
def inbox_route(
    request: Request,
    status: Literal["open", "closed"] | None = Query("open"),
    limit: int = Query(200, ge=1, le=1000),
    _caller: Principal = Depends(require(P.READ_CUSTOMER)),
) -> dict[str, Any]:
    found = thread.inbox(conversation_store(request), status, limit)
    return {"conversations": [c.to_dict() for c in found]}


@router.get("/conversations/{conversation_id}", responses=_ERRORS, summary="One conversation with its messages")
def conversation_route(
    conversation_id: str, request: Request, caller: Principal = Depends(require(P.READ_CUSTOMER))
) -> dict[str, Any]:
    """Reading one conversation is a read of that customer's data: it goes to their access log."""
    store = conversation_store(request)
    conversation = thread.get_conversation(store, conversation_id)
    what = "GET /v1/conversations/{conversation_id}"
    record_access(store.engine, store.canonical_id(conversation.customer_id), caller, what, datetime.now(UTC))
    return conversation.to_dict()


@router.post(
    "/conversations/{conversation_id}/replies", responses=_ERRORS, status_code=201, summary="Answer the customer"
)
def reply_route(
    conversation_id: str, body: ReplyBody, request: Request, caller: Principal = Depends(require(P.CONVERSE))
) -> JSONResponse:
    """The reply joins the thread and goes out through the outbox; the same client_key again answers 200."""
    store = conversation_store(request)
    who = body.staff_ref or source_of(caller)
    posted = service.reply(store, conversation_id, who, body.body, datetime.now(UTC), body.client_key)
    return _posted(posted)


@router.post("/conversations/{conversation_id}/close", responses=_ERRORS, summary="Close a conversation")
def close_route(
    conversation_id: str, request: Request, caller: Principal = Depends(require(P.CONVERSE))
) -> dict[str, Any]:
    """The issue it raised ends; closing again changes nothing."""
    store = conversation_store(request)
    closed = service.close(store, conversation_id, source_of(caller), datetime.now(UTC))
    return {**thread.get_conversation(store, conversation_id).to_dict(), "changed": closed}


@router.get("/customers/{customer_id}/conversations", responses=_ERRORS, summary="A customer's conversations")
def customer_conversations_route(
    customer_id: str, request: Request, access: CustomerAccess = Depends(customer_scope(P.READ_CUSTOMER))
) -> dict[str, Any]:
    """The customer's one thread (and the closed ones before it), for staff, the firm's apps and the customer."""
    store = conversation_store(request)
    found = thread.thread_of(store, access.customer_id)
    return {"customer_id": access.customer_id, "conversations": [c.to_dict() for c in found]}


@router.post(
    "/customers/{customer_id}/conversations",
    responses=_ERRORS,
    status_code=201,
    summary="The customer writes to the firm (from their session, or through the firm's app)",
)
def customer_message_route(
    customer_id: str,
    body: CustomerMessageBody,
    request: Request,
    access: CustomerAccess = Depends(customer_scope(P.CONVERSE)),
) -> JSONResponse:
    """A customer session writes as on /me; a key or staff relays what the customer wrote in the firm's app."""
    store = conversation_store(request)
    now = datetime.now(UTC)
    if isinstance(access.principal, CustomerSession):
        return _posted(service.write_from_me(store, access.customer_id, body.body, now, body.client_key))
    posted = service.forward(
        store, access.customer_id, body=body.body, channel="app", kind="message", author="customer", now=now,
        external_id=body.client_key, source=source_of(access.principal),
    )  # fmt: skip
    return _posted(posted)
