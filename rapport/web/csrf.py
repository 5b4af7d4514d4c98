"""CSRF protection for every form post: a random cookie and, in each form, a token derived from it.

The cookie (``rapport_csrf``) is set by the first page rendered; a form carries ``csrf_token`` = HMAC(secret,
cookie). Another site can make a browser send the cookie but cannot read it, so it cannot write the token. A
script calling the API with a session cookie sends the same token in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

from rapport.errors import Forbidden

COOKIE = "rapport_csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"


def _signed(request: Request, value: str) -> str:
    from rapport.api.access import signing_secret

    return hmac.new(signing_secret(request).encode(), f"csrf:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_cookie(request: Request) -> str:
    """The request's CSRF cookie value, made now (and set by ``render``) when the browser has none yet."""
    value = request.cookies.get(COOKIE) or getattr(request.state, "new_csrf_cookie", None)
    if not value:
        value = request.state.new_csrf_cookie = secrets.token_urlsafe(24)
    return value


def csrf_token(request: Request) -> str:
    """The token a form of this page must send back."""
    return _signed(request, csrf_cookie(request))


def check_csrf(request: Request, given: str | None) -> None:
    """Forbidden unless ``given`` is this browser's token."""
    cookie = request.cookies.get(COOKIE)
    if not cookie or not given or not hmac.compare_digest(_signed(request, cookie), given):
        raise Forbidden(
            "This form did not come from Rapport's own page, or it is too old (no valid CSRF token). "
            "Nothing was changed: go back, reload the page and send it again."
        )


async def csrf_protect(request: Request) -> None:
    """A dependency for every form POST: the form's ``csrf_token`` field (or the X-CSRF-Token header)."""
    given = request.headers.get(HEADER)
    if given is None:
        form = await request.form()
        field = form.get(FIELD)
        given = field if isinstance(field, str) else None
    check_csrf(request, given)


csrf_protect.csrf = True  # type: ignore[attr-defined]  # the authorisation-matrix test looks for this mark
