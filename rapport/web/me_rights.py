"""The customer's rights and voice under /me: "why did I get this?", what Rapport knows, export, erasure, messages.

The pages call the services the API routes call (rapport.api.transparency, rapport.api.conversations): the
explanations of decisions and of contacts without one, the streamed export, the existing erasure, the one conversation thread.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from rapport.access.principals import CustomerSession
from rapport.api.access import CUSTOMER_COOKIE, customer_page
from rapport.api.transparency import ERASE_WORD, export_response
from rapport.conversations import service, thread
from rapport.customers.service import erase_customer, get_profile, merge_history
from rapport.decide import consent, contact_policy, control, explanations
from rapport.errors import RapportError
from rapport.respond import orders
from rapport.store.access import access_log
from rapport.store.conversations import SqlConversationStore
from rapport.store.export import SqlExportSource
from rapport.web.me_pages import CSRF, done, page, profile_of
from rapport.web.pages import render

router = APIRouter(include_in_schema=False)


# ----- why did I get this? --------------------------------------------------------------------------------------
def _why(request: Request, store: Any, cid: str, status: int = 200, **extra: Any) -> HTMLResponse:
    return page(request, "me_why.html", status, explained=explanations.recent_explanations(store, cid, 20), **extra)


@router.get("/me/why", response_class=HTMLResponse)
def why_page(request: Request, session: CustomerSession = Depends(customer_page())) -> HTMLResponse:
    store, cid = profile_of(request, session)
    return _why(request, store, cid)


@router.post("/me/why/not-like-this", response_class=HTMLResponse, dependencies=CSRF)
def not_like_this(
    request: Request,
    decision_id: str = Form(..., max_length=64),
    feedback: str = Form("", max_length=32),
    session: CustomerSession = Depends(customer_page()),
) -> HTMLResponse:
    """Records the outcome (once) and shows the matching setting with a one-click "apply"."""
    store, cid = profile_of(request, session)
    try:
        proposal, _created = explanations.not_like_this(store, cid, decision_id, feedback, datetime.now(UTC))
    except RapportError as exc:
        return _why(request, store, cid, exc.http_status, errors={"feedback": str(exc)})
    return _why(request, store, cid, proposal=proposal, proposal_for=decision_id, feedback=feedback)


@router.post("/me/why/apply", response_class=HTMLResponse, dependencies=CSRF)
def apply_proposal(
    request: Request,
    decision_id: str = Form(..., max_length=64),
    feedback: str = Form(..., max_length=32),
    session: CustomerSession = Depends(customer_page()),
) -> Response:
    """Apply the proposed setting through the same services as the contact and control pages."""
    store, cid = profile_of(request, session)
    now = datetime.now(UTC)
    try:
        decision = store.get_decision(decision_id)
        if decision.customer_id != cid:
            explanations.explanation_for(store, cid, decision_id)  # the not-found answer, word for word
        proposal = explanations.propose(store, decision, feedback)
        if proposal.kind == "contact_policy":
            contact_policy.set_contact_policy(store, cid, proposal.change, now)
        elif proposal.kind == "control_level":
            control.set_control_level(store, cid, proposal.change["category"], proposal.change["level"], now)
    except RapportError as exc:
        return _why(request, store, cid, exc.http_status, errors={"feedback": str(exc)})
    return done("/me/why", f"Done: {proposal.description}")


# ----- what Rapport knows about me, export, erasure -------------------------------------------------------------
def _data(request: Request, store: Any, cid: str, status: int = 200, **extra: Any) -> HTMLResponse:
    profile = get_profile(store, cid)
    accesses = [
        {"who": a.principal_name[:1].upper() + a.principal_name[1:], "what": a.what, "at": a.at}
        for a in access_log(store.engine, cid, 50)
    ]
    events = store.event_rows(profile.records)
    return page(
        request,
        "me_data.html",
        status,
        profile=profile,
        merges=merge_history(store, cid),
        needs=store.read_needs(cid),
        decisions=store.decisions_of(cid, 50),
        orders=orders.orders_of(store, cid, 50),
        consents=consent.consents_in_force(store, cid, datetime.now(UTC)),
        events=list(reversed(events[-50:])),
        event_count=len(events),
        accesses=accesses,
        form=extra.pop("form", {"confirm": ""}),
        **extra,
    )


@router.get("/me/data", response_class=HTMLResponse)
def data_page(request: Request, session: CustomerSession = Depends(customer_page())) -> HTMLResponse:
    store, cid = profile_of(request, session)
    return _data(request, store, cid)


@router.get("/me/export.{format}")
def export_download(request: Request, format: str, session: CustomerSession = Depends(customer_page())) -> Response:
    store, cid = profile_of(request, session)
    if format not in ("json", "zip"):
        return _data(request, store, cid, 404, errors={"export": f"No export as {format!r}; choose JSON or ZIP."})
    response: StreamingResponse = export_response(SqlExportSource(store.engine), cid, format)
    return response


@router.post("/me/erasure", response_class=HTMLResponse, dependencies=CSRF)
def erasure(
    request: Request, confirm: str = Form("", max_length=20), session: CustomerSession = Depends(customer_page())
) -> HTMLResponse:
    """Erase the customer with the existing erasure once they typed the confirmation word; then sign them out."""
    store, cid = profile_of(request, session)
    if confirm.strip().upper() != ERASE_WORD:
        errors = {"confirm": f"Type {ERASE_WORD} in the box to confirm; nothing was erased."}
        return _data(request, store, cid, 400, errors=errors, form={"confirm": confirm})
    report = erase_customer(store, cid)
    removed = sum(v for v in report["removed"].values() if isinstance(v, int))
    response = render(
        request,
        "message.html",
        heading="You are erased",
        message=f"We removed {removed:,} records about you and signed you out. Goodbye, and thank you.",
        nav=[],
    )
    response.delete_cookie(CUSTOMER_COOKIE)
    return response


# ----- messages -------------------------------------------------------------------------------------------------
def _inbox(request: Request, store: Any, cid: str, status: int = 200, **extra: Any) -> HTMLResponse:
    inbox = SqlConversationStore.over(store)
    return page(
        request,
        "me_inbox.html",
        status,
        conversations=thread.thread_of(inbox, cid),
        max_chars=thread.MAX_MESSAGE_CHARS,
        client_key=extra.pop("client_key", uuid.uuid4().hex),
        form=extra.pop("form", {"body": ""}),
        **extra,
    )


@router.get("/me/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, session: CustomerSession = Depends(customer_page())) -> HTMLResponse:
    store, cid = profile_of(request, session)
    return _inbox(request, store, cid)


@router.post("/me/inbox", response_class=HTMLResponse, dependencies=CSRF)
def send_message(
    request: Request,
    body: str = Form("", max_length=thread.MAX_MESSAGE_CHARS * 2),
    client_key: str = Form("", max_length=64),
    session: CustomerSession = Depends(customer_page()),
) -> Response:
    """A message to the firm; an oversize or empty one comes back with the text kept and the reason."""
    store, cid = profile_of(request, session)
    inbox = SqlConversationStore.over(store)
    try:
        service.write_from_me(inbox, cid, body, datetime.now(UTC), client_key or None)
    except RapportError as exc:
        form = {"body": body}
        return _inbox(request, store, cid, exc.http_status, errors={"body": str(exc)}, form=form, client_key=client_key)
    return done("/me/inbox", "Sent. We will answer here and on your preferred channel.")
