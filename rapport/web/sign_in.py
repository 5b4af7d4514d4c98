"""Sign-in pages: staff sign in with e-mail and password, customers with a one-time link; both sign out."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rapport.access.customers import redeem_sign_in
from rapport.access.sessions import LIFETIME, SessionKind, close_session, open_session
from rapport.access.staff import set_password, sign_in_staff
from rapport.api.access import CUSTOMER_COOKIE, STAFF_COOKIE, access_of, public
from rapport.errors import InvalidInput, TooManyRequests, Unauthorized
from rapport.web.csrf import csrf_protect
from rapport.web.pages import render

router = APIRouter(include_in_schema=False)
_EMAIL = Form("", max_length=320)
_PASSWORD = Form("", max_length=200)


def _limit_sign_in(request: Request) -> None:
    address = request.client.host if request.client else "unknown"
    access_of(request).sign_in.take(f"address {address}", time.monotonic())


def _set_session_cookie(request: Request, response: Response, kind: SessionKind, value: str) -> None:
    response.set_cookie(
        STAFF_COOKIE if kind == "staff" else CUSTOMER_COOKIE,
        value,
        max_age=int(LIFETIME[kind].total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _local(next_path: str) -> str:
    """Only a path on this site (no //host or scheme): a sign-in never sends anyone elsewhere."""
    return next_path if next_path.startswith("/") and not next_path.startswith("//") and "\\" not in next_path else "/"


@router.get("/staff/sign-in", response_class=HTMLResponse)
@public
def staff_sign_in_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "staff_sign_in.html", next=_local(next[:300]), email="", error=None)


@router.post("/staff/sign-in", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
@public
def staff_sign_in(request: Request, email: str = _EMAIL, password: str = _PASSWORD, next: str = Form("/")) -> Response:
    """Sign in; a wrong e-mail or password gets the page back with the e-mail kept; 5 failures lock 15 minutes."""
    _limit_sign_in(request)
    access = access_of(request)
    now = datetime.now(UTC)
    try:
        staff = sign_in_staff(access.accounts, email, password, now)
    except Unauthorized as exc:
        return render(request, "staff_sign_in.html", 401, next=_local(next), email=email, error=str(exc))
    except TooManyRequests as exc:
        page = render(request, "staff_sign_in.html", 429, next=_local(next), email=email, error=str(exc))
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    _session_id, cookie = open_session(access.accounts, access.secret, "staff", now, staff.staff_id)
    response = RedirectResponse(_local(next), status_code=303)
    _set_session_cookie(request, response, "staff", cookie)
    return response


@router.post("/staff/sign-out", dependencies=[Depends(csrf_protect)])
@public
def staff_sign_out(request: Request) -> Response:
    return _sign_out(request, "staff", "/staff/sign-in")


@router.get("/staff/set-password/{token}", response_class=HTMLResponse)
@public
def set_password_page(request: Request, token: str) -> HTMLResponse:
    return render(request, "staff_set_password.html", token=token[:1000], error=None)


@router.post("/staff/set-password/{token}", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
@public
def set_password_form(request: Request, token: str, password: str = _PASSWORD) -> HTMLResponse:
    """Set the password once; a too-short one gets the form back (the link stays unspent)."""
    access = access_of(request)
    try:
        staff = set_password(access.accounts, access.secret, token, password, datetime.now(UTC))
    except InvalidInput as exc:
        return render(request, "staff_set_password.html", 400, token=token, error=str(exc))
    message = f"The password of {staff.email} is set. Sign in with it now."
    return render(request, "message.html", heading="Password set", message=message, link=("/staff/sign-in", "Sign in"))


@router.get("/me/sign-in", response_class=HTMLResponse)
@public
def customer_sign_in_help(request: Request) -> HTMLResponse:
    message = (
        "You sign in with a one-time link the firm sends you (it works once, for 15 minutes). "
        "Ask the firm for a new link in the app, in a store or by phone."
    )
    return render(request, "message.html", heading="Sign in to your page", message=message)


@router.get("/me/sign-in/{token}")
@public
def customer_sign_in(request: Request, token: str) -> Response:
    """Spend the one-time link: a customer session cookie, then /me. Expired, used or altered: a clear page."""
    _limit_sign_in(request)
    access = access_of(request)
    try:
        _session, cookie = redeem_sign_in(access.accounts, access.secret, token[:1000], datetime.now(UTC))
    except InvalidInput as exc:
        return render(request, "message.html", 400, heading="This link does not work", message=str(exc), error=True)
    response = RedirectResponse("/me", status_code=303)
    _set_session_cookie(request, response, "customer", cookie)
    return response


@router.post("/me/sign-out", dependencies=[Depends(csrf_protect)])
@public
def customer_sign_out(request: Request) -> Response:
    return _sign_out(request, "customer", "/me/sign-in")


def _sign_out(request: Request, kind: SessionKind, to: str) -> Response:
    cookie_name = STAFF_COOKIE if kind == "staff" else CUSTOMER_COOKIE
    cookie = request.cookies.get(cookie_name)
    if cookie:
        access = access_of(request)
        close_session(access.accounts, access.secret, kind, cookie, datetime.now(UTC))
    response = RedirectResponse(to, status_code=303)
    response.delete_cookie(cookie_name)
    return response
