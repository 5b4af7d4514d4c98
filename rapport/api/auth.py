"""Reading the API key from a request: HTTP Basic (the key as user name, as Segment sends it) or Bearer."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from fastapi import Request

from rapport.store.keys import ApiKey, authenticate


def key_from_header(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, password = decoded.partition(":")
        return user or password or None
    return None


def require(scope: str) -> Callable[[Request], ApiKey]:
    """A FastAPI dependency that admits keys carrying ``scope`` (``admin`` carries every scope)."""

    def dependency(request: Request) -> ApiKey:
        store = request.app.state.store
        return authenticate(store.engine, key_from_header(request.headers.get("authorization")), scope)

    dependency.__name__ = f"require_{scope}"
    return dependency
