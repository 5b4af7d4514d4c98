"""The authorisation layer for HTTP: who is calling (a key, a staff session, a customer session) and may they.

Every route names what it needs: ``require(permission)``, or ``customer_scope(permission)`` for a route about one
customer (``{customer_id}`` in the path), or ``staff_page(*roles)`` / ``customer_page()`` for pages. The
authorisation-matrix test (tests/access/test_matrix.py) finds these marks on every route, so none can go without.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request

from rapport.access.permissions import Permission, allows, needed_by
from rapport.access.principals import CustomerSession, Principal, ServerKey, StaffMember, StaffRole
from rapport.access.rate_limits import TokenBucket
from rapport.access.sessions import SessionKind, session_principal
from rapport.api.auth import key_from_header
from rapport.customers.service import resolve_customer, unknown_customer
from rapport.errors import Forbidden, NotFound, RapportError, Unauthorized
from rapport.store.access import SqlAccessStore, authenticate_key, record_access, record_read_of_record
from rapport.store.store import Store

STAFF_COOKIE = "rapport_staff"
CUSTOMER_COOKIE = "rapport_me"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class AppAccess:
    """One app's access state: the account store, the signing secret, the rate limits (in this process)."""

    accounts: SqlAccessStore
    secret: str
    ingest: TokenBucket
    sign_in: TokenBucket

    @classmethod
    def over(cls, store: Store) -> AppAccess:
        accounts = SqlAccessStore(store.engine)
        rate = store.settings.ingest_rate_per_second
        per_minute = store.settings.sign_in_per_minute
        return cls(
            accounts,
            store.settings.session_secret or accounts.secret("signing"),
            TokenBucket(rate, 2 * rate, "requests"),
            TokenBucket(per_minute / 60, per_minute, "sign-in attempts"),
        )


def access_of(request: Request) -> AppAccess:
    state = request.app.state
    found = getattr(state, "access", None)
    if found is None:
        found = state.access = AppAccess.over(state.store)
    return found


def signing_secret(request: Request) -> str:
    return access_of(request).secret


@dataclass(frozen=True)
class CustomerAccess:
    """What ``customer_scope`` admits: the principal and the profile id the path names."""

    principal: Principal
    customer_id: str


class SignInRequired(Exception):
    """A page needs a session: answered with a redirect to the sign-in page."""

    def __init__(self, location: str):
        self.location = location


class PageRefused(RapportError):
    """A signed-in person may not see this page."""

    http_status = 403


# ----- who is calling -------------------------------------------------------------------------------------------
def current_principal(request: Request) -> Principal:
    """The caller: an API key (Authorization header), else the staff session cookie, else the customer's.

    Unauthorized when there is none, or it is unknown, revoked, rotated past its grace, forged or expired. A
    cookie session writing through the API must also send the CSRF token (X-CSRF-Token).
    """
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization")
    principal: Principal
    if header:
        plaintext = key_from_header(header)
        if not plaintext:
            raise Unauthorized("The Authorization header is neither 'Bearer KEY' nor HTTP Basic with the key.")
        principal = authenticate_key(request.app.state.store.engine, plaintext)
    else:
        principal = _cookie_principal(request)
        if request.method in _UNSAFE and request.url.path.startswith("/v1/"):
            from rapport.web.csrf import HEADER, check_csrf

            check_csrf(request, request.headers.get(HEADER))
    request.state.principal = principal
    return principal


def _cookie_principal(request: Request) -> Principal:
    access = access_of(request)
    now = datetime.now(UTC)
    for kind, cookie in (("staff", STAFF_COOKIE), ("customer", CUSTOMER_COOKIE)):
        value = request.cookies.get(cookie)
        if value:
            return session_principal(access.accounts, access.secret, _kind(kind), value, now)
    raise Unauthorized(
        "Sign in first: an API key (HTTP Basic with the key as user name, or 'Authorization: Bearer KEY'), "
        "a staff session (/staff/sign-in) or a customer's one-time sign-in link."
    )


