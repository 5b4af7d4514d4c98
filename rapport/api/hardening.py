"""Hardening for every response and request: security headers, a size limit on every body, documented errors.

Security headers: a CSP without inline scripts (the interactive /docs page alone loosens it for Swagger UI's own
inline start-up script), no framing, no MIME sniffing, a strict referrer policy, HSTS when the request came over
https. Body sizes: ``max_batch_bytes`` under /v1 (the tracking API checks its own tighter limits), and
``max_form_bytes`` for everything else, answered 413 before the body is read in full.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
_BODY_METHODS = {b"POST", b"PUT", b"PATCH", b"DELETE"}


class SecurityHeaders:
    """Adds the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] in DOCS_PATHS else CSP
        extra = [
            (b"content-security-policy", csp.encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


_NUL = (b"\x00", b"\\u0000")


class BodyLimit:
    """Refuses bodies over the limit with 413 (a declared Content-Length at once, a streamed body as it grows), and
    a NUL character in the path, the query or a plain body with 400: no text column takes it (PostgreSQL refuses it
    outright), so both stores answer the same."""

    def __init__(self, app: ASGIApp, api_limit: int, form_limit: int):
        self.app = app
        self.api_limit = api_limit
        self.form_limit = form_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")):
            await _nul_refused(send)
            return
        if scope["type"] != "http" or scope["method"].encode() not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.api_limit if scope["path"].startswith("/v1/") else self.form_limit
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit, int(declared))
            return
        # The body is read here, within the limit, and handed on whole: bodies are small (at most the batch
        # limit), and a refusal can then be answered before any route sees a byte.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message, receive), send)
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await _too_large(send, limit, seen)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        plain = b"content-encoding" not in dict(scope.get("headers", []))  # gzip bodies hold NUL bytes by nature
        if plain and any(nul in body for nul in _NUL):
            await _nul_refused(send)
            return
        await self.app(scope, _replay([body], None, receive), send)


def _replay(bodies: list[bytes], last: Message | None, receive_more: Receive) -> Receive:
    """A ``receive`` that gives the body read already, then listens to the client again (its disconnect)."""
    pending: list[Message] = [{"type": "http.request", "body": b, "more_body": False} for b in bodies]
    if last is not None:
        pending.append(last)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return await receive_more()

    return receive


async def _nul_refused(send: Send) -> None:
    message = "The request holds a NUL character (\\u0000), which no field may contain; remove it and send again."
    await _answer(send, 400, "invalid_input", "InvalidInput", message)


async def _too_large(send: Send, limit: int, size: int) -> None:
    message = f"The body has at least {size} bytes; the limit here is {limit} bytes. Send less."
    await _answer(send, 413, "payload_too_large", "PayloadTooLarge", message)


async def _answer(send: Send, status: int, code: str, error: str, message: str) -> None:
    body = json.dumps({"success": False, "code": code, "error": error, "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# ----- the OpenAPI schema documents every status code a route can return ---------------------------------------
ERROR_DESCRIPTIONS = {
    400: "The request cannot be used as given (the message says why).",
    401: "No valid credentials: an API key, or a staff or customer session.",
    403: "The key, role or session may not do this.",
    404: "No such customer or record (a customer session gets the same answer for another customer's id).",
    409: "The request conflicts with the stored state.",
    413: "The body is larger than the limit.",
    422: "The parameters or the body do not match the schema.",
    429: "Too many requests: wait for the Retry-After seconds.",
}


def document_errors(app: FastAPI) -> None:
    """Add the error responses each API route can give to its OpenAPI entry (those it does not document)."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not context.include_in_schema:
            continue
        marks = [getattr(d.call, "permission", None) for d in route.dependant.dependencies]
        dependant = route.dependant
        has_input = any((dependant.path_params, dependant.query_params, dependant.header_params, dependant.body_params))
        if not any(marks) and not has_input:
            continue
        codes = {400, 422}
        if any(marks):
            codes |= {401, 403, 429}
        if "{" in (context.path_format or ""):
            codes.add(404)
        if set(route.methods or ()) & {"POST", "PUT", "PATCH", "DELETE"}:
            codes |= {409, 413}
        for code in sorted(codes):
            # the route as included (its prefix applied) is what the schema is built from
            context.responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})


def documented_openapi(app: FastAPI) -> Any:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_errors(app)
        return original()

    return openapi


def install_hardening(app: FastAPI) -> None:
    settings = app.state.store.settings
    app.add_middleware(BodyLimit, api_limit=settings.max_batch_bytes, form_limit=settings.max_form_bytes)
    app.add_middleware(SecurityHeaders)
    app.openapi = documented_openapi(app)  # type: ignore[method-assign]
