"""Server-rendered pages: one Jinja2 environment, one ``render`` that adds the CSRF token, the principal, the nav."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from rapport.access.principals import CustomerSession, StaffMember
from rapport.web.csrf import COOKIE, FIELD, csrf_token

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
environment.filters["when"] = lambda at: at.strftime("%d %b %Y, %H:%M UTC") if isinstance(at, datetime) else at

# Links of the navigation bar per kind of principal; page modules append theirs: (href, label).
STAFF_NAV: list[tuple[str, str]] = []
CUSTOMER_NAV: list[tuple[str, str]] = [("/me", "My page")]


def render(request: Request, template_name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page ``template_name`` (extending base.html) with ``context``; sets the CSRF cookie on first visit."""
    from rapport.api.access import principal_or_none

    principal = principal_or_none(request)
    nav = STAFF_NAV if isinstance(principal, StaffMember) else CUSTOMER_NAV if principal else []
    token = csrf_token(request)
    values = {
        "request": request,
        "principal": principal,
        "staff": principal if isinstance(principal, StaffMember) else None,
        "customer": principal if isinstance(principal, CustomerSession) else None,
        "nav": context.pop("nav", nav),
        "csrf_token": token,
        "csrf_field": FIELD,
        **context,
    }
    response = HTMLResponse(environment.get_template(template_name).render(values), status_code=status_code)
    new_cookie = getattr(request.state, "new_csrf_cookie", None)
    if new_cookie:
        response.set_cookie(COOKIE, new_cookie, httponly=True, samesite="lax", secure=request.url.scheme == "https")
    response.headers["Cache-Control"] = "no-store"
    return response