def _kind(kind: str) -> SessionKind:
    return "staff" if kind == "staff" else "customer"


def principal_or_none(request: Request) -> Principal | None:
    """The caller when there is a valid one, else None (for pages that show who is signed in)."""
    try:
        return current_principal(request)
    except RapportError:
        return None


def _refuse(principal: Principal, permission: Permission) -> Forbidden:
    if isinstance(principal, CustomerSession):
        return Forbidden("A customer session may not do this; it reaches the customer's own pages and data only.")
    if isinstance(principal, StaffMember):
        return Forbidden(f"This needs {needed_by(permission)}; you are signed in as {principal.role}.")
    return Forbidden(
        f"This route needs {needed_by(permission)}; the key {principal.key_id} has {', '.join(principal.scopes)}."
    )


def _mark(dependency: Any, **marks: Any) -> Any:
    for name, value in marks.items():
        setattr(dependency, name, value)
    return dependency


def require(permission: Permission) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency admitting principals the permission table allows ``permission`` (never a customer session:
    customer routes use ``customer_scope``). Ingestion is rate-limited per key: 429 with Retry-After.

    It runs on the event loop: one indexed look-up costs less than the hop to a worker thread.
    """

    async def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        if not allows(principal, permission):
            raise _refuse(principal, permission)
        if permission is Permission.INGEST:
            who = principal.key_id if isinstance(principal, ServerKey) else _label(principal)
            access_of(request).ingest.take(f"key {who}", time.monotonic())
        return principal

    dependency.__name__ = f"require_{permission.value}"
    return _mark(dependency, permission=permission, scoped=False)


def customer_scope(permission: Permission) -> Callable[[Request], Awaitable[CustomerAccess]]:
    """A dependency for routes about one customer: ``{customer_id}`` in the path (an id or any identifier).

    A customer session reaching another customer gets the 404 an unknown id gets, word for word, so the answer
    does not tell whether the other id exists. Reads (GET) by staff or a server key go to the access log.
    It runs on the event loop, as ``require`` does: a look-up and one insert cost less than the hop to a thread.
    """

    async def dependency(request: Request) -> CustomerAccess:
        principal = current_principal(request)
        reference = str(request.path_params.get("customer_id", ""))
        store = request.app.state.store
        if isinstance(principal, CustomerSession):
            if permission not in _customer_permissions():
                raise _refuse(principal, permission)
            canonical = _own_profile(store, principal, reference)
            return CustomerAccess(principal, canonical)
        if not allows(principal, permission):
            raise _refuse(principal, permission)
        if request.method != "GET":
            return CustomerAccess(principal, resolve_customer(store, reference))
        route = request.scope.get("route")
        what = f"{request.method} {getattr(route, 'path', request.url.path)}"
        now = datetime.now(UTC)
        # a record id (the common case): its profile found and the read logged in one statement
        found = record_read_of_record(store.engine, reference, principal, what, now)
        if found is not None:
            return CustomerAccess(principal, found)
        canonical = resolve_customer(store, reference)
        record_access(store.engine, canonical, principal, what, now)
        return CustomerAccess(principal, canonical)

    dependency.__name__ = f"customer_scope_{permission.value}"
    return _mark(dependency, permission=permission, scoped=True)


def _customer_permissions() -> frozenset[Permission]:
    from rapport.access.permissions import CUSTOMER_PERMISSIONS

    return CUSTOMER_PERMISSIONS


def _own_profile(store: Store, session: CustomerSession, reference: str) -> str:
    """The session's profile id when ``reference`` names it; else exactly the unknown-customer 404."""
    try:
        canonical = resolve_customer(store, reference)
        own = store.canonical_id(session.customer_id)
    except NotFound:
        raise unknown_customer(store, reference) from None
    if canonical != own:
        raise unknown_customer(store, reference)
    return canonical


