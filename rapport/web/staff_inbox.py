"""The staff inbox: conversations awaiting a reply first, and each one beside the customer's context.

The context is what an agent needs to answer well: the profile, the needs (an open conversation is one), the recent
decisions in plain words, the orders and the earlier conversations. Opening a conversation is a read of the
customer's data, so it goes to the access log the customer sees. The reply goes out through the outbox.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from rapport.access.principals import StaffMember, StaffRole
from rapport.api.access import staff_page
from rapport.api.conversations import conversation_store
from rapport.conversations import service, thread
from rapport.customers.service import get_profile
from rapport.decide import explanations
from rapport.errors import RapportError
from rapport.store.access import record_access
from rapport.store.conversations import SqlConversationStore
from rapport.web.csrf import csrf_protect
from rapport.web.me_pages import done, page
from rapport.web.pages import STAFF_NAV

router = APIRouter(include_in_schema=False)
ANSWERING: tuple[StaffRole, ...] = ("agent", "admin")  # analysts read aggregates; they do not write to one customer
CSRF = [Depends(staff_page(*ANSWERING)), Depends(csrf_protect)]  # the session first, then the form's token
if ("/staff/inbox", "Inbox") not in STAFF_NAV:
    STAFF_NAV.append(("/staff/inbox", "Inbox"))


def staff_ref(staff: StaffMember) -> str:
    return f"staff:{staff.email}"


@router.get("/staff/inbox", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    status: str = Query("open", max_length=8),
    staff: StaffMember = Depends(staff_page(*ANSWERING)),
) -> HTMLResponse:
    store = conversation_store(request)
    status = status if status in ("open", "closed") else "open"
    return page(request, "staff_inbox.html", conversations=thread.inbox(store, status), shown=status)


def _conversation(
    request: Request,
    store: SqlConversationStore,
    conversation_id: str,
    staff: StaffMember,
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    conversation = thread.get_conversation(store, conversation_id)
    cid = store.canonical_id(conversation.customer_id)
    record_access(store.engine, cid, staff, "your messages and profile (staff inbox)", datetime.now(UTC))
    earlier = [c for c in thread.thread_of(store, cid) if c.id != conversation.id]
    return page(
        request,
        "staff_conversation.html",
        status,
        conversation=conversation,
        profile=get_profile(store, cid),
        needs=store.read_needs(cid),
        decisions=explanations.recent_explanations(store, cid, 10),
        orders=store.order_history(cid, 10),
        earlier=earlier,
        reply_channel=service.reply_channel(store, cid, conversation.messages),
        max_chars=thread.MAX_MESSAGE_CHARS,
        client_key=extra.pop("client_key", uuid.uuid4().hex),
        form=extra.pop("form", {"body": ""}),
        **extra,
    )


@router.get("/staff/inbox/{conversation_id}", response_class=HTMLResponse)
def conversation_page(
    request: Request, conversation_id: str, staff: StaffMember = Depends(staff_page(*ANSWERING))
) -> HTMLResponse:
    return _conversation(request, conversation_store(request), conversation_id, staff)


@router.post("/staff/inbox/{conversation_id}/reply", response_class=HTMLResponse, dependencies=CSRF)
def reply(
    request: Request,
    conversation_id: str,
    body: str = Form("", max_length=thread.MAX_MESSAGE_CHARS * 2),
    client_key: str = Form("", max_length=64),
    staff: StaffMember = Depends(staff_page(*ANSWERING)),
) -> Response:
    store = conversation_store(request)
    try:
        service.reply(store, conversation_id, staff_ref(staff), body, datetime.now(UTC), client_key or None)
    except RapportError as exc:
        form = {"body": body}
        errors = {"body": str(exc)}
        return _conversation(
            request, store, conversation_id, staff, exc.http_status, errors=errors, form=form, client_key=client_key
        )
    return done(f"/staff/inbox/{conversation_id}", "Reply sent through the outbox.")


@router.post("/staff/inbox/{conversation_id}/close", dependencies=CSRF)
def close(request: Request, conversation_id: str, staff: StaffMember = Depends(staff_page(*ANSWERING))) -> Response:
    service.close(conversation_store(request), conversation_id, staff_ref(staff), datetime.now(UTC))
    return done(f"/staff/inbox/{conversation_id}", "The conversation is closed; its issue is resolved.")
