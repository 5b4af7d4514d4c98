"""Typed errors. Each says what went wrong, with the offending value, and what to do next.

They are mapped once to HTTP responses (rapport.api) and CLI messages (rapport.cli).
"""

from __future__ import annotations


class RapportError(Exception):
    """Base of every error Rapport raises on purpose."""

    http_status = 400


class InvalidInput(RapportError):
    """The caller's input cannot be used as given."""

    http_status = 400


class NotFound(RapportError):
    """The thing asked for does not exist (or was erased)."""

    http_status = 404


class Conflict(RapportError):
    """The request conflicts with the stored state."""

    http_status = 409


class PayloadTooLarge(RapportError):
    """The request body is larger than the configured limit."""

    http_status = 413


class Unauthorized(RapportError):
    """No valid API key was given."""

    http_status = 401


class Forbidden(RapportError):
    """The API key lacks the scope the route needs."""

    http_status = 403


class TooManyRequests(RapportError):
    """Too many requests from one key or address, or too many failed sign-ins: wait ``retry_after`` seconds."""

    http_status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class Unavailable(RapportError):
    """A part Rapport depends on (the database, the event stream) is down for now: the caller should retry."""

    http_status = 503
    retry_after_seconds = 2


class ConcurrentWrite(Unavailable):
    """Another transaction wrote the same rows first; running the work again sees its result. Ingestion reruns
    a batch itself; one that lost every rerun is answered like a busy store (503, Retry-After), never refused."""
