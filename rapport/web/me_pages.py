"""The preference centre under /me: control levels, consents, contact policy, mandates and automatic orders.

Every page is plain HTML forms (no script needed) that call the same services as the API routes
(rapport.api.preferences and rapport.api.respond). A form that cannot be used comes back with the field's error
and what was typed, and nothing is changed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rapport.access.principals import CustomerSession
from rapport.api.access import customer_page
from rapport.api.decide import decision_store
from rapport.conversations import thread
from rapport.decide import consent, contact_policy, control, explanations
from rapport.decide.outcomes import record_cancellation
from rapport.errors import RapportError
from rapport.respond import automatic, mandates
from rapport.store.decisions import SqlDecisionStore
from rapport.web.csrf import csrf_protect
from rapport.web.pages import CUSTOMER_NAV, render

router = APIRouter(include_in_schema=False)
# The session first (no session: the sign-in redirect), then the form's CSRF token.
CSRF = [Depends(customer_page()), Depends(csrf_protect)]
SOURCE = "preference centre"
NAV = [
    ("/me", "My page"),
    ("/me/controls", "Control"),
    ("/me/consents", "Consents"),
    ("/me/contact", "Contact"),
    ("/me/mandates", "Automatic orders"),
    ("/me/why", "Why did I get this?"),
    ("/me/data", "My data"),
    ("/me/inbox", "Messages"),
]
CUSTOMER_NAV[:] = NAV
PURPOSE_LABELS = {
    "personalisation": "Suggestions based on what you buy",
    "contact:push": "Push notifications",
    "contact:email": "E-mail",
    "contact:sms": "Text messages (SMS)",
    "contact:app": "Messages in the app",
    "automatic_execution": "Automatic orders under a mandate",
    "partner_sharing": "Sharing with partner firms",
}
CHANNEL_LABELS = {
    "push": "Push notification",
    "email": "E-mail",
    "sms": "Text message",
    "app": "In the app",
    "me": "My page",
    "call_centre": "Phone call",
    "chat": "Chat",
    "store": "In store",
    "social": "Social media",
}
SOURCE_LABELS = {"explicit": "your choice", "learned": "learned from how you responded", "firm_default": "our default"}


def profile_of(request: Request, session: CustomerSession) -> tuple[SqlDecisionStore, str]:
    """The app's decision store and the signed-in customer's profile id (their records may have been joined)."""
    store = decision_store(request)
    return store, store.canonical_id(session.customer_id)


def category_label(category: str) -> str:
    return "Everything else" if category == control.ANY_CATEGORY else category.replace("_", " ").capitalize()


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A /me page with the labels every template uses."""
    labels = {
        "level_labels": explanations.LEVEL_LABELS,
        "level_meaning": explanations.LEVEL_MEANING,
        "source_labels": SOURCE_LABELS,
        "purpose_labels": PURPOSE_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "category_label": category_label,
        "errors": {},
        "done": request.query_params.get("done", "")[:200],
    }
    return render(request, template, status, **{**labels, **context})


def done(path: str, message: str) -> RedirectResponse:
    """After a change: back to the page (POST, redirect, GET), with what changed in words."""
    from urllib.parse import urlencode

    return RedirectResponse(f"{path}?{urlencode({'done': message})}", status_code=303)


def levels_in_force(store: SqlDecisionStore, customer_id: str) -> dict[str, dict[str, str]]:
    """The level in force per category (those the customer set, learned, the firm's defaults, their needs')."""
    stored = control.control_levels(store, customer_id)
    categories = {s.category for s in stored} | set(store.settings.default_control_levels)
    categories |= {n.category for n in store.read_needs(customer_id) if n.category}
    found = {}
    for category in sorted(categories, key=lambda c: (c == control.ANY_CATEGORY, c)):
        level, source = control.control_level(store, customer_id, category)
        found[category] = {"level": level, "source": source}
    return found