def _label(principal: Principal) -> str:
    if isinstance(principal, StaffMember):
        return f"staff:{principal.email}"
    if isinstance(principal, ServerKey):
        return principal.name or principal.key_id
    return f"customer:{principal.customer_id}"


def source_of(principal: Principal) -> str:
    """The source label of what a principal ingests (a key's name, as before; staff by e-mail)."""
    return _label(principal)


# ----- pages ----------------------------------------------------------------------------------------------------
def staff_page(*roles: StaffRole) -> Callable[[Request], StaffMember]:
    """A dependency for staff pages: the signed-in staff member (any role, or one of ``roles``).

    No staff session: a redirect to /staff/sign-in that comes back here. A role not listed: a 403 page.
    """

    def dependency(request: Request) -> StaffMember:
        try:
            principal = _cookie_session(request, "staff")
        except Unauthorized:
            raise SignInRequired(f"/staff/sign-in?next={request.url.path}") from None
        assert isinstance(principal, StaffMember)
        if roles and principal.role not in roles:
            raise PageRefused(f"This page is for {' or '.join(roles)} staff; you are signed in as {principal.role}.")
        return principal

    dependency.__name__ = f"staff_page_{'_'.join(roles) or 'any'}"
    return _mark(dependency, roles=roles or ("agent", "analyst", "admin"))


def customer_page() -> Callable[[Request], CustomerSession]:
    """A dependency for the customer's pages (/me): the customer session, else a redirect to /me/sign-in."""

    def dependency(request: Request) -> CustomerSession:
        try:
            principal = _cookie_session(request, "customer")
        except Unauthorized:
            raise SignInRequired("/me/sign-in") from None
        assert isinstance(principal, CustomerSession)
        return principal

    dependency.__name__ = "customer_page"
    return _mark(dependency, customer_page=True)


def _cookie_session(request: Request, kind: SessionKind) -> Principal:
    cookie = request.cookies.get(STAFF_COOKIE if kind == "staff" else CUSTOMER_COOKIE)
    if not cookie:
        raise Unauthorized(f"No {kind} session.")
    access = access_of(request)
    principal = session_principal(access.accounts, access.secret, kind, cookie, datetime.now(UTC))
    request.state.principal = principal
    return principal


def public(endpoint: Any) -> Any:
    """Mark a route open to everyone (sign-in pages, health): the authorisation-matrix test accepts it."""
    return _mark(endpoint, public=True)


def install_access(app: FastAPI) -> None:
    """Add the access layer's routes, pages, static files, middleware and error pages to ``app``.

    Call it last in ``create_app``: it wraps the app's RapportError handler so that pages get an HTML answer and
    a 429 its Retry-After header.
    """
    from fastapi.responses import RedirectResponse, Response
    from fastapi.staticfiles import StaticFiles

    from rapport.api import links
    from rapport.api.hardening import install_hardening
    from rapport.errors import TooManyRequests
    from rapport.web import customer_side, sign_in
    from rapport.web.pages import STATIC, render

    app.include_router(links.router)
    app.include_router(sign_in.router)
    app.include_router(customer_side.router)  # /me pages and the staff inbox
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_hardening(app)
    json_handler = app.exception_handlers[RapportError]

    async def rapport_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RapportError)
        if request.url.path.startswith("/v1/") or request.url.path == "/health":
            answered = json_handler(request, exc)
            response = await answered if inspect.isawaitable(answered) else answered
        else:
            heading = "Too many attempts" if isinstance(exc, TooManyRequests) else "That did not work"
            response = render(request, "message.html", exc.http_status, heading=heading, message=str(exc), error=True)
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    async def sign_in_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        return RedirectResponse(exc.location, status_code=303)

    app.add_exception_handler(RapportError, rapport_error)
    app.add_exception_handler(SignInRequired, sign_in_required)