# ----- overview -------------------------------------------------------------------------------------------------
@router.get("/me", response_class=HTMLResponse)
def overview(request: Request, session: CustomerSession = Depends(customer_page())) -> HTMLResponse:
    store, cid = profile_of(request, session)
    from rapport.store.conversations import SqlConversationStore

    policy = contact_policy.policy_of(store, cid)
    in_force = consent.consents_in_force(store, cid, datetime.now(UTC))
    conversations = thread.thread_of(SqlConversationStore.over(store), cid)
    orders = automatic.list_automatic_orders(store, cid)
    return page(
        request,
        "me_overview.html",
        levels=levels_in_force(store, cid),
        purposes=consent.PURPOSES,
        granted=[p for p in consent.PURPOSES if in_force.get(p)],
        policy=policy,
        quiet=policy.to_dict()["quiet_hours"],
        upcoming=[o for o in orders if o.status in automatic.PENDING],
        mandates=mandates.list_mandates(store, cid),
        explained=explanations.recent_explanations(store, cid, 20),
        open=next((c for c in conversations if c.status == "open"), None),
    )


# ----- control levels -------------------------------------------------------------------------------------------
@router.get("/me/controls", response_class=HTMLResponse)
def controls_page(request: Request, session: CustomerSession = Depends(customer_page())) -> HTMLResponse:
    store, cid = profile_of(request, session)
    return page(request, "me_controls.html", levels=levels_in_force(store, cid))


@router.post("/me/controls", response_class=HTMLResponse, dependencies=CSRF)
def set_control(
    request: Request,
    category: str = Form(..., max_length=200),
    level: str = Form("", max_length=32),
    session: CustomerSession = Depends(customer_page()),
) -> Response:
    store, cid = profile_of(request, session)
    try:
        control.set_control_level(store, cid, category, level, datetime.now(UTC))
    except RapportError as exc:
        errors = {"level": str(exc)}
        return page(request, "me_controls.html", 400, levels=levels_in_force(store, cid), errors=errors)
    label = explanations.LEVEL_LABELS[level]
    return done("/me/controls", f"{category_label(category)}: \u201c{label}\u201d from now on.")


@router.post("/me/controls/forget", dependencies=CSRF)
def forget_control(
    request: Request, category: str = Form(..., max_length=200), session: CustomerSession = Depends(customer_page())
) -> Response:
    store, cid = profile_of(request, session)
    control.clear_control_level(store, cid, category)
    return done("/me/controls", f"Your choice for {category_label(category)} is forgotten.")


# ----- consents -------------------------------------------------------------------------------------------------
def _consents(request: Request, store: SqlDecisionStore, cid: str, status: int = 200, **extra: Any) -> HTMLResponse:
    return page(
        request,
        "me_consents.html",
        status,
        purposes=consent.PURPOSES,
        in_force=consent.consents_in_force(store, cid, datetime.now(UTC)),
        history=consent.consent_history(store, cid),
        **extra,
    )


@router.get("/me/consents", response_class=HTMLResponse)
def consents_page(request: Request, session: CustomerSession = Depends(customer_page())) -> HTMLResponse:
    store, cid = profile_of(request, session)
    return _consents(request, store, cid)


@router.post("/me/consents", response_class=HTMLResponse, dependencies=CSRF)
def change_consent(
    request: Request,
    purpose: str = Form(..., max_length=100),
    granted: str = Form(..., max_length=3),
    session: CustomerSession = Depends(customer_page()),
) -> Response:
    store, cid = profile_of(request, session)
    try:
        change = consent.record_consent(store, cid, purpose, granted == "yes", SOURCE, datetime.now(UTC))
    except RapportError as exc:
        return _consents(request, store, cid, 400, errors={"purpose": str(exc)})
    label = PURPOSE_LABELS.get(purpose, purpose)
    stopped = len(change.cancelled_orders) + len(change.withdrawn_actions)
    what = (
        "given" if change.consent.granted else "withdrawn" + (f"; {stopped} pending item(s) stopped" if stopped else "")
    )
    return done("/me/consents", f"{label}: {what}.")


# ----- contact policy -------------------------------------------------------------------------------------------
def _contact_form(policy: contact_policy.ContactPolicy) -> dict[str, Any]:
    cap = next((c for c in policy.caps if c.channel == contact_policy.ALL_CHANNELS), None)
    data = policy.to_dict()
    return {
        "cap_max": cap.limit if cap else "",
        "cap_days": cap.days if cap else 7,
        "quiet_hours": data["quiet_hours"],
        "timezone": data["timezone"],
        "preferred_channels": data["preferred_channels"],
    }


def _contact(request: Request, form: dict[str, Any], status: int = 200, **extra: Any) -> HTMLResponse:
    return page(request, "me_contact.html", status, form=form, channels=consent.CONTACT_CHANNELS, **extra)


@router.get("/me/contact", response_class=HTMLResponse)
def contact_page(request: Request, session: CustomerSession = Depends(customer_page())) -> HTMLResponse:
    store, cid = profile_of(request, session)
    return _contact(request, _contact_form(contact_policy.policy_of(store, cid)))


@router.post("/me/contact", response_class=HTMLResponse, dependencies=CSRF)
def change_contact(
    request: Request,
    cap_max: str = Form("", max_length=6),
    cap_days: str = Form("", max_length=6),
    quiet_hours: str = Form("", max_length=40),
    timezone: str = Form("", max_length=64),
    preferred_channels: list[str] = Form([], max_length=16),
    session: CustomerSession = Depends(customer_page()),
) -> Response:
    """Every field is checked before anything is saved; the first bad one comes back with its error."""
    store, cid = profile_of(request, session)
    channels = [c for c in preferred_channels if c]
    form = {"cap_max": cap_max, "cap_days": cap_days, "quiet_hours": quiet_hours, "timezone": timezone,
            "preferred_channels": channels}  # fmt: skip
    errors = {}
    if not cap_max.strip().isdigit():
        errors["cap_max"] = f"{cap_max!r} is not a whole number of messages (0 to 1000)."
    if not cap_days.strip().isdigit() or not 1 <= int(cap_days) <= 366:
        errors["cap_days"] = f"{cap_days!r} is not a number of days from 1 to 366."
    if len(set(channels)) != len(channels) or not channels:
        errors["preferred_channels"] = "Choose at least one channel, each one once."
    if errors:
        return _contact(request, form, 400, errors=errors)
    changes = {
        "caps": [{"channel": "*", "days": int(cap_days), "max": int(cap_max)}],
        "quiet_hours": quiet_hours.strip(),
        "timezone": timezone.strip(),
        "preferred_channels": channels,
    }
    try:
        contact_policy.set_contact_policy(store, cid, changes, datetime.now(UTC))
    except RapportError as exc:
        message = str(exc)
        field = next((f for f in ("quiet_hours", "timezone", "preferred_channels") if f in message), "cap_max")
        return _contact(request, form, 400, errors={field: message})
    return done("/me/contact", "Your contact settings are saved.")


# ----- mandates and automatic orders ----------------------------------------------------------------------------
def _mandates(request: Request, store: SqlDecisionStore, cid: str, status: int = 200, **extra: Any) -> HTMLResponse:
    orders = automatic.list_automatic_orders(store, cid)
    return page(
        request,
        "me_mandates.html",
        status,
        upcoming=[o for o in orders if o.status in automatic.PENDING],
        past=[o for o in orders if o.status not in automatic.PENDING][:20],
        mandates=mandates.list_mandates(store, cid),
        **extra,
    )


@router.get("/me/mandates", response_class=HTMLResponse)
def mandates_page(request: Request, session: CustomerSession = Depends(customer_page())) -> HTMLResponse:
    store, cid = profile_of(request, session)
    return _mandates(request, store, cid)


@router.post("/me/automatic-orders/{order_id}/cancel", response_class=HTMLResponse, dependencies=CSRF)
def cancel_order(request: Request, order_id: str, session: CustomerSession = Depends(customer_page())) -> Response:
    store, cid = profile_of(request, session)
    try:
        now = datetime.now(UTC)
        order = automatic.cancel_automatic_order(store, cid, order_id, now)
    except RapportError as exc:
        return _mandates(request, store, cid, exc.http_status, errors={"order": str(exc)})
    record_cancellation(store, order.reason, order.id, now)  # the Repeat step learns from it, as over the API
    return done("/me/mandates", f"The automatic order of {order.quantity} \u00d7 {order.sku} is cancelled.")


@router.post("/me/mandates/{mandate_id}/revoke", response_class=HTMLResponse, dependencies=CSRF)
def revoke(request: Request, mandate_id: str, session: CustomerSession = Depends(customer_page())) -> Response:
    store, cid = profile_of(request, session)
    try:
        mandate = mandates.revoke_mandate(store, cid, mandate_id, datetime.now(UTC))
    except RapportError as exc:
        return _mandates(request, store, cid, exc.http_status, errors={"mandate": str(exc)})
    return done("/me/mandates", f"The mandate for {mandate.scope} is revoked; nothing more is ordered under it.")
